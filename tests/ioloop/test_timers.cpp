// Timers: ordering, equal deadlines, cancellation inside a batch and in any order, 100k timers, add+cancel
// churn, sleep, and a cancelled callback whose destructor re-enters the queue.
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

// TimerQueue driven directly with made-up times: what fires, in which order, after cancellations in every
// order, before and after the relative timers were given their deadlines.
TEST_SUITE("ioloop") {
    TEST_CASE("timers cancelled in any order: the others fire in deadline order, each once") {
        squall::TimerQueue q;
        const TimePoint t0{};
        constexpr int kTimers = 2000;
        std::vector<int> fired;
        std::vector<squall::TimeoutHandle> handles;
        std::vector<squall::Duration> delay(kTimers);
        std::uint32_t lcg = 7;
        auto next = [&lcg] { return lcg = lcg * 1664525u + 1013904223u; };
        // Half relative (add_after), half absolute (add), interleaved; delays repeat so that equal
        // deadlines occur.
        for (int i = 0; i < kTimers; ++i) {
            delay[i] = std::chrono::milliseconds(1 + (next() >> 8) % 50);
            auto cb = [&fired, i] { fired.push_back(i); };
            handles.push_back(i % 2 ? q.add(t0 + delay[i], cb) : q.add_after(delay[i], cb));
        }
        std::vector<bool> cancelled(kTimers, false);
        auto cancel_some = [&](int n) {
            for (int k = 0; k < n; ++k) {
                int i = static_cast<int>((next() >> 8) % kTimers);
                CHECK(q.cancel(handles[i]) == !cancelled[i]);  // a second cancel finds it gone
                cancelled[i] = true;
            }
        };
        cancel_some(600);                        // relative ones still in their list
        CHECK(q.next_deadline(t0).has_value());  // settles the relative ones at t0
        cancel_some(600);                        // now all in the heap
        // Equal deadlines fire in the order added.
        std::vector<int> expected;
        for (int i = 0; i < kTimers; ++i)
            if (!cancelled[i]) expected.push_back(i);
        std::stable_sort(expected.begin(), expected.end(), [&](int a, int b) { return delay[a] < delay[b]; });
        CHECK(q.size() == expected.size());
        CHECK(q.run_due(t0 + std::chrono::seconds(1)) == expected.size());
        CHECK(fired == expected);
        CHECK(q.empty());
        for (auto h : handles) CHECK_FALSE(q.cancel(h));
    }

    TEST_CASE("the latest timer cancelled first, then the others from the front") {
        squall::TimerQueue q;
        std::vector<int> fired;
        std::vector<squall::TimeoutHandle> h;
        for (int i = 0; i < 5; ++i)
            h.push_back(q.add_after(std::chrono::milliseconds(10 - i), [&fired, i] { fired.push_back(i); }));
        CHECK(q.cancel(h[4]));
        CHECK(q.cancel(h[0]));
        CHECK(q.cancel(h[2]));
        auto later = q.add_after(std::chrono::milliseconds(1), [&fired] { fired.push_back(9); });
        CHECK(q.size() == 3);
        CHECK(q.run_due(TimePoint{} + std::chrono::milliseconds(20)) == 0);  // settled at that time
        CHECK(q.run_due(TimePoint{} + std::chrono::milliseconds(40)) == 3);
        CHECK(fired == std::vector<int>{9, 3, 1});
        CHECK_FALSE(q.cancel(later));
    }

    TEST_CASE("a cancelled timer's callback may add and cancel timers from its destructor") {
        squall::TimerQueue q;
        // Destroying the callback of `first` adds many timers (the node table grows) and tries to cancel
        // `first` again.
        struct OnDestroy {
            squall::TimerQueue* q;
            squall::TimeoutHandle* self;
            std::vector<squall::TimeoutHandle>* added;
            bool* cancelled_again;
            bool armed = true;
            OnDestroy(squall::TimerQueue* q_, squall::TimeoutHandle* s, std::vector<squall::TimeoutHandle>* a,
                      bool* c)
                : q(q_), self(s), added(a), cancelled_again(c) {}
            OnDestroy(OnDestroy&& o) noexcept
                : q(o.q), self(o.self), added(o.added), cancelled_again(o.cancelled_again) {
                o.armed = false;
            }
            ~OnDestroy() {
                if (!armed) return;
                for (int i = 0; i < 1000; ++i) added->push_back(q->add_after(std::chrono::seconds(1), [] {}));
                *cancelled_again = q->cancel(*self);
            }
            void operator()() {}
        };
        std::vector<squall::TimeoutHandle> added;
        bool cancelled_again = true;
        squall::TimeoutHandle first;
        first = q.add_after(std::chrono::seconds(1), OnDestroy(&q, &first, &added, &cancelled_again));
        CHECK(q.cancel(first));
        CHECK_FALSE(cancelled_again);
        CHECK(added.size() == 1000);
        CHECK(q.size() == 1000);
        int fired = 0;
        auto last = q.add_after(std::chrono::seconds(2), [&fired] { ++fired; });
        for (auto h : added) CHECK(q.cancel(h));
        CHECK(q.size() == 1);
        CHECK(q.run_due(TimePoint{} + std::chrono::seconds(5)) == 0);  // settled at 5 s: due at 7 s
        CHECK(q.run_due(TimePoint{} + std::chrono::seconds(7)) == 1);
        CHECK(fired == 1);
        CHECK_FALSE(q.cancel(last));
    }
}
