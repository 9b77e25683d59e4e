// Readiness handlers (add_handler / update_handler / remove_handler) on a socketpair, both backends.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <squall/testing.hpp>

#include "squall/coro/locks.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
namespace ev = squall::events;

namespace {

struct SocketPair {
    int a = -1, b = -1;
    SocketPair() {
        int fds[2];
        squall::test::check_sys(
            ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0, "socketpair");
        a = fds[0];
        b = fds[1];
    }
    ~SocketPair() {
        ::close(a);
        ::close(b);
    }
};

}  // namespace

TEST_SUITE("ioloop") {
    SQUALL_TEST_CASE("a read handler fires when data arrives and can consume it", 5s) {
        SocketPair sp;
        squall::Event done;
        std::uint32_t seen = 0;
        char got = 0;
        loop.add_handler(sp.a, ev::kRead, [&](int fd, std::uint32_t events) {
            seen = events;
            CHECK(fd == sp.a);
            CHECK(::read(fd, &got, 1) == 1);
            loop.remove_handler(fd);
            done.set();
        });
        loop.call_later(5ms, [&] { CHECK(::write(sp.b, "x", 1) == 1); });
        co_await done.wait();
        CHECK((seen & ev::kRead) != 0);
        CHECK(got == 'x');
    }

    SQUALL_TEST_CASE("a read handler is level-triggered: unconsumed data fires it again", 5s) {
        SocketPair sp;
        squall::Event done;
        int fired = 0;
        REQUIRE(::write(sp.b, "data", 4) == 4);
        loop.add_handler(sp.a, ev::kRead, [&](int fd, std::uint32_t) {
            if (++fired == 3) {  // the data was never read
                loop.remove_handler(fd);
                done.set();
            }
        });
        co_await done.wait();
        co_await squall::sleep(loop, 10ms);
        CHECK(fired == 3);  // removed from inside its own callback: no further calls
    }

    SQUALL_TEST_CASE("a write handler fires when the socket is writable", 5s) {
        SocketPair sp;
        squall::Event done;
        std::uint32_t seen = 0;
        loop.add_handler(sp.a, ev::kWrite, [&](int fd, std::uint32_t events) {
            seen = events;
            loop.remove_handler(fd);
            done.set();
        });
        co_await done.wait();
        CHECK((seen & ev::kWrite) != 0);
    }

    SQUALL_TEST_CASE("update_handler switches the events a handler waits for", 5s) {
        SocketPair sp;
        squall::Event done;
        int fired = 0;
        std::uint32_t seen = 0;
        loop.add_handler(sp.a, ev::kRead, [&](int fd, std::uint32_t events) {
            ++fired;
            seen = events;
            loop.remove_handler(fd);
            done.set();
        });
        co_await squall::sleep(loop, 10ms);
        CHECK(fired == 0);  // nothing to read
        loop.update_handler(sp.a, ev::kWrite);
        co_await done.wait();
        CHECK(fired == 1);
        CHECK((seen & ev::kWrite) != 0);
    }

    SQUALL_TEST_CASE("update_handler from inside the handler takes effect for the next call", 5s) {
        SocketPair sp;
        squall::Event done;
        int write_calls = 0;
        char got = 0;
        loop.add_handler(sp.a, ev::kWrite, [&](int fd, std::uint32_t events) {
            if (events & ev::kWrite && ++write_calls == 1) {
                loop.update_handler(fd, ev::kRead);
                loop.call_later(5ms, [&] { CHECK(::write(sp.b, "r", 1) == 1); });
                return;
            }
            if (events & ev::kRead) {
                CHECK(::read(fd, &got, 1) == 1);
                loop.remove_handler(fd);
                done.set();
            }
        });
        co_await done.wait();
        CHECK(write_calls == 1);
        CHECK(got == 'r');
    }

    SQUALL_TEST_CASE("remove_handler stops further calls", 5s) {
        SocketPair sp;
        int fired = 0;
        loop.add_handler(sp.a, ev::kRead, [&](int, std::uint32_t) { ++fired; });
        loop.remove_handler(sp.a);
        REQUIRE(::write(sp.b, "y", 1) == 1);
        co_await squall::sleep(loop, 20ms);
        CHECK(fired == 0);
    }

    SQUALL_TEST_CASE("add_handler twice on one fd is a usage error", 5s) {
        SocketPair sp;
        loop.add_handler(sp.a, ev::kRead, [](int, std::uint32_t) {});
        CHECK_THROWS_AS(loop.add_handler(sp.a, ev::kRead, [](int, std::uint32_t) {}), squall::UsageError);
        loop.remove_handler(sp.a);
        co_await squall::sleep(loop, 1ms);
    }
}
