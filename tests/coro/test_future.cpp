// Future / Promise: completion before and after await, several awaiters, done-callback order,
// cancellation, abandoned promises, and logging of errors nobody retrieved.
#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "squall/coro/errors.hpp"
#include "squall/coro/future.hpp"
#include "squall/coro/start.hpp"
#include "squall/coro/task.hpp"
#include "squall/testing.hpp"

using squall::Future;
using squall::Promise;
using squall::Task;
using squall::testing::LogCapture;

namespace {

Task<int> await_copy(Future<int> f, std::vector<int>* order, int id) {
    int v = co_await f;
    if (order) order->push_back(id);
    co_return v;
}

Task<std::string> await_error_kind(Future<int> f) {
    try {
        co_await f;
    } catch (const squall::CancelledError&) {
        co_return "cancelled";
    } catch (const squall::Error& e) {
        co_return std::string("error: ") + e.what();
    }
    co_return "value";
}

}  // namespace

TEST_SUITE("coro") {
    TEST_CASE("a future set before it is awaited resumes the awaiter without suspending") {
        Promise<int> p;
        p.set_value(5);
        auto f = squall::start(await_copy(p.get_future(), nullptr, 0));
        REQUIRE(f.done());
        CHECK(f.result() == 5);
    }

    TEST_CASE("a future set after it is awaited resumes the awaiter inline in set_value") {
        Promise<int> p;
        auto f = squall::start(await_copy(p.get_future(), nullptr, 0));
        CHECK_FALSE(f.done());
        CHECK(p.set_value(6));
        REQUIRE(f.done());
        CHECK(f.result() == 6);
    }

    TEST_CASE("several coroutines awaiting one future all get the value, in registration order") {
        Promise<int> p;
        Future<int> fut = p.get_future();
        std::vector<int> order;
        auto a = squall::start(await_copy(fut, &order, 1));
        auto b = squall::start(await_copy(fut, &order, 2));
        auto c = squall::start(await_copy(fut, &order, 3));
        p.set_value(11);
        REQUIRE(a.done());
        REQUIRE(b.done());
        REQUIRE(c.done());
        CHECK(a.result() == 11);
        CHECK(b.result() == 11);
        CHECK(c.result() == 11);
        CHECK(order == std::vector<int>{1, 2, 3});
    }

    TEST_CASE("done callbacks and awaiters run in registration order; late callbacks run at once") {
        Promise<int> p;
        Future<int> fut = p.get_future();
        std::vector<int> order;
        fut.add_done_callback([&](Future<int>& f) { order.push_back(100 + f.result()); });
        auto waiter = squall::start(await_copy(fut, &order, 2));
        fut.add_done_callback([&](Future<int>&) { order.push_back(3); });
        p.set_value(1);
        CHECK(order == std::vector<int>{101, 2, 3});
        fut.add_done_callback([&](Future<int>&) { order.push_back(4); });
        CHECK(order == std::vector<int>{101, 2, 3, 4});
    }

    TEST_CASE("cancel completes a pending future with CancelledError for its awaiters") {
        Promise<int> p;
        Future<int> fut = p.get_future();
        auto waiter = squall::start(await_error_kind(fut));
        CHECK(fut.cancel());
        CHECK(fut.done());
        CHECK(fut.cancelled());
        REQUIRE(waiter.done());
        CHECK(waiter.result() == "cancelled");
        CHECK_FALSE(fut.cancel());  // already done
    }

    TEST_CASE("set_value after cancel is ignored") {
        Promise<int> p;
        Future<int> fut = p.get_future();
        fut.cancel();
        CHECK_FALSE(p.set_value(3));
        CHECK_FALSE(p.set_error(std::runtime_error("late")));
        CHECK_THROWS_AS(fut.result(), squall::CancelledError);
    }

    TEST_CASE("a promise destroyed without a result fails its future instead of leaving it pending") {
        Future<int> fut;
        Future<std::string> waiter;
        {
            Promise<int> p;
            fut = p.get_future();
            waiter = squall::start(await_error_kind(fut));
            CHECK_FALSE(waiter.done());
        }
        REQUIRE(fut.done());
        CHECK_FALSE(fut.cancelled());
        CHECK_THROWS_WITH_AS(fut.result(), doctest::Contains("promise abandoned"), squall::Error);
        REQUIRE(waiter.done());
        CHECK(waiter.result().find("promise abandoned") != std::string::npos);
    }

    TEST_CASE("an error nobody retrieved is logged when the last future reference goes") {
        LogCapture logs;
        {
            Promise<int> p;
            Future<int> fut = p.get_future();
            p.set_error(std::runtime_error("lost failure 1"));
        }
        CHECK(logs.count("lost failure 1") == 1);
        CHECK(logs.count("never retrieved") == 1);
    }

    TEST_CASE("a retrieved error is not logged") {
        LogCapture logs;
        {
            Promise<int> p;
            Future<int> fut = p.get_future();
            auto waiter = squall::start(await_error_kind(fut));
            p.set_error(squall::Error("seen failure"));
            CHECK(waiter.result() == "error: seen failure");
        }
        {
            Promise<int> p;
            p.set_error(squall::Error("inspected failure"));
            CHECK(p.get_future().exception() != nullptr);
        }
        CHECK(logs.lines().empty());
    }

    TEST_CASE("result() before completion raises UsageError") {
        Promise<int> p;
        CHECK_THROWS_AS(p.get_future().result(), squall::UsageError);
    }

    TEST_CASE("co_await std::move(future) moves a move-only value out") {
        Promise<std::unique_ptr<int>> p;
        auto take = [](Future<std::unique_ptr<int>> f) -> Task<int> {
            std::unique_ptr<int> v = co_await std::move(f);
            co_return *v;
        };
        auto r = squall::start(take(p.get_future()));
        p.set_value(std::make_unique<int>(8));
        REQUIRE(r.done());
        CHECK(r.result() == 8);
    }

    TEST_CASE("make_ready_future returns a completed future") {
        auto f = squall::make_ready_future(std::string("ready"));
        CHECK(f.done());
        CHECK(f.result() == "ready");
        auto v = squall::make_ready_future();
        CHECK(v.done());
        CHECK_NOTHROW(v.result());
    }

    TEST_CASE("a ready Future<void> costs no allocation, and awaiting or cancelling it changes nothing") {
        (void)squall::make_ready_future();  // the thread's shared state exists from here on
        const auto before = squall::frame_allocator_stats();
        int ran = 0;
        for (int i = 0; i < 1000; ++i) {
            auto f = squall::make_ready_future();
            CHECK_FALSE(f.cancel());  // already done: stays a value
            f.add_done_callback([&](squall::Future<void>& done) {
                CHECK_NOTHROW(done.result());
                ++ran;
            });
        }
        const auto after = squall::frame_allocator_stats();
        CHECK(after.fresh + after.recycled == before.fresh + before.recycled);
        CHECK(ran == 1000);
        auto awaited = squall::start([]() -> squall::Task<int> {
            co_await squall::make_ready_future();
            co_return 1;
        }());
        REQUIRE(awaited.done());
        CHECK(awaited.result() == 1);
        CHECK_FALSE(squall::make_ready_future().cancelled());
    }
}
