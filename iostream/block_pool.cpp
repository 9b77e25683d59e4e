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
    reads_.reserve(kMaxFree);
    g_live_pool = this;
}

BlockPool::~BlockPool() {
    g_live_pool = nullptr;
    for (auto& f : reads_) {
        SQUALL_POOL_UNPOISON(f.chunk, f.capacity);
        free_chunk(f.chunk, f.capacity);
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

char* BlockPool::take_read(std::size_t capacity) {
    // Newest first: in steady state every chunk has the stream's read_chunk_size, so this is one step.
    for (auto it = reads_.rbegin(); it != reads_.rend(); ++it) {
        if (it->capacity != capacity) continue;
        char* chunk = it->chunk;
        reads_.erase(std::next(it).base());
        SQUALL_POOL_UNPOISON(chunk, capacity);
        return chunk;
    }
    return allocate_chunk(capacity);
}

void BlockPool::give_read(char* chunk, std::size_t capacity) noexcept {
    if (chunk == nullptr) return;
    if (capacity > kMaxBlock || reads_.size() >= kMaxFree) {
        free_chunk(chunk, capacity);
        return;
    }
    SQUALL_POOL_POISON(chunk, capacity);
    reads_.push_back(FreeChunk{chunk, capacity});
}

std::size_t BlockPool::free_chunks(std::size_t capacity) const noexcept {
    std::size_t n = 0;
    for (const auto& f : reads_) n += f.capacity == capacity;
    return n;
}

}  // namespace squall
