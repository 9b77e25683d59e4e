// WebSocket client connections (RFC 6455), Tornado's websocket_connect as a coroutine.
//
//     squall::websocket::WebSocketOptions options{.subprotocols = {"chat"}};
//     auto ws = co_await squall::websocket::websocket_connect(loop, "ws://127.0.0.1:8765/", options);
//     co_await ws.write_message("hello");                    // text; write_message(bytes, true): binary
//     std::optional<WebSocketMessage> msg = co_await ws.read_message();   // nullopt once closed
//     co_await ws.close(1000, "bye");                        // closing handshake, bounded by close_timeout
//
// ws:// and wss:// (certificate verification on by default, SNI, client certificates). An HTTPRequest
// instead of a URL brings its headers, basic auth, timeouts, TLS settings and proxy (a CONNECT tunnel for
// ws:// and wss:// alike). connect_timeout covers resolve + connect (+ proxy tunnel + TLS);
// request_timeout covers the opening handshake.
//
// Reading: one reader coroutine per connection parses frames from the stream's buffer as they arrive
// (payloads are copied once, into the message), answers pings, and holds at most one complete message
// for read_message(): a reader that does not read stops the connection from reading (TCP backpressure).
// With on_message_fragment set, message data goes to the callback piece by piece instead (nothing is
// buffered, max_message_size does not apply) and read_message() only reports the end.
// Writing: write_message() copies and masks the message into one buffer (compressed first when
// permessage-deflate was negotiated, split into fragment_size frames when set) and resolves once the
// bytes are handed to the kernel; await it before writing more to keep one message's buffer in flight.
// Messages written from several coroutines never interleave. Writes that are not awaited are bounded by
// max_write_buffer_size (StreamBufferFullError beyond it).
//
// Ending (close_code() / close_reason() after it):
//   peer's close frame    echoed; read_message() -> nullopt; close_code() is the peer's (1005 if none)
//   close() by us         our close frame, then the peer's answer and its TCP close, or close_timeout;
//                         messages arriving meanwhile are still readable (up to 16, then dropped)
//   protocol violation    our close frame with 1002 / 1007 / 1009, then read_message() throws the
//                         WebSocketProtocolError (MessageTooBigError for 1009)
//   TCP EOF, no close     close_code() 1006; read_message() throws WebSocketClosedError
//   ping timeout          close_code() 1006; read_message() throws PingTimeoutError
// Destroying the WebSocketConnection without close() drops the TCP connection at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "squall/coro/future.hpp"
#include "squall/coro/task.hpp"
#include "squall/httpclient/request.hpp"
#include "squall/httpclient/response.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/iostream/iostream.hpp"
#include "squall/websocket/deflate.hpp"
#include "squall/websocket/errors.hpp"

namespace squall::websocket {

// One whole received message.
struct WebSocketMessage {
    std::string data{};   // the payload (decompressed; UTF-8-checked for text)
    bool binary = false;  // a binary message; false: text
    friend bool operator==(const WebSocketMessage&, const WebSocketMessage&) = default;
};

// Streaming receive: each piece of a message's data as it arrives (decompressed); `last` marks the end of
// the message (its piece may be empty). Text is UTF-8-checked as it streams. The view lives for the call.
using FragmentCallback = std::function<void(std::string_view piece, bool binary, bool last)>;
// Ping and pong payloads as received (pings are answered before the callback runs).
using ControlCallback = std::function<void(std::string_view payload)>;

// Settings of one connection (websocket_connect).
struct WebSocketOptions {
    std::vector<std::string> subprotocols{};  // offered in order; the server's pick: selected_subprotocol()
    std::size_t max_message_size = 10 * 1024 * 1024;  // Tornado's default; over it: close 1009
    std::optional<DeflateOptions> compression{};      // offer permessage-deflate when set
    std::size_t fragment_size = 0;                    // > 0: messages larger than this go in several frames
    Duration ping_interval = Duration::zero();        // > 0: send a ping this often
    Duration ping_timeout = Duration::zero();  // no frame for this long after a ping: dead (0: ping_interval)
    Duration close_timeout = std::chrono::seconds(5);  // bound on the closing handshake
    // Bound on bytes written but not yet taken by the kernel. A write_message() (or ping()) that would go
    // over it while earlier writes are still unsent fails with StreamBufferFullError, queueing nothing
    // (the connection stays usable); a message alone may be larger. Writers that await each write never
    // reach it. 0: no bound.
    std::size_t max_write_buffer_size = 16 * 1024 * 1024;
    ControlCallback on_ping{};  // pings received
    ControlCallback on_pong{};  // pongs received
    // When set, message data goes here as it arrives (see above); read_message() only reports the end.
    FragmentCallback on_message_fragment{};
};

namespace detail {
struct Core;
}

// An open client WebSocket (see the file comment). Move-only; belongs to its loop's thread.
class WebSocketConnection {
public:
    // Made by websocket_connect.
    explicit WebSocketConnection(std::shared_ptr<detail::Core> core);
    // Moving transfers the connection; the moved-from object may only be destroyed or assigned to.
    WebSocketConnection(WebSocketConnection&&) noexcept;
    WebSocketConnection& operator=(WebSocketConnection&&) noexcept;
    ~WebSocketConnection();  // drops the connection unless it is closed

    // The next whole message; nullopt after a clean close. One pending read at a time (UsageError).
    Future<std::optional<WebSocketMessage>> read_message();
    // Sends a text (UTF-8 is the caller's promise, not checked) or binary message.
    Future<void> write_message(std::string_view data, bool binary = false);
    // Sends a ping (payload at most 125 bytes); on_pong sees the answer.
    Future<void> ping(std::string_view data = {});
    // Closing handshake: sends a close frame (code 1000..4999 except the reserved ones; reason at most
    // 123 bytes), waits for the peer's close frame and the end of the TCP connection, at most
    // close_timeout. Does nothing when already closed.
    Task<void> close(int code = close_codes::kNormal, std::string reason = {});
    // Closes the TCP connection now, without a closing handshake.
    void abort();

    bool closed() const noexcept;  // the TCP connection is closed
    // The close code and reason (std::nullopt while open): see the table above.
    std::optional<int> close_code() const noexcept;
    const std::string& close_reason() const noexcept;
    // Resolves once the TCP connection is closed.
    Future<void> wait_closed();

    const std::string& selected_subprotocol() const noexcept;  // empty when none was agreed
    // The 101 response (headers of the handshake).
    const http::HTTPResponse& handshake_response() const noexcept;
    // The negotiated permessage-deflate parameters, or nullopt.
    const std::optional<DeflateParams>& compression() const noexcept;
    IOStream& stream() const noexcept;  // the TCP (or TLS) stream underneath

private:
    std::shared_ptr<detail::Core> core_;
};

// Opens a connection to a ws:// or wss:// URL. Throws InvalidURLError, ConnectError / ResolveError /
// TlsError, TimeoutError, WebSocketHandshakeError.
Task<WebSocketConnection> websocket_connect(IOLoop& loop, const std::string& url,
                                            const WebSocketOptions& options);
Task<WebSocketConnection> websocket_connect(IOLoop& loop, const std::string& url);
Task<WebSocketConnection> websocket_connect(IOLoop& loop, const http::HTTPRequest& request,
                                            const WebSocketOptions& options);

}  // namespace squall::websocket
