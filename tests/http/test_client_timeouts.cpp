// http::Client timeouts (connect, request, queue), the max_clients queue, and stale pooled connections.
// Requests are built in named variables (see test_client_basic.cpp about GCC 12).
#include <doctest/doctest.h>

#include <squall/testing.hpp>
#include <string>
#include <vector>

#include "squall/coro/gather.hpp"
#include "squall/httpclient/http.hpp"
#include "tests/http/test_client_support.hpp"
#include "tests/support/http_test_server.hpp"

using namespace std::chrono_literals;
using namespace squall::http::test;
using squall::TimeoutError;

SQUALL_TEST_CASE("connect_timeout expires against a full accept queue", 10s) {
    squall::http::test::FullBacklogListener listener;
    Client client(loop);
    std::string url = "http://127.0.0.1:" + std::to_string(listener.port()) + "/";
    HTTPRequest request{.url = url, .connect_timeout = 300ms};
    auto t0 = loop.time();
    auto what = co_await error_of<TimeoutError>(client.fetch(request));
    CHECK(contains(what, "connect_timeout of 300 ms expired while connecting to 127.0.0.1:"));
    CHECK(loop.time() - t0 >= 300ms);
    CHECK(loop.time() - t0 < 3s);
    // The request deadline is the tighter one: it is named instead.
    HTTPRequest tight{.url = url, .connect_timeout = 5s, .request_timeout = 200ms};
    auto tight_what = co_await error_of<TimeoutError>(client.fetch(tight));
    CHECK(contains(tight_what, "request_timeout of 200 ms expired while connecting"));
}

SQUALL_TEST_CASE("request_timeout expires against a slow responder and the connection is dropped", 10s) {
    TestServer server(loop);
    server.route("/slow", [](const TestRequest&) {
        return Reply::slow({Reply::head(200, {{"Content-Length", "3"}}), "a", "b", "c"}, 150ms);
    });
    server.route("/fast", [](const TestRequest&) { return Reply::ok("fast"); });
    Client client(loop);
    auto warm = co_await client.fetch(server.url("/fast"));
    CHECK(warm.body == "fast");
    HTTPRequest request{.url = server.url("/slow"), .request_timeout = 400ms};
    auto t0 = loop.time();
    auto what = co_await error_of<TimeoutError>(client.fetch(request));
    CHECK(contains(what, "request_timeout of 400 ms expired before the response was complete (GET " +
                             server.url("/slow") + ")"));
    CHECK(loop.time() - t0 >= 400ms);
    CHECK(client.idle_connections() == 0);
    auto after = co_await client.fetch(server.url("/fast"));
    CHECK(after.body == "fast");
    CHECK(server.connections_accepted() == 2);
    // Given enough time, the same slow response completes.
    HTTPRequest patient{.url = server.url("/slow"), .request_timeout = 5s};
    auto done = co_await client.fetch(patient);
    CHECK(done.body == "abc");
}

SQUALL_TEST_CASE("a queued request times out after the smaller of connect_timeout and request_timeout", 10s) {
    TestServer server(loop);
    server.route("/hang", [](const TestRequest&) { return Reply::never_answer(); });
    server.route("/fast", [](const TestRequest&) { return Reply::ok("fast"); });
    Client client(loop, {.max_clients = 1});
    HTTPRequest hanging{.url = server.url("/hang"), .request_timeout = 800ms};
    auto first = squall::start(client.fetch(hanging));
    CHECK(client.active() == 1);
    HTTPRequest queued{.url = server.url("/fast"), .connect_timeout = 200ms, .request_timeout = 5s};
    auto t0 = loop.time();
    auto what = co_await error_of<TimeoutError>(client.fetch(queued));
    CHECK(contains(what, "timeout in request queue"));
    CHECK(contains(what, "max_clients=1"));
    CHECK(loop.time() - t0 >= 200ms);
    CHECK(loop.time() - t0 < 700ms);
    CHECK(client.queued() == 0);
    auto first_what = co_await error_of<TimeoutError>(std::move(first));
    CHECK(contains(first_what, "request_timeout of 800 ms"));
    // The slot came back: a new request runs.
    auto ok = co_await client.fetch(server.url("/fast"));
    CHECK(ok.body == "fast");
    CHECK(client.active() == 0);
}

SQUALL_TEST_CASE("under max_clients, queued requests run in FIFO order and never more at once", 10s) {
    TestServer server(loop);
    server.route("/n", [](const TestRequest&) {
        return Reply::slow({Reply::head(200, {{"Content-Length", "1"}}), "x"}, 20ms);
    });
    Client client(loop, {.max_clients = 2});
    std::vector<int> finished;
    std::size_t max_active = 0;
    auto one = [&](int i) -> squall::Task<void> {
        auto resp = co_await client.fetch(server.url("/n?i=" + std::to_string(i)));
        CHECK(resp.body == "x");
        max_active = std::max(max_active, client.active());
        finished.push_back(i);
    };
    std::vector<squall::Future<void>> all;
    for (int i = 0; i < 8; ++i) all.push_back(squall::start(one(i)));
    CHECK(client.active() == 2);
    CHECK(client.queued() == 6);
    for (auto& f : all) co_await f;
    std::vector<std::string> order;
    for (const auto& r : server.requests()) order.push_back(*r.query_param("i"));
    CHECK(order == std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7"});
    CHECK(max_active <= 2);
    CHECK(server.connections_accepted() == 2);  // two slots, two kept-alive connections
}

SQUALL_TEST_CASE("a stale pooled connection is retried once for GET, not for POST unless allowed", 10s) {
    TestServer server(loop);
    // The second request on any connection gets the connection closed without an answer (or reset).
    server.route("/flaky", [](const TestRequest& r) {
        if (r.index_on_connection >= 2) return r.method == "PUT" ? Reply::reset() : Reply{}.then_close();
        return Reply::ok(r.method + " on " + std::to_string(r.connection));
    });
    Client client(loop);
    auto a = co_await client.fetch(server.url("/flaky"));
    CHECK(a.body == "GET on 1");
    auto b = co_await client.fetch(server.url("/flaky"));  // pooled connection dies -> fresh one
    CHECK(b.body == "GET on 2");
    CHECK(client.stats().stale_retries == 1);

    HTTPRequest post{.url = server.url("/flaky"), .method = "POST", .body = "x"};
    auto what = co_await error_of<StaleConnectionError>(client.fetch(post));  // on connection 2, now pooled
    CHECK(contains(what, "not retried: POST is not idempotent"));
    CHECK(client.stats().stale_retries == 1);

    auto c = co_await client.fetch(server.url("/flaky"));  // connection 3
    CHECK(c.body == "GET on 3");
    HTTPRequest opted_in{
        .url = server.url("/flaky"), .method = "POST", .body = "x", .retry_on_stale_connection = true};
    auto d = co_await client.fetch(opted_in);
    CHECK(d.body == "POST on 4");
    CHECK(client.stats().stale_retries == 2);

    HTTPRequest put{.url = server.url("/flaky"), .method = "PUT", .body = "x"};
    auto e = co_await client.fetch(put);  // connection 4 is reset: PUT is idempotent, retried on 5
    CHECK(e.body == "PUT on 5");
    CHECK(client.stats().stale_retries == 3);
}

SQUALL_TEST_CASE("idle pooled connections expire after idle_timeout and dead ones are not handed out", 10s) {
    TestServer server(loop);
    server.route("/x", [](const TestRequest& r) { return Reply::ok(std::to_string(r.connection)); });
    Client client(loop, {.idle_timeout = 150ms});
    auto a = co_await client.fetch(server.url("/x"));
    CHECK(client.idle_connections() == 1);
    co_await squall::sleep(loop, 300ms);
    CHECK(client.idle_connections() == 0);
    auto b = co_await client.fetch(server.url("/x"));
    CHECK(b.body == "2");
    // The server closes its side while the connection is idle: the pool's watch sees the EOF and drops
    // the connection at once, so neither a POST nor a GET meets a dead connection (no stale retry).
    server.close_all_connections();
    co_await squall::sleep(loop, 50ms);
    CHECK(client.idle_connections() == 0);
    HTTPRequest post{.url = server.url("/x"), .method = "POST", .body = "x"};
    auto c = co_await client.fetch(post);
    CHECK(c.body == "3");
    server.close_all_connections();
    co_await squall::sleep(loop, 50ms);
    CHECK(client.idle_connections() == 0);
    auto d = co_await client.fetch(server.url("/x"));
    CHECK(d.body == "4");
    CHECK(client.stats().stale_retries == 0);
    CHECK(client.stats().connections_opened == 4);
}
