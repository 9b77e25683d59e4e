// Closing handshakes with real servers: server-initiated (python websockets, Tornado), client-initiated,
// and what a closed connection does afterwards.
#include <doctest/doctest.h>

#include <squall/testing.hpp>
#include <string>

#include "squall/websocket/websocket.hpp"
#include "tests/websocket/peers.hpp"

using namespace std::chrono_literals;
using namespace squall::websocket;
using squall::websocket::test::peers;

SQUALL_TEST_CASE("python websockets closes with 4001: read_message gives nullopt, code and reason kept",
                 10s) {
    auto ws = co_await websocket_connect(loop, peers().url("plain", "/close"));
    co_await ws.write_message("hello");
    auto end = co_await ws.read_message();
    CHECK_FALSE(end.has_value());
    co_await ws.wait_closed();
    CHECK(ws.closed());
    CHECK(ws.close_code() == 4001);
    CHECK(ws.close_reason() == "server says bye");
}

SQUALL_TEST_CASE("Tornado closes with 4002: read_message gives nullopt, code and reason kept", 10s) {
    auto ws = co_await websocket_connect(loop, peers().url("tornado", "/close"));
    co_await ws.write_message("hello");
    auto end = co_await ws.read_message();
    CHECK_FALSE(end.has_value());
    co_await ws.wait_closed();
    CHECK(ws.close_code() == 4002);
    CHECK(ws.close_reason() == "tornado says bye");
}

SQUALL_TEST_CASE("client close against both servers: the server echoes our code; writes fail afterwards",
                 10s) {
    for (const char* name : {"plain", "tornado"}) {
        auto ws = co_await websocket_connect(loop, peers().url(name));
        co_await ws.close(4321, "client leaves");
        CHECK(ws.closed());
        CHECK(ws.close_code() == 4321);
        bool failed = false;
        try {
            co_await ws.write_message("after close");
        } catch (const WebSocketClosedError&) {
            failed = true;
        }
        CHECK(failed);
        auto end = co_await ws.read_message();
        CHECK_FALSE(end.has_value());
        co_await ws.close();  // a second close does nothing
    }
}

SQUALL_TEST_CASE("close() refuses codes that may not be sent and over-long reasons", 10s) {
    auto ws = co_await websocket_connect(loop, peers().url("plain"));
    for (int code : {999, 1005, 1006, 1015, 2000, 5000}) {
        bool refused = false;
        try {
            co_await ws.close(code);
        } catch (const squall::UsageError&) {
            refused = true;
        }
        CHECK(refused);
    }
    bool long_refused = false;
    try {
        std::string too_long(124, 'r');
        co_await ws.close(1000, too_long);
    } catch (const squall::UsageError&) {
        long_refused = true;
    }
    CHECK(long_refused);
    CHECK_FALSE(ws.closed());
    std::string longest(123, 'r');
    co_await ws.close(1000, longest);
    CHECK(ws.closed());
}

SQUALL_TEST_CASE("a reader that does not read holds the connection back; messages are not lost", 20s) {
    auto ws = co_await websocket_connect(loop, peers().url("plain"));
    for (int i = 0; i < 50; ++i) co_await ws.write_message(std::to_string(i));
    for (int i = 0; i < 50; ++i) {
        auto got = co_await ws.read_message();
        REQUIRE(got.has_value());
        CHECK(got->data == std::to_string(i));
    }
    co_await ws.close();
}

SQUALL_TEST_CASE("messages the server sent before answering our close are still read, then nullopt", 10s) {
    // Tornado handles frames in order: the echoes leave before it reads our close frame.
    auto ws = co_await websocket_connect(loop, peers().url("tornado"));
    co_await ws.write_message("one");
    co_await ws.write_message("two");
    co_await ws.close();  // the echoes arrive after our close frame left
    auto one = co_await ws.read_message();
    auto two = co_await ws.read_message();
    auto end = co_await ws.read_message();
    REQUIRE(one.has_value());
    REQUIRE(two.has_value());
    CHECK(one->data == "one");
    CHECK(two->data == "two");
    CHECK_FALSE(end.has_value());
}
