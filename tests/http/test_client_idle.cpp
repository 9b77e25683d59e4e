// Idle pooled connections against the loopback test server, with the exact bytes: a pooled connection is
// watched while idle (bytes or EOF from the server close it at once, so they never become the next
// response), and the server's Keep-Alive timeout and max are honoured.
// Requests are built in named variables (see test_client_basic.cpp about GCC 12).
#include <doctest/doctest.h>

#include <squall/testing.hpp>
#include <string>
#include <vector>

#include "squall/httpclient/http.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/iostream/tcp_client.hpp"
#include "tests/http/test_client_support.hpp"
#include "tests/support/http_test_server.hpp"

using namespace std::chrono_literals;
using namespace squall::http::test;

namespace {
// A complete second response the server writes, unasked, on the idle connection.
const std::string kSmuggled = "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nSMUGGLD";
}  // namespace

SQUALL_TEST_CASE("idle connection: an unsolicited response on it never becomes the next GET's or HEAD's",
                 10s) {
    TestServer server(loop);
    server.route("/first", [](const TestRequest&) {
        return Reply::ok("first").then_pause(100ms).then_send(kSmuggled);
    });
    server.route("/next", [](const TestRequest& r) {
        if (r.method == "HEAD") return Reply::raw("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n");
        return Reply::ok("next");
    });
    for (const char* method : {"GET", "HEAD"}) {
        CAPTURE(method);
        Client client(loop);
        auto first = co_await client.fetch(server.url("/first"));
        CHECK(first.body == "first");
        CHECK(client.idle_connections() == 1);
        co_await squall::sleep(loop, 300ms);    // the server's bytes arrive 100 ms after its response
        CHECK(client.idle_connections() == 0);  // closed the moment they came
        HTTPRequest next{.url = server.url("/next"), .method = method};
        auto resp = co_await client.fetch(next);
        CHECK(resp.code == 200);
        CHECK(resp.headers.get("Content-Length") == "4");
        CHECK(resp.body == (std::string(method) == "GET" ? "next" : ""));
        CHECK(client.stats().connections_opened == 2);
        CHECK(client.stats().connections_reused == 0);
        CHECK(client.stats().stale_retries == 0);
    }
    CHECK(server.connections_accepted() == 4);
    CHECK(server.requests_total() == 4);
}

SQUALL_TEST_CASE("idle connection: EOF while idle drops it, the next request connects anew without a retry",
                 10s) {
    TestServer server(loop);
    server.route("/bye", [](const TestRequest&) { return Reply::ok("bye").then_pause(100ms).then_close(); });
    server.route("/next", [](const TestRequest&) { return Reply::ok("next"); });
    Client client(loop);
    auto first = co_await client.fetch(server.url("/bye"));
    CHECK(first.body == "bye");
    co_await squall::sleep(loop, 300ms);
    CHECK(client.idle_connections() == 0);
    for (int i = 0; i < 3; ++i) {
        auto resp = co_await client.fetch(server.url("/next"));
        CHECK(resp.body == "next");
    }
    CHECK(client.stats().stale_retries == 0);
    CHECK(client.stats().connections_opened == 2);
    CHECK(client.stats().connections_reused == 2);
    CHECK(server.requests_total() == 4);  // nothing re-sent
    CHECK(server.requests_per_connection() == std::vector<std::size_t>{1, 3});
}

SQUALL_TEST_CASE(
    "Keep-Alive timeout=1: the idle connection is reused inside it and closed before the server "
    "would",
    10s) {
    TestServer server(loop);
    server.route("/ka", [](const TestRequest&) {
        return Reply::text(200, "ka", {{"Keep-Alive", "timeout=1"}});
    });
    Client client(loop);
    co_await client.fetch(server.url("/ka"));
    co_await squall::sleep(loop, 100ms);
    co_await client.fetch(server.url("/ka"));
    CHECK(server.connections_accepted() == 1);  // reused well inside the server's second
    CHECK(client.idle_connections() == 1);
    // The client keeps it at most timeout - min(1 s, timeout / 2): 500 ms here.
    co_await squall::sleep(loop, 700ms);
    CHECK(client.idle_connections() == 0);
    co_await client.fetch(server.url("/ka"));
    CHECK(server.connections_accepted() == 2);
    CHECK(server.requests_per_connection() == std::vector<std::size_t>{2, 1});
    CHECK(client.stats().stale_retries == 0);
}

SQUALL_TEST_CASE("Keep-Alive max=2: a connection carries at most two requests", 10s) {
    TestServer server(loop);
    server.route("/max", [](const TestRequest&) {
        return Reply::text(200, "m", {{"Keep-Alive", "timeout=5, max=2"}});
    });
    server.route("/plain", [](const TestRequest&) { return Reply::ok("p"); });
    Client client(loop);
    for (int i = 0; i < 5; ++i) co_await client.fetch(server.url("/max"));
    CHECK(server.requests_per_connection() == std::vector<std::size_t>{2, 2, 1});
    // max=0 ends reuse at once; a Keep-Alive without parameters changes nothing.
    server.route("/max0", [](const TestRequest&) {
        return Reply::text(200, "z", {{"Keep-Alive", "max=0"}});
    });
    server.route("/bare", [](const TestRequest&) { return Reply::text(200, "b", {{"Keep-Alive", ""}}); });
    Client other(loop);
    co_await other.fetch(server.url("/max0"));
    CHECK(other.idle_connections() == 0);
    co_await other.fetch(server.url("/bare"));
    co_await other.fetch(server.url("/bare"));
    CHECK(other.stats().connections_opened == 2);
    CHECK(other.stats().connections_reused == 1);
}

SQUALL_TEST_CASE("a parked connection holds no buffer and carries the next exchange intact", 20s) {
    TestServer server(loop);
    const std::string big(300000, 'b');
    server.route("/small", [](const TestRequest&) { return Reply::ok("small"); });
    server.route("/big", [&](const TestRequest&) { return Reply::ok(big); });
    server.route("/chunked", [](const TestRequest&) {
        return Reply::chunked(200, {"ab", std::string(70000, 'c'), "de"});
    });
    ConnectionPool pool(loop, {.max_idle_per_host = 4});
    squall::TCPClient tcp(loop);
    auto stream = co_await tcp.connect("127.0.0.1", static_cast<std::uint16_t>(server.port()));
    std::unique_ptr<Connection> conn = std::make_unique<HTTP1Connection>(stream, "key");
    const std::string expected[] = {"small", big, "ab" + std::string(70000, 'c') + "de", "small"};
    const char* paths[] = {"/small", "/big", "/chunked", "/small"};
    for (int i = 0; i < 4; ++i) {
        CAPTURE(paths[i]);
        HTTPRequest req{.url = server.url(paths[i])};
        const URL url = URL::parse(req.url);
        HTTPResponse resp;
        co_await conn->exchange(req, url, ExchangeOptions{}, resp);
        CHECK(resp.code == 200);
        CHECK(resp.body == expected[i]);
        REQUIRE(conn->reusable());
        pool.put(std::move(conn));
        REQUIRE(pool.idle() == 1);
        CHECK(stream->held_buffer_bytes() > 0);  // parked at the end of the iteration, not at put()
        co_await squall::sleep(loop, 1ms);
        REQUIRE(pool.idle() == 1);
        CHECK(stream->held_buffer_bytes() == 0);  // read chunk and write block back in the pool
        CHECK(stream->read_buffer().capacity() == 0);
        conn = pool.take("key");
        REQUIRE(conn != nullptr);
    }
    CHECK(server.connections_accepted() == 1);
    CHECK(server.requests_total() == 4);
}
