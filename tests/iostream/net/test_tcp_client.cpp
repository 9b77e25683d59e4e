// TCPClient: refused, timed out, overridden and named connects.
#include <doctest/doctest.h>

#include <dirent.h>

#include <squall/testing.hpp>

#include "squall/iostream/tcp_client.hpp"
#include "squall/iostream/tcp_server.hpp"
#include "tests/iostream/net/net_support.hpp"

using namespace std::chrono_literals;
using namespace squall;

namespace {

int open_fd_count() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d)) ++n;
        ::closedir(d);
    }
    return n;
}

Task<void> echo_lines(std::shared_ptr<IOStream> s, SocketAddress) {
    for (;;) co_await s->write(co_await s->read_until("\n"));
}

}  // namespace

SQUALL_TEST_CASE("connecting to a closed loopback port fails with ConnectionRefusedError", 10s) {
    std::uint16_t port;
    {
        test::Listener l;
        port = l.port;
    }
    TCPClient client(loop);
    int code = 0;
    std::string what, address;
    try {
        co_await client.connect("127.0.0.1", port);
    } catch (const ConnectionRefusedError& e) {
        code = e.error_code();
        what = e.what();
        address = e.address().to_string();
    }
    CHECK(code == ECONNREFUSED);
    CHECK(address == "127.0.0.1:" + std::to_string(port));
    CHECK(what == "connect to 127.0.0.1:" + std::to_string(port) + " failed: Connection refused");
}

SQUALL_TEST_CASE("connect_timeout expires against a full accept queue and closes the in-flight socket", 20s) {
    test::Listener l(0);  // accept queue of one: the second SYN and later ones are dropped
    std::vector<int> fillers;
    for (int i = 0; i < 3; ++i) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(l.port);
        ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        fillers.push_back(fd);
    }
    co_await squall::sleep(loop, 50ms);
    TCPClient client(loop);
    const int fds_before = open_fd_count();
    auto t0 = loop.time();
    std::string what;
    try {
        ConnectOptions options{.timeout = 300ms};
        co_await client.connect("127.0.0.1", l.port, options);
    } catch (const TimeoutError& e) {
        what = e.what();
    }
    auto elapsed = loop.time() - t0;
    CHECK(what ==
          "connect_timeout of 300 ms expired while connecting to 127.0.0.1:" + std::to_string(l.port));
    CHECK(elapsed >= 300ms);
    CHECK(elapsed < 3s);
    CHECK(open_fd_count() == fds_before);  // the cancelled connect's socket is closed already
    for (int fd : fillers) ::close(fd);
}

SQUALL_TEST_CASE("TCPClient connects through resolver overrides and to localhost", 10s) {
    TCPServer server(loop, echo_lines);
    server.listen(0, "127.0.0.1");
    Resolver resolver(loop);
    resolver.add_override("echo.test", "127.0.0.1:" + std::to_string(server.port()));
    TCPClient client(loop, &resolver);
    auto s = co_await client.connect("echo.test", 1);
    co_await s->write("via override\n");
    std::string line = co_await s->read_until("\n");
    CHECK(line == "via override\n");
    CHECK(resolver.pool_lookups() == 0);

    ConnectOptions options{.timeout = 5s};
    auto t = co_await client.connect("localhost", server.port(), options);
    co_await t->write("via localhost\n");
    line = co_await t->read_until("\n");
    CHECK(line == "via localhost\n");
    CHECK(SocketAddress(t->peer_address()).port() == server.port());
    server.stop(true);
    co_await server.stopped();
    co_await squall::sleep(loop, 10ms);
}

SQUALL_TEST_CASE("a source address is bound before connecting", 10s) {
    TCPServer server(loop, echo_lines);
    server.listen(0, "127.0.0.1");
    TCPClient client(loop);
    ConnectOptions from_v4{.source_address = "127.0.0.1"}, from_v6{.source_address = "::1"};
    auto s = co_await client.connect("127.0.0.1", server.port(), from_v4);
    CHECK(SocketAddress(s->local_address()).host() == "127.0.0.1");
    bool failed = false;
    try {
        co_await client.connect("127.0.0.1", server.port(), from_v6);  // wrong family
    } catch (const ConnectError& e) {
        failed = e.error_code() == EAFNOSUPPORT;
    }
    CHECK(failed);
    server.stop(true);
    co_await server.stopped();
    co_await squall::sleep(loop, 10ms);
}

namespace {
// A listener on [::1] whose accept queue is full: further SYNs are dropped, so a connect to it hangs.
struct StalledV6Listener {
    int fd = -1;
    std::uint16_t port = 0;
    std::vector<int> fillers;
    StalledV6Listener() {
        fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_addr = in6addr_loopback;
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd, 0) == 0);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin6_port);
        for (int i = 0; i < 3; ++i) {
            int c = ::socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
            fillers.push_back(c);
        }
    }
    ~StalledV6Listener() {
        for (int c : fillers) ::close(c);
        ::close(fd);
    }
};

// A port on [::1] where nothing listens.
std::uint16_t closed_v6_port() {
    int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin6_port);
}
}  // namespace

SQUALL_TEST_CASE("a refused IPv6 address falls back to IPv4 at once", 10s) {
    TCPServer server(loop, echo_lines);
    server.listen(0, "127.0.0.1");
    Resolver resolver(loop);
    resolver.add_override("dual.test", "[::1]:" + std::to_string(closed_v6_port()) +
                                           ",127.0.0.1:" + std::to_string(server.port()));
    auto addrs = co_await resolver.resolve("dual.test", 1);
    REQUIRE(addrs.size() == 2);
    CHECK(addrs[0].family() == AF_INET6);
    CHECK(addrs[1].family() == AF_INET);
    TCPClient client(loop, &resolver);
    // A secondary delay far longer than the test's bound: only "the primary family has failed" starts IPv4.
    ConnectOptions options{.secondary_delay = 60s};
    auto s = co_await client.connect("dual.test", 1, options);
    CHECK(SocketAddress(s->peer_address()).family() == AF_INET);
    co_await s->write("fell back\n");
    CHECK(co_await s->read_until("\n") == "fell back\n");
    server.stop(true);
    co_await server.stopped();
    co_await squall::sleep(loop, 10ms);
}

SQUALL_TEST_CASE("IPv4 wins the race against an IPv6 address that never answers", 10s) {
    StalledV6Listener stalled;
    TCPServer server(loop, echo_lines);
    server.listen(0, "127.0.0.1");
    Resolver resolver(loop);
    resolver.add_override(
        "dual.test", "[::1]:" + std::to_string(stalled.port) + ",127.0.0.1:" + std::to_string(server.port()));
    TCPClient client(loop, &resolver);
    const int fds_before = open_fd_count();
    ConnectOptions options{.timeout = 5s, .secondary_delay = 50ms};
    auto s = co_await client.connect("dual.test", 1, options);
    CHECK(SocketAddress(s->peer_address()).family() == AF_INET);
    co_await s->write("raced\n");
    CHECK(co_await s->read_until("\n") == "raced\n");
    // The IPv6 connect still in flight was cancelled and its socket closed: the only new fds are the two
    // ends of the winning connection (ours and the server's accepted socket; the echo proved both exist).
    CHECK(open_fd_count() == fds_before + 2);
    // allow_ipv6 = false never tries the stalled address; an IPv6-only list then has nothing to try.
    ConnectOptions v4_only{.timeout = 5s, .allow_ipv6 = false, .secondary_delay = 60s};
    auto t = co_await client.connect("dual.test", 1, v4_only);
    CHECK(SocketAddress(t->peer_address()).family() == AF_INET);
    resolver.add_override("v6only.test", "[::1]:" + std::to_string(stalled.port) + ",[::1]:1");
    std::string what;
    try {
        co_await client.connect("v6only.test", 1, v4_only);
    } catch (const ResolveError& e) {
        what = e.what();
    }
    CHECK(what.find("no address of the allowed family") != std::string::npos);
    CHECK_THROWS_AS(resolver.add_override("bad.test", "127.0.0.1,example.com"), UsageError);
    server.stop(true);
    co_await server.stopped();
    co_await squall::sleep(loop, 10ms);
}
