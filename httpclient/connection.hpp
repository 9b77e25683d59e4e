// Connection: one HTTP/1.1 client connection (an IOStream) and the request/response exchanges it carries,
// one at a time. The Client and the keep-alive pool decide where requests go; this file only speaks HTTP
// over a stream that is already connected (and TLS-wrapped, and tunnelled, when needed).
//
//     Connection conn(stream, "http://127.0.0.1:8080");
//     HTTPResponse resp;
//     co_await conn.exchange(request, URL::parse(request.url), {}, resp);
//     if (conn.reusable()) pool.put(std::move(conn_ptr));
//
// One exchange: the request head and body leave in one writev (a body_producer's pieces follow,
// chunk-framed unless the request set Content-Length; with expect_100_continue the body waits for
// "100 Continue", for the final response, or for kExpectContinueTimeout). The response is parsed straight
// from the stream's read buffer (no copy of the head), the body goes to HTTPResponse::body or to the
// streaming_callback, gzip/deflate is inflated when asked, 1xx responses are skipped.
//
// Errors: ProtocolError for bad bytes or exceeded limits, StreamClosedError when the transport fails, and
// StaleConnectionError when a reused connection died before the server sent a single byte (the caller
// may retry on a fresh connection). After any error the connection is closed and not reusable.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "squall/coro/task.hpp"
#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/headers.hpp"
#include "squall/httpclient/request.hpp"
#include "squall/httpclient/response.hpp"
#include "squall/httpclient/url.hpp"
#include "squall/iostream/errors.hpp"
#include "squall/iostream/iostream.hpp"

namespace squall::http {

// How long an expect_100_continue request waits for "100 Continue" before sending its body anyway (as
// curl does: servers that ignore Expect would otherwise wait for a body that never comes).
inline constexpr std::chrono::milliseconds kExpectContinueTimeout{1000};

struct ExchangeOptions {
    // The request goes to a plain HTTP proxy (absolute-form target, Proxy-Authorization).
    bool via_proxy = false;
    // Called once the final response head is read: true means the client will follow this response as a
    // redirect. Its body is then read and dropped, and header_callback, streaming_callback and
    // decompression never see it (as Tornado).
    std::function<bool(int code, const HTTPHeaders& headers)> will_follow{};
};

class Connection {
public:
    Connection(std::shared_ptr<IOStream> stream, std::string pool_key);
    ~Connection();  // closes the stream
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    IOStream& stream() noexcept { return *stream_; }
    const std::shared_ptr<IOStream>& stream_ptr() const noexcept { return stream_; }
    const std::string& pool_key() const noexcept { return pool_key_; }
    // Exchanges started on this connection (1 during the first).
    std::uint64_t requests() const noexcept { return requests_; }
    // After an exchange: the response was complete, neither side asked to close, nothing stray is
    // buffered and the stream is open. False before the first exchange ends and after any error.
    bool reusable() const noexcept { return reusable_ && !stream_->closed(); }
    bool closed() const noexcept { return stream_->closed(); }
    void close(std::exception_ptr reason = nullptr) { stream_->close(std::move(reason)); }

    // Sends `request` (addressed to `url`, the current hop's URL) and reads the whole response into
    // `response` (a default-constructed one; filled in place, so the response is never moved between
    // coroutines). `request`, `options` and `response` must stay alive until the task completes. Fills
    // code, reason, headers, body, trailers and time_info.first_byte; the Client fills the rest. After an
    // error `response` holds whatever was read and should be discarded.
    Task<void> exchange(const HTTPRequest& request, const URL& url, const ExchangeOptions& options,
                        HTTPResponse& response);

private:
    std::shared_ptr<IOStream> stream_;
    std::string pool_key_;
    std::string head_buffer_;  // request head storage, reused by every exchange
    std::uint64_t requests_ = 0;
    bool reusable_ = false;
};

}  // namespace squall::http
