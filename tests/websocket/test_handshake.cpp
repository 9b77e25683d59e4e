// The opening handshake: what the client sends, and every way the server's answer can be refused.
#include <doctest/doctest.h>

#include <squall/testing.hpp>
#include <string>

#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/request_writer.hpp"
#include "squall/iostream/errors.hpp"
#include "squall/websocket/websocket.hpp"
#include "tests/websocket/peers.hpp"
#include "tests/websocket/scripted_server.hpp"

using namespace std::chrono_literals;
using namespace squall::websocket;
using squall::websocket::test::peers;
using squall::websocket::test::Script;
using squall::websocket::test::ScriptedServer;

namespace {

// The message of the handshake error, with its response code (-1: another error type was thrown).
squall::Task<std::pair<int, std::string>> handshake_failure(squall::IOLoop& loop, const std::string& url,
                                                            const WebSocketOptions& options) {
    try {
        auto ws = co_await websocket_connect(loop, url, options);
        co_await ws.close();
    } catch (const WebSocketHandshakeError& e) {
        co_return std::pair<int, std::string>{e.code(), e.what()};
    }
    co_return std::pair<int, std::string>{-1, "no error"};
}

squall::Task<std::pair<int, std::string>> scripted_failure(squall::IOLoop& loop, const Script& script,
                                                           const WebSocketOptions& options) {
    ScriptedServer server(loop, script);
    co_return co_await handshake_failure(loop, server.url(), options);
}

}  // namespace

SQUALL_TEST_CASE("the handshake request carries the key, version, offers, user headers and basic auth", 10s) {
    Script s{};
    ScriptedServer server(loop, s);
    squall::http::HTTPRequest request{.url = server.url("/chat?room=1"),
                                      .headers = {{"X-Trace", "abc"}, {"Origin", "http://example.test"}},
                                      .auth_username = "alice",
                                      .auth_password = "secret"};
    WebSocketOptions options{.subprotocols = {"chat", "v2.chat"}, .compression = DeflateOptions{}};
    // The scripted 101 accepts no extension: the client refuses it, but the request is what we check.
    try {
        auto ws = co_await websocket_connect(loop, request, options);
        co_await ws.close();
    } catch (const WebSocketHandshakeError&) {
    }
    REQUIRE(server.request().has_value());
    const auto& r = *server.request();
    CHECK(r.method == "GET");
    CHECK(r.target == "/chat?room=1");
    CHECK(r.header("Upgrade") == "websocket");
    CHECK(r.header("Connection") == "Upgrade");
    CHECK(r.header("Sec-WebSocket-Version") == "13");
    auto key = r.header("Sec-WebSocket-Key");
    REQUIRE(key.has_value());
    CHECK(key->size() == 24);  // base64 of 16 bytes
    CHECK(r.header("Sec-WebSocket-Protocol") == "chat, v2.chat");
    CHECK(r.header("Sec-WebSocket-Extensions") == "permessage-deflate; client_max_window_bits");
    CHECK(r.header("X-Trace") == "abc");
    CHECK(r.header("Origin") == "http://example.test");
    CHECK(r.header("Authorization") == squall::http::basic_auth_value("alice", "secret"));
    CHECK(r.header("Host") == "127.0.0.1:" + std::to_string(server.port()));
}

SQUALL_TEST_CASE("a refusal (403 from python websockets) raises WebSocketHandshakeError with the response",
                 10s) {
    bool caught = false;
    try {
        auto ws = co_await websocket_connect(loop, peers().url("plain", "/reject"));
    } catch (const WebSocketHandshakeError& e) {
        caught = true;
        CHECK(e.code() == 403);
        REQUIRE(e.response() != nullptr);
        CHECK(e.response()->body == "forbidden here\n");
        CHECK(e.response()->headers.get("X-Reason") == "not allowed");
        CHECK(std::string(e.what()).find("HTTP 403") != std::string::npos);
    }
    CHECK(caught);
}

SQUALL_TEST_CASE("a 101 with a wrong accept, no Upgrade, or a second 101 line is refused", 10s) {
    WebSocketOptions none;
    Script wrong{.handshake_reply =
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"};
    auto [code, what] = co_await scripted_failure(loop, wrong, none);
    CHECK(code == 101);
    CHECK(what.find("Sec-WebSocket-Accept") != std::string::npos);
    Script no_upgrade{.handshake_reply =
                          "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: {accept}\r\n\r\n"};
    auto [code2, what2] = co_await scripted_failure(loop, no_upgrade, none);
    CHECK(code2 == 101);
    CHECK(what2.find("Upgrade: websocket") != std::string::npos);
    Script http10{.handshake_reply =
                      "HTTP/1.0 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: {accept}\r\n\r\n"};
    auto [code3, what3] = co_await scripted_failure(loop, http10, none);
    CHECK(code3 != -1);
    Script garbage{.handshake_reply = "SSH-2.0-OpenSSH_9.2\r\n\r\n"};
    auto [code4, what4] = co_await scripted_failure(loop, garbage, none);
    CHECK(code4 == 0);  // no HTTP response to carry
}

SQUALL_TEST_CASE("a subprotocol or an extension that was not offered is refused", 10s) {
    WebSocketOptions chat{.subprotocols = {"chat"}};
    Script evil{.extra_headers = "Sec-WebSocket-Protocol: evil\r\n"};
    auto [code, what] = co_await scripted_failure(loop, evil, chat);
    CHECK(code == 101);
    CHECK(what.find("evil") != std::string::npos);
    WebSocketOptions plain;
    Script ext{.extra_headers = "Sec-WebSocket-Extensions: permessage-deflate\r\n"};
    auto [code2, what2] = co_await scripted_failure(loop, ext, plain);
    CHECK(code2 == 101);
    CHECK(what2.find("none were offered") != std::string::npos);
    WebSocketOptions deflate{.compression = DeflateOptions{}};
    Script bad_param{.extra_headers =
                         "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=16\r\n"};
    auto [code3, what3] = co_await scripted_failure(loop, bad_param, deflate);
    CHECK(code3 == 101);
    CHECK(what3.find("outside 8..15") != std::string::npos);
    Script other{.extra_headers = "Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n"};
    auto [code4, what4] = co_await scripted_failure(loop, other, deflate);
    CHECK(what4.find("not offered") != std::string::npos);
}

SQUALL_TEST_CASE("a server that never answers the handshake: request_timeout raises TimeoutError", 10s) {
    Script silent{.silent_handshake = true};
    ScriptedServer server(loop, silent);
    squall::http::HTTPRequest request{.url = server.url(), .request_timeout = 200ms};
    WebSocketOptions options;
    std::string what;
    try {
        auto ws = co_await websocket_connect(loop, request, options);
    } catch (const squall::TimeoutError& e) {
        what = e.what();
    }
    CHECK(what.find("request_timeout") != std::string::npos);
}

SQUALL_TEST_CASE("URLs other than ws:// and wss:// raise InvalidURLError; nothing listening: ConnectError",
                 10s) {
    const std::string http_url = "http://127.0.0.1:1/", closed_port = "ws://127.0.0.1:1/";
    bool invalid = false;
    try {
        auto ws = co_await websocket_connect(loop, http_url);
    } catch (const squall::http::InvalidURLError&) {
        invalid = true;
    }
    CHECK(invalid);
    bool refused = false;
    try {
        auto ws = co_await websocket_connect(loop, closed_port);
    } catch (const squall::ConnectError&) {
        refused = true;
    }
    CHECK(refused);
}
