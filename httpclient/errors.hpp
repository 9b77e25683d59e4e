// Errors raised by the HTTP client.
//
//   HTTPError      the server answered with a status >= 400 (and raise_error was true); carries the code
//                  and the whole response.
//   RedirectError  (an HTTPError) too many redirects or a redirect loop; carries the last 3xx response.
//   ProtocolError  the bytes from the server are not a valid HTTP/1.1 response (malformed status line,
//                  headers or framing, a truncated body, a limit exceeded); says what and where.
//   InvalidURLError / RequestError  the request itself cannot be sent (bad URL, header injection).
//   StaleConnectionError  a reused keep-alive connection died before the response began (a
//                  StreamClosedError; idempotent requests may be retried on a fresh connection).
//   StreamResetError  HTTP/2: the server reset the request's stream (RST_STREAM); carries the error code.
//                  RefusedStreamError (a StreamResetError): the server did not process the request
//                  (REFUSED_STREAM, or the stream was above a GOAWAY's last_stream_id), so it may be retried.
//
// Timeouts and connection failures keep their own types (squall::TimeoutError, StreamClosedError):
// there are no Tornado-style 599 codes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "squall/coro/errors.hpp"
#include "squall/iostream/errors.hpp"

namespace squall::http {

struct HTTPResponse;

// A response with a status of 400 or more when raise_error is set (the default), or a proxy refusing
// CONNECT (code() is the proxy's status). Transport failures are other, typed errors, never a 599.
class HTTPError : public squall::Error {
public:
    // `response` may be null only when no response exists (never for a status-code error).
    HTTPError(int code, std::shared_ptr<const HTTPResponse> response, const std::string& message)
        : squall::Error(message), code_(code), response_(std::move(response)) {}

    int code() const noexcept { return code_; }  // the HTTP status code
    // The response that carried the error status (body, headers, effective_url...).
    const std::shared_ptr<const HTTPResponse>& response() const noexcept { return response_; }

private:
    int code_;
    std::shared_ptr<const HTTPResponse> response_;
};

// Following redirects failed: more than max_redirects of them (with raise_error; without it the last 3xx
// response is returned), or a redirect loop (always). code() is the last 3xx.
class RedirectError : public HTTPError {
public:
    using HTTPError::HTTPError;
};

// The peer broke HTTP: a malformed response (status line, headers, framing), a corrupt compressed body,
// a response over a limit, or a proxy or HTTP/2 negotiation that went wrong. The message says which.
class ProtocolError : public squall::Error {
public:
    using squall::Error::Error;
};

// A URL that URL::parse rejects (no http/https scheme, no host, a bad port, ...).
class InvalidURLError : public squall::Error {
public:
    using squall::Error::Error;
};

// A request that cannot be serialized safely (CR/LF in a header, bad method, body and body_producer both).
class RequestError : public squall::Error {
public:
    using squall::Error::Error;
};

// A reused keep-alive connection was closed or reset by the server before any byte of the response: the
// request may not have been processed, and idempotent requests can be retried.
class StaleConnectionError : public StreamClosedError {
public:
    using StreamClosedError::StreamClosedError;
};

// HTTP/2 error codes (RFC 9113 section 7) as they appear in RST_STREAM and GOAWAY.
enum class HTTP2ErrorCode : std::uint32_t {
    no_error = 0x0,
    protocol_error = 0x1,
    internal_error = 0x2,
    flow_control_error = 0x3,
    settings_timeout = 0x4,
    stream_closed = 0x5,
    frame_size_error = 0x6,
    refused_stream = 0x7,
    cancel = 0x8,
    compression_error = 0x9,
    connect_error = 0xa,
    enhance_your_calm = 0xb,
    inadequate_security = 0xc,
    http_1_1_required = 0xd,
};

// The name RFC 9113 gives a code ("PROTOCOL_ERROR"), or "0x1f" for a code it does not define.
std::string http2_error_name(std::uint32_t code);

// The server ended one HTTP/2 stream with RST_STREAM (or GOAWAY) before the response was complete.
class StreamResetError : public squall::Error {
public:
    // code: the RST_STREAM / GOAWAY error code, also as HTTP2ErrorCode (which may not name it).
    StreamResetError(std::uint32_t code, const std::string& message) : squall::Error(message), code_(code) {}
    std::uint32_t code() const noexcept { return code_; }
    HTTP2ErrorCode error_code() const noexcept { return static_cast<HTTP2ErrorCode>(code_); }

private:
    std::uint32_t code_;
};

// The server did not process the request at all: RST_STREAM with REFUSED_STREAM, or the stream id was
// above the last_stream_id of its GOAWAY. Safe to retry on another connection.
class RefusedStreamError : public StreamResetError {
public:
    using StreamResetError::StreamResetError;
};

}  // namespace squall::http
