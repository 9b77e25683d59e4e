// Http2Session (httpclient/http2/session.hpp) on its own, over a stream the test connects: against nginx
// (h2c and TLS with ALPN h2) and the scriptable server of tests/support/h2_test_server.py for every way a
// server can misbehave. Requests are built in named variables (GCC 12, see test_client_basic.cpp).
#include <doctest/doctest.h>

#include <squall/testing.hpp>
#include <string>
#include <vector>

#include "squall/coro/gather.hpp"
#include "squall/httpclient/errors.hpp"
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
