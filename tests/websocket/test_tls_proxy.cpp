// wss:// with the test CA (python websockets' TLS listener), certificate checks, and the test proxy's
// CONNECT tunnel for ws:// and wss://.
#include <doctest/doctest.h>

#include <squall/testing.hpp>
#include <string>

#include "squall/iostream/tls.hpp"
#include "squall/websocket/websocket.hpp"
#include "tests/support/certs.hpp"
#include "tests/support/http_test_proxy.hpp"
#include "tests/websocket/peers.hpp"

using namespace std::chrono_literals;
using namespace squall::websocket;
using squall::testing::TestProxy;
using squall::websocket::test::peers;

namespace {

squall::Task<void> echo_once(WebSocketConnection& ws, std::string text) {
    co_await ws.write_message(text);
    auto got = co_await ws.read_message();
    REQUIRE(got.has_value());
    CHECK(got->data == text);
}

}  // namespace

SQUALL_TEST_CASE("wss:// with the test CA: TLS verified, echo works, clean close", 20s) {
    squall::http::HTTPRequest request{.url = peers().url("wss"),
                                      .ca_certs = squall::testing::test_certs().ca_file};
    WebSocketOptions options{.compression = DeflateOptions{}};
    auto ws = co_await websocket_connect(loop, request, options);
    CHECK(ws.stream().is_tls());
    co_await echo_once(ws, "over tls");
    std::string big(300000, 'z');
    co_await echo_once(ws, big);
    co_await ws.close();
    CHECK(ws.close_code() == 1000);
}

SQUALL_TEST_CASE("wss:// without the CA fails verification; validate_cert = false connects", 20s) {
    squall::http::HTTPRequest request{.url = peers().url("wss")};
    WebSocketOptions options;
    std::string what;
    try {
        auto ws = co_await websocket_connect(loop, request, options);
    } catch (const squall::TlsError& e) {
        what = e.what();
    }
    CHECK(what.find("certificate verify failed") != std::string::npos);
    squall::http::HTTPRequest insecure{.url = peers().url("wss"), .validate_cert = false};
    auto ws = co_await websocket_connect(loop, insecure, options);
    co_await echo_once(ws, "unverified");
    co_await ws.close();
}

SQUALL_TEST_CASE("through the test proxy: ws:// and wss:// go through a CONNECT tunnel", 20s) {
    TestProxy proxy(loop, {.username = "pu", .password = "pp"});
    squall::http::HTTPRequest plain{.url = peers().url("websockets")};
    proxy.route_with_credentials(plain);
    WebSocketOptions options{.compression = DeflateOptions{}};
    auto ws = co_await websocket_connect(loop, plain, options);
    co_await echo_once(ws, "via proxy");
    co_await ws.close();
    REQUIRE(proxy.tunnels().size() == 1);
    CHECK(proxy.tunnels()[0] == "127.0.0.1:" + std::to_string(peers().port("websockets")));

    squall::http::HTTPRequest secure{.url = peers().url("wss"),
                                     .ca_certs = squall::testing::test_certs().ca_file};
    proxy.route_with_credentials(secure);
    auto wss = co_await websocket_connect(loop, secure, options);
    CHECK(wss.stream().is_tls());
    co_await echo_once(wss, "tls via proxy");
    co_await wss.close();
    CHECK(proxy.tunnels().size() == 2);
}

SQUALL_TEST_CASE("a proxy refusing the tunnel (407) raises WebSocketHandshakeError with its response", 20s) {
    TestProxy proxy(loop, {.username = "pu", .password = "pp"});
    squall::http::HTTPRequest request{.url = peers().url("websockets")};
    proxy.route(request);
    WebSocketOptions options;
    int code = 0;
    try {
        auto ws = co_await websocket_connect(loop, request, options);
    } catch (const WebSocketHandshakeError& e) {
        code = e.code();
    }
    CHECK(code == 407);
    CHECK(proxy.refused() == 1);
}

SQUALL_TEST_CASE("wss:// to a server that requires a client certificate: refused without, echo with", 20s) {
    const auto& certs = squall::testing::test_certs();
    squall::http::HTTPRequest anonymous{.url = peers().url("wss_mtls"), .ca_certs = certs.ca_file};
    WebSocketOptions options;
    bool refused = false;
    try {
        auto ws = co_await websocket_connect(loop, anonymous, options);
        co_await ws.write_message("no certificate");
        co_await ws.read_message();
    } catch (const squall::Error&) {
        refused = true;  // TLS 1.3 reports the missing certificate after the handshake, on the first read
    }
    CHECK(refused);
    squall::http::HTTPRequest with_cert{.url = peers().url("wss_mtls"),
                                        .ca_certs = certs.ca_file,
                                        .client_cert = certs.client_cert,
                                        .client_key = certs.client_key};
    auto ws = co_await websocket_connect(loop, with_cert, options);
    co_await echo_once(ws, "with a client certificate");
    co_await ws.close();
    CHECK(ws.close_code() == 1000);
}
