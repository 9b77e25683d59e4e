// squall::BlockPool: free buffer storage of one thread, so idle streams can give theirs back.
//
// An idle keep-alive connection needs no read chunk (64 KiB by default), no write block (16 KiB,
// WriteQueue's) and no sendmsg iovec array: IOStream gives them back here when it has nothing buffered,
// queued or in flight, and takes them again when data arrives or a write is queued. A busy stream
// therefore moves chunks between itself and the pool instead of calling malloc per request, and ten
// thousand idle ones hold none. A loop belongs to one thread, so the pool is per thread (hence per loop);
// it keeps at most kMaxFree chunks (of all sizes) and none larger than kMaxBlock, the rest are freed.
// Chunks are mapped pages of their own (mmap), not malloc's: ten thousand connections that each
// held a chunk at once (a burst of requests) would otherwise leave malloc's heap fragmented between the
// connections' small objects, and an idle connection would keep pages resident that it does not use.
// (Under AddressSanitizer they come from operator new[], so overflows are still caught.)
//
//     auto& pool = squall::BlockPool::local();
//     char* chunk = pool.take_read(64 * 1024);   // a pooled chunk, or a newly mapped one
//     pool.give_read(chunk, 64 * 1024);           // kept for the next take, or unmapped
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace squall {

// Free chunks (read chunks and write blocks, each of a known capacity) of this thread.
class BlockPool {
public:
    // Free chunks kept, of all sizes together: enough for 64 busy connections to park and resume in one
    // loop iteration (a read chunk, a write block and an iovec array each) without a trip to mmap. The
    // pool only ever holds chunks that were in use at once, so a small workload keeps few.
    static constexpr std::size_t kMaxFree = 256;
    static constexpr std::size_t kMaxBlock = 256 * 1024;  // larger blocks are never kept

    // This thread's pool.
    static BlockPool& local();
    // give_read to this thread's pool, or free_chunk once the thread's pool is gone (a buffer destroyed
    // among the thread's exit-time destructors).
    static void recycle(char* chunk, std::size_t capacity) noexcept;

    ~BlockPool();
    BlockPool(const BlockPool&) = delete;
    BlockPool& operator=(const BlockPool&) = delete;

    // A read chunk of exactly `capacity` bytes: a free one (most recently given first), else a new one
    // (std::bad_alloc when none can be mapped).
    char* take_read(std::size_t capacity);
    // Keeps a chunk from take_read/allocate_chunk for reuse, or frees it when the pool is full or it is
    // too large.
    void give_read(char* chunk, std::size_t capacity) noexcept;
    // A chunk outside the pool, and its release (a Buffer holding one frees it this way when it
    // reallocates or is destroyed, on whatever thread).
    static char* allocate_chunk(std::size_t capacity);
    static void free_chunk(char* chunk, std::size_t capacity) noexcept;
    // Free chunks in the pool (all sizes) / of one size.
    std::size_t free_chunks() const noexcept { return free_total_; }
    std::size_t free_chunks(std::size_t capacity) const noexcept;

private:
    BlockPool();
    // One free list per chunk size (a stream uses three: read chunk, write block, iovec array); more
    // sizes than kSizeClasses are not pooled. Each list reserves kMaxFree: giving and taking never
    // allocate, and both are O(1) after a scan of the few classes.
    static constexpr std::size_t kSizeClasses = 6;
    struct SizeClass {
        std::size_t capacity = 0;
        std::vector<char*> free;
    };
    SizeClass* size_class(std::size_t capacity, bool create) noexcept;
    SizeClass classes_[kSizeClasses];
    std::size_t class_count_ = 0;
    std::size_t free_total_ = 0;
};

}  // namespace squall
