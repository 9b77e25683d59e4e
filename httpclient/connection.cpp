#include "squall/httpclient/connection.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "squall/httpclient/decompressor.hpp"
#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/request_writer.hpp"
#include "squall/httpclient/response_parser.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/ioloop/ioloop.hpp"

namespace squall::http {

namespace {

std::string_view interim_reason(int code) {
    switch (code) {
        case 100:
            return "Continue";
        case 102:
            return "Processing";
        case 103:
            return "Early Hints";
        default:
            return "";
    }
}

// Tornado's header_callback lines: the status line, one line per field, then an empty line.
void report_head(const HeaderCallback& cb, int major, int minor, int code, std::string_view reason,
                 const HTTPHeaders& headers) {
    std::string line = "HTTP/" + std::to_string(major) + "." + std::to_string(minor) + " " +
                       std::to_string(code) + " " + std::string(reason) + "\r\n";
    cb(line);
    for (const auto& [name, value] : headers) {
        line.assign(name).append(": ").append(value).append("\r\n");
        cb(line);
    }
    cb("\r\n");
}

// Queues the next piece of the body (chunk-framed when it is chunked) and says whether more may follow:
// the one body loop, driven piece by piece with a flush between (send_request) or drained at once from a
// callback (the expect-100 timer). A body held in memory is one piece; the last chunk ends a chunked one.
bool queue_body_piece(IOStream& stream, const HTTPRequest& request, const SerializedRequest& out) {
    if (!out.streamed) {
        if (!out.body.empty()) stream.write_buffered(out.body);
        return false;
    }
    while (auto piece = request.body_producer()) {
        if (piece->empty()) continue;
        if (out.chunked) {
            stream.write_buffered(chunk_size_line(piece->size()));
            stream.write_buffered(std::move(*piece));
            stream.write_buffered(kChunkEnd);
        } else {
            stream.write_buffered(std::move(*piece));
        }
        return true;
    }
    if (out.chunked) stream.write_buffered(kLastChunk);
    return false;
}

void queue_whole_body(IOStream& stream, const HTTPRequest& request, const SerializedRequest& out) {
    while (queue_body_piece(stream, request, out)) {
    }
}

// The peer went away (EOF, reset, broken pipe) rather than our own timers or limits closing the stream.
bool peer_went_away(const StreamClosedError& e, const IOStream& stream) {
    if (!stream.close_reason()) return true;  // EOF: our own closes always carry a reason
    return e.error_code() == ECONNRESET || e.error_code() == EPIPE;
}

}  // namespace

// ------------------------------------------------------------------------------------------ reader

bool ResponseReader::reached(ReadGoal goal, const bool* continue_received) const {
    switch (goal) {
        case ReadGoal::head:
            return parser_.headers_complete();
        case ReadGoal::continue_or_head:
            return parser_.headers_complete() || (continue_received != nullptr && *continue_received);
        case ReadGoal::complete:
            return parser_.complete();
    }
    return false;
}

Task<bool> ResponseReader::read_until(ReadGoal goal, const bool* continue_received) {
    auto& buffer = stream_.read_buffer();
    for (;;) {
        if (!buffer.empty()) {
            if (first_byte_at_ == TimePoint{}) first_byte_at_ = stream_.loop().time();
            buffer.consume(parser_.feed(buffer.view()));
        }
        if (reached(goal, continue_received)) co_return true;
        try {
            co_await stream_.fill();
        } catch (const StreamClosedError&) {
            if (stream_.close_reason() || !buffer.empty()) throw;
            co_return false;  // EOF from the peer
        }
        if (track_last_byte_) last_byte_at_ = stream_.loop().time();
    }
}

// ------------------------------------------------------------------------------------------ exchange

// Per-exchange state. The parser callbacks capture only its address, which fits std::function's inline
// storage: no allocation per exchange.
struct HTTP1Connection::Exchange {
    Exchange(HTTP1Connection& c, const HTTPRequest& req, const URL& u, const ExchangeOptions& opts,
             HTTPResponse& resp);
    ~Exchange() {
        if (expect_timer_set) loop.remove_timeout(expect_timer);  // must not fire on a later exchange
        stop_read_timer();
    }
    // read_timeout: armed when the request is sent; on expiry it re-arms while bytes keep arriving
    // (ResponseReader records the last one), else it closes the stream with a TimeoutError.
    void start_read_timer();
    void stop_read_timer() {
        if (read_timer_set) loop.remove_timeout(read_timer);
        read_timer_set = false;
    }
    std::string read_timeout_message() const;

    std::shared_ptr<IOStream> stream;  // outlives this exchange even if the connection goes first
    IOLoop& loop;
    const HTTPRequest& request;
    const URL& url;
    const ExchangeOptions& options;
    HTTPResponse& response;
    const bool reused;
    SerializedRequest out;
    bool following = false;          // the response is a redirect the client will follow
    bool continue_received = false;  // a "100 Continue" arrived
    bool body_sent = false;
    std::optional<Decompressor> inflater;
    std::string consumed_encoding;  // the Content-Encoding we decoded, to expose under a new name
    TimeoutHandle expect_timer{};
    bool expect_timer_set = false;
    TimePoint sent_at{};
    TimeoutHandle read_timer{};
    bool read_timer_set = false;
    bool read_timer_fired = false;
    ResponseParser parser;
    ResponseReader reader;

private:
    ResponseParserCallbacks callbacks();
    void on_headers(const ResponseParser& p);
};

HTTP1Connection::Exchange::Exchange(HTTP1Connection& c, const HTTPRequest& req, const URL& u,
                                    const ExchangeOptions& opts, HTTPResponse& resp)
    : stream(c.stream_),
      loop(stream->loop()),
      request(req),
      url(u),
      options(opts),
      response(resp),
      reused(c.requests_ > 0),
      parser({.method = req.method,
              .max_header_size = req.max_header_size,
              .max_body_size = max_body_size_of(req)},
             callbacks()),
      reader(*stream, parser) {
    reader.track_last_byte(req.read_timeout.count() > 0);
}

ResponseParserCallbacks HTTP1Connection::Exchange::callbacks() {
    ResponseParserCallbacks cb;
    cb.on_interim = [s = this](int code, const HTTPHeaders& headers) {
        if (code == 100) s->continue_received = true;
        if (s->request.header_callback)
            report_head(s->request.header_callback, 1, 1, code, interim_reason(code), headers);
    };
    cb.on_headers = [s = this](const ResponseParser& p) { s->on_headers(p); };
    cb.on_body = [s = this](std::span<const char> piece) {
        if (s->following) return;
        std::string_view data(piece.data(), piece.size());
        if (s->inflater) {
            s->inflater->feed(data);
        } else if (s->request.streaming_callback) {
            s->request.streaming_callback(data);
        } else {
            s->response.body.append(data);
        }
    };
    return cb;
}

void HTTP1Connection::Exchange::on_headers(const ResponseParser& p) {
    following = options.will_follow && options.will_follow(p.code(), p.headers());
    if (following) return;
    if (request.header_callback)
        report_head(request.header_callback, p.http_major(), p.http_minor(), p.code(), p.reason(),
                    p.headers());
    if (request.decompress_response && request.method != "HEAD") {
        if (auto ce = p.content_encoding()) {
            if (auto encoding = Decompressor::encoding_of(*ce)) {
                consumed_encoding = std::string(*ce);
                Decompressor::Sink sink;
                if (request.streaming_callback) {
                    sink = [s = this](std::string_view piece) { s->request.streaming_callback(piece); };
                } else {
                    sink = [s = this](std::string_view piece) { s->response.body.append(piece); };
                }
                inflater.emplace(*encoding, DecompressorOptions{.max_output_size = max_body_size_of(request)},
                                 std::move(sink));
                return;
            }
        }
    }
    // Size the body once for a known length (bounded: the header is untrusted).
    if (!request.streaming_callback && p.content_length())
        response.body.reserve(static_cast<std::size_t>(
            std::min<std::uint64_t>(*p.content_length(), max_body_size_of(request))));
}

void HTTP1Connection::Exchange::start_read_timer() {
    const Duration limit = request.read_timeout;
    const TimePoint last = std::max(sent_at, reader.last_byte_at());
    read_timer_set = true;
    read_timer = loop.call_at(last + limit, [s = this] {
        s->read_timer_set = false;
        if (s->reader.last_byte_at() + s->request.read_timeout > s->loop.time()) {
            s->start_read_timer();  // bytes arrived since: wait from the last one
            return;
        }
        s->read_timer_fired = true;
        s->stream->close(std::make_exception_ptr(TimeoutError(s->read_timeout_message())));
    });
}

std::string HTTP1Connection::Exchange::read_timeout_message() const {
    return "read_timeout of " + ::squall::format_duration(request.read_timeout) +
           " expired: no response byte for that long (" + request.method + " " + url.to_string() + ")";
}

HTTP1Connection::HTTP1Connection(std::shared_ptr<IOStream> stream, std::string pool_key)
    : stream_(std::move(stream)), pool_key_(std::move(pool_key)) {}

HTTP1Connection::~HTTP1Connection() {
    if (stream_) stream_->close();
}

// The watch's callback captures only `this`: the connection closes its stream (ending the watch) before
// it goes, so the callback never outlives it.
bool HTTP1Connection::on_idle(Callback closed) {
    // The stream gives back its read chunk, spare write block and TLS buffers once the watch is armed
    // (IOStream::watch_idle): an idle pooled connection holds no buffer.
    idle_closed_ = std::move(closed);
    if (stream_->watch_idle([this] {
            Callback to_pool = std::move(idle_closed_);
            idle_closed_ = nullptr;
            to_pool();  // the pool drops this connection: nothing of `this` after it
        }))
        return true;
    idle_closed_ = nullptr;
    return false;
}

bool HTTP1Connection::usable_after_idle(bool check_alive) {
    IOStream& stream = *stream_;
    stream.unwatch_idle();
    idle_closed_ = nullptr;
    if (stream.closed() || stream.fd() < 0) return false;
    // Plaintext nobody asked for: the connection is out of step.
    if (!stream.read_buffer().empty()) return false;
    if (!check_alive) return true;
    char byte;
    ssize_t n = ::recv(stream.fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return false;           // the server closed it while idle
    if (n > 0) return stream.is_tls();  // TLS: may be a session ticket or close_notify, found out on use
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

Task<void> HTTP1Connection::exchange(const HTTPRequest& request, const URL& url,
                                     const ExchangeOptions& options, HTTPResponse& response) {
    Exchange ex(*this, request, url, options, response);
    ++requests_;
    reusable_ = false;
    ex.out.head = std::move(head_buffer_);  // its capacity is reused; handed back after a clean exchange
    if (const SerializedRequest* made = options.serialized) {
        ex.out.head.assign(made->head);
        ex.out.body = made->body;
        ex.out.chunked = made->chunked;
        ex.out.streamed = made->streamed;
        ex.out.expect_continue = made->expect_continue;
    } else {
        write_request_into(ex.out, request, url, {.via_proxy = options.via_proxy, .keep_alive = true});
    }
    ex.body_sent = !ex.out.expect_continue;

    std::exception_ptr error;
    try {
        co_await send_request(ex);
        if (ex.out.expect_continue) co_await await_continue(ex);
        co_await read_response(ex);
    } catch (...) {
        error = std::current_exception();
    }
    if (error) std::rethrow_exception(failure_of(ex, std::move(error)));
    finish(ex);
}

// Step 1: the head and, unless it waits for "100 Continue", the body. A body in memory leaves with the
// head in one writev (corked; the head is copied into the write queue); a body_producer's pieces go one
// at a time, so a large upload is not queued whole.
Task<void> HTTP1Connection::send_request(Exchange& ex) {
    IOStream& stream = *ex.stream;
    stream.write_buffered(std::string_view(ex.out.head));
    if (ex.body_sent) {
        while (queue_body_piece(stream, ex.request, ex.out)) co_await stream.flush();
    }
    co_await stream.flush();
    ex.sent_at = ex.loop.time();
    if (ex.request.read_timeout.count() > 0) ex.start_read_timer();
}

// Step 2 (expect_100_continue): the body goes on "100 Continue", or when kExpectContinueTimeout passes
// first (from the timer, while the read waits). A final response before "100 Continue" means the server
// does not want the body; the connection is then not reusable (the server may still be waiting for it).
Task<void> HTTP1Connection::await_continue(Exchange& ex) {
    ex.expect_timer_set = true;
    ex.expect_timer = ex.loop.call_later(kExpectContinueTimeout, [s = &ex] {
        s->expect_timer_set = false;
        if (s->body_sent || s->stream->closed()) return;
        s->body_sent = true;
        try {
            queue_whole_body(*s->stream, s->request, s->out);
        } catch (...) {  // a throwing body_producer: the exchange fails with its error
            s->stream->close(std::current_exception());
        }
    });
    const bool answered = co_await ex.reader.read_until(ReadGoal::continue_or_head, &ex.continue_received);
    if (ex.expect_timer_set) {
        ex.loop.remove_timeout(ex.expect_timer);
        ex.expect_timer_set = false;
    }
    if (!answered || ex.body_sent || ex.parser.headers_complete()) co_return;
    ex.body_sent = true;
    while (queue_body_piece(*ex.stream, ex.request, ex.out)) co_await ex.stream->flush();
    co_await ex.stream->flush();
}

// Step 3: the rest of the response. EOF ends a close-delimited body (finish_eof), or reports what was
// cut short; on a reused connection with no byte received it is left to failure_of (stale).
Task<void> HTTP1Connection::read_response(Exchange& ex) {
    // Named, not `if (!co_await ...)`: GCC 12 never ran the awaited task in that form.
    const bool complete = co_await ex.reader.read_until(ReadGoal::complete);
    if (!complete) {
        if (ex.reused && ex.parser.bytes_consumed() == 0)
            throw StreamClosedError("stream closed (while reading): connection closed by peer");
        ex.parser.finish_eof();
    }
    if (ex.reader.first_byte_at() != TimePoint{})
        ex.response.time_info.first_byte = ex.reader.first_byte_at() - ex.sent_at;
    if (ex.inflater) ex.inflater->finish();
}

// Any failure closes the stream. A reused connection that the peer closed or reset before the first
// response byte is stale (the one place that decides it): the caller may retry on a fresh connection.
std::exception_ptr HTTP1Connection::failure_of(Exchange& ex, std::exception_ptr error) {
    ex.stream->close();
    if (ex.read_timer_fired) return std::make_exception_ptr(TimeoutError(ex.read_timeout_message()));
    if (!ex.reused || ex.parser.bytes_consumed() != 0) return error;
    try {
        std::rethrow_exception(error);
    } catch (const StaleConnectionError&) {
        return error;
    } catch (const StreamClosedError& e) {
        if (!peer_went_away(e, *ex.stream)) return error;
        return std::make_exception_ptr(
            StaleConnectionError("keep-alive connection " + pool_key_ +
                                     " was closed by the server before any byte of the response to " +
                                     ex.request.method + " " + ex.url.to_string() + " (" + e.what() + ")",
                                 e.real_error(), e.error_code()));
    } catch (...) {
        return error;
    }
}

// Step 4: the response's head moves into `response`; the connection is reusable when the response
// allows it, the body went out whole and nothing stray is buffered.
void HTTP1Connection::finish(Exchange& ex) {
    HTTPResponse& response = ex.response;
    response.code = ex.parser.code();
    response.protocol = ex.parser.http_minor() == 0 ? "HTTP/1.0" : "HTTP/1.1";
    response.reason = ex.parser.take_reason();
    response.headers = ex.parser.take_headers();
    response.trailers = ex.parser.take_trailers();
    if (!ex.consumed_encoding.empty()) {
        // The body is decoded: its encoding stays visible under Tornado's name.
        response.headers.remove("Content-Encoding");
        response.headers.add("X-Consumed-Content-Encoding", std::move(ex.consumed_encoding));
    }
    IOStream& stream = *ex.stream;
    reusable_ = ex.parser.keep_alive() && ex.body_sent && stream.read_buffer().empty() && !stream.closed();
    if (reusable_ && ex.parser.has_keep_alive_field()) apply_keep_alive(response.headers);
    if (!reusable_) stream.close();
    head_buffer_ = std::move(ex.out.head);
}

// Keep-Alive: timeout=N keeps the connection at most N - min(1 s, N / 2) (the server's clock started when
// it sent the response, ours when we read it; the margin also covers the next request's way there), and
// timeout=0 ends reuse. max=N, counted from this response, leaves N - 1 more requests: Apache's countdown
// (100, 99, ...) and a server that repeats a fixed max=N are both honoured, the first one request early.
// The budget only shrinks.
void HTTP1Connection::apply_keep_alive(const HTTPHeaders& headers) {
    auto value = headers.get("Keep-Alive");
    if (!value) return;
    const KeepAliveParams params = parse_keep_alive(*value);
    if (params.timeout_seconds) {
        constexpr std::uint64_t kLongest = 365ull * 24 * 3600;  // keeps the Duration arithmetic in range
        const Duration timeout = std::chrono::seconds(std::min(*params.timeout_seconds, kLongest));
        idle_limit_ = timeout - std::min<Duration>(std::chrono::seconds(1), timeout / 2);
        if (*params.timeout_seconds == 0) reusable_ = false;
    }
    if (params.max) {
        const std::uint64_t more = *params.max == 0 ? 0 : *params.max - 1;
        max_requests_ =
            std::min(max_requests_, more > UINT64_MAX - requests_ ? UINT64_MAX : requests_ + more);
    }
    if (requests_ >= max_requests_) reusable_ = false;
}

}  // namespace squall::http
