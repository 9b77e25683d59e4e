// start(): runs an awaitable at once, detached, and hands back its result as a Future.
#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

#include "squall/coro/future.hpp"
#include "squall/coro/start.hpp"
#include "squall/coro/task.hpp"
#include "squall/testing.hpp"

using squall::Future;
using squall::Promise;
using squall::Task;

namespace {

Task<int> steps(std::vector<int>& trace, Future<void> gate) {
    trace.push_back(1);
    co_await gate;
    trace.push_back(3);
    co_return 30;
}

Task<void> fail_after(Future<void> gate) {
    co_await gate;
    throw std::runtime_error("detached failure");
}

}  // namespace

TEST_SUITE("coro") {
    TEST_CASE("start runs the body inline up to its first suspension") {
        std::vector<int> trace;
        Promise<void> gate;
        auto f = squall::start(steps(trace, gate.get_future()));
        trace.push_back(2);
        CHECK_FALSE(f.done());
        gate.set_value();
        REQUIRE(f.done());
        CHECK(f.result() == 30);
        CHECK(trace == std::vector<int>{1, 2, 3});
    }

    TEST_CASE("start accepts a Future as its awaitable") {
        Promise<int> p;
        auto f = squall::start(p.get_future());
        CHECK_FALSE(f.done());
        p.set_value(4);
        REQUIRE(f.done());
        CHECK(f.result() == 4);
    }

    TEST_CASE("the error of a started task nobody awaits is logged, not lost") {
        squall::testing::LogCapture logs;
        Promise<void> gate;
        (void)squall::start(fail_after(gate.get_future()));
        gate.set_value();
        CHECK(logs.count("detached failure") == 1);
    }
}
