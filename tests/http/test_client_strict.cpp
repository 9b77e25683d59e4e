// Issue 13 against the loopback test server, with the exact bytes: strict chunk framing, chunk extensions
// by their grammar, redirect limits as a typed error, the idle read timeout and the streamed body limit.
// Requests are built in named variables (see test_client_basic.cpp about GCC 12).
#include <doctest/doctest.h>

#include <squall/testing.hpp>
#include <string>

#include "squall/httpclient/http.hpp"
#include "tests/http/test_client_support.hpp"
#include "tests/support/http_test_server.hpp"

using namespace std::chrono_literals;
using namespace squall::http::test;

namespace {
const std::string kChunkedHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
}

SQUALL_TEST_CASE("strict chunks: bytes other than CRLF after chunk data fail and close the connection", 10s) {
    TestServer server(loop);
    server.route("/xx",
                 [](const TestRequest&) { return Reply::raw(kChunkedHead + "5\r\nhelloXX0\r\n\r\n"); });
    server.route("/ok", [](const TestRequest&) { return Reply::ok("fine"); });
    Client client(loop);
    auto first = co_await client.fetch(server.url("/ok"));
    CHECK(first.body == "fine");
    auto what = co_await error_of<ProtocolError>(client.fetch(server.url("/xx")));
    CHECK(contains(what, "chunk data not followed by CRLF, got 0x58 at byte " +
                             std::to_string(kChunkedHead.size() + 8)));
    CHECK(client.idle_connections() == 0);
    auto again = co_await client.fetch(server.url("/ok"));  // a fresh connection
    CHECK(again.body == "fine");
    CHECK(server.connections_accepted() == 2);
}

SQUALL_TEST_CASE("chunk extensions: quoted-pairs and every form of the grammar are accepted", 10s) {
    TestServer server(loop);
    server.route("/ext", [](const TestRequest&) {
        return Reply::raw(kChunkedHead +
                          "8;q=\"x;y\\\"z\";flag\r\nchunked!\r\n3 ; a = b\r\nabc\r\n0\r\n\r\n");
    });
    server.route("/bad", [](const TestRequest&) {
        return Reply::raw(kChunkedHead + "8;a=b c\r\nchunked!\r\n0\r\n\r\n");
    });
    Client client(loop);
    auto resp = co_await client.fetch(server.url("/ext"));
    CHECK(resp.body == "chunked!abc");
    auto what = co_await error_of<ProtocolError>(client.fetch(server.url("/bad")));
    CHECK(contains(what, "invalid character in chunk extensions"));
}

SQUALL_TEST_CASE("redirects: more than max_redirects and a loop are a RedirectError", 10s) {
    TestServer server(loop);
    server.route("/loop", [](const TestRequest&) { return Reply::text(302, "", {{"Location", "/loop"}}); });
    server.route("/hop", [](const TestRequest& r) {
        int n = std::stoi(r.query_param("n").value_or("0"));
        return Reply::text(302, "", {{"Location", n <= 1 ? "/hop?n=0" : "/hop?n=" + std::to_string(n - 1)}});
    });
    Client client(loop);
    HTTPRequest too_many{.url = server.url("/hop?n=5"), .max_redirects = 2};
    auto what = co_await error_of<RedirectError>(client.fetch(too_many));
    CHECK(contains(what, "too many redirects"));
    auto loop_what = co_await error_of<RedirectError>(client.fetch(server.url("/loop")));
    CHECK(contains(loop_what, "redirect loop"));
}

SQUALL_TEST_CASE("read_timeout: a flowing body outlives it, a stall fails with TimeoutError", 10s) {
    TestServer server(loop);
    // 8 pieces 60 ms apart: about 480 ms in all, never more than 60 ms without a byte.
    server.route("/flowing", [](const TestRequest&) {
        Reply r = Reply::raw("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n");
        for (int i = 0; i < 8; ++i) r.then_pause(60ms).then_send("x");
        return r;
    });
    server.route("/stall", [](const TestRequest&) {
        return Reply::raw("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nxx").then_hang();
    });
    Client client(loop);
    HTTPRequest flowing{.url = server.url("/flowing"), .request_timeout = 0ms, .read_timeout = 400ms};
    auto resp = co_await client.fetch(flowing);
    CHECK(resp.body == "xxxxxxxx");
    HTTPRequest stall{.url = server.url("/stall"), .request_timeout = 0ms, .read_timeout = 200ms};
    auto what = co_await error_of<squall::TimeoutError>(client.fetch(stall));
    CHECK(contains(what, "read_timeout of 200 ms expired"));
    HTTPRequest unbounded{.url = server.url("/flowing"), .request_timeout = 0ms};
    auto refused = co_await error_of<RequestError>(client.fetch(unbounded));
    CHECK(contains(refused, "needs a read_timeout"));
}

SQUALL_TEST_CASE("max_body_size: unset, a streamed body is unbounded; set, it bounds the stream too", 20s) {
    TestServer server(loop);
    const std::uint64_t big = squall::http::kDefaultMaxBodySize + 1000;
    server.route("/big", [big](const TestRequest&) { return Reply::generated(200, big, false, 256 * 1024); });
    Client client(loop);
    std::uint64_t got = 0;
    HTTPRequest streamed{.url = server.url("/big"), .request_timeout = 60s};
    streamed.streaming_callback = [&got](std::string_view piece) { got += piece.size(); };
    co_await client.fetch(streamed);
    CHECK(got == big);
    HTTPRequest bounded{.url = server.url("/big"), .max_body_size = 1000};
    bounded.streaming_callback = [](std::string_view) {};
    auto what = co_await error_of<ProtocolError>(client.fetch(bounded));
    CHECK(contains(what, "exceeds max_body_size of 1000 bytes"));
}
