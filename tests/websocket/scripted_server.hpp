// ScriptedServer: a misbehaving WebSocket server on raw sockets for the bad-input tests. It answers the
// handshake (a valid 101 unless the script gives its own reply), sends the script's bytes, then records
// every frame the client sends (unmasked) and answers or ignores the client's close frame.
//
//     ScriptedServer server(loop, {.after_handshake = frame(0x1, "hi", {.rsv2 = true})});
//     auto ws = co_await websocket_connect(loop, server.url());
//     ... read_message() throws WebSocketProtocolError; server.client_close_code() == 1002
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "squall/ioloop/ioloop.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/test_fiber.hpp"

namespace squall::websocket::test {

struct Script {
    // Sent instead of a valid 101 when non-empty; "{accept}" is replaced by the right accept value.
    std::string handshake_reply{};
    // Extra header lines ("Name: value\r\n") inside the valid 101.
    std::string extra_headers{};
    // Bytes sent right after the handshake (server frames, built with server_frame()).
    std::string after_handshake{};
    // Close the TCP connection after after_handshake (EOF without a close frame).
    bool eof_after = false;
    // The client's close frame is answered (echoed, then TCP close); false: ignored (a silent peer).
    bool answer_close = true;
    // Echo the client's data frames back (unmasked, same opcode and flags).
    bool echo = false;
    // Never answer the handshake at all.
    bool silent_handshake = false;
    // After the handshake, read nothing more (a peer whose receive window fills up).
    bool stop_reading = false;
};

struct ReceivedFrame {
    std::uint8_t first_byte = 0;  // FIN, RSV, opcode
    bool masked = false;
    std::string payload;  // unmasked
    int opcode() const { return first_byte & 0x0f; }
};

struct FrameBits {
    bool fin = true;
    bool rsv1 = false;
    bool rsv2 = false;
    bool rsv3 = false;
    bool masked = false;
};

// An unmasked server frame (or masked, for the "masked server frame" case).
std::string server_frame(int opcode, std::string_view payload, FrameBits bits = {});
// A close frame with a code (and reason); code < 0: empty payload.
std::string server_close(int code, std::string_view reason = {});

class ScriptedServer {
public:
    ScriptedServer(IOLoop& loop, Script script);
    ~ScriptedServer();
    ScriptedServer(const ScriptedServer&) = delete;
    ScriptedServer& operator=(const ScriptedServer&) = delete;

    int port() const noexcept { return port_; }
    std::string url(const std::string& path = "/") const;
    // The handshake request the client sent.
    const std::optional<squall::testing::TestRequest>& request() const noexcept { return request_; }
    const std::vector<ReceivedFrame>& frames() const noexcept { return frames_; }
    // The code of the client's close frame (-1: none received; 1005: an empty close frame).
    int client_close_code() const;
    bool client_closed_tcp() const noexcept { return client_eof_; }

private:
    squall::testing::detail::Fiber serve(int fd);

    IOLoop& loop_;
    Script script_;
    int port_ = 0;
    std::optional<squall::testing::TestRequest> request_;
    std::vector<ReceivedFrame> frames_;
    bool client_eof_ = false;
    std::unique_ptr<squall::testing::detail::Acceptor> acceptor_;
    squall::testing::detail::FiberSet fibers_;
};

}  // namespace squall::websocket::test
