// Errors of the iostream module, each carrying what happened and why: the stream's own (Tornado's
// iostream errors), TLS, regex, name resolution, connect, and the protocol layer's connection_lost reasons.
#pragma once

#include <exception>
#include <string>

#include "squall/coro/errors.hpp"
#include "squall/iostream/address.hpp"

namespace squall {

// A read or write on a stream that is closed, or that closed while the operation waited. real_error()
// is the cause when there is one (ECONNRESET, a TLS alert, ...); the message always says it.
class StreamClosedError : public Error {
public:
    // errno_value: see error_code().
    explicit StreamClosedError(const std::string& message, std::exception_ptr real_error = nullptr,
                               int errno_value = 0)
        : Error(message), real_error_(std::move(real_error)), errno_(errno_value) {}
    const std::exception_ptr& real_error() const noexcept { return real_error_; }  // the cause, or null
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

// A TLS failure. The message says what failed and why, e.g. "TLS handshake with localhost failed:
// certificate verify failed: unable to get local issuer certificate (code 20)", "... Hostname mismatch
// (code 62)", "... peer sent alert: tlsv13 alert certificate required", or "TLS stream from peer
// truncated: connection closed without close_notify".
class TlsError : public Error {
public:
    // verify_result: see verify_result().
    explicit TlsError(const std::string& message, long verify_result = 0)
        : Error(message), verify_result_(verify_result) {}
    // The X509_V_ERR_* code when certificate verification failed, else 0.
    long verify_result() const { return verify_result_; }

private:
    long verify_result_;
};

// A pattern failed to compile, or a match failed for a reason other than "no match" (e.g. PCRE2's match
// limit was hit by a pathological pattern). The message names the pattern and PCRE2's reason.
class RegexError : public Error {
public:
    using Error::Error;
};

// A name lookup failed. gai_code() is getaddrinfo's EAI_* code (0 for other failures).
class ResolveError : public Error {
public:
    // The message, and getaddrinfo's EAI_* code (0 for other failures).
    ResolveError(const std::string& message, int gai_code) : Error(message), gai_code_(gai_code) {}
    int gai_code() const noexcept { return gai_code_; }

private:
    int gai_code_;
};

// A connect() to one address failed. error_code() is the errno, address() the address tried.
class ConnectError : public Error {
public:
    // The message, the errno of the failed connect and the address it was to.
    ConnectError(const std::string& message, int error_code, SocketAddress address)
        : Error(message), error_code_(error_code), address_(address) {}
    int error_code() const noexcept { return error_code_; }
    const SocketAddress& address() const noexcept { return address_; }

private:
    int error_code_;
    SocketAddress address_;
};

// ECONNREFUSED: nothing listens there.
class ConnectionRefusedError : public ConnectError {
public:
    using ConnectError::ConnectError;
};

// EHOSTUNREACH / ENETUNREACH: no route to the address.
class HostUnreachableError : public ConnectError {
public:
    using ConnectError::ConnectError;
};

// connection_lost reasons (Twisted's twisted.internet.error names).
class ConnectionDone : public Error {  // closed cleanly
public:
    using Error::Error;
};
class ConnectionLost : public Error {  // closed uncleanly; the message says why
public:
    using Error::Error;
};
class ConnectionAborted : public ConnectionLost {  // abort_connection()
public:
    using ConnectionLost::ConnectionLost;
};

}  // namespace squall
