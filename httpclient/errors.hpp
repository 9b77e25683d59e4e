// Errors raised by the HTTP client.
//
//   HTTPError      the server answered with a status >= 400 (and raise_error was true); carries the code
//                  and the whole response.
//   ProtocolError  the bytes from the server are not a valid HTTP/1.1 response (malformed status line,
//                  headers or framing, a truncated body, a limit exceeded); says what and where.
//   InvalidURLError / RequestError  the request itself cannot be sent (bad URL, header injection).
//   StaleConnectionError  a reused keep-alive connection died before the response began (a
//                  StreamClosedError; idempotent requests may be retried on a fresh connection).
//
// Timeouts and connection failures keep their own types (squall::TimeoutError, StreamClosedError):
// there are no Tornado-style 599 codes.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "squall/coro/errors.hpp"
#include "squall/iostream/errors.hpp"

namespace squall::http {

struct HTTPResponse;

class HTTPError : public squall::Error {
public:
    // `response` may be null only when no response exists (never for a status-code error).
    HTTPError(int code, std::shared_ptr<const HTTPResponse> response, const std::string& message)
        : squall::Error(message), code_(code), response_(std::move(response)) {}

    int code() const noexcept { return code_; }
    // The response that carried the error status (body, headers, effective_url...).
    const std::shared_ptr<const HTTPResponse>& response() const noexcept { return response_; }

private:
    int code_;
    std::shared_ptr<const HTTPResponse> response_;
};

class ProtocolError : public squall::Error {
public:
    using squall::Error::Error;
};

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

}  // namespace squall::http
