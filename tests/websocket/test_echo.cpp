// Echo against real servers: python3-websockets 10.4 and Tornado's WebSocketHandler, text and binary of
// 0 B to 16 MiB, fragmented both ways, permessage-deflate with and without context takeover.
#include <doctest/doctest.h>

#include <squall/testing.hpp>
#include <string>
#include <vector>

#include "squall/ioloop/async.hpp"
#include "squall/websocket/websocket.hpp"
#include "tests/websocket/peers.hpp"

using namespace std::chrono_literals;
using namespace squall::websocket;
using squall::websocket::test::peers;

namespace {

std::string pattern(std::size_t n, unsigned seed) {
    std::string s(n, '\0');
    unsigned x = seed * 2654435761u + 1;
    for (std::size_t i = 0; i < n; ++i) {
        x = x * 1103515245u + 12345u;
        s[i] = static_cast<char>(x >> 24);
    }
    return s;
}

// Printable text with multi-byte characters (valid UTF-8 of exactly n bytes).
std::string text_of(std::size_t n) {
    static const std::string unit = "squall \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\x8a ";  // 24 bytes
    std::string s;
    while (s.size() + unit.size() <= n) s += unit;
    s.append(n - s.size(), 'x');
    return s;
}

squall::Task<void> echo_sizes(WebSocketConnection& ws, const std::vector<std::size_t>& sizes) {
    for (std::size_t n : sizes) {
        const std::string bin = pattern(n, static_cast<unsigned>(n));
        co_await ws.write_message(bin, true);
        auto got = co_await ws.read_message();
        REQUIRE(got.has_value());
        CHECK(got->binary);
        CHECK(got->data.size() == n);
        CHECK(got->data == bin);
        const std::string text = text_of(n);
        co_await ws.write_message(text);
        got = co_await ws.read_message();
        REQUIRE(got.has_value());
        CHECK_FALSE(got->binary);
        CHECK(got->data == text);
    }
}

const std::vector<std::size_t> kSizes = {0, 1, 125, 126, 127, 65535, 65536, 100000, 1 << 20};

}  // namespace

SQUALL_TEST_CASE("websockets server: text and binary echo from 0 B to 1 MiB, then a clean close", 30s) {
    auto ws = co_await websocket_connect(loop, peers().url("plain"));
    CHECK_FALSE(ws.compression().has_value());
    co_await echo_sizes(ws, kSizes);
    co_await ws.close(1000, "done");
    CHECK(ws.closed());
    CHECK(ws.close_code() == 1000);
    auto after = co_await ws.read_message();
    CHECK_FALSE(after.has_value());
}

SQUALL_TEST_CASE("websockets server: a 16 MiB binary message both ways (max_message_size raised)", 60s) {
    WebSocketOptions options{.max_message_size = 17 * 1024 * 1024};
    auto ws = co_await websocket_connect(loop, peers().url("plain"), options);
    const std::string big = pattern(16 * 1024 * 1024, 7);
    co_await ws.write_message(big, true);
    auto got = co_await ws.read_message();
    REQUIRE(got.has_value());
    CHECK(got->data.size() == big.size());
    CHECK(got->data == big);
    co_await ws.close();
}

SQUALL_TEST_CASE("tornado server: text and binary echo from 0 B to 1 MiB, compression negotiated", 30s) {
    WebSocketOptions options{.compression = DeflateOptions{}};
    auto ws = co_await websocket_connect(loop, peers().url("tornado"), options);
    REQUIRE(ws.compression().has_value());
    co_await echo_sizes(ws, kSizes);
    co_await ws.close();
    CHECK(ws.close_code() == 1000);
}

SQUALL_TEST_CASE("permessage-deflate with context takeover against websockets: repeated text compresses",
                 30s) {
    WebSocketOptions options{.compression = DeflateOptions{}};
    auto ws = co_await websocket_connect(loop, peers().url("websockets"), options);
    REQUIRE(ws.compression().has_value());
    CHECK_FALSE(ws.compression()->server_no_context_takeover);
    CHECK_FALSE(ws.compression()->client_no_context_takeover);
    co_await echo_sizes(ws, kSizes);
    // The same 4 KiB text again: with context takeover the second copy costs a few bytes on the wire.
    const std::string text = text_of(4096);
    co_await ws.write_message(text);
    auto first = co_await ws.read_message();
    const auto before = ws.stream().bytes_written();
    co_await ws.write_message(text);
    auto second = co_await ws.read_message();
    REQUIRE(first.has_value());
    REQUIRE(second.has_value());
    CHECK(second->data == text);
    CHECK(ws.stream().bytes_written() - before < 100);
    co_await ws.close();
}

SQUALL_TEST_CASE("permessage-deflate without context takeover (both sides) and a 10-bit server window", 30s) {
    WebSocketOptions options{.compression = DeflateOptions{}};
    auto ws = co_await websocket_connect(loop, peers().url("nct"), options);
    REQUIRE(ws.compression().has_value());
    CHECK(ws.compression()->server_no_context_takeover);
    CHECK(ws.compression()->client_no_context_takeover);
    CHECK(ws.compression()->server_max_window_bits == 10);
    co_await echo_sizes(ws, kSizes);
    // Without context takeover every copy of a message costs the same on the wire.
    const std::string text = text_of(4096);
    auto b0 = ws.stream().bytes_written();
    co_await ws.write_message(text);
    auto m1 = co_await ws.read_message();
    auto b1 = ws.stream().bytes_written();
    co_await ws.write_message(text);
    auto m2 = co_await ws.read_message();
    auto b2 = ws.stream().bytes_written();
    REQUIRE(m2.has_value());
    CHECK(m2->data == text);
    CHECK(b1 - b0 == b2 - b1);
    CHECK(b1 - b0 < text.size() / 2);
    co_await ws.close();
}

SQUALL_TEST_CASE("auto-fragmentation: large writes leave in fragment_size frames and come back whole", 30s) {
    WebSocketOptions options{.fragment_size = 1000};
    auto ws = co_await websocket_connect(loop, peers().url("plain"), options);
    const std::string text = text_of(10500);
    const auto before = ws.stream().bytes_written();
    co_await ws.write_message(text);
    // 11 frames: 10 of 1000 and one of 500, each with a 4-byte header (126 form) + 4-byte mask, except the
    // last (500 > 125: also 4 + 4).
    CHECK(ws.stream().bytes_written() - before == text.size() + 11 * 8);
    auto got = co_await ws.read_message();
    REQUIRE(got.has_value());
    CHECK(got->data == text);
    co_await ws.close();
}

SQUALL_TEST_CASE("a fragmented message from the server is reassembled", 10s) {
    auto ws = co_await websocket_connect(loop, peers().url("plain", "/fragments"));
    auto got = co_await ws.read_message();
    REQUIRE(got.has_value());
    CHECK(got->data == "frag-one frag-two frag-three");
    co_await ws.close();
}

SQUALL_TEST_CASE("streaming receive: on_message_fragment gets the pieces and the end of each message", 30s) {
    std::string received;
    int ends = 0;
    WebSocketOptions options{.on_message_fragment = [&](std::string_view piece, bool binary, bool last) {
        CHECK(binary);
        received += piece;
        ends += last ? 1 : 0;
    }};
    auto ws = co_await websocket_connect(loop, peers().url("plain"), options);
    const std::string big = pattern(3 * 1024 * 1024 + 17, 3);
    co_await ws.write_message(big, true);
    while (ends == 0) co_await squall::sleep(loop, 5ms);
    CHECK(ends == 1);
    CHECK(received == big);
    co_await ws.close();
}

SQUALL_TEST_CASE("subprotocols: the server's choice is selected_subprotocol()", 10s) {
    WebSocketOptions options{.subprotocols = {"chat", "superchat"}};
    auto ws = co_await websocket_connect(loop, peers().url("plain"), options);
    CHECK(ws.selected_subprotocol() == "superchat");
    co_await ws.close();
    WebSocketOptions tornado_options{.subprotocols = {"other", "chat"}};
    auto tws = co_await websocket_connect(loop, peers().url("tornado"), tornado_options);
    CHECK(tws.selected_subprotocol() == "chat");
    co_await tws.close();
    auto none = co_await websocket_connect(loop, peers().url("plain"));
    CHECK(none.selected_subprotocol().empty());
    co_await none.close();
}

SQUALL_TEST_CASE("ping and pong: our ping is answered (on_pong), the server's ping is answered (on_ping)",
                 10s) {
    std::vector<std::string> pings, pongs;
    WebSocketOptions options{.on_ping = [&](std::string_view p) { pings.emplace_back(p); },
                             .on_pong = [&](std::string_view p) { pongs.emplace_back(p); }};
    auto ws = co_await websocket_connect(loop, peers().url("plain", "/ping"), options);
    auto got = co_await ws.read_message();
    REQUIRE(got.has_value());
    CHECK(got->data == "pong received");
    REQUIRE(pings.size() == 1);
    CHECK(pings[0] == "are you there");
    co_await ws.ping("hello");
    co_await ws.write_message("after ping");  // the echo comes after the pong
    auto echo = co_await ws.read_message();
    REQUIRE(echo.has_value());
    REQUIRE(pongs.size() == 1);
    CHECK(pongs[0] == "hello");
    co_await ws.close();
}

SQUALL_TEST_CASE("keepalive against a live server: pings are answered and the connection stays up", 10s) {
    int pongs = 0;
    WebSocketOptions options{
        .ping_interval = 20ms, .ping_timeout = 2s, .on_pong = [&](std::string_view) { ++pongs; }};
    auto ws = co_await websocket_connect(loop, peers().url("plain"), options);
    for (int i = 0; i < 400 && pongs < 3; ++i) co_await squall::sleep(loop, 5ms);
    CHECK(pongs >= 3);
    co_await ws.write_message("still here");
    auto got = co_await ws.read_message();
    REQUIRE(got.has_value());
    CHECK(got->data == "still here");
    co_await ws.close();
    CHECK(ws.close_code() == 1000);
}
