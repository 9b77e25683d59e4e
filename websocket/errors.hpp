// Errors raised by the WebSocket client (squall::websocket).
//
//   WebSocketError            root of the module's errors (a squall::Error)
//   WebSocketHandshakeError   the server did not answer the opening handshake with a valid 101: carries the
//                             HTTP response (status, headers, body), like Tornado's HTTPClientError
//   WebSocketProtocolError    the peer broke RFC 6455 (or RFC 7692); close_code() is the code we closed
//                             the connection with: 1002 protocol error, 1007 invalid UTF-8, 1009 message
//                             too big (MessageTooBigError)
//   WebSocketClosedError      the connection is closed: a write after close, or the TCP connection ended
//                             without a closing handshake (close code 1006)
//   PingTimeoutError          keepalive: no pong (nor any frame) within ping_timeout (a TimeoutError)
//
// Connection failures keep their iostream types (ConnectError, ResolveError, TlsError, StreamClosedError)
// and every timeout is a squall::TimeoutError saying which one expired.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "squall/coro/errors.hpp"

namespace squall::http {
struct HTTPResponse;
}

namespace squall::websocket {

// Close codes of RFC 6455 section 7.4.1.
namespace close_codes {
inline constexpr int kNormal = 1000;              // normal closure
inline constexpr int kGoingAway = 1001;           // the endpoint is going away
inline constexpr int kProtocolError = 1002;       // protocol violation
inline constexpr int kUnsupportedData = 1003;     // a data type it cannot accept
inline constexpr int kNoStatus = 1005;            // never sent: the peer's close frame had no code
inline constexpr int kAbnormal = 1006;            // never sent: the connection ended without a close frame
inline constexpr int kInvalidPayload = 1007;      // bad data, e.g. text that is not UTF-8
inline constexpr int kPolicyViolation = 1008;     // the message violates its policy
inline constexpr int kMessageTooBig = 1009;       // a message too big to process
inline constexpr int kMandatoryExtension = 1010;  // (client) a required extension was not agreed
inline constexpr int kInternalError = 1011;       // (server) an unexpected condition
}  // namespace close_codes

// The root of the module's errors.
class WebSocketError : public squall::Error {
public:
    using squall::Error::Error;
};

// The opening handshake failed: no valid 101 (or a proxy refused the CONNECT tunnel). See the table above.
class WebSocketHandshakeError : public WebSocketError {
public:
    // `response` is null only when the server sent no parsable HTTP response.
    WebSocketHandshakeError(const std::string& message, std::shared_ptr<const http::HTTPResponse> response)
        : WebSocketError(message), response_(std::move(response)) {}
    // The status code of the response (0 when there is none).
    int code() const noexcept;
    // The server's response (status, headers, body), or null.
    const std::shared_ptr<const http::HTTPResponse>& response() const noexcept { return response_; }

private:
    std::shared_ptr<const http::HTTPResponse> response_;
};

// The server broke RFC 6455 (or 7692): we closed with close_code() (1002, 1007 or 1009).
class WebSocketProtocolError : public WebSocketError {
public:
    // The close code we sent, and what was wrong.
    WebSocketProtocolError(int close_code, const std::string& message)
        : WebSocketError(message), close_code_(close_code) {}
    int close_code() const noexcept { return close_code_; }

private:
    int close_code_;
};

// A message (or, compressed, its inflated size) over max_message_size: closed with 1009.
class MessageTooBigError : public WebSocketProtocolError {
public:
    // Closed with 1009.
    explicit MessageTooBigError(const std::string& message)
        : WebSocketProtocolError(close_codes::kMessageTooBig, message) {}
};

// The connection is closed: a write after close, or the TCP connection ended without a closing handshake.
class WebSocketClosedError : public WebSocketError {
public:
    // close_code: see close_code().
    WebSocketClosedError(int close_code, const std::string& message)
        : WebSocketError(message), close_code_(close_code) {}
    // The connection's close code (1006 when it ended without a closing handshake).
    int close_code() const noexcept { return close_code_; }

private:
    int close_code_;
};

class PingTimeoutError : public squall::TimeoutError {
public:
    using squall::TimeoutError::TimeoutError;
};

}  // namespace squall::websocket
