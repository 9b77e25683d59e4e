// Every bad input of RFC 6455 from a scripted raw-socket server: the client fails the connection with the
// right close code on the wire, close_code() says it, and read_message() throws the typed error.
#include <doctest/doctest.h>
#include <zlib.h>

#include <squall/testing.hpp>
#include <string>
#include <vector>

#include "squall/ioloop/async.hpp"
#include "squall/iostream/errors.hpp"
#include "squall/websocket/websocket.hpp"
#include "tests/websocket/scripted_server.hpp"

using namespace std::chrono_literals;
using namespace squall::websocket;
using squall::websocket::test::FrameBits;
using squall::websocket::test::Script;
using squall::websocket::test::ScriptedServer;
using squall::websocket::test::server_close;
using squall::websocket::test::server_frame;

namespace {

// Waits (bounded) until the server has seen the client's close frame or TCP end.
squall::Task<void> settle(squall::IOLoop& loop, const ScriptedServer& server) {
    for (int i = 0; i < 400 && server.client_close_code() == -1 && !server.client_closed_tcp(); ++i)
        co_await squall::sleep(loop, 5ms);
}

// Connects, expects read_message() to fail with E carrying `code`, and the server to get that close code.
template <class E>
squall::Task<void> expect_failure(squall::IOLoop& loop, const Script& script, int code,
                                  const WebSocketOptions& options) {
    ScriptedServer server(loop, script);
    auto ws = co_await websocket_connect(loop, server.url(), options);
    std::string what;
    int thrown_code = 0;
    try {
        for (int i = 0; i < 10; ++i) {
            auto msg = co_await ws.read_message();
            if (!msg) break;
        }
    } catch (const E& e) {
        what = e.what();
        if constexpr (std::is_base_of_v<WebSocketProtocolError, E>)
            thrown_code = e.close_code();
        else
            thrown_code = code;
    }
    INFO("error: " << what);
    CHECK_FALSE(what.empty());
    CHECK(thrown_code == code);
    co_await ws.wait_closed();
    CHECK(ws.close_code() == code);
    co_await settle(loop, server);
    CHECK(server.client_close_code() == code);
    // The error stays: a later read reports it again.
    bool again = false;
    try {
        co_await ws.read_message();
    } catch (const E&) {
        again = true;
    }
    CHECK(again);
}

squall::Task<void> expect_protocol_error(squall::IOLoop& loop, const Script& script, int code = 1002) {
    WebSocketOptions options;
    co_await expect_failure<WebSocketProtocolError>(loop, script, code, options);
}

std::string raw_deflate(std::string_view in) {
    z_stream z{};
    deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, in.size()) + 16, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_SYNC_FLUSH);
    out.resize(out.size() - z.avail_out - 4);  // drop 00 00 ff ff
    deflateEnd(&z);
    return out;
}

}  // namespace

SQUALL_TEST_CASE("a masked frame from the server: close 1002", 10s) {
    Script s{.after_handshake = server_frame(0x1, "hi", {.masked = true})};
    co_await expect_protocol_error(loop, s);
}

SQUALL_TEST_CASE("reserved bits RSV2 and RSV3, and RSV1 without permessage-deflate: close 1002", 10s) {
    Script rsv2{.after_handshake = server_frame(0x1, "hi", {.rsv2 = true})};
    co_await expect_protocol_error(loop, rsv2);
    Script rsv3{.after_handshake = server_frame(0x2, "hi", {.rsv3 = true})};
    co_await expect_protocol_error(loop, rsv3);
    Script rsv1{.after_handshake = server_frame(0x1, "hi", {.rsv1 = true})};
    co_await expect_protocol_error(loop, rsv1);
}

SQUALL_TEST_CASE("unknown opcodes (data 3 and control 11): close 1002", 10s) {
    Script data{.after_handshake = server_frame(0x3, "x")};
    co_await expect_protocol_error(loop, data);
    Script control{.after_handshake = server_frame(0xb, "x")};
    co_await expect_protocol_error(loop, control);
}

SQUALL_TEST_CASE("control frames over 125 bytes or fragmented: close 1002", 10s) {
    Script big{.after_handshake = server_frame(0x9, std::string(126, 'p'))};
    co_await expect_protocol_error(loop, big);
    Script fragmented{.after_handshake = server_frame(0x9, "p", {.fin = false})};
    co_await expect_protocol_error(loop, fragmented);
    Script close_big{.after_handshake = server_frame(0x8, std::string(2, '\x03') + std::string(124, 'r'))};
    co_await expect_protocol_error(loop, close_big);
}

SQUALL_TEST_CASE("a continuation without a start, and a new message inside a fragmented one: close 1002",
                 10s) {
    Script orphan{.after_handshake = server_frame(0x0, "tail")};
    co_await expect_protocol_error(loop, orphan);
    Script nested{.after_handshake =
                      server_frame(0x1, "first", {.fin = false}) + server_frame(0x2, "second")};
    co_await expect_protocol_error(loop, nested);
}

SQUALL_TEST_CASE("a frame length not in its shortest form: close 1002", 10s) {
    Script s{.after_handshake = std::string("\x81\x7e\x00\x03"
                                            "abc",
                                            7)};
    co_await expect_protocol_error(loop, s);
}

SQUALL_TEST_CASE("invalid UTF-8 in text, checked across fragments and at the end: close 1007", 10s) {
    Script bad{.after_handshake = server_frame(0x1, "ok \xff")};
    co_await expect_protocol_error(loop, bad, 1007);
    // A valid character split over two fragments is fine; the second message breaks in its second fragment.
    Script split{.after_handshake = server_frame(0x1, "euro \xe2\x82", {.fin = false}) +
                                    server_frame(0x0, "\xac") + server_frame(0x1, "a", {.fin = false}) +
                                    server_frame(0x0, "\xc3\x28")};
    ScriptedServer server(loop, split);
    auto ws = co_await websocket_connect(loop, server.url());
    auto first = co_await ws.read_message();
    REQUIRE(first.has_value());
    CHECK(first->data == "euro \xe2\x82\xac");
    bool thrown = false;
    try {
        co_await ws.read_message();
    } catch (const WebSocketProtocolError& e) {
        thrown = e.close_code() == 1007;
    }
    CHECK(thrown);
    co_await ws.wait_closed();
    // A message ending inside a character; surrogates and overlong forms.
    Script truncated{.after_handshake = server_frame(0x1, "cut \xe2\x82")};
    co_await expect_protocol_error(loop, truncated, 1007);
    Script surrogate{.after_handshake = server_frame(0x1, "\xed\xa0\x80")};
    co_await expect_protocol_error(loop, surrogate, 1007);
    Script overlong{.after_handshake = server_frame(0x1, "\xc0\xaf")};
    co_await expect_protocol_error(loop, overlong, 1007);
}

SQUALL_TEST_CASE("over max_message_size in one frame, over several fragments, and inflated: close 1009",
                 10s) {
    WebSocketOptions small{.max_message_size = 1000};
    Script one{.after_handshake = server_frame(0x2, std::string(1001, 'a'))};
    co_await expect_failure<MessageTooBigError>(loop, one, 1009, small);
    Script frags{.after_handshake = server_frame(0x2, std::string(600, 'a'), {.fin = false}) +
                                    server_frame(0x0, std::string(600, 'b'))};
    co_await expect_failure<MessageTooBigError>(loop, frags, 1009, small);
    // 1 MiB of zeros deflates to about a kilobyte: the limit applies to the inflated size.
    WebSocketOptions deflating{.max_message_size = 1000, .compression = DeflateOptions{}};
    Script bomb{
        .extra_headers = "Sec-WebSocket-Extensions: permessage-deflate\r\n",
        .after_handshake = server_frame(0x2, raw_deflate(std::string(1 << 20, '\0')), {.rsv1 = true})};
    co_await expect_failure<MessageTooBigError>(loop, bomb, 1009, deflating);
}

SQUALL_TEST_CASE("close frames with a 1-byte payload or an invalid code: close 1002; bad reason: 1007", 10s) {
    Script one_byte{.after_handshake = server_frame(0x8, "\x03")};
    co_await expect_protocol_error(loop, one_byte);
    for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
        Script bad{.after_handshake = server_close(code, "x")};
        INFO("code " << code);
        co_await expect_protocol_error(loop, bad);
    }
    Script reason{.after_handshake = server_close(1000, "bad \xff reason")};
    co_await expect_protocol_error(loop, reason, 1007);
}

SQUALL_TEST_CASE("control frames between fragments are handled and the message comes out whole", 10s) {
    Script s{.after_handshake = server_frame(0x1, "one ", {.fin = false}) + server_frame(0x9, "ping-data") +
                                server_frame(0x0, "two ", {.fin = false}) + server_frame(0xa, "unsolicited") +
                                server_frame(0x0, "three")};
    ScriptedServer server(loop, s);
    std::string pinged, ponged;
    WebSocketOptions options{.on_ping = [&](std::string_view p) { pinged = p; },
                             .on_pong = [&](std::string_view p) { ponged = p; }};
    auto ws = co_await websocket_connect(loop, server.url(), options);
    auto msg = co_await ws.read_message();
    REQUIRE(msg.has_value());
    CHECK(msg->data == "one two three");
    CHECK(pinged == "ping-data");
    CHECK(ponged == "unsolicited");
    co_await ws.close();
    REQUIRE(server.frames().size() >= 2);
    CHECK(server.frames()[0].opcode() == 0xa);  // our pong, with the ping's payload
    CHECK(server.frames()[0].payload == "ping-data");
    for (const auto& f : server.frames()) CHECK(f.masked);
}

SQUALL_TEST_CASE("TCP EOF without a close frame: close_code 1006 and WebSocketClosedError", 10s) {
    Script s{.after_handshake = server_frame(0x1, "last words"), .eof_after = true};
    ScriptedServer server(loop, s);
    auto ws = co_await websocket_connect(loop, server.url());
    auto msg = co_await ws.read_message();
    REQUIRE(msg.has_value());
    CHECK(msg->data == "last words");
    int code = 0;
    try {
        co_await ws.read_message();
    } catch (const WebSocketClosedError& e) {
        code = e.close_code();
    }
    CHECK(code == 1006);
    CHECK(ws.close_code() == 1006);
    bool write_failed = false;
    try {
        co_await ws.write_message("too late");
    } catch (const WebSocketClosedError&) {
        write_failed = true;
    }
    CHECK(write_failed);
}

SQUALL_TEST_CASE("a peer that never answers our close: closed after close_timeout, close_code 1006", 10s) {
    Script s{.answer_close = false};
    ScriptedServer server(loop, s);
    WebSocketOptions options{.close_timeout = 200ms};
    auto ws = co_await websocket_connect(loop, server.url(), options);
    co_await ws.close(1000, "bye");
    CHECK(ws.closed());
    CHECK(ws.close_code() == 1006);
    CHECK(ws.close_reason().find("close_timeout") != std::string::npos);
    co_await settle(loop, server);
    CHECK(server.client_close_code() == 1000);
    auto after = co_await ws.read_message();
    CHECK_FALSE(after.has_value());
}

SQUALL_TEST_CASE("a server-initiated close is echoed with its code; read_message then gives nullopt", 10s) {
    Script s{.after_handshake = server_frame(0x1, "before") + server_close(4000, "bye now")};
    ScriptedServer server(loop, s);
    auto ws = co_await websocket_connect(loop, server.url());
    auto msg = co_await ws.read_message();
    REQUIRE(msg.has_value());
    auto end = co_await ws.read_message();
    CHECK_FALSE(end.has_value());
    co_await settle(loop, server);
    CHECK(server.client_close_code() == 4000);
    co_await ws.wait_closed();
    CHECK(ws.close_code() == 4000);
    CHECK(ws.close_reason() == "bye now");
    // An empty close frame: echoed empty, close_code 1005.
    Script empty{.after_handshake = server_close(-1)};
    ScriptedServer server2(loop, empty);
    auto ws2 = co_await websocket_connect(loop, server2.url());
    auto none = co_await ws2.read_message();
    CHECK_FALSE(none.has_value());
    co_await ws2.wait_closed();
    CHECK(ws2.close_code() == 1005);
    co_await settle(loop, server2);
    CHECK(server2.client_close_code() == 1005);
}

SQUALL_TEST_CASE("keepalive: a peer that stops answering pings is detected (PingTimeoutError, 1006)", 10s) {
    Script s{.answer_close = false};  // reads our frames, never answers anything
    ScriptedServer server(loop, s);
    WebSocketOptions options{.ping_interval = 50ms, .ping_timeout = 100ms};
    auto ws = co_await websocket_connect(loop, server.url(), options);
    bool timed_out = false;
    try {
        co_await ws.read_message();
    } catch (const PingTimeoutError&) {
        timed_out = true;
    }
    CHECK(timed_out);
    CHECK(ws.close_code() == 1006);
    co_await ws.wait_closed();
    REQUIRE_FALSE(server.frames().empty());
    CHECK(server.frames()[0].opcode() == 0x9);
}

SQUALL_TEST_CASE("writes not awaited against a peer that stops reading are bounded by max_write_buffer_size",
                 20s) {
    ScriptedServer server(loop, Script{.stop_reading = true});
    WebSocketOptions options{.max_write_buffer_size = 2 * 1024 * 1024};
    auto ws = co_await websocket_connect(loop, server.url(), options);
    const std::string message(256 * 1024, 'x');
    std::vector<squall::Future<void>> writes;
    std::exception_ptr refused;
    // The kernel's socket buffers take a few MiB first; then the unsent bytes pile up in the stream.
    for (int i = 0; i < 400 && !refused; ++i) {
        auto w = ws.write_message(message, true);
        if (w.done() && w.exception()) refused = w.exception();
        writes.push_back(std::move(w));
        CHECK(ws.stream().write_buffer_size() <= options.max_write_buffer_size + message.size() + 16);
        co_await squall::sleep(loop, 1ms);  // lets the stream hand what the kernel takes
    }
    REQUIRE_MESSAGE(refused, "400 writes of 256 KiB were all queued");
    CHECK(squall::testing::holds<squall::StreamBufferFullError>(refused));
    try {
        std::rethrow_exception(refused);
    } catch (const squall::StreamBufferFullError& e) {
        CHECK(std::string(e.what()).find("max_write_buffer_size is 2097152") != std::string::npos);
    }
    CHECK_FALSE(ws.closed());  // a refused write leaves the connection usable
    ws.abort();
    for (auto& w : writes) co_await squall::testing::error_of(std::move(w));
    co_await ws.wait_closed();
}
