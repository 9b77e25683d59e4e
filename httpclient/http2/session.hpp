// Http2Session: one HTTP/2 client connection (nghttp2 over an IOStream) carrying many exchanges at once,
// each on its own stream. The Client hands it requests for one origin; this file only speaks HTTP/2 over
// a stream that is already connected (TLS with ALPN "h2", or plain TCP for h2c by prior knowledge).
//
//     auto session = Http2Session::start(stream, "https://localhost:443", {});
//     HTTPResponse resp;
//     co_await session->exchange(request, URL::parse(request.url), {}, deadline, resp);
//     session->can_open_stream();   // false once GOAWAY arrived, the connection failed, or it is full
//
// Bytes: a reader task feeds what the stream read to nghttp2_session_mem_recv straight from its read
// buffer; frames nghttp2 produces go into the stream's corked write queue (one sendmsg per loop
// iteration). DATA payloads are copied once each way: a request body from HTTPRequest::body (or a
// body_producer piece) into the write queue, a response body from the read buffer into HTTPResponse::body
// (or handed to streaming_callback without a copy).
//
// Flow control: our SETTINGS_INITIAL_WINDOW_SIZE is stream_window and the connection window is raised to
// connection_window. Automatic WINDOW_UPDATE is off: received DATA counts as consumed only once it was
// delivered (appended, inflated or handed to streaming_callback), so a slow consumer stops the sender
// instead of buffering without bound.
//
// Streams: at most min(max_concurrent_streams, the server's SETTINGS_MAX_CONCURRENT_STREAMS) at once;
// can_open_stream() says whether one more fits (the Client opens a further connection when not).
//
// Errors through the awaiting exchange:
//   StreamResetError    the server sent RST_STREAM (code carried); RefusedStreamError for REFUSED_STREAM
//                       and for streams above a GOAWAY's last_stream_id (not processed: retryable)
//   ProtocolError       invalid frames, HPACK errors, a malformed response (bad :status, content-length
//                       mismatch...), a header list over max_header_size, a body over max_body_size; a
//                       connection-level error fails every stream with the cause
//   StreamClosedError   the transport failed (with its cause); also a PING that got no answer
//   TimeoutError        the exchange's deadline passed (its stream is cancelled, the session lives on)
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "squall/coro/future.hpp"
#include "squall/coro/task.hpp"
#include "squall/httpclient/connection.hpp"
#include "squall/httpclient/request.hpp"
#include "squall/httpclient/response.hpp"
#include "squall/httpclient/url.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/iostream/iostream.hpp"

struct nghttp2_session;

namespace squall::http {

struct RequestHeaders;

// Settings of each HTTP/2 session (ClientOptions::http2).
struct Http2Options {
    // Our cap on streams in flight on one connection (the server's SETTINGS_MAX_CONCURRENT_STREAMS,
    // usually 100 or 128, also applies: the smaller wins).
    std::uint32_t max_concurrent_streams = 100;
    // SETTINGS_INITIAL_WINDOW_SIZE (per stream) and the connection-level window. A stream window of
    // 4 MiB keeps one large download at loopback speed; the connection window bounds what all streams
    // together may have in flight unconsumed.
    std::uint32_t stream_window = 4 << 20;
    std::uint32_t connection_window = 16 << 20;
    // SETTINGS_MAX_HEADER_LIST_SIZE announced to the server (each request also checks its own
    // max_header_size locally).
    std::uint32_t max_header_list_size = 64 * 1024;
    // A PING is sent when nothing was read for ping_interval; no answer within ping_timeout closes the
    // connection (StreamClosedError). Zero disables.
    Duration ping_interval = std::chrono::seconds(30);
    Duration ping_timeout = std::chrono::seconds(10);
    // With no stream in flight for this long, the session says GOAWAY and closes. Zero: never.
    Duration idle_timeout = std::chrono::seconds(60);
};

// One HTTP/2 connection multiplexing many exchanges (see the file comment). Owned by shared_ptr; one
// loop's thread.
class Http2Session : public std::enable_shared_from_this<Http2Session> {
public:
    // Internal: the state of one exchange, shared with the nghttp2 callbacks.
    struct Stream;
    struct Callbacks;

    // Sends the connection preface and SETTINGS and starts reading. The stream must be connected (and
    // TLS-negotiated to "h2" for https). The session lives until it closes (its reader holds it): by
    // close(), shutdown(), idle_timeout, a connection error or the server closing the connection.
    static std::shared_ptr<Http2Session> start(std::shared_ptr<IOStream> stream, std::string pool_key,
                                               Http2Options options = {});
    ~Http2Session();
    Http2Session(const Http2Session&) = delete;
    Http2Session& operator=(const Http2Session&) = delete;

    // Names one exchange for abort(); give exchange() a pointer to one.
    struct Ticket {
        Stream* stream = nullptr;  // set while the exchange runs
    };
    // Sends `request` (addressed to `url`) on a new stream and fills `response` in place (code, headers,
    // body, trailers, protocol, time_info.first_byte). `request`, `options` and `response` must outlive
    // the task. A deadline other than TimePoint::max() cancels the stream when it passes (TimeoutError
    // saying "request_timeout of <request.request_timeout> expired ..."). After an error `response` holds
    // whatever was read and should be discarded.
    // With a ticket, abort(ticket, reason) can end this exchange early (the ticket must outlive it).
    Task<void> exchange(const HTTPRequest& request, const URL& url, const ExchangeOptions& options,
                        TimePoint deadline, HTTPResponse& response, Ticket* ticket = nullptr);
    // Cancels the ticket's exchange (RST_STREAM CANCEL): it fails with `reason`; other streams go on.
    // Nothing happens when it already finished.
    void abort(Ticket& ticket, std::exception_ptr reason);

    // One more stream fits now: open, no GOAWAY received or sent, below the stream limit.
    bool can_open_stream() const noexcept;
    // Open and not shutting down (it may be full).
    bool usable() const noexcept;
    bool closed() const noexcept { return closed_; }                 // the connection is closed
    std::size_t active_streams() const noexcept { return active_; }  // exchanges in flight
    // min(options.max_concurrent_streams, the server's SETTINGS_MAX_CONCURRENT_STREAMS).
    std::uint32_t stream_limit() const noexcept;
    std::uint64_t streams_opened() const noexcept { return streams_opened_; }  // streams ever opened
    const std::string& pool_key() const noexcept { return pool_key_; }         // as given to start()
    IOStream& stream() noexcept { return *stream_; }                           // the connection

    // Fails every stream with `reason` (StreamClosedError "HTTP/2 session closed" when null) and closes
    // the connection.
    void close(std::exception_ptr reason = nullptr);
    // Sends GOAWAY: streams in flight finish, no new ones start; the connection closes after the last.
    void shutdown();
    // Called (once) when the session has no stream and will take none (closed, or GOAWAY with nothing in
    // flight); the Client uses it to forget the session.
    void set_close_callback(std::function<void()> callback) { close_callback_ = std::move(callback); }

private:
    struct Key {};

public:
    // For start() only (Key is private).
    Http2Session(Key, std::shared_ptr<IOStream> stream, std::string pool_key, Http2Options options);

private:
    static Task<void> read_loop(std::shared_ptr<Http2Session> self);
    void flush_output();
    void fail_all(std::exception_ptr error);
    void finish(Stream& stream);
    void settle_finished();
    void detach(Stream& stream);
    void check_drained();
    void cancel_stream(Stream& stream, std::exception_ptr reason);
    void update_idle_timer();
    void arm_ping_timer();
    void on_ping_timer();
    std::exception_ptr connection_error(const char* when) const;

    std::shared_ptr<IOStream> stream_;
    std::string pool_key_;
    Http2Options options_;
    nghttp2_session* session_ = nullptr;
    bool closed_ = false;
    bool goaway_received_ = false;
    std::uint32_t goaway_code_ = 0;
    std::int32_t goaway_last_stream_ = 0;
    std::string goaway_debug_;
    bool goaway_sent_ = false;
    std::string last_error_;  // nghttp2's description of the last connection-level problem
    std::size_t active_ = 0;
    std::uint64_t streams_opened_ = 0;
    std::vector<Stream*> live_;      // streams with an exchange waiting
    std::vector<Stream*> finished_;  // streams closed during mem_recv/mem_send, resolved afterwards
    // The header list of the request being submitted: nghttp2_submit_request copies it, so one list is
    // reused by every request (its buffers keep their capacity: no allocation per request).
    std::unique_ptr<RequestHeaders> request_headers_;
    TimeoutHandle idle_timer_{};
    bool idle_timer_set_ = false;
    TimeoutHandle ping_timer_{};
    bool ping_timer_set_ = false;
    bool ping_outstanding_ = false;
    std::uint64_t bytes_read_at_ping_ = 0;
    std::function<void()> close_callback_;
    std::exception_ptr close_reason_;
};

}  // namespace squall::http
