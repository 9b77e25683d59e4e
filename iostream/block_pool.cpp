#include "squall/iostream/block_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <new>
#include <utility>

#if defined(__SANITIZE_ADDRESS__)
#define SQUALL_BLOCK_POOL_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SQUALL_BLOCK_POOL_HEAP 1
#endif
#endif

#ifdef SQUALL_BLOCK_POOL_HEAP
#include <sanitizer/asan_interface.h>
// A free chunk in the pool is poisoned: a stream that still wrote into one it gave back is reported.
#define SQUALL_POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define SQUALL_POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define SQUALL_POOL_POISON(p, n) ((void)(p), (void)(n))
#define SQUALL_POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace squall {

namespace {
thread_local BlockPool* g_live_pool = nullptr;  // trivially destructible: readable during thread exit
}  // namespace

BlockPool::BlockPool() {
    g_live_pool = this;
}

BlockPool::~BlockPool() {
    g_live_pool = nullptr;
    for (std::size_t c = 0; c < class_count_; ++c) {
        for (char* chunk : classes_[c].free) {
            SQUALL_POOL_UNPOISON(chunk, classes_[c].capacity);
            free_chunk(chunk, classes_[c].capacity);
        }
    }
}

void BlockPool::recycle(char* chunk, std::size_t capacity) noexcept {
    if (g_live_pool != nullptr)
        g_live_pool->give_read(chunk, capacity);
    else
        free_chunk(chunk, capacity);
}

#ifndef SQUALL_BLOCK_POOL_HEAP
namespace {
std::size_t mapped_length(std::size_t capacity) noexcept {
    static const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return (capacity + page - 1) / page * page;
}
}  // namespace
#endif

char* BlockPool::allocate_chunk(std::size_t capacity) {
#ifdef SQUALL_BLOCK_POOL_HEAP
    return new char[capacity];
#else
    void* p =
        ::mmap(nullptr, mapped_length(capacity), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return static_cast<char*>(p);
#endif
}

void BlockPool::free_chunk(char* chunk, std::size_t capacity) noexcept {
    if (chunk == nullptr) return;
#ifdef SQUALL_BLOCK_POOL_HEAP
    (void)capacity;
    delete[] chunk;
#else
    ::munmap(chunk, mapped_length(capacity));
#endif
}

BlockPool& BlockPool::local() {
    thread_local BlockPool pool;
    return pool;
}

BlockPool::SizeClass* BlockPool::size_class(std::size_t capacity, bool create) noexcept {
    for (std::size_t c = 0; c < class_count_; ++c)
        if (classes_[c].capacity == capacity) return &classes_[c];
    if (!create || class_count_ == kSizeClasses) return nullptr;
    SizeClass& fresh = classes_[class_count_];
    try {
        fresh.free.reserve(kMaxFree);
    } catch (const std::bad_alloc&) {
        return nullptr;  // not pooled then
    }
    fresh.capacity = capacity;
    ++class_count_;
    return &fresh;
}

char* BlockPool::take_read(std::size_t capacity) {
    SizeClass* c = size_class(capacity, false);
    if (c == nullptr || c->free.empty()) return allocate_chunk(capacity);
    char* chunk = c->free.back();  // the most recently given: its pages are the likeliest resident
    c->free.pop_back();
    --free_total_;
    SQUALL_POOL_UNPOISON(chunk, capacity);
    return chunk;
}

void BlockPool::give_read(char* chunk, std::size_t capacity) noexcept {
    if (chunk == nullptr) return;
    SizeClass* c = capacity > kMaxBlock || free_total_ >= kMaxFree ? nullptr : size_class(capacity, true);
    if (c == nullptr) {
        free_chunk(chunk, capacity);
        return;
    }
    SQUALL_POOL_POISON(chunk, capacity);
    c->free.push_back(chunk);  // within the reserved capacity: free_total_ < kMaxFree
    ++free_total_;
}

std::size_t BlockPool::free_chunks(std::size_t capacity) const noexcept {
    for (std::size_t c = 0; c < class_count_; ++c)
        if (classes_[c].capacity == capacity) return classes_[c].free.size();
    return 0;
}

}  // namespace squall
