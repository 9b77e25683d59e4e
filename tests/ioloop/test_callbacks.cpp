// add_callback: FIFO order, next-iteration rule, hand-off from other threads, stop from another thread.
#include <doctest/doctest.h>

#include <chrono>
#include <squall/testing.hpp>
#include <thread>
#include <vector>

#include "squall/coro/locks.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/testing.hpp"
#include "support.hpp"

using namespace std::chrono_literals;

TEST_SUITE("ioloop") {
    SQUALL_TEST_CASE("callbacks run in the order they were added", 5s) {
        std::vector<int> order;
        squall::Event done;
        for (int i = 0; i < 5; ++i) loop.add_callback([&order, i] { order.push_back(i); });
        loop.add_callback([&done] { done.set(); });
        co_await done.wait();
        CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
    }

    SQUALL_TEST_CASE("a callback added by a callback runs on the next iteration, after the current batch",
                     5s) {
        std::vector<int> order;
        std::vector<std::uint64_t> iteration;
        squall::Event done;
        loop.add_callback([&] {
            order.push_back(1);
            iteration.push_back(loop.stats().iterations);
            loop.add_callback([&] {
                order.push_back(3);
                iteration.push_back(loop.stats().iterations);
                done.set();
            });
        });
        loop.add_callback([&] {
            order.push_back(2);
            iteration.push_back(loop.stats().iterations);
        });
        co_await done.wait();
        CHECK(order == std::vector<int>{1, 2, 3});
        REQUIRE(iteration.size() == 3);
        CHECK(iteration[0] == iteration[1]);
        CHECK(iteration[2] > iteration[1]);
    }

    SQUALL_TEST_CASE("add_callback from 4 threads runs every callback exactly once, in each thread's order",
                     30s) {
        constexpr int kThreads = 4;
        constexpr int kEach = 10'000;
        int count = 0;                        // loop thread only
        std::vector<int> last(kThreads, -1);  // loop thread only
        int out_of_order = 0;
        squall::Event all_ran;
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < kEach; ++i) {
                    loop.add_callback([&, t, i] {
                        if (last[t] + 1 != i) ++out_of_order;
                        last[t] = i;
                        if (++count == kThreads * kEach) all_ran.set();
                    });
                }
            });
        }
        co_await all_ran.wait();
        for (auto& th : threads) th.join();
        CHECK(count == kThreads * kEach);
        CHECK(out_of_order == 0);
        // Nothing extra arrives later.
        co_await squall::sleep(loop, 5ms);
        CHECK(count == kThreads * kEach);
    }

    SQUALL_LOOP_TEST_CASE("stop from another thread wakes a loop blocked in its poll") {
        // A far timer keeps the loop's wait long; only the wakeup can end it early.
        auto safety = loop.call_later(10s, [&loop] { loop.stop(); });
        auto t0 = std::chrono::steady_clock::now();
        std::thread stopper([&loop] {
            std::this_thread::sleep_for(30ms);
            loop.stop();
        });
        loop.run();
        stopper.join();
        auto elapsed = std::chrono::steady_clock::now() - t0;
        CHECK(elapsed >= 30ms);
        CHECK(elapsed < 5s);
        loop.remove_timeout(safety);
    }

    SQUALL_LOOP_TEST_CASE("a callback added from another thread wakes a loop blocked in its poll") {
        auto safety = loop.call_later(10s, [&loop] { loop.stop(); });
        bool ran = false;
        auto t0 = std::chrono::steady_clock::now();
        std::thread poster([&] {
            std::this_thread::sleep_for(20ms);
            loop.add_callback([&] {
                ran = true;
                loop.stop();
            });
        });
        loop.run();
        poster.join();
        CHECK(ran);
        CHECK(std::chrono::steady_clock::now() - t0 < 5s);
        loop.remove_timeout(safety);
    }
}
