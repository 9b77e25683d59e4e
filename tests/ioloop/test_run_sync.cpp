// run_sync: values, errors, timeouts, and what happens to a task after its run_sync timed out.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "squall/coro/task.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/testing.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using squall::Task;
using squall::test::value_after;

namespace {

Task<void> fail_after(squall::IOLoop& loop, squall::Duration d) {
    co_await squall::sleep(loop, d);
    throw std::runtime_error("task failed in run_sync");
}

Task<void> set_after(squall::IOLoop& loop, squall::Duration d, bool& flag) {
    co_await squall::sleep(loop, d);
    flag = true;
}

Task<std::unique_ptr<int>> unique_after(squall::IOLoop& loop) {
    co_await squall::sleep(loop, 1ms);
    co_return std::make_unique<int>(12);
}

}  // namespace

TEST_SUITE("ioloop") {
    SQUALL_LOOP_TEST_CASE("run_sync returns the task's value") {
        CHECK(loop.run_sync(value_after(loop, 2ms, 42)) == 42);
        CHECK(loop.run_sync(value_after(loop, 0ms, 7), 1s) == 7);
        CHECK(*loop.run_sync(unique_after(loop)) == 12);
    }

    SQUALL_LOOP_TEST_CASE("run_sync rethrows the task's error") {
        CHECK_THROWS_WITH_AS(loop.run_sync(fail_after(loop, 1ms), 5s), "task failed in run_sync",
                             std::runtime_error);
        CHECK(loop.run_sync(value_after(loop, 1ms, 1)) == 1);  // the loop is usable afterwards
    }

    SQUALL_LOOP_TEST_CASE(
        "run_sync raises TimeoutError; the abandoned task finishes later without disturbing the next run") {
        bool abandoned_finished = false;
        auto t0 = loop.time();
        // The task's 300 ms leave room for a loaded machine: the 10 ms timeout still comes first.
        CHECK_THROWS_AS(loop.run_sync(set_after(loop, 300ms, abandoned_finished), 10ms),
                        squall::TimeoutError);
        CHECK(loop.time() - t0 >= 10ms);
        CHECK(loop.time() - t0 < 300ms);
        CHECK_FALSE(abandoned_finished);
        // The abandoned task completes during this run (at 300 ms); that must not stop it early.
        CHECK(loop.run_sync(value_after(loop, 600ms, 5), 5s) == 5);
        CHECK(abandoned_finished);
    }

    SQUALL_LOOP_TEST_CASE("an error of a task abandoned by run_sync's timeout is logged") {
        squall::test::LogCapture logs;
        CHECK_THROWS_AS(loop.run_sync(fail_after(loop, 200ms), 5ms), squall::TimeoutError);
        loop.run_sync(value_after(loop, 400ms, 0));
        CHECK(logs.count("task failed in run_sync") == 1);
    }

    TEST_CASE("the TimeoutError of run_sync says how long it waited") {
        squall::IOLoop loop(squall::Backend::epoll);
        bool finished = false;
        try {
            loop.run_sync(set_after(loop, 200ms, finished), 5ms);
            FAIL("no TimeoutError");
        } catch (const squall::TimeoutError& e) {
            CHECK(std::string(e.what()).find("5 ms") != std::string::npos);
        }
        loop.run_sync(set_after(loop, 300ms, finished));
        CHECK(finished);
    }
}
