// Completion ops on loopback TCP (accept, connect, send, sendmsg, recv), refused connects, peer close,
// cancellation and close_fd, on both backends.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <squall/testing.hpp>
#include <string>
#include <thread>

#include "squall/coro/start.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using squall::Task;
using squall::test::loopback_address;

namespace {

Task<int> accept_one(squall::IOLoop& loop, int listen_fd) {
    co_return co_await loop.accept(listen_fd);
}

// A connected pair of loopback TCP sockets, both non-blocking, made through the loop's own ops.
struct TcpPair {
    int client = -1;
    int server = -1;
};

Task<TcpPair> connect_pair(squall::IOLoop& loop) {
    std::uint16_t port = 0;
    int lfd = squall::test::listen_loopback(port);
    auto accepted = squall::start(accept_one(loop, lfd));
    TcpPair p;
    p.client = squall::test::tcp_socket();
    sockaddr_in sa = loopback_address(port);
    int r = co_await loop.connect(p.client, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    REQUIRE(r == 0);
    p.server = co_await accepted;
    REQUIRE(p.server >= 0);
    loop.close_fd(lfd);
    co_return p;
}

// Receives exactly n bytes (or until EOF / error).
Task<std::string> recv_exactly(squall::IOLoop& loop, int fd, std::size_t n) {
    std::string out;
    char buf[256];
    while (out.size() < n) {
        int r = co_await loop.recv(fd, buf, std::min(sizeof buf, n - out.size()));
        if (r <= 0) break;
        out.append(buf, static_cast<std::size_t>(r));
    }
    co_return out;
}

}  // namespace

TEST_SUITE("ioloop") {
    SQUALL_TEST_CASE("accept, connect, send and recv complete on loopback TCP", 5s) {
        TcpPair p = co_await connect_pair(loop);
        int one = 1;
        ::setsockopt(p.client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        CHECK(co_await loop.send(p.client, "hello", 5) == 5);
        CHECK(co_await recv_exactly(loop, p.server, 5) == "hello");
        CHECK(co_await loop.send(p.server, "world!", 6) == 6);
        CHECK(co_await recv_exactly(loop, p.client, 6) == "world!");
        loop.close_fd(p.client);
        loop.close_fd(p.server);
    }

    SQUALL_TEST_CASE("a recv issued before the data arrives completes when it does", 5s) {
        TcpPair p = co_await connect_pair(loop);
        auto pending = squall::start(recv_exactly(loop, p.server, 3));
        CHECK_FALSE(pending.done());
        loop.call_later(5ms, [&] { CHECK(::send(p.client, "abc", 3, MSG_NOSIGNAL) == 3); });
        CHECK(co_await pending == "abc");
        loop.close_fd(p.client);
        loop.close_fd(p.server);
    }

    SQUALL_TEST_CASE("sendmsg writes several iovecs in order", 5s) {
        TcpPair p = co_await connect_pair(loop);
        std::string a = "head:", b = "middle:", c = "tail";
        iovec iov[3] = {{a.data(), a.size()}, {b.data(), b.size()}, {c.data(), c.size()}};
        int n = co_await loop.sendmsg(p.client, iov, 3);
        CHECK(n == static_cast<int>(a.size() + b.size() + c.size()));
        CHECK(co_await recv_exactly(loop, p.server, a.size() + b.size() + c.size()) == "head:middle:tail");
        loop.close_fd(p.client);
        loop.close_fd(p.server);
    }

    SQUALL_TEST_CASE("connect to a port with no listener fails with ECONNREFUSED", 5s) {
        std::uint16_t port = squall::test::unused_port();
        int fd = squall::test::tcp_socket();
        sockaddr_in sa = loopback_address(port);
        int r = co_await loop.connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
        CHECK(r == -ECONNREFUSED);
        loop.close_fd(fd);
    }

    SQUALL_TEST_CASE("recv returns 0 when the peer closes", 5s) {
        TcpPair p = co_await connect_pair(loop);
        auto pending = squall::start(recv_exactly(loop, p.server, 10));
        loop.call_later(5ms, [&] {
            ::send(p.client, "bye", 3, MSG_NOSIGNAL);
            loop.close_fd(p.client);
        });
        CHECK(co_await pending == "bye");  // then EOF ended the read
        char buf[8];
        CHECK(co_await loop.recv(p.server, buf, sizeof buf) == 0);
        loop.close_fd(p.server);
    }

    SQUALL_TEST_CASE("cancel makes a pending recv complete with ECANCELED", 5s) {
        TcpPair p = co_await connect_pair(loop);
        char buf[16];
        auto op = loop.recv(p.server, buf, sizeof buf);
        loop.call_later(5ms, [&] { loop.cancel(op.op); });
        CHECK(co_await op == -ECANCELED);
        // The socket still works after the cancelled op.
        CHECK(co_await loop.send(p.client, "ok", 2) == 2);
        CHECK(co_await recv_exactly(loop, p.server, 2) == "ok");
        loop.close_fd(p.client);
        loop.close_fd(p.server);
    }

    SQUALL_TEST_CASE("close_fd completes a pending recv with ECANCELED and closes the descriptor", 5s) {
        TcpPair p = co_await connect_pair(loop);
        char buf[16];
        auto op = loop.recv(p.server, buf, sizeof buf);
        const int fd = p.server;
        loop.call_later(5ms, [&] { loop.close_fd(fd); });
        CHECK(co_await op == -ECANCELED);
        errno = 0;
        CHECK(::fcntl(fd, F_GETFD) == -1);
        CHECK(errno == EBADF);
        loop.close_fd(p.client);
    }

    SQUALL_TEST_CASE("a send started while another waits for room goes out after it", 5s) {
        TcpPair p = co_await connect_pair(loop);
        std::string chunk(64 * 1024, 'x');
        std::size_t filled = 0;
        for (long n; (n = ::send(p.client, chunk.data(), chunk.size(), MSG_NOSIGNAL)) > 0;)
            filled += static_cast<std::size_t>(n);
        REQUIRE(errno == EAGAIN);
        auto send_one = [](squall::IOLoop& l, int fd, const char* byte) -> Task<int> {
            co_return co_await l.send(fd, byte, 1);
        };
        auto first = squall::start(send_one(loop, p.client, "a"));  // waits: the socket is full
        // Make room before the loop runs again, then start the second: it must queue behind the first
        // rather than overtake it.
        std::size_t drained = 0;
        for (long n; (n = ::recv(p.server, chunk.data(), chunk.size(), 0)) > 0;)
            drained += static_cast<std::size_t>(n);
        auto second = squall::start(send_one(loop, p.client, "b"));
        CHECK(co_await first == 1);
        CHECK(co_await second == 1);
        std::string rest = co_await recv_exactly(loop, p.server, filled + 2 - drained);
        REQUIRE(rest.size() == filled + 2 - drained);
        CHECK(rest.substr(rest.size() - 2) == "ab");
        loop.close_fd(p.client);
        loop.close_fd(p.server);
    }

    // A request/response client's send nearly always fits: it completes at once, on either backend, so
    // the wait that follows is ended by the response, not by the send's own completion (on io_uring that
    // cost a second io_uring_enter per round trip).
    SQUALL_TEST_CASE("a send with room in the socket buffer completes without a loop iteration", 5s) {
        TcpPair p = co_await connect_pair(loop);
        const std::uint64_t iterations = loop.stats().iterations;
        for (int i = 0; i < 3; ++i) CHECK(co_await loop.send(p.client, "abc", 3) == 3);
        CHECK(loop.stats().iterations == iterations);
        CHECK(co_await recv_exactly(loop, p.server, 9) == "abcabcabc");
        loop.close_fd(p.client);
        loop.close_fd(p.server);
    }

    // A consumer sends its acks inline and waits only to read: each time the peer's reads free room in
    // its send buffer the kernel raises a write edge. Nothing waits for it, so it must not wake the loop
    // (on epoll the write edge is registered only while a write op waits).
    SQUALL_TEST_CASE("room freed in the send buffer does not wake a loop with no write waiting", 10s) {
        TcpPair p = co_await connect_pair(loop);
        char byte = 0;
        auto reading = squall::start([](squall::IOLoop& l, int fd, char* b) -> Task<int> {
            co_return co_await l.recv(fd, b, 1);
        }(loop, p.client, &byte));
        co_await squall::sleep(loop, 10ms);  // the recv is queued and the loop blocks in its wait
        const std::uint64_t waits_before = loop.stats().waits;
        constexpr int kRounds = 8;
        std::thread peer([&p] {
            std::string chunk(64 * 1024, 'x');
            for (int round = 0; round < kRounds; ++round) {
                // Fill the client's send buffer (the kernel marks it "no space"), then read it all on the
                // server side: the room that frees raises a write edge on the client each round.
                while (::send(p.client, chunk.data(), chunk.size(), MSG_NOSIGNAL) > 0) {
                }
                for (int idle = 0; idle < 20;) {
                    if (::recv(p.server, chunk.data(), chunk.size(), MSG_DONTWAIT) > 0) {
                        idle = 0;
                    } else {
                        ++idle;
                        std::this_thread::sleep_for(1ms);
                    }
                }
            }
            ::send(p.server, "!", 1, MSG_NOSIGNAL);  // the one event the loop waits for
        });
        const int got = co_await reading;
        peer.join();
        CHECK(got == 1);
        CHECK(byte == '!');
        // The byte's wakeup; the first write edge, which finds the registration that the connect op armed
        // and drops it; and at most one more (a wait may end just as the test's sleep timer fires). Each
        // round woke the loop before the write edge was dropped when unused.
        CHECK(loop.stats().waits - waits_before <= 3);
        loop.close_fd(p.client);
        loop.close_fd(p.server);
    }

    SQUALL_TEST_CASE("many ops on many connections complete independently", 10s) {
        constexpr int kConns = 16;
        TcpPair pairs[kConns];
        for (auto& p : pairs) p = co_await connect_pair(loop);
        std::vector<squall::Future<std::string>> reads;
        for (auto& p : pairs) reads.push_back(squall::start(recv_exactly(loop, p.server, 4)));
        for (int i = kConns - 1; i >= 0; --i) {
            std::string msg = "m" + std::to_string(100 + i);
            CHECK(co_await loop.send(pairs[i].client, msg.data(), msg.size()) == 4);
        }
        for (int i = 0; i < kConns; ++i) CHECK(co_await reads[i] == "m" + std::to_string(100 + i));
        for (auto& p : pairs) {
            loop.close_fd(p.client);
            loop.close_fd(p.server);
        }
    }

    // watch_readable (idle keep-alive connections): once, on bytes or EOF, never for what a completed
    // read already took, and silent once unwatched or closed.
    SQUALL_TEST_CASE("watch_readable runs once when bytes arrive and leaves them unread", 5s) {
        TcpPair p = co_await connect_pair(loop);
        CHECK(co_await loop.send(p.server, "resp", 4) == 4);
        CHECK(co_await recv_exactly(loop, p.client, 4) == "resp");
        int calls = 0;
        // Armed right after the recv's completion, as a pool does: that recv's own event must not fire it.
        REQUIRE(loop.watch_readable(p.client, [&] { ++calls; }));
        co_await squall::sleep(loop, 30ms);
        CHECK(calls == 0);
        CHECK(co_await loop.send(p.server, "X", 1) == 1);
        for (int i = 0; i < 100 && calls == 0; ++i) co_await squall::sleep(loop, 5ms);
        CHECK(calls == 1);
        CHECK(co_await loop.send(p.server, "Y", 1) == 1);
        co_await squall::sleep(loop, 30ms);
        CHECK(calls == 1);  // one-shot
        CHECK(co_await recv_exactly(loop, p.client, 2) == "XY");
        loop.close_fd(p.client);
        loop.close_fd(p.server);
    }

    SQUALL_TEST_CASE("watch_readable reports EOF; unwatch_readable and close_fd end a watch silently", 5s) {
        TcpPair p = co_await connect_pair(loop);
        CHECK(co_await loop.send(p.server, "a", 1) == 1);
        CHECK(co_await recv_exactly(loop, p.client, 1) == "a");
        int calls = 0;
        REQUIRE(loop.watch_readable(p.client, [&] { ++calls; }));
        loop.unwatch_readable(p.client);
        CHECK(co_await loop.send(p.server, "b", 1) == 1);
        co_await squall::sleep(loop, 30ms);
        CHECK(calls == 0);
        CHECK(co_await recv_exactly(loop, p.client, 1) == "b");
        // Watched again after the read: the peer's FIN fires it.
        REQUIRE(loop.watch_readable(p.client, [&] { ++calls; }));
        loop.close_fd(p.server);
        for (int i = 0; i < 100 && calls == 0; ++i) co_await squall::sleep(loop, 5ms);
        CHECK(calls == 1);
        // A watch on a closed fd is dropped without a call (and without touching the closed socket).
        TcpPair q = co_await connect_pair(loop);
        int q_calls = 0;
        bool armed = loop.watch_readable(q.client, [&] { ++q_calls; });
        CHECK(armed);  // a fresh socket with nothing queued
        loop.close_fd(q.client);
        CHECK(co_await loop.send(q.server, "c", 1) <= 1);
        co_await squall::sleep(loop, 30ms);
        CHECK(q_calls == 0);
        loop.close_fd(q.server);
        loop.close_fd(p.client);
    }

    SQUALL_TEST_CASE("watch_readable on a socket that is readable already reports it", 5s) {
        TcpPair p = co_await connect_pair(loop);
        CHECK(co_await loop.send(p.server, "early", 5) == 5);
        co_await squall::sleep(loop, 20ms);  // queued on the client before the watch
        int calls = 0;
        bool armed = loop.watch_readable(p.client, [&] { ++calls; });
        // io_uring: the poll completes at once. epoll: no recv emptied the socket since the last wait, so
        // it peeks and says so instead.
        CHECK(armed == (loop.backend() == squall::Backend::uring));
        for (int i = 0; i < 100 && armed && calls == 0; ++i) co_await squall::sleep(loop, 5ms);
        CHECK(calls == (armed ? 1 : 0));
        CHECK(co_await recv_exactly(loop, p.client, 5) == "early");
        loop.close_fd(p.client);
        loop.close_fd(p.server);
    }
}
