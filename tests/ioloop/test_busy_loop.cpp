// A loop kept busy by callbacks (it never blocks): on io_uring such iterations read the completion ring
// without a syscall, and I/O still completes among them (no completion is held back by the kernel).
#include <doctest/doctest.h>

#include <chrono>
#include <squall/testing.hpp>

#include "squall/coro/locks.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "support.hpp"

using namespace std::chrono_literals;

namespace {

// A callback that re-adds itself every iteration until *stop, so the loop always has one pending.
struct Spinner {
    squall::IOLoop* loop;
    bool* stop;
    int* runs;
    void operator()() const {
        ++*runs;
        if (!*stop) loop->add_callback(Spinner{loop, stop, runs});
    }
};

}  // namespace

TEST_SUITE("ioloop") {
    SQUALL_TEST_CASE("I/O completes while callbacks keep the loop from ever blocking", 10s) {
        const squall::test::LoopbackConnection fds = co_await squall::test::connect_loopback(loop);
        const int lfd = fds.listener, cfd = fds.client, sfd = fds.server;

        bool stop = false;
        int runs = 0;
        loop.add_callback(Spinner{&loop, &stop, &runs});
        const auto waits0 = loop.stats().waits;
        // The data is sent by a callback of the busy loop, after a few hundred spins; the recv was
        // submitted before and must complete although no iteration ever waits.
        int ticks = 0;
        struct Sender {
            squall::IOLoop* loop;
            int fd;
            int* ticks;
            void operator()() const {
                if (++*ticks < 300) {
                    loop->add_callback(Sender{loop, fd, ticks});
                    return;
                }
                REQUIRE(::send(fd, "ping", 4, MSG_NOSIGNAL) == 4);
            }
        };
        loop.add_callback(Sender{&loop, cfd, &ticks});
        char buf[8] = {};
        int n = co_await loop.recv(sfd, buf, sizeof buf);
        stop = true;
        CHECK(n == 4);
        CHECK(std::string_view(buf, 4) == "ping");
        CHECK(loop.stats().waits == waits0);  // it never blocked: the spinner was pending throughout
        CHECK(runs > 0);
        loop.close_fd(sfd);
        loop.close_fd(cfd);
        loop.close_fd(lfd);
    }

    SQUALL_TEST_CASE("io_uring: an iteration with pending callbacks and nothing to submit makes no syscall",
                     10s) {
        if (loop.backend() != squall::Backend::uring) co_return;  // epoll has no user-space peek: it polls
        bool stop = false;
        int runs = 0;
        squall::Event done;
        loop.add_callback(Spinner{&loop, &stop, &runs});
        const auto polls0 = loop.stats().kernel_polls;
        const auto iterations0 = loop.stats().iterations;
        loop.call_later(20ms, [&] {
            stop = true;
            done.set();
        });
        co_await done.wait();
        const auto iterations = loop.stats().iterations - iterations0;
        const auto polls = loop.stats().kernel_polls - polls0;
        CAPTURE(iterations);
        CAPTURE(polls);
        REQUIRE(iterations > 100);
        CHECK(polls * 10 < iterations);  // a few for the timer's arming and the end; not one per iteration
    }
}
