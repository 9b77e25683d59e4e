// Connection: the seam between the Client core and a protocol. The core (client.cpp: queue, redirects,
// timeouts, retries, time_info, raise_error) and the pool (pool.hpp) only ever hold a Connection, "a way
// to run one exchange" for one origin (pool key); they never see which protocol carries it.
//
//   Connection (abstract)          exchange(request, url, options, response) fills one response;
//                                  abort(reason) ends the exchange in progress now (a deadline);
//                                  reusable() / close() / pool_key() / requests() for the pool;
//                                  on_idle() / idle_limit() / usable_after_idle() while pooled.
//   HTTP1Connection (this file)    HTTP/1.1 over one IOStream, one exchange at a time.
//   an HTTP/2 session (later)      many exchanges (streams) on one IOStream; abort() resets one stream.
//
//     auto conn = std::make_unique<HTTP1Connection>(stream, "http://127.0.0.1:8080");
//     HTTPResponse resp;
//     URL url = URL::parse(request.url);
//     ExchangeOptions options;                        // named: the co_await temporaries rule (coro/task.hpp)
//     co_await conn->exchange(request, url, options, resp);
//     if (conn->reusable()) pool.put(std::move(conn));
//
// One HTTP/1.1 exchange, in four steps (connection.cpp): send_request writes the head and body in one
// writev (a body_producer's pieces follow, chunk-framed unless the request set Content-Length; the
// piece loop is queue_body_piece, written once); await_continue (expect_100_continue only) waits for
// "100 Continue", for the final response, or for kExpectContinueTimeout before the body goes; read_response
// parses straight from the stream's read buffer (no copy of the head), the body goes to
// HTTPResponse::body or to the streaming_callback, gzip/deflate is inflated when asked, 1xx responses are
// skipped; on failure, failure_of closes the stream and decides once whether the connection was stale.
//
// Errors: ProtocolError for bad bytes or exceeded limits, StreamClosedError when the transport fails, and
// StaleConnectionError when a reused connection died before the server sent a single byte (the caller
// may retry on a fresh connection). After any error the connection is closed and not reusable.
//
// While pooled, an HTTP/1.1 connection is watched (IOStream::watch_idle): a byte or EOF from the server
// closes it at once, so nothing the server sends unasked is ever read as the next response. The
// server's Keep-Alive header is honoured: timeout=N bounds the idle time (less a margin, idle_limit()),
// max=N the requests (a response with max=N leaves N - 1 more, so max=0 and max=1 end reuse).
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "squall/coro/task.hpp"
#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/headers.hpp"
#include "squall/httpclient/request.hpp"
#include "squall/httpclient/request_writer.hpp"
#include "squall/httpclient/response.hpp"
#include "squall/httpclient/url.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/iostream/errors.hpp"
#include "squall/iostream/iostream.hpp"

namespace squall::http {

class ResponseParser;

// How long an expect_100_continue request waits for "100 Continue" before sending its body anyway (as
// curl does: servers that ignore Expect would otherwise wait for a body that never comes).
inline constexpr std::chrono::milliseconds kExpectContinueTimeout{1000};

// Per-exchange settings the Client passes to Connection::exchange.
struct ExchangeOptions {
    // The request goes to a plain HTTP proxy (absolute-form target, Proxy-Authorization).
    bool via_proxy = false;
    // Called once the final response head is read: true means the client will follow this response as a
    // redirect. Its body is then read and dropped, and header_callback, streaming_callback and
    // decompression never see it (as Tornado).
    std::function<bool(int code, const HTTPHeaders& headers)> will_follow{};
    // The request already serialized for this url and via_proxy (write_request_into), as the Client keeps
    // it for a prepared request fetched again at the same url; null: the connection serializes it.
    const SerializedRequest* serialized = nullptr;
};

// What the Client core and the pool call. See the top of this file.
class Connection {
public:
    virtual ~Connection() = default;

    // The origin (scheme, host, port, proxy and TLS settings) this connection serves.
    virtual const std::string& pool_key() const noexcept = 0;
    // Exchanges started on this connection (1 during the first).
    virtual std::uint64_t requests() const noexcept = 0;
    // After an exchange: another one may start on this connection. False before the first exchange ends
    // and after any error.
    virtual bool reusable() const noexcept = 0;
    // The transport is closed.
    virtual bool closed() const noexcept = 0;
    // Closes the transport; `reason` becomes the close reason an exchange in progress fails with.
    virtual void close(std::exception_ptr reason = nullptr) = 0;

    // Sends `request` (addressed to `url`, the current hop's URL) and reads the whole response into
    // `response` (a default-constructed one; filled in place, so the response is never moved between
    // coroutines). `request`, `options` and `response` must stay alive until the task completes. Fills
    // code, reason, headers, body, trailers and time_info.first_byte; the Client fills the rest. After an
    // error `response` holds whatever was read and should be discarded.
    virtual Task<void> exchange(const HTTPRequest& request, const URL& url, const ExchangeOptions& options,
                                HTTPResponse& response) = 0;
    // Ends the exchange in progress at once: it fails, and its error is the caller's to replace (a
    // deadline reports its own TimeoutError). HTTP/1.1 closes the connection.
    virtual void abort(std::exception_ptr reason) = 0;

    // --- while pooled
    // The connection goes idle in the pool (after a reusable exchange) and watches its transport: when
    // the server sends anything or closes, the connection closes and `closed` runs (once, from the loop)
    // so the pool drops it. Returns false, closed and without calling back, when it cannot go idle.
    virtual bool on_idle(Callback closed) {
        (void)closed;
        return true;
    }
    // How long the server keeps it open while idle, less a margin (Keep-Alive: timeout=N), when it said.
    virtual std::optional<Duration> idle_limit() const noexcept { return std::nullopt; }
    // Leaving the pool for a new exchange (the watch ends): false if it cannot carry one (closed, out of
    // step). With check_alive, also ask the transport (costs a syscall; the pool uses it only for
    // requests that may not be retried: it narrows the window between the loop's last look and the send).
    virtual bool usable_after_idle(bool check_alive) = 0;
};

// One HTTP/1.1 client connection (an IOStream) and the request/response exchanges it carries, one at a
// time. The Client and the keep-alive pool decide where requests go; this class only speaks HTTP over a
// stream that is already connected (and TLS-wrapped, and tunnelled, when needed).
class HTTP1Connection final : public Connection {
public:
    // Takes a connected stream; pool_key as in Connection::pool_key().
    HTTP1Connection(std::shared_ptr<IOStream> stream, std::string pool_key);
    ~HTTP1Connection() override;  // closes the stream
    HTTP1Connection(const HTTP1Connection&) = delete;
    HTTP1Connection& operator=(const HTTP1Connection&) = delete;

    // The stream it speaks over.
    IOStream& stream() noexcept { return *stream_; }
    const std::shared_ptr<IOStream>& stream_ptr() const noexcept { return stream_; }

    const std::string& pool_key() const noexcept override { return pool_key_; }
    std::uint64_t requests() const noexcept override { return requests_; }
    // The response was complete, neither side asked to close, nothing stray is buffered and the stream
    // is open.
    bool reusable() const noexcept override { return reusable_ && !stream_->closed(); }

    bool closed() const noexcept override { return stream_->closed(); }
    void close(std::exception_ptr reason = nullptr) override { stream_->close(std::move(reason)); }

    Task<void> exchange(const HTTPRequest& request, const URL& url, const ExchangeOptions& options,
                        HTTPResponse& response) override;
    void abort(std::exception_ptr reason) override { stream_->close(std::move(reason)); }

    // An idle connection holds no buffer: its stream gives them back when the watch starts.
    bool on_idle(Callback closed) override;
    std::optional<Duration> idle_limit() const noexcept override { return idle_limit_; }
    // Ends the watch; then open, nothing stray buffered, and with check_alive a socket peek finds no EOF
    // or error.
    bool usable_after_idle(bool check_alive) override;

private:
    struct Exchange;  // one exchange's state (connection.cpp)
    Task<void> send_request(Exchange& ex);
    Task<void> await_continue(Exchange& ex);
    Task<void> read_response(Exchange& ex);
    std::exception_ptr failure_of(Exchange& ex, std::exception_ptr error);
    void finish(Exchange& ex);
    void apply_keep_alive(const HTTPHeaders& headers);

    std::shared_ptr<IOStream> stream_;
    std::string pool_key_;
    std::string head_buffer_;  // request head storage, reused by every exchange
    std::uint64_t requests_ = 0;
    std::uint64_t max_requests_ = UINT64_MAX;  // Keep-Alive: max
    std::optional<Duration> idle_limit_;       // Keep-Alive: timeout, less the margin
    Callback idle_closed_;                     // on_idle's callback, while idle
    bool reusable_ = false;
};

// The one read loop of the HTTP/1.1 client (exchanges and CONNECT tunnels): feeds a ResponseParser from
// the stream's read buffer and reads more until a goal holds.
enum class ReadGoal {
    head,              // the final response's head (headers_complete())
    continue_or_head,  // "100 Continue" or the final head (the expect-100 wait)
    complete,          // the whole response
};

// Reads a response from a stream into a parser (see ReadGoal). Both must outlive the reader.
class ResponseReader {
public:
    ResponseReader(IOStream& stream, ResponseParser& parser)
        : stream_(stream), parser_(parser) {}  // no I/O yet

    // Returns true once `goal` holds (`continue_received` is the flag the parser's on_interim sets).
    // Returns false when the peer closed the stream (EOF, no close reason) with nothing left buffered
    // before the goal; the parser has then not been told (finish_eof is the caller's choice). Other
    // stream failures and the parser's errors propagate.
    Task<bool> read_until(ReadGoal goal, const bool* continue_received = nullptr);
    // Loop time when the first response byte was seen (TimePoint{} before).
    TimePoint first_byte_at() const noexcept { return first_byte_at_; }
    // With tracking on, the loop time of the last read that brought bytes (for an idle read timeout).
    void track_last_byte(bool on) noexcept { track_last_byte_ = on; }
    TimePoint last_byte_at() const noexcept { return last_byte_at_; }

private:
    bool reached(ReadGoal goal, const bool* continue_received) const;

    IOStream& stream_;
    ResponseParser& parser_;
    TimePoint first_byte_at_{};
    TimePoint last_byte_at_{};
    bool track_last_byte_ = false;
};

}  // namespace squall::http
