// Resolver: the thread pool for names, the short cut for IP literals, and the override map.
#include <doctest/doctest.h>

#include <netdb.h>

#include <algorithm>
#include <squall/testing.hpp>

#include "squall/iostream/resolver.hpp"

using namespace std::chrono_literals;
using namespace squall;

SQUALL_TEST_CASE("resolving localhost goes through the pool and yields a loopback address", 10s) {
    Resolver resolver(loop);
    auto addrs = co_await resolver.resolve("localhost", 8080);
    REQUIRE(!addrs.empty());
    CHECK(resolver.pool_lookups() == 1);
    bool loopback = std::any_of(addrs.begin(), addrs.end(), [](const SocketAddress& a) {
        return a.to_string() == "127.0.0.1:8080" || a.to_string() == "[::1]:8080";
    });
    CHECK(loopback);
}

SQUALL_TEST_CASE("IP literals resolve without the pool; a family mismatch is a ResolveError", 10s) {
    Resolver resolver(loop);
    auto v4 = co_await resolver.resolve("127.0.0.1", 80);
    auto v6 = co_await resolver.resolve("[::1]", 443);
    auto bare_v6 = co_await resolver.resolve("::1", 443);
    REQUIRE(v4.size() == 1);
    REQUIRE(v6.size() == 1);
    CHECK(v4[0].to_string() == "127.0.0.1:80");
    CHECK(v6[0].to_string() == "[::1]:443");
    CHECK(bare_v6[0] == v6[0]);
    CHECK(resolver.pool_lookups() == 0);
    int code = 0;
    try {
        co_await resolver.resolve("127.0.0.1", 80, AF_INET6);
    } catch (const ResolveError& e) {
        code = e.gai_code();
    }
    CHECK(code == EAI_FAMILY);
}

SQUALL_TEST_CASE("overrides map host:port and host to other addresses", 10s) {
    Resolver resolver(loop);
    resolver.add_override("api.example.com:443", "127.0.0.1:8443");
    resolver.add_override("db.example.com", "127.0.0.2");
    resolver.add_override("[::1]:80", "127.0.0.1:8080");
    auto a = co_await resolver.resolve("api.example.com", 443);
    auto c = co_await resolver.resolve("db.example.com", 5432);
    auto d = co_await resolver.resolve("::1", 80);
    CHECK(a.at(0).to_string() == "127.0.0.1:8443");
    CHECK(c.at(0).to_string() == "127.0.0.2:5432");
    CHECK(d.at(0).to_string() == "127.0.0.1:8080");
}
