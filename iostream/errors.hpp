// Stream errors (Tornado's iostream errors), each carrying what happened and why.
#pragma once

#include <exception>
#include <string>

#include "squall/coro/errors.hpp"

namespace squall {

// A read or write on a stream that is closed, or that closed while the operation waited. real_error()
// is the cause when there is one (ECONNRESET, a TLS alert, ...); the message always says it.
class StreamClosedError : public Error {
public:
    explicit StreamClosedError(const std::string& message, std::exception_ptr real_error = nullptr,
                               int errno_value = 0)
        : Error(message), real_error_(std::move(real_error)), errno_(errno_value) {}
    const std::exception_ptr& real_error() const noexcept { return real_error_; }
    // The errno of the socket failure that closed the stream (0: EOF, local close, or not a socket error).
    int error_code() const noexcept { return errno_; }

private:
    std::exception_ptr real_error_;
    int errno_;
};

// The read buffer reached max_buffer_size before the pending read could complete.
class StreamBufferFullError : public Error {
public:
    using Error::Error;
};

// A delimiter or pattern was not found within max_bytes.
class UnsatisfiableReadError : public Error {
public:
    using Error::Error;
};

}  // namespace squall
