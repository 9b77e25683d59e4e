#include "squall/httpclient/connection.hpp"

#include <cerrno>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "squall/httpclient/decompressor.hpp"
#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/request_writer.hpp"
#include "squall/httpclient/response_parser.hpp"
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

// Queues the whole body without waiting (a synchronous body_producer is drained). Used when the body
// must go out from a callback (100 Continue arrived, or the expect timer fired).
void queue_body_now(IOStream& stream, const HTTPRequest& request, const SerializedRequest& out) {
    if (!out.streamed) {
        if (!out.body.empty()) stream.write_buffered(out.body);
        return;
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
    }
    if (out.chunked) stream.write_buffered(kLastChunk);
}

// The peer went away (EOF, reset, broken pipe) rather than our own timers or limits closing the stream.
bool peer_went_away(const StreamClosedError& e, const IOStream& stream) {
    if (!stream.close_reason()) return true;  // EOF: our own closes always carry a reason
    return e.error_code() == ECONNRESET || e.error_code() == EPIPE;
}

}  // namespace

Connection::Connection(std::shared_ptr<IOStream> stream, std::string pool_key)
    : stream_(std::move(stream)), pool_key_(std::move(pool_key)) {}

Connection::~Connection() {
    if (stream_) stream_->close();
}

Task<void> Connection::exchange(const HTTPRequest& request, const URL& url, const ExchangeOptions& options,
                                HTTPResponse& response) {
    auto stream = stream_;  // the stream outlives this task even if the Connection goes first
    const bool reused = requests_ > 0;
    ++requests_;
    reusable_ = false;

    SerializedRequest out;
    out.head = std::move(head_buffer_);  // its capacity is reused; handed back after a clean exchange
    write_request_into(out, request, url, {.via_proxy = options.via_proxy, .keep_alive = true});

    // Per-exchange state the parser callbacks share with this frame. The callbacks capture only its
    // address, which fits std::function's inline storage: no allocation per exchange.
    struct State {
        const HTTPRequest& request;
        const ExchangeOptions& options;
        HTTPResponse& response;
        bool following = false;          // the response is a redirect the client will follow
        bool continue_received = false;  // a "100 Continue" arrived
        std::optional<Decompressor> inflater;
        std::string consumed_encoding;  // the Content-Encoding we decoded, to expose under a new name
    } st{request, options, response, false, false, std::nullopt, {}};
    bool body_sent = !out.expect_continue;

    ResponseParserCallbacks callbacks;
    callbacks.on_interim = [s = &st](int code, const HTTPHeaders& headers) {
        if (code == 100) s->continue_received = true;
        if (s->request.header_callback)
            report_head(s->request.header_callback, 1, 1, code, interim_reason(code), headers);
    };
    callbacks.on_headers = [s = &st](const ResponseParser& p) {
        const HTTPRequest& request = s->request;
        s->following = s->options.will_follow && s->options.will_follow(p.code(), p.headers());
        if (s->following) return;
        if (request.header_callback)
            report_head(request.header_callback, p.http_major(), p.http_minor(), p.code(), p.reason(),
                        p.headers());
        if (request.decompress_response && request.method != "HEAD") {
            if (auto ce = p.headers().get("Content-Encoding")) {
                if (auto encoding = Decompressor::encoding_of(*ce)) {
                    s->consumed_encoding = std::string(*ce);
                    Decompressor::Sink sink;
                    if (request.streaming_callback) {
                        sink = [s](std::string_view piece) { s->request.streaming_callback(piece); };
                    } else {
                        sink = [s](std::string_view piece) { s->response.body.append(piece); };
                    }
                    s->inflater.emplace(*encoding,
                                        DecompressorOptions{.max_output_size = request.max_body_size},
                                        std::move(sink));
                    return;
                }
            }
        }
        // Size the body once for a known length (bounded: the header is untrusted).
        if (!request.streaming_callback && p.content_length())
            s->response.body.reserve(static_cast<std::size_t>(
                std::min<std::uint64_t>(*p.content_length(), request.max_body_size)));
    };
    callbacks.on_body = [s = &st](std::span<const char> piece) {
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
    ResponseParser parser({.method = request.method,
                           .max_header_size = request.max_header_size,
                           .max_body_size = request.max_body_size},
                          std::move(callbacks));

    IOLoop& loop = stream->loop();
    TimeoutHandle expect_timer{};
    bool expect_timer_set = false;
    // Whatever way this exchange ends, a pending expect timer must not fire on a later exchange.
    struct TimerGuard {
        IOLoop& loop;
        TimeoutHandle& handle;
        bool& set;
        ~TimerGuard() {
            if (set) loop.remove_timeout(handle);
        }
    } timer_guard{loop, expect_timer, expect_timer_set};

    auto& buffer = stream->read_buffer();
    TimePoint sent_at{};
    try {
        // --- request
        if (out.expect_continue) {
            stream->write_buffered(std::string_view(out.head));
            co_await stream->flush();
            expect_timer_set = true;
            expect_timer = loop.call_later(kExpectContinueTimeout, [&, stream] {
                expect_timer_set = false;
                if (body_sent || stream->closed()) return;
                body_sent = true;
                try {
                    queue_body_now(*stream, request, out);
                } catch (...) {  // a throwing body_producer: the exchange fails with its error
                    stream->close(std::current_exception());
                }
            });
        } else if (!out.streamed) {
            // Head and body leave in one writev (corked); the head is copied into the write queue.
            stream->write_buffered(std::string_view(out.head));
            if (!out.body.empty()) stream->write_buffered(out.body);
            co_await stream->flush();
        } else {
            stream->write_buffered(std::string_view(out.head));
            // One piece in flight at a time, so a large upload is not queued whole.
            while (auto piece = request.body_producer()) {
                if (piece->empty()) continue;
                if (out.chunked) {
                    stream->write_buffered(chunk_size_line(piece->size()));
                    stream->write_buffered(std::move(*piece));
                    stream->write_buffered(kChunkEnd);
                } else {
                    stream->write_buffered(std::move(*piece));
                }
                co_await stream->flush();
            }
            if (out.chunked) stream->write_buffered(kLastChunk);
            co_await stream->flush();
        }
        sent_at = loop.time();

        // --- response
        bool first_byte = false;
        for (;;) {
            if (!buffer.empty()) {
                if (!first_byte) {
                    first_byte = true;
                    response.time_info.first_byte = loop.time() - sent_at;
                }
                buffer.consume(parser.feed(buffer.view()));
                if (!body_sent && (st.continue_received || parser.headers_complete())) {
                    if (expect_timer_set) {
                        loop.remove_timeout(expect_timer);
                        expect_timer_set = false;
                    }
                    // A final response before "100 Continue" means the server does not want the body;
                    // the connection is then not reusable (the server may still be waiting for it).
                    if (st.continue_received && !parser.headers_complete()) {
                        body_sent = true;
                        queue_body_now(*stream, request, out);
                    }
                }
                if (parser.complete()) break;
            }
            try {
                co_await stream->fill();
            } catch (const StreamClosedError& e) {
                if (!stream->close_reason() && buffer.empty()) {
                    if (reused && parser.bytes_consumed() == 0)
                        throw StaleConnectionError("keep-alive connection " + pool_key_ +
                                                   " was closed by the server before any byte of "
                                                   "the response to " +
                                                   request.method + " " + url.to_string() + " (" + e.what() +
                                                   ")");
                    parser.finish_eof();  // ends a close-delimited body, else throws what was cut short
                    break;
                }
                throw;
            }
        }
        if (st.inflater) st.inflater->finish();
    } catch (const StaleConnectionError&) {
        stream->close();
        throw;
    } catch (const StreamClosedError& e) {
        stream->close();
        if (reused && parser.bytes_consumed() == 0 && peer_went_away(e, *stream))
            throw StaleConnectionError("keep-alive connection " + pool_key_ +
                                           " failed before any byte of the response to " + request.method +
                                           " " + url.to_string() + ": " + e.what(),
                                       e.real_error(), e.error_code());
        throw;
    } catch (...) {
        stream->close();
        throw;
    }

    response.code = parser.code();
    response.protocol = parser.http_minor() == 0 ? "HTTP/1.0" : "HTTP/1.1";
    response.reason = parser.take_reason();
    response.headers = parser.take_headers();
    response.trailers = parser.take_trailers();
    if (!st.consumed_encoding.empty()) {
        // The body is decoded: its encoding stays visible under Tornado's name.
        response.headers.remove("Content-Encoding");
        response.headers.add("X-Consumed-Content-Encoding", std::move(st.consumed_encoding));
    }
    reusable_ = parser.keep_alive() && body_sent && buffer.empty() && !stream->closed();
    if (!reusable_) stream->close();
    head_buffer_ = std::move(out.head);
}

}  // namespace squall::http
