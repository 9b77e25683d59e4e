// Http2Session (httpclient/http2/session.hpp) on its own, over a stream the test connects: against nginx
// (h2c and TLS with ALPN h2) and the scriptable server of tests/support/h2_test_server.py for every way a
// server can misbehave. Requests are built in named variables (GCC 12, see test_client_basic.cpp).
#include <doctest/doctest.h>

#include <squall/testing.hpp>
#include <string>
#include <vector>

#include "squall/coro/gather.hpp"
#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/http2/request_headers.hpp"
#include "squall/httpclient/http2/session.hpp"
#include "squall/iostream/tcp_client.hpp"
#include "squall/iostream/tls.hpp"
#include "tests/http/http2_test_support.hpp"
#include "tests/http/test_client_support.hpp"
#include "tests/support/h2_test_server.hpp"
#include "tests/support/nginx_fixture.hpp"

using namespace std::chrono_literals;
using namespace squall::http::test;
using squall::TimePoint;
namespace nginx = squall::testing;

SQUALL_TEST_CASE("http2 session: GET and POST against nginx over h2c and over TLS with ALPN h2", 20s) {
    auto h2c = nginx::nginx_h2c_url();
    auto h2 = nginx::nginx_h2_url();
    if (h2c.empty() || h2.empty()) co_return;
    for (const auto& base : {h2c, h2}) {
        auto session = co_await open_session(loop, base);
        HTTPRequest get{.url = base + "/small.txt", .decompress_response = false};
        auto resp = co_await fetch_on(*session, get);
        CHECK(resp.code == 200);
        CHECK(resp.protocol == "HTTP/2");
        CHECK(resp.body.size() == 100);
        CHECK(resp.headers.get("Content-Length") == "100");
        if (nginx::nginx_has_echo()) {
            HTTPRequest post{.url = base + "/echo", .method = "POST", .body = std::string(100000, 'p')};
            auto echoed = co_await fetch_on(*session, post);
            CHECK(echoed.code == 200);
            CHECK(echoed.body == "POST /echo\n" + std::string(100000, 'p'));
        }
        CHECK(session->streams_opened() == (nginx::nginx_has_echo() ? 2u : 1u));
        session->close();
    }
}

SQUALL_TEST_CASE("http2 session: 100 concurrent streams on one connection, counted by nginx", 30s) {
    auto base = nginx::nginx_h2c_url();
    if (base.empty()) co_return;
    auto before = nginx::nginx_stub_status();
    auto session = co_await open_session(loop, base);
    std::vector<HTTPRequest> requests(100);
    std::vector<HTTPResponse> responses(100);
    std::vector<squall::Future<void>> running;
    for (int i = 0; i < 100; ++i) {
        requests[i].url = base + "/small.txt";
        running.push_back(squall::spawn(
            loop, [](Http2Session& s, const HTTPRequest& r, HTTPResponse& out) -> squall::Task<void> {
                ExchangeOptions options;
                co_await s.exchange(r, URL::parse(r.url), options, TimePoint::max(), out);
            }(*session, requests[i], responses[i])));
    }
    for (auto& f : running) co_await f;
    for (auto& r : responses) {
        CHECK(r.code == 200);
        CHECK(r.body.size() == 100);
    }
    auto after = nginx::nginx_stub_status();
    CHECK(after.accepts - before.accepts == 2);      // our one connection + the status request's own
    CHECK(after.requests - before.requests == 101);  // 100 streams + the status request
    session->close();
}

// build_request_headers (httpclient/http2/request_headers.hpp) reuses one RequestHeaders for every
// request of a session: more fields than its inline room (16), then a smaller request into the same
// object, must come out complete, in order and pointing at the right bytes.
TEST_CASE("http2 request headers: many fields, then a reused list for a smaller request") {
    auto field = [](const nghttp2_nv& nv) {
        return std::string(reinterpret_cast<const char*>(nv.name), nv.namelen) + ": " +
               std::string(reinterpret_cast<const char*>(nv.value), nv.valuelen);
    };
    squall::http::RequestHeaders h;
    squall::http::HTTPRequest big;
    big.url = "http://example.test:8080/a/b?x=1&y=2";
    for (int i = 0; i < 24; ++i)
        big.headers.add("X-Field-" + std::to_string(i), "value number " + std::to_string(i));
    big.headers.add("Connection", "keep-alive");             // dropped on HTTP/2
    const auto big_url = squall::http::URL::parse(big.url);  // the fields point into it
    squall::http::build_request_headers(h, big, big_url);
    std::vector<std::string> got;
    for (const auto& nv : h.fields) got.push_back(field(nv));
    REQUIRE(got.size() == 4 + 2 + 24);  // pseudo-headers, user-agent and accept-encoding, the user's
    CHECK(got[0] == ":method: GET");
    CHECK(got[1] == ":scheme: http");
    CHECK(got[2] == ":authority: example.test:8080");
    CHECK(got[3] == ":path: /a/b?x=1&y=2");
    CHECK(got[4].rfind("user-agent: ", 0) == 0);
    CHECK(got[5] == "accept-encoding: gzip");
    for (int i = 0; i < 24; ++i)
        CHECK(got[6 + static_cast<std::size_t>(i)] ==
              "x-field-" + std::to_string(i) + ": value number " + std::to_string(i));

    squall::http::HTTPRequest small;
    small.url = "http://127.0.0.1:1/s";
    small.method = "POST";
    small.body = std::string("abc");
    small.decompress_response = false;
    small.headers.add("Host", "other.test");
    const auto small_url = squall::http::URL::parse(small.url);
    squall::http::build_request_headers(h, small, small_url);
    got.clear();
    for (const auto& nv : h.fields) got.push_back(field(nv));
    REQUIRE(got.size() == 6);
    CHECK(got[0] == ":method: POST");
    CHECK(got[2] == ":authority: other.test");
    CHECK(got[3] == ":path: /s");
    CHECK(got[5] == "content-length: 3");

    squall::http::HTTPRequest spaced;
    spaced.url = "http://127.0.0.1:1/s";
    auto spaced_url = squall::http::URL::parse(spaced.url);
    spaced_url.path = "/a b";
    CHECK_THROWS_AS(squall::http::build_request_headers(h, spaced, spaced_url), squall::http::RequestError);
}
