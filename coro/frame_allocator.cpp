#include "squall/coro/frame_allocator.hpp"

#include <new>

namespace squall {
namespace {

constexpr std::size_t kGranule = 64;
constexpr std::size_t kMaxRecycledSize = 4096;
constexpr std::size_t kClasses = kMaxRecycledSize / kGranule;
// Bound on cached frames per class, so a burst of 100k tasks does not pin its memory forever.
constexpr std::size_t kMaxCachedPerClass = 1024;

// Set when this thread's cache is destroyed (thread exit; for the main thread, before static objects
// are): an object freed after that, such as a static HTTPHeaders, goes to the global allocator. A bool is
// trivially destructible, so reading it stays valid to the end.
thread_local bool t_cache_gone = false;

struct FreeNode {
    FreeNode* next;
};

struct ThreadCache {
    FreeNode* heads[kClasses] = {};
    std::size_t counts[kClasses] = {};
    FrameAllocatorStats stats;

    ~ThreadCache() {
        t_cache_gone = true;
        for (std::size_t i = 0; i < kClasses; ++i) {
            while (FreeNode* n = heads[i]) {
                heads[i] = n->next;
                ::operator delete(n);
            }
        }
    }
};

thread_local ThreadCache t_cache;

constexpr std::size_t size_class(std::size_t size) {
    return (size + kGranule - 1) / kGranule - 1;
}

#if defined(SQUALL_ASAN) || defined(SQUALL_TSAN)
constexpr bool kRecycle = false;
#else
constexpr bool kRecycle = true;
#endif

}  // namespace

FrameAllocatorStats frame_allocator_stats() noexcept {
    return t_cache.stats;
}

namespace detail {

void* allocate_frame(std::size_t size) {
    if (kRecycle && size <= kMaxRecycledSize) {
        std::size_t c = size_class(size);
        // Always the whole class: a frame freed on another thread joins that thread's list of it.
        if (t_cache_gone) return ::operator new((c + 1) * kGranule);
        if (FreeNode* n = t_cache.heads[c]) {
            t_cache.heads[c] = n->next;
            --t_cache.counts[c];
            ++t_cache.stats.recycled;
            return n;
        }
        ++t_cache.stats.fresh;
        return ::operator new((c + 1) * kGranule);
    }
    ++t_cache.stats.fresh;
    return ::operator new(size);
}

void deallocate_frame(void* ptr, std::size_t size) noexcept {
    if (kRecycle && size <= kMaxRecycledSize && !t_cache_gone) {
        std::size_t c = size_class(size);
        if (t_cache.counts[c] < kMaxCachedPerClass) {
            auto* n = static_cast<FreeNode*>(ptr);
            n->next = t_cache.heads[c];
            t_cache.heads[c] = n;
            ++t_cache.counts[c];
            return;
        }
    }
    ::operator delete(ptr);
}

}  // namespace detail
}  // namespace squall
