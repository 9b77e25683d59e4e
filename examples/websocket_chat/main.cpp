// websocket_chat: two users in a chat room (tests/support/websocket_peers.py's /chat route, python3-
// websockets): each joins, says hello, and prints what the room says until both greetings arrived; then
// both leave with a clean closing handshake. Keepalive pings run underneath.
//
//   websocket_chat ws://127.0.0.1:8765/chat
#include <cstdio>
#include <string>

#include "squall/coro/gather.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/websocket/websocket.hpp"

using squall::websocket::WebSocketConnection;
using squall::websocket::WebSocketOptions;

squall::Task<void> user(squall::IOLoop& loop, std::string url, std::string name,
                        squall::Future<void> both_joined, squall::Promise<void> joined) {
    WebSocketOptions options{.ping_interval = std::chrono::seconds(5),
                             .ping_timeout = std::chrono::seconds(5)};
    WebSocketConnection ws = co_await squall::websocket::websocket_connect(loop, url, options);
    joined.set_value();
    co_await both_joined;  // so that neither greeting is broadcast before the other user is in the room
    const std::string greeting = name + ": hello, room";
    co_await ws.write_message(greeting);
    int greetings = 0;
    while (greetings < 2) {
        auto msg = co_await ws.read_message();
        if (!msg) break;
        std::printf("[%s] %s\n", name.c_str(), msg->data.c_str());
        ++greetings;
    }
    const std::string goodbye = name + " leaves";
    co_await ws.close(1000, goodbye);
    std::printf("[%s] closed with %d\n", name.c_str(), ws.close_code().value_or(-1));
}

squall::Task<void> chat(squall::IOLoop& loop, std::string url) {
    squall::Promise<void> alice_in, bob_in;
    auto alice_joined = alice_in.get_future();
    auto bob_joined = bob_in.get_future();
    squall::Promise<void> all;
    auto everyone = all.get_future();
    alice_joined.add_done_callback([&](squall::Future<void>&) {
        if (bob_joined.done()) all.set_value();
    });
    bob_joined.add_done_callback([&](squall::Future<void>&) {
        if (alice_joined.done()) all.set_value();
    });
    // Named first: no object owning heap memory is built inside the co_await expression (GCC 12).
    auto alice = user(loop, url, "alice", everyone, std::move(alice_in));
    auto bob = user(loop, url, "bob", everyone, std::move(bob_in));
    co_await squall::gather(std::move(alice), std::move(bob));
}

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: websocket_chat ws://HOST:PORT/chat\n");
        return 2;
    }
    try {
        squall::IOLoop loop;
        loop.run_sync(chat(loop, argv[1]), std::chrono::seconds(20));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "websocket_chat: %s\n", e.what());
        return 1;
    }
    return 0;
}
