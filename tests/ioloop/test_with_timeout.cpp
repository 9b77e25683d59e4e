// with_timeout: results in time, TimeoutError when late, errors before and after the deadline.
#include <doctest/doctest.h>

#include <chrono>
#include <squall/testing.hpp>
#include <stdexcept>
#include <string>

#include "squall/coro/locks.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/async.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using squall::Task;
using squall::test::value_after;

namespace {

Task<int> value_when(squall::Event& e, int v) {
    co_await e.wait();
    co_return v;
}

Task<int> fail_when(squall::Event& e, std::string what) {
    co_await e.wait();
    throw std::runtime_error(what);
}

}  // namespace

TEST_SUITE("ioloop") {
    SQUALL_TEST_CASE("with_timeout returns the result when it arrives in time", 5s) {
        CHECK(co_await squall::with_timeout(1s, value_after(loop, 5ms, 3)) == 3);
        squall::Promise<int> p;
        p.set_value(4);
        CHECK(co_await squall::with_timeout(1s, p.get_future()) == 4);  // already done
    }

    SQUALL_TEST_CASE("with_timeout raises TimeoutError when the result is late; the operation goes on", 5s) {
        squall::Event release;
        auto slow = squall::start(value_when(release, 9));
        auto t0 = loop.time();
        bool timed_out = false;
        try {
            co_await squall::with_timeout(10ms, slow);
        } catch (const squall::TimeoutError& e) {
            timed_out = true;
            CHECK(std::string(e.what()).find("timed out") != std::string::npos);
        }
        CHECK(timed_out);
        CHECK(loop.time() - t0 >= 10ms);
        CHECK_FALSE(slow.done());  // not cancelled
        release.set();
        REQUIRE(slow.done());
        CHECK(slow.result() == 9);
    }

    SQUALL_TEST_CASE("an error raised before the deadline propagates through with_timeout unchanged", 5s) {
        squall::Event go;
        loop.call_later(2ms, [&] { go.set(); });
        bool caught = false;
        try {
            co_await squall::with_timeout(1s, fail_when(go, "early failure"));
        } catch (const squall::TimeoutError&) {
            FAIL("TimeoutError instead of the operation's error");
        } catch (const std::runtime_error& e) {
            caught = std::string(e.what()) == "early failure";
        }
        CHECK(caught);
    }

    SQUALL_TEST_CASE("a failure after with_timeout gave up is logged", 5s) {
        squall::test::LogCapture logs;
        squall::Event go;
        bool timed_out = false;
        try {
            co_await squall::with_timeout(5ms, fail_when(go, "late failure"));
        } catch (const squall::TimeoutError&) {
            timed_out = true;
        }
        CHECK(timed_out);
        CHECK(logs.lines().empty());
        go.set();  // the abandoned operation fails now
        CHECK(logs.count("late failure") == 1);
    }

    SQUALL_TEST_CASE("with_timeout cancels its timer when the result arrives first", 5s) {
        const auto before = loop.pending_timeouts();
        CHECK(co_await squall::with_timeout(10s, value_after(loop, 1ms, 1)) == 1);
        CHECK(loop.pending_timeouts() == before);
    }

    SQUALL_TEST_CASE("with_timeout(loop, ...) puts its timer on the loop it is given", 5s) {
        squall::IOLoop other(squall::Backend::epoll);
        const auto before = loop.pending_timeouts();
        squall::Promise<int> p;
        auto waiting = squall::start(squall::with_timeout(other, 10s, p.get_future()));
        CHECK(other.pending_timeouts() == 1);
        CHECK(loop.pending_timeouts() == before);
        p.set_value(5);
        REQUIRE(waiting.done());
        CHECK(waiting.result() == 5);
        CHECK(other.pending_timeouts() == 0);
        co_return;
    }
}
