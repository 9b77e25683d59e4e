// http::Client through an HTTP proxy (tests/support TestProxy): absolute-form requests for http://,
// CONNECT tunnels for https:// (to nginx's TLS port), credentials and refusals. Requests are built in
// named variables (see test_client_basic.cpp about GCC 12).
#include <doctest/doctest.h>

#include <squall/testing.hpp>
#include <string>

#include "squall/httpclient/http.hpp"
#include "tests/http/test_client_support.hpp"
#include "tests/support/http_test_proxy.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/nginx_fixture.hpp"

using namespace std::chrono_literals;
using namespace squall::http::test;

SQUALL_TEST_CASE("proxy: http:// goes as an absolute-form request with Proxy-Authorization", 10s) {
    TestServer origin(loop);
    origin.route("/data", [](const TestRequest& r) { return Reply::ok("origin saw " + r.target); });
    TestProxy proxy(loop, {.username = "pu", .password = "pp"});
    Client client(loop);
    HTTPRequest request{.url = origin.url("/data?q=1")};
    proxy.route_with_credentials(request);
    auto resp = co_await client.fetch(request);
    CHECK(resp.code == 200);
    CHECK(resp.body == "origin saw /data?q=1");
    REQUIRE(proxy.forwarded().size() == 1);
    CHECK(proxy.forwarded()[0].target == origin.url("/data?q=1"));
    CHECK(proxy.forwarded()[0].header("Proxy-Authorization") == squall::testing::basic_auth("pu", "pp"));
    CHECK(origin.requests().at(0).header("Proxy-Authorization") == std::nullopt);

    HTTPRequest no_credentials{.url = origin.url("/data")};
    proxy.route(no_credentials);
    auto what = co_await error_of<HTTPError>(client.fetch(no_credentials));
    CHECK(contains(what, "HTTP 407"));
    CHECK(proxy.refused() == 1);
}

SQUALL_TEST_CASE("proxy: https:// goes through a CONNECT tunnel, then TLS with the origin's name", 20s) {
    auto base = squall::testing::nginx_tls_url();
    if (base.empty()) co_return;
    TestProxy proxy(loop, {.username = "pu", .password = "pp"});
    Client client(loop);
    HTTPRequest request{.url = base + "/small.txt", .ca_certs = squall::testing::nginx_ca_file()};
    proxy.route_with_credentials(request);
    auto resp = co_await client.fetch(request);
    CHECK(resp.code == 200);
    CHECK(resp.body.size() == 100);
    CHECK(resp.time_info.tls > 0ns);
    auto again = co_await client.fetch(request);  // the tunnelled TLS connection is pooled and reused
    CHECK(again.body.size() == 100);
    REQUIRE(proxy.tunnels().size() == 1);
    CHECK(proxy.tunnels()[0] == base.substr(std::string("https://").size()));
    CHECK(proxy.connections_accepted() == 1);

    HTTPRequest wrong_password = request;
    wrong_password.proxy_password = "nope";
    auto refused = co_await error_of<HTTPError>(client.fetch(wrong_password));
    CHECK(contains(refused, "refused CONNECT"));
    CHECK(contains(refused, "407"));
}

SQUALL_TEST_CASE("proxy: a proxy that refuses CONNECT fails the fetch with its status", 10s) {
    TestProxy proxy(loop, {.allow_connect = false});
    Client client(loop);
    HTTPRequest request{.url = "https://localhost:1/x"};
    proxy.route(request);
    int code = 0;
    try {
        co_await client.fetch(request);
    } catch (const HTTPError& e) {
        code = e.code();
        CHECK(std::string(e.what()).find("refused CONNECT localhost:1: 403") != std::string::npos);
    }
    CHECK(code == 403);
}
