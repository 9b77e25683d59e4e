// Per-thread recycling allocator for coroutine frames.
//
// Task and the internal driver coroutines allocate their frames here (and other blocks made and freed at
// a high rate: future states, HTTPHeaders' storage). Freed frames go to a per-thread
// free list of their size class (64-byte steps up to kMaxRecycledSize), so a steady request loop
// allocates nothing: the next frame of the same size reuses the last one. Frames larger than
// kMaxRecycledSize use the global allocator. Under AddressSanitizer recycling is off, so
// use-after-free of a frame is still caught.
#pragma once

#include <cstddef>
#include <cstdint>

namespace squall {

// Counts of this thread's frame allocations since it started.
struct FrameAllocatorStats {
    std::uint64_t fresh = 0;     // frames obtained from the global allocator
    std::uint64_t recycled = 0;  // frames served from this thread's free lists
};

// This thread's counters (for tests and benchmarks).
FrameAllocatorStats frame_allocator_stats() noexcept;

namespace detail {
void* allocate_frame(std::size_t size);
void deallocate_frame(void* ptr, std::size_t size) noexcept;
}  // namespace detail

// Base for promise types and other small objects made and freed at a high rate on one thread (a
// parser's state): routes their allocation to this thread's recycling allocator.
struct FrameAllocated {
    // Allocate from and free to the calling thread's free lists (freeing on another thread is safe).
    static void* operator new(std::size_t size) { return detail::allocate_frame(size); }
    static void operator delete(void* ptr, std::size_t size) noexcept { detail::deallocate_frame(ptr, size); }
};

}  // namespace squall
