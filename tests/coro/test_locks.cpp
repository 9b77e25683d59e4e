// Event and Semaphore (tornado.locks semantics), including waiters that gave up (timed out, cancelled).
#include <doctest/doctest.h>

#include <chrono>
#include <squall/testing.hpp>
#include <vector>

#include "squall/coro/locks.hpp"
#include "squall/coro/start.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/async.hpp"

using namespace std::chrono_literals;
using squall::Future;
using squall::Task;

using squall::testing::error_of;
using squall::testing::holds;

namespace {

Task<void> wait_and_record(squall::Event& e, std::vector<int>& order, int id) {
    co_await e.wait();
    order.push_back(id);
}

Task<void> acquire_and_record(squall::Semaphore& s, std::vector<int>& order, int id) {
    co_await s.acquire();
    order.push_back(id);
}

}  // namespace

TEST_SUITE("coro") {
    TEST_CASE("Event::set wakes every waiter and later waits complete at once") {
        squall::Event e;
        std::vector<int> order;
        auto a = squall::start(wait_and_record(e, order, 1));
        auto b = squall::start(wait_and_record(e, order, 2));
        CHECK(order.empty());
        CHECK_FALSE(e.is_set());
        e.set();
        CHECK(e.is_set());
        CHECK(order == std::vector<int>{1, 2});
        CHECK(e.wait().done());
        e.clear();
        Future<void> again = e.wait();
        CHECK_FALSE(again.done());
        e.set();
        CHECK(again.done());
    }

    TEST_CASE("Semaphore hands permits to waiters in FIFO order") {
        squall::Semaphore s(1);
        std::vector<int> order;
        auto a = squall::start(acquire_and_record(s, order, 1));
        auto b = squall::start(acquire_and_record(s, order, 2));
        auto c = squall::start(acquire_and_record(s, order, 3));
        CHECK(order == std::vector<int>{1});
        CHECK(s.waiting() == 2);
        s.release();
        CHECK(order == std::vector<int>{1, 2});
        s.release();
        CHECK(order == std::vector<int>{1, 2, 3});
        CHECK(s.value() == 0);
        s.release();
        CHECK(s.value() == 1);
        CHECK(s.try_acquire());
        CHECK_FALSE(s.try_acquire());
    }

    TEST_CASE("SemaphoreGuard releases its permit on scope exit") {
        squall::Semaphore s(1);
        {
            REQUIRE(s.try_acquire());
            squall::SemaphoreGuard guard(s);
            CHECK(s.value() == 0);
        }
        CHECK(s.value() == 1);
    }

    SQUALL_TEST_CASE("a Semaphore waiter that timed out and was cancelled is skipped", 5s) {
        squall::Semaphore s(0);
        Future<void> late = s.acquire();
        auto bounded = squall::with_timeout(10ms, late);
        CHECK(holds<squall::TimeoutError>(co_await error_of(std::move(bounded))));
        CHECK(late.cancel());
        std::vector<int> order;
        auto next = squall::start(acquire_and_record(s, order, 2));
        s.release();
        CHECK(order == std::vector<int>{2});  // the permit skipped the cancelled waiter
        CHECK(s.value() == 0);
        s.release();
        CHECK(s.value() == 1);  // nobody left waiting: the permit is banked
    }

    SQUALL_TEST_CASE("cancelling a future after with_timeout gave up on it is not logged as a failure", 5s) {
        squall::testing::LogCapture logs;
        squall::Event e;
        Future<void> w = e.wait();
        auto bounded = squall::with_timeout(5ms, w);
        CHECK(holds<squall::TimeoutError>(co_await error_of(std::move(bounded))));
        w.cancel();
        CHECK(logs.lines().empty());
    }
}
