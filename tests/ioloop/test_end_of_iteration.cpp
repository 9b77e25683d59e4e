// The corked write path: end-of-iteration hooks (what the streams flush their corked writes from), and
// io_uring's batching of the ops issued during one iteration into one submission.
//
// The loop has no syscall counter. What is observable: on io_uring, sends issued during an iteration
// have not left when the iteration's code runs and all complete in the same later iteration (one
// io_uring_enter submits them together); on epoll, a send is one syscall issued at once, so corking is
// the job of the stream's end-of-iteration hook, whose ordering is tested here.
#include <doctest/doctest.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <squall/testing.hpp>
#include <string>
#include <vector>

#include "squall/coro/gather.hpp"
#include "squall/coro/locks.hpp"
#include "squall/coro/start.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/async.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using squall::Task;

namespace {

Task<int> accept_one(squall::IOLoop& loop, int listen_fd) {
    co_return co_await loop.accept(listen_fd);
}

Task<std::pair<int, int>> connect_pair(squall::IOLoop& loop) {
    std::uint16_t port = 0;
    int lfd = squall::test::listen_loopback(port);
    auto accepted = squall::start(accept_one(loop, lfd));
    int client = squall::test::tcp_socket();
    int one = 1;
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in sa = squall::test::loopback_address(port);
    REQUIRE(co_await loop.connect(client, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    int server = co_await accepted;
    REQUIRE(server >= 0);
    loop.close_fd(lfd);
    co_return std::pair{client, server};
}

Task<std::uint64_t> send_and_note_iteration(squall::IOLoop& loop, int fd, const char* data, std::size_t n) {
    int r = co_await loop.send(fd, data, n);
    CHECK(r == static_cast<int>(n));
    co_return loop.stats().iterations;
}

}  // namespace

TEST_SUITE("ioloop") {
    SQUALL_TEST_CASE("end-of-iteration hooks run after the iteration's callbacks and before the next", 5s) {
        std::vector<std::string> order;
        squall::Event done;
        loop.add_callback([&] {
            order.push_back("callback 1");
            loop.add_end_of_iteration([&] {
                order.push_back("hook 1");
                loop.add_end_of_iteration([&] { order.push_back("hook added by hook"); });
                loop.add_callback([&] {
                    order.push_back("next iteration");
                    done.set();
                });
            });
        });
        loop.add_callback([&] { order.push_back("callback 2"); });
        co_await done.wait();
        CHECK(order == std::vector<std::string>{"callback 1", "callback 2", "hook 1", "hook added by hook",
                                                "next iteration"});
    }

    SQUALL_TEST_CASE("a burst of writes corked until the end of the iteration leaves in one send", 5s) {
        // Plain variables, not a structured binding: clang 14 cannot capture bindings in lambdas.
        const auto fds = co_await connect_pair(loop);
        const int client = fds.first;
        const int server = fds.second;
        std::string corked;
        int flushes = 0;
        squall::Event flushed;
        auto write = [&](std::string_view data) {  // what a stream's write does
            if (corked.empty()) {
                loop.add_end_of_iteration([&] {
                    ++flushes;
                    CHECK(::send(client, corked.data(), corked.size(), MSG_NOSIGNAL) ==
                          static_cast<ssize_t>(corked.size()));
                    corked.clear();
                    flushed.set();
                });
            }
            corked.append(data);
        };
        loop.add_callback([&] {
            for (int i = 0; i < 100; ++i) write("x");
        });
        co_await flushed.wait();
        CHECK(flushes == 1);
        char buf[256];
        std::size_t got = 0;
        while (got < 100) {
            int r = co_await loop.recv(server, buf, sizeof buf);
            REQUIRE(r > 0);
            got += static_cast<std::size_t>(r);
        }
        CHECK(got == 100);
        loop.close_fd(client);
        loop.close_fd(server);
    }

    SQUALL_TEST_CASE("sends issued in one iteration leave at once, in order, and complete in it", 5s) {
        // Plain variables, not a structured binding: clang 14 cannot capture bindings in lambdas.
        const auto fds = co_await connect_pair(loop);
        const int client = fds.first;
        const int server = fds.second;
        std::vector<squall::Future<std::uint64_t>> sends;
        std::uint64_t issued_in = 0;
        ssize_t peeked = 0;
        squall::Event issued;
        loop.add_callback([&] {
            issued_in = loop.stats().iterations;
            for (const char* s : {"one,", "two,", "three"})
                sends.push_back(squall::start(
                    send_and_note_iteration(loop, client, s, std::char_traits<char>::length(s))));
            char buf[64];
            peeked = ::recv(server, buf, sizeof buf, MSG_DONTWAIT | MSG_PEEK);
            issued.set();
        });
        co_await issued.wait();
        std::vector<std::uint64_t> done_in;
        for (auto& f : sends) done_in.push_back(co_await f);
        // All three completed in the iteration that issued them.
        CHECK(done_in[0] == issued_in);
        CHECK(done_in[1] == issued_in);
        CHECK(done_in[2] == issued_in);
        // Each send with room in the socket is its own syscall, issued at once, on both backends (on
        // io_uring a send request's completion would end the wait of the enter that submitted it).
        CHECK(peeked == 13);
        char buf[64];
        std::string got;
        while (got.size() < 13) {
            int r = co_await loop.recv(server, buf, sizeof buf);
            REQUIRE(r > 0);
            got.append(buf, static_cast<std::size_t>(r));
        }
        CHECK(got == "one,two,three");
        loop.close_fd(client);
        loop.close_fd(server);
    }
}
