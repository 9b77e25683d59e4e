// Timers: ordering, equal deadlines, cancellation inside a batch, 100k timers, add+cancel churn, sleep.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <squall/testing.hpp>
#include <vector>

#include "squall/coro/locks.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using squall::TimePoint;

TEST_SUITE("ioloop") {
    SQUALL_TEST_CASE("timers fire in deadline order, not insertion order", 5s) {
        std::vector<int> order;
        squall::Event done;
        loop.call_later(30ms, [&] {
            order.push_back(30);
            done.set();
        });
        loop.call_later(10ms, [&] { order.push_back(10); });
        loop.call_later(20ms, [&] { order.push_back(20); });
        co_await done.wait();
        CHECK(order == std::vector<int>{10, 20, 30});
    }

    SQUALL_TEST_CASE("timers with equal deadlines fire in insertion order", 5s) {
        std::vector<int> order;
        squall::Event done;
        TimePoint when = loop.time() + 5ms;
        for (int i = 0; i < 8; ++i) loop.call_at(when, [&order, i] { order.push_back(i); });
        loop.call_at(when, [&] { done.set(); });
        co_await done.wait();
        CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
    }

    SQUALL_TEST_CASE("remove_timeout inside a timer callback prevents a timer due in the same batch", 5s) {
        bool first_ran = false, second_ran = false, removed = false;
        squall::Event done;
        TimePoint when = loop.time() + 5ms;
        squall::TimeoutHandle second;
        loop.call_at(when, [&] {
            first_ran = true;
            removed = loop.remove_timeout(second);
        });
        second = loop.call_at(when, [&] { second_ran = true; });
        loop.call_at(when + 5ms, [&] { done.set(); });
        co_await done.wait();
        CHECK(first_ran);
        CHECK(removed);
        CHECK_FALSE(second_ran);
        CHECK_FALSE(loop.remove_timeout(second));  // a stale handle is harmless
    }

    SQUALL_TEST_CASE("remove_timeout of a timer that already ran returns false", 5s) {
        const auto baseline = loop.pending_timeouts();  // run_sync's own timeout
        bool ran = false;
        auto h = loop.call_later(1ms, [&] { ran = true; });
        co_await squall::sleep(loop, 5ms);
        CHECK(ran);
        CHECK_FALSE(loop.remove_timeout(h));
        CHECK(loop.pending_timeouts() == baseline);
    }

    SQUALL_TEST_CASE("100k timers all fire, in deadline order", 30s) {
        constexpr int kTimers = 100'000;
        const auto baseline = loop.pending_timeouts();
        std::vector<TimePoint> fired;
        fired.reserve(kTimers);
        squall::Event done;
        TimePoint base = loop.time() + 2ms;
        std::uint32_t lcg = 12345;
        for (int i = 0; i < kTimers; ++i) {
            lcg = lcg * 1664525u + 1013904223u;
            TimePoint when = base + std::chrono::microseconds((lcg >> 8) % 20'000);
            loop.call_at(when, [&fired, &done, when] {
                fired.push_back(when);
                if (fired.size() == kTimers) done.set();
            });
        }
        CHECK(loop.pending_timeouts() == baseline + kTimers);
        co_await done.wait();
        CHECK(fired.size() == kTimers);
        CHECK(std::is_sorted(fired.begin(), fired.end()));
        CHECK(loop.pending_timeouts() == baseline);
    }

    SQUALL_TEST_CASE("add and cancel churn does not grow the timer queue's memory", 30s) {
        const auto baseline = loop.pending_timeouts();
        bool long_timer_ran = false;
        auto keep = loop.call_later(1h, [&] { long_timer_ran = true; });  // one live timer throughout
        auto churn = [&](int n) {
            for (int i = 0; i < n; ++i) {
                auto h = loop.call_later(std::chrono::seconds(1 + i % 60), [] {});
                loop.remove_timeout(h);
            }
        };
        churn(1'000);
        const std::size_t before = squall::test::allocated_bytes();
        churn(200'000);
        const std::size_t after = squall::test::allocated_bytes();
        CHECK(loop.pending_timeouts() == baseline + 1);
        // Without compaction 200k stale heap entries would hold megabytes.
        CHECK(after <= before + 64 * 1024);
        co_await squall::sleep(loop, 1ms);  // the loop still runs normally
        CHECK(loop.remove_timeout(keep));
        CHECK_FALSE(long_timer_ran);
    }

    SQUALL_TEST_CASE("sleep resumes no earlier than its delay", 5s) {
        for (auto delay : {1ms, 10ms, 25ms}) {
            auto t0 = loop.time();
            co_await squall::sleep(loop, delay);
            CHECK(loop.time() - t0 >= delay);
        }
        auto t0 = loop.time();
        co_await squall::sleep(0ms);  // does not suspend
        CHECK(loop.time() - t0 < 5ms);
    }
}
