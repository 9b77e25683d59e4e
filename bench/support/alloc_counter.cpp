// Counts operator new calls for bench::allocations() (bench/support/bench.hpp). The programs that link it
// are single-threaded apart from the resolver's pool, which is idle while they measure.
#include <cstdlib>
#include <new>

#include "bench/support/bench.hpp"

namespace {
std::uint64_t g_allocs = 0;
}

std::uint64_t bench::allocations() noexcept {
    return g_allocs;
}

void* operator new(std::size_t n) {
    ++g_allocs;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
