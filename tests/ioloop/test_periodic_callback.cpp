// PeriodicCallback: interval, skipping missed runs, async callbacks that do not overlap, stop.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <squall/testing.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "squall/coro/locks.hpp"
#include "squall/coro/log.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/ioloop/periodic_callback.hpp"

using namespace std::chrono_literals;
using squall::TimePoint;

TEST_SUITE("ioloop") {
    SQUALL_TEST_CASE("PeriodicCallback runs once per interval", 5s) {
        std::vector<TimePoint> runs;
        squall::Event done;
        const auto interval = 10ms;
        const TimePoint t0 = loop.time();
        squall::PeriodicCallback pc(
            loop,
            [&] {
                runs.push_back(loop.time());
                if (runs.size() == 5) done.set();
            },
            interval);
        pc.start();
        CHECK(pc.is_running());
        co_await done.wait();
        pc.stop();
        REQUIRE(runs.size() == 5);
        for (std::size_t k = 0; k < runs.size(); ++k) CHECK(runs[k] - t0 >= (k + 1) * interval);
        // Run k never comes before the (k+1)-th interval boundary: at most one run per interval. Two runs
        // may still be close together when the first was late (the next one keeps to the boundaries).
        for (std::size_t k = 1; k < runs.size(); ++k) CHECK(runs[k - 1] <= runs[k]);
        CHECK(runs.back() - t0 < 2s);
    }

    SQUALL_TEST_CASE("PeriodicCallback skips the runs it missed while the loop was blocked", 5s) {
        std::vector<TimePoint> runs;
        squall::Event done;
        const auto interval = 10ms;
        squall::PeriodicCallback pc(
            loop,
            [&] {
                runs.push_back(loop.time());
                if (runs.size() == 1) std::this_thread::sleep_for(55ms);  // blocks the loop for 5+ intervals
                if (runs.size() == 3) done.set();
            },
            interval);
        const TimePoint t0 = loop.time();
        pc.start();
        co_await done.wait();
        pc.stop();
        REQUIRE(runs.size() == 3);
        // No burst of catch-up runs: the next run waits for the next interval boundary after the block.
        // Run 0 is at 10 ms or later and blocks until 65 ms or later, so run 1 is on the 70 ms boundary
        // or a later one and run 2 on the one after it (a burst would run both at once, near 65 ms).
        // Lower bounds only: timers never fire early, however loaded the machine.
        CHECK(runs[1] - runs[0] >= 55ms);
        CHECK(runs[1] - t0 >= 70ms);
        CHECK(runs[2] - t0 >= 80ms);
    }

    SQUALL_TEST_CASE("an async PeriodicCallback finishes before the next run starts", 5s) {
        int active = 0, max_active = 0, started = 0;
        std::vector<TimePoint> starts;
        squall::Event done;
        squall::PeriodicCallback pc(
            loop,
            [&]() -> squall::Task<void> {
                ++active;
                ++started;
                max_active = std::max(max_active, active);
                starts.push_back(loop.time());
                co_await squall::sleep(loop, 25ms);  // longer than the interval
                --active;
                if (started == 3) done.set();
            },
            10ms);
        pc.start();
        co_await done.wait();
        pc.stop();
        CHECK(max_active == 1);
        REQUIRE(starts.size() == 3);
        CHECK(starts[1] - starts[0] >= 25ms);
        CHECK(starts[2] - starts[1] >= 25ms);
    }

    SQUALL_TEST_CASE("a stopped PeriodicCallback runs no more", 5s) {
        const auto baseline = loop.pending_timeouts();
        int runs = 0;
        squall::PeriodicCallback* self = nullptr;
        squall::PeriodicCallback pc(
            loop,
            [&] {
                if (++runs == 2) self->stop();  // stopping from inside the callback
            },
            5ms);
        self = &pc;
        pc.start();
        co_await squall::sleep(loop, 40ms);
        CHECK(runs == 2);
        CHECK_FALSE(pc.is_running());
        pc.start();  // restartable
        co_await squall::sleep(loop, 12ms);
        pc.stop();
        const int after_stop = runs;
        CHECK(after_stop > 2);
        co_await squall::sleep(loop, 20ms);
        CHECK(runs == after_stop);
        CHECK(loop.pending_timeouts() == baseline);
    }

    SQUALL_TEST_CASE("a PeriodicCallback that throws is logged and keeps running", 5s) {
        int runs = 0;
        squall::Event done;
        squall::PeriodicCallback pc(
            loop,
            [&] {
                if (++runs < 3) throw std::runtime_error("periodic failure");
                done.set();  // last: it resumes the test body inline, which may end and free `runs`
            },
            5ms);
        // Route the two expected error lines away from stderr.
        std::vector<std::string> logged;
        auto previous =
            squall::set_log_handler([&](squall::LogLevel, std::string_view m) { logged.emplace_back(m); });
        pc.start();
        co_await done.wait();
        pc.stop();
        squall::set_log_handler(std::move(previous));
        CHECK(runs == 3);
        CHECK(logged.size() == 2);
    }
}
