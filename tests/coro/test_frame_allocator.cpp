// The per-thread frame allocator: a steady stream of tasks reuses frames instead of allocating.
#include <doctest/doctest.h>

#include "squall/coro/frame_allocator.hpp"
#include "squall/coro/start.hpp"
#include "squall/coro/task.hpp"

namespace {

squall::Task<int> leaf(int i) {
    co_return i;
}
squall::Task<long> run_sequence(int n) {
    long sum = 0;
    for (int i = 0; i < n; ++i) sum += co_await leaf(i);
    co_return sum;
}

}  // namespace

TEST_SUITE("coro") {
    TEST_CASE("after warm-up, 10k sequential task calls allocate no fresh frames") {
        (void)squall::start(run_sequence(10)).result();  // warm-up: fills the free lists
        const auto before = squall::frame_allocator_stats();
        auto f = squall::start(run_sequence(10'000));
        REQUIRE(f.done());
        CHECK(f.result() == 10'000L * 9'999 / 2);
        const auto after = squall::frame_allocator_stats();
        const auto fresh = after.fresh - before.fresh;
        const auto recycled = after.recycled - before.recycled;
#if defined(SQUALL_ASAN) || defined(SQUALL_TSAN)
        // Recycling is off under sanitizers (so use-after-free of a frame is caught): every frame is fresh.
        MESSAGE("sanitizer build: frame recycling is disabled, checking that every frame is fresh");
        CHECK(recycled == 0);
        CHECK(fresh >= 10'001);
#else
        CHECK(fresh == 0);
        CHECK(recycled >= 10'001);  // 10k leaves + the sequence + start's driver
#endif
    }
}
