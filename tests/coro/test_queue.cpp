// Queue<T> (tornado.queues semantics): FIFO, bounded put, nowait variants, and waiters that gave up.
#include <doctest/doctest.h>

#include <chrono>
#include <squall/testing.hpp>
#include <string>
#include <vector>

#include "squall/coro/queue.hpp"
#include "squall/coro/start.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/async.hpp"

using namespace std::chrono_literals;
using squall::Future;
using squall::Queue;
using squall::Task;

using squall::testing::error_of;
using squall::testing::holds;

namespace {

Task<void> get_into(Queue<int>& q, std::vector<int>& out) {
    out.push_back(co_await q.get());
}
Task<void> put_value(Queue<int>& q, int v, std::vector<int>& log) {
    co_await q.put(v);
    log.push_back(v);
}

}  // namespace

TEST_SUITE("coro") {
    TEST_CASE("Queue delivers items in FIFO order") {
        Queue<std::string> q;
        q.put_nowait("a");
        (void)q.put("b");
        CHECK(q.size() == 2);
        CHECK(q.get_nowait() == "a");
        auto f = q.get();
        REQUIRE(f.done());
        CHECK(f.result() == "b");
        CHECK(q.empty());
    }

    TEST_CASE("Queue::get waits for a put, getters served in order") {
        Queue<int> q;
        std::vector<int> got;
        auto a = squall::start(get_into(q, got));
        auto b = squall::start(get_into(q, got));
        CHECK(got.empty());
        q.put_nowait(1);
        q.put_nowait(2);
        CHECK(got == std::vector<int>{1, 2});
        CHECK(q.empty());  // handed straight to the getters
    }

    TEST_CASE("a bounded Queue makes put wait for room") {
        Queue<int> q(1);
        std::vector<int> put_done;
        auto a = squall::start(put_value(q, 1, put_done));
        auto b = squall::start(put_value(q, 2, put_done));
        CHECK(put_done == std::vector<int>{1});
        CHECK(q.full());
        CHECK_THROWS_AS(q.put_nowait(3), squall::QueueFull);
        CHECK(q.get_nowait() == 1);
        CHECK(put_done == std::vector<int>{1, 2});  // the waiting putter was admitted
        CHECK(q.get_nowait() == 2);
        CHECK_THROWS_AS(q.get_nowait(), squall::QueueEmpty);
    }

    SQUALL_TEST_CASE("a Queue getter that timed out and was cancelled does not swallow an item", 5s) {
        Queue<int> q;
        Future<int> late = q.get();
        auto bounded = squall::with_timeout(10ms, late);
        CHECK(holds<squall::TimeoutError>(co_await error_of(std::move(bounded))));
        late.cancel();
        std::vector<int> got;
        auto next = squall::start(get_into(q, got));
        q.put_nowait(7);
        CHECK(got == std::vector<int>{7});
    }

    SQUALL_TEST_CASE("a Queue putter that timed out and was cancelled does not enqueue its item", 5s) {
        Queue<int> q(1);
        q.put_nowait(1);
        Future<void> late = q.put(2);
        auto bounded = squall::with_timeout(10ms, late);
        CHECK(holds<squall::TimeoutError>(co_await error_of(std::move(bounded))));
        late.cancel();
        CHECK(q.get_nowait() == 1);
        CHECK(q.empty());  // item 2 was not admitted
        CHECK_THROWS_AS(q.get_nowait(), squall::QueueEmpty);
    }
}
