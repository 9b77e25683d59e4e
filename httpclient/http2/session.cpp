#include "squall/httpclient/http2/session.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>
#include <utility>

#include "squall/coro/errors.hpp"
#include "squall/httpclient/decompressor.hpp"
#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/http2/request_headers.hpp"
#include "squall/httpclient/status.hpp"
#include "squall/ioloop/async.hpp"

namespace squall::http {

std::string http2_error_name(std::uint32_t code) {
    static constexpr const char* kNames[] = {"NO_ERROR",
                                             "PROTOCOL_ERROR",
                                             "INTERNAL_ERROR",
                                             "FLOW_CONTROL_ERROR",
                                             "SETTINGS_TIMEOUT",
                                             "STREAM_CLOSED",
                                             "FRAME_SIZE_ERROR",
                                             "REFUSED_STREAM",
                                             "CANCEL",
                                             "COMPRESSION_ERROR",
                                             "CONNECT_ERROR",
                                             "ENHANCE_YOUR_CALM",
                                             "INADEQUATE_SECURITY",
                                             "HTTP_1_1_REQUIRED"};
    if (code < std::size(kNames)) return kNames[code];
    char buf[16];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, code, 16);
    (void)ec;
    return "0x" + std::string(buf, end);
}

namespace {

// Tornado's header_callback lines, with the HTTP/2 status line curl prints ("HTTP/2 200").
void report_head(const HeaderCallback& cb, int code, const HTTPHeaders& headers) {
    std::string line = "HTTP/2 " + std::to_string(code) + "\r\n";
    cb(line);
    for (const auto& [name, value] : headers) {
        line.assign(name).append(": ").append(value).append("\r\n");
        cb(line);
    }
    cb("\r\n");
}

// An HPACK entry's size as RFC 9113 section 6.5.2 counts it for SETTINGS_MAX_HEADER_LIST_SIZE.
constexpr std::size_t kHeaderFieldOverhead = 32;
// Room reserved for a response's header fields at the first one (as the HTTP/1.1 parser does).
constexpr std::size_t kTypicalHeadBytes = 512, kTypicalFields = 16;

}  // namespace

// ------------------------------------------------------------------------------------------ stream state

// One exchange. Lives on the exchange's coroutine frame; nghttp2 reaches it through the stream's user
// data, which detach() clears before the frame can go away (so no nghttp2 callback ever sees a dangling
// pointer, whatever order the stream, the timer and the connection end in).
struct Http2Session::Stream {
    Http2Session& session;
    const HTTPRequest& request;
    const ExchangeOptions& options;
    HTTPResponse& response;
    std::int32_t id = -1;
    Promise<void> done{};
    std::exception_ptr error{};  // the first failure; the exchange rethrows it
    bool attached = false;       // nghttp2's stream user data points here
    bool settled = false;        // done is resolved
    bool head_complete = false;  // the final (non-1xx) header block was received
    bool end_stream = false;     // END_STREAM received
    bool following = false;      // a redirect the Client will follow: its body is dropped
    bool first_byte = false;
    std::optional<std::uint32_t> reset_by_peer{};  // RST_STREAM code received
    int interim_code = 0;
    HTTPHeaders interim{};
    std::size_t header_list_size = 0;
    std::uint64_t body_received = 0;
    std::optional<Decompressor> inflater{};
    std::string consumed_encoding{};
    // Upload: a fixed body is sent from request.body; a body_producer's current piece is held here.
    std::string_view body_left{};
    std::string piece{};
    bool producer_done = false;
    std::string_view next_slice{};  // what the last read callback promised to the send callback
    TimePoint sent_at{};

    void fail(std::exception_ptr e) {
        if (!error) error = std::move(e);
    }
    template <class E>
    void fail_with(E e) {
        if (!error) error = std::make_exception_ptr(std::move(e));
    }
    std::string what() const { return request.method + " " + request.url; }
};

// ------------------------------------------------------------------------------------------ callbacks

struct Http2Session::Callbacks {
    static Stream* stream_of(nghttp2_session* s, std::int32_t id) {
        return static_cast<Stream*>(nghttp2_session_get_stream_user_data(s, id));
    }

    static int on_begin_headers(nghttp2_session* s, const nghttp2_frame* frame, void*) {
        Stream* st = stream_of(s, frame->hd.stream_id);
        if (st != nullptr && !st->first_byte) {
            st->first_byte = true;
            st->response.time_info.first_byte = st->session.stream_->loop().time() - st->sent_at;
        }
        return 0;
    }

    static int on_header(nghttp2_session* s, const nghttp2_frame* frame, const std::uint8_t* name,
                         std::size_t namelen, const std::uint8_t* value, std::size_t valuelen, std::uint8_t,
                         void*) {
        Stream* st = stream_of(s, frame->hd.stream_id);
        if (st == nullptr || st->error) return 0;
        std::string_view n(reinterpret_cast<const char*>(name), namelen);
        std::string_view v(reinterpret_cast<const char*>(value), valuelen);
        st->header_list_size += namelen + valuelen + kHeaderFieldOverhead;
        if (st->header_list_size > st->request.max_header_size) {
            st->fail_with(
                ProtocolError("HTTP/2 response header list of stream " + std::to_string(st->id) +
                              " exceeds max_header_size=" + std::to_string(st->request.max_header_size) +
                              " (" + st->what() + ")"));
            nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
            return 0;
        }
        if (st->head_complete) {  // a header block after the final one: trailers
            st->response.trailers.add(std::string(n), std::string(v));
            return 0;
        }
        if (n == ":status") {
            int code = 0;
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), code);
            // nghttp2's HTTP messaging checks already require three digits; keep our own guard.
            if (ec != std::errc() || end != v.data() + v.size() || code < 100 || code > 999) {
                st->fail_with(ProtocolError("HTTP/2 response with invalid :status \"" + std::string(v) +
                                            "\" (" + st->what() + ")"));
                nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
                return 0;
            }
            st->interim_code = code;
            return 0;
        }
        if (!n.empty() && n.front() == ':') return 0;  // nghttp2 rejects unknown pseudo-headers before us
        HTTPHeaders& into = st->interim_code < 200 ? st->interim : st->response.headers;
        if (into.empty())
            into.reserve(kTypicalHeadBytes, kTypicalFields);  // one allocation, not a growth series
        into.add(n, v);
        return 0;
    }

    // The final header block is complete: redirect decision, header_callback, decompression set-up.
    static void head_done(Stream& st) {
        const HTTPRequest& request = st.request;
        st.head_complete = true;
        st.response.code = st.interim_code;
        st.response.reason = std::string(reason_phrase(st.interim_code));
        st.response.protocol = "HTTP/2";
        const HTTPHeaders& headers = st.response.headers;
        st.following = st.options.will_follow && st.options.will_follow(st.response.code, headers);
        if (st.following) return;
        if (request.header_callback) report_head(request.header_callback, st.response.code, headers);
        if (request.decompress_response && request.method != "HEAD") {
            if (auto ce = headers.get("content-encoding")) {
                if (auto encoding = Decompressor::encoding_of(*ce)) {
                    st.consumed_encoding = std::string(*ce);
                    Decompressor::Sink sink;
                    Stream* s = &st;
                    if (request.streaming_callback) {
                        sink = [s](std::string_view piece) { s->request.streaming_callback(piece); };
                    } else {
                        sink = [s](std::string_view piece) { s->response.body.append(piece); };
                    }
                    st.inflater.emplace(*encoding,
                                        DecompressorOptions{.max_output_size = max_body_size_of(request)},
                                        std::move(sink));
                    return;
                }
            }
        }
        if (!request.streaming_callback) {
            if (auto cl = headers.get("content-length")) {
                std::uint64_t n = 0;
                auto [end, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
                if (ec == std::errc() && end == cl->data() + cl->size())
                    st.response.body.reserve(
                        static_cast<std::size_t>(std::min<std::uint64_t>(n, max_body_size_of(request))));
            }
        }
    }

    static int on_frame_recv(nghttp2_session* s, const nghttp2_frame* frame, void* user) {
        auto* self = static_cast<Http2Session*>(user);
        switch (frame->hd.type) {
            case NGHTTP2_HEADERS: {
                Stream* st = stream_of(s, frame->hd.stream_id);
                if (st == nullptr) break;
                if (!st->error && !st->head_complete) {
                    if (st->interim_code >= 100 && st->interim_code < 200) {
                        if (st->request.header_callback)
                            report_head(st->request.header_callback, st->interim_code, st->interim);
                        st->interim.clear();
                        st->interim_code = 0;
                    } else if (st->interim_code >= 200) {
                        try {
                            head_done(*st);
                        } catch (...) {
                            st->fail(std::current_exception());
                            nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
                        }
                    }
                }
                if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) st->end_stream = true;
                break;
            }
            case NGHTTP2_DATA: {
                Stream* st = stream_of(s, frame->hd.stream_id);
                if (st != nullptr && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) st->end_stream = true;
                break;
            }
            case NGHTTP2_RST_STREAM: {
                Stream* st = stream_of(s, frame->hd.stream_id);
                if (st != nullptr) st->reset_by_peer = frame->rst_stream.error_code;
                break;
            }
            case NGHTTP2_GOAWAY:
                self->goaway_received_ = true;
                self->goaway_code_ = frame->goaway.error_code;
                self->goaway_last_stream_ = frame->goaway.last_stream_id;
                self->goaway_debug_.assign(reinterpret_cast<const char*>(frame->goaway.opaque_data),
                                           std::min<std::size_t>(frame->goaway.opaque_data_len, 200));
                break;
            case NGHTTP2_PING:
                if (frame->hd.flags & NGHTTP2_FLAG_ACK) self->ping_outstanding_ = false;
                break;
            default:
                break;
        }
        return 0;
    }

    static int on_data_chunk(nghttp2_session* s, std::uint8_t, std::int32_t id, const std::uint8_t* data,
                             std::size_t len, void*) {
        Stream* st = stream_of(s, id);
        if (st != nullptr && !st->error && !st->following) {
            std::string_view piece(reinterpret_cast<const char*>(data), len);
            st->body_received += len;
            try {
                if (st->body_received > max_body_size_of(st->request)) {
                    throw ProtocolError("HTTP/2 response body exceeds max_body_size=" +
                                        std::to_string(max_body_size_of(st->request)) + " (" + st->what() +
                                        ")");
                }
                if (st->inflater) {
                    st->inflater->feed(piece);
                } else if (st->request.streaming_callback) {
                    st->request.streaming_callback(piece);
                } else {
                    st->response.body.append(piece);
                }
            } catch (...) {
                st->fail(std::current_exception());
                nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
            }
        }
        // Delivered (or dropped): the window opens again only now.
        nghttp2_session_consume(s, id, len);
        return 0;
    }

    static int on_stream_close(nghttp2_session* s, std::int32_t id, std::uint32_t code, void* user) {
        auto* self = static_cast<Http2Session*>(user);
        Stream* st = stream_of(s, id);
        if (st == nullptr) return 0;
        if (!st->error) {
            // Built only for an error: a completed stream allocates nothing here.
            auto where = [st] { return " (" + st->what() + ")"; };
            if (st->reset_by_peer && !(st->end_stream && *st->reset_by_peer == NGHTTP2_NO_ERROR)) {
                const std::uint32_t c = *st->reset_by_peer;
                std::string message = "HTTP/2 server reset stream " + std::to_string(id) + " with " +
                                      http2_error_name(c) + where();
                if (c == NGHTTP2_REFUSED_STREAM) {
                    st->fail_with(RefusedStreamError(c, message + ": the request was not processed"));
                } else {
                    st->fail_with(StreamResetError(c, message));
                }
            } else if (code == NGHTTP2_REFUSED_STREAM && self->goaway_received_ &&
                       id > self->goaway_last_stream_) {
                st->fail_with(RefusedStreamError(
                    code, "HTTP/2 server sent GOAWAY (" + http2_error_name(self->goaway_code_) +
                              ", last_stream_id " + std::to_string(self->goaway_last_stream_) +
                              ") before processing stream " + std::to_string(id) + where()));
            } else if (!st->end_stream || !st->head_complete) {
                std::string why = self->last_error_.empty() ? "" : ": " + self->last_error_;
                if (code != NGHTTP2_NO_ERROR) {
                    st->fail_with(ProtocolError("HTTP/2 stream " + std::to_string(id) + " failed with " +
                                                http2_error_name(code) + why + where()));
                } else {
                    st->fail_with(ProtocolError("HTTP/2 stream " + std::to_string(id) +
                                                " closed before the response was complete" + why + where()));
                }
            } else if (st->inflater) {
                try {
                    st->inflater->finish();
                } catch (...) {
                    st->fail(std::current_exception());
                }
            }
        }
        self->detach(*st);
        self->finished_.push_back(st);
        return 0;
    }

    // A frame nghttp2 refused (bad header field, content-length mismatch, frame on a closed stream...).
    static int on_invalid_frame(nghttp2_session* s, const nghttp2_frame* frame, int lib_error, void* user) {
        auto* self = static_cast<Http2Session*>(user);
        std::string message =
            std::string("invalid ") + frame_name(frame->hd.type) + " frame: " + nghttp2_strerror(lib_error);
        if (frame->hd.stream_id != 0) {
            if (Stream* st = stream_of(s, frame->hd.stream_id)) {
                st->fail_with(ProtocolError("HTTP/2 server sent an " + message + " on stream " +
                                            std::to_string(frame->hd.stream_id) + " (" + st->what() + ")"));
                return 0;
            }
        }
        self->last_error_ = message;
        return 0;
    }

    static int on_error(nghttp2_session*, int, const char* msg, std::size_t len, void* user) {
        static_cast<Http2Session*>(user)->last_error_.assign(msg, len);
        return 0;
    }

    static const char* frame_name(std::uint8_t type) {
        static constexpr const char* kNames[] = {"DATA",          "HEADERS",      "PRIORITY", "RST_STREAM",
                                                 "SETTINGS",      "PUSH_PROMISE", "PING",     "GOAWAY",
                                                 "WINDOW_UPDATE", "CONTINUATION"};
        return type < std::size(kNames) ? kNames[type] : "unknown";
    }

    // Request body, without copying into nghttp2: the read callback only decides the length, the send
    // callback writes the frame header and the slice into the write queue (the one copy).
    static ssize_t read_body(nghttp2_session* s, std::int32_t id, std::uint8_t*, std::size_t length,
                             std::uint32_t* flags, nghttp2_data_source*, void*) {
        Stream* st = stream_of(s, id);
        if (st == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        if (st->request.body_producer && st->body_left.empty() && !st->producer_done) {
            try {
                for (;;) {
                    auto next = st->request.body_producer();
                    if (!next) {
                        st->producer_done = true;
                        break;
                    }
                    if (next->empty()) continue;
                    st->piece = std::move(*next);
                    st->body_left = st->piece;
                    break;
                }
            } catch (...) {
                st->fail(std::current_exception());
                return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
            }
        }
        const std::size_t n = std::min(length, st->body_left.size());
        st->next_slice = st->body_left.substr(0, n);
        st->body_left.remove_prefix(n);
        *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
        if (st->body_left.empty() && (!st->request.body_producer || st->producer_done))
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        return static_cast<ssize_t>(n);
    }

    static int send_data(nghttp2_session* s, nghttp2_frame* frame, const std::uint8_t* framehd,
                         std::size_t length, nghttp2_data_source*, void* user) {
        auto* self = static_cast<Http2Session*>(user);
        Stream* st = stream_of(s, frame->hd.stream_id);
        if (st == nullptr || st->next_slice.size() < length) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        self->stream_->write_buffered(std::string_view(reinterpret_cast<const char*>(framehd), 9));
        if (length > 0) self->stream_->write_buffered(st->next_slice.substr(0, length));
        st->next_slice = {};
        return 0;
    }
};

// ------------------------------------------------------------------------------------------ session

std::shared_ptr<Http2Session> Http2Session::start(std::shared_ptr<IOStream> stream, std::string pool_key,
                                                  Http2Options options) {
    auto self = std::make_shared<Http2Session>(Key{}, std::move(stream), std::move(pool_key), options);
    spawn(self->stream_->loop(), read_loop(self));
    self->arm_ping_timer();
    self->update_idle_timer();
    return self;
}

Http2Session::Http2Session(Key, std::shared_ptr<IOStream> stream, std::string pool_key, Http2Options options)
    : stream_(std::move(stream)),
      pool_key_(std::move(pool_key)),
      options_(options),
      request_headers_(std::make_unique<RequestHeaders>()) {
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &Callbacks::on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, &Callbacks::on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &Callbacks::on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &Callbacks::on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &Callbacks::on_stream_close);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs, &Callbacks::on_invalid_frame);
    nghttp2_session_callbacks_set_error_callback2(cbs, &Callbacks::on_error);
    nghttp2_session_callbacks_set_send_data_callback(cbs, &Callbacks::send_data);
    nghttp2_option* opt = nullptr;
    nghttp2_option_new(&opt);
    nghttp2_option_set_no_auto_window_update(opt, 1);
    nghttp2_option_set_peer_max_concurrent_streams(opt, options_.max_concurrent_streams);
    nghttp2_session_client_new2(&session_, cbs, this, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cbs);

    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},  // for pushed streams, which we refuse anyway
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options_.stream_window},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, options_.max_header_list_size},
    };
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
    if (options_.connection_window > NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE)
        nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                              static_cast<std::int32_t>(options_.connection_window));
    flush_output();
}

Http2Session::~Http2Session() {
    if (ping_timer_set_) stream_->loop().remove_timeout(ping_timer_);
    if (idle_timer_set_) stream_->loop().remove_timeout(idle_timer_);
    if (session_ != nullptr) nghttp2_session_del(session_);
    stream_->close();
}

std::uint32_t Http2Session::stream_limit() const noexcept {
    const std::uint32_t remote =
        nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    return std::min(options_.max_concurrent_streams, remote);
}

bool Http2Session::usable() const noexcept {
    return !closed_ && !goaway_received_ && !goaway_sent_ && !stream_->closed() &&
           nghttp2_session_want_read(session_) != 0 && nghttp2_session_check_request_allowed(session_) != 0;
}

bool Http2Session::can_open_stream() const noexcept {
    return usable() && active_ < stream_limit();
}

void Http2Session::flush_output() {
    if (closed_) return;
    for (;;) {
        const std::uint8_t* data = nullptr;
        ssize_t n = nghttp2_session_mem_send(session_, &data);
        if (n < 0) {
            close(std::make_exception_ptr(
                ProtocolError(std::string("HTTP/2 session to ") + pool_key_ +
                              " failed while sending: " + nghttp2_strerror(static_cast<int>(n)))));
            return;
        }
        if (n == 0) break;
        stream_->write_buffered(
            std::string_view(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n)));
    }
}

void Http2Session::detach(Stream& st) {
    if (!st.attached) return;
    st.attached = false;
    --active_;
    if (!closed_) nghttp2_session_set_stream_user_data(session_, st.id, nullptr);
}

void Http2Session::finish(Stream& st) {
    if (st.settled) return;
    st.settled = true;
    st.done.set_value();  // resumes the exchange inline
}

// Resolves the exchanges whose streams closed during the last nghttp2 call, outside of it.
void Http2Session::settle_finished() {
    while (!finished_.empty()) {
        Stream* st = finished_.back();
        finished_.pop_back();
        finish(*st);
    }
}

std::exception_ptr Http2Session::connection_error(const char* when) const {
    std::string message = "HTTP/2 connection " + pool_key_ + " " + when;
    if (goaway_received_) {
        message += ": server sent GOAWAY with " + http2_error_name(goaway_code_);
        if (!goaway_debug_.empty()) message += " (\"" + goaway_debug_ + "\")";
    }
    if (!last_error_.empty()) message += ": " + last_error_;
    return std::make_exception_ptr(ProtocolError(message));
}

void Http2Session::fail_all(std::exception_ptr error) {
    // Collect first: resolving an exchange resumes it inline, and it edits live_.
    auto live = std::move(live_);
    live_.clear();
    for (auto* st : live) {
        if (!st->attached) continue;
        st->fail(error);
        st->attached = false;
        --active_;
        finished_.push_back(st);
    }
    settle_finished();
}

void Http2Session::close(std::exception_ptr reason) {
    if (closed_) return;
    if (!reason)
        reason = std::make_exception_ptr(StreamClosedError("HTTP/2 session " + pool_key_ + " closed"));
    close_reason_ = reason;
    closed_ = true;
    if (ping_timer_set_) {
        stream_->loop().remove_timeout(ping_timer_);
        ping_timer_set_ = false;
    }
    if (idle_timer_set_) {
        stream_->loop().remove_timeout(idle_timer_);
        idle_timer_set_ = false;
    }
    auto keep = shared_from_this();
    fail_all(reason);
    stream_->close(reason);
    if (close_callback_) std::exchange(close_callback_, nullptr)();
}

void Http2Session::shutdown() {
    if (closed_ || goaway_sent_) return;
    goaway_sent_ = true;
    nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
    flush_output();
    check_drained();
}

void Http2Session::check_drained() {
    if (closed_) return;
    if (active_ == 0 && (goaway_received_ || goaway_sent_)) {
        // Nothing in flight and nothing new may start: let GOAWAY leave, then close.
        auto self = shared_from_this();
        stream_->loop().add_callback([self] { self->close(); });
    }
}

Task<void> Http2Session::read_loop(std::shared_ptr<Http2Session> self) {
    IOStream& stream = *self->stream_;
    Buffer& buffer = stream.read_buffer();
    for (;;) {
        if (self->closed_) co_return;
        if (!buffer.empty()) {
            auto view = buffer.view();
            ssize_t n = nghttp2_session_mem_recv(
                self->session_, reinterpret_cast<const std::uint8_t*>(view.data()), view.size());
            if (n < 0) {
                self->last_error_ = nghttp2_strerror(static_cast<int>(n));
                self->close(self->connection_error("received invalid data"));
                co_return;
            }
            buffer.consume(static_cast<std::size_t>(n));
        }
        self->flush_output();
        self->settle_finished();
        if (self->closed_) co_return;
        if (nghttp2_session_want_read(self->session_) == 0 &&
            nghttp2_session_want_write(self->session_) == 0) {
            // nghttp2 ended the session: a connection error (it queued GOAWAY, now flushed) or GOAWAY both
            // ways.
            const bool clean = self->active_ == 0 && self->last_error_.empty() &&
                               (!self->goaway_received_ || self->goaway_code_ == NGHTTP2_NO_ERROR);
            if (clean) {
                self->close();
            } else {
                self->close(self->connection_error("failed"));
            }
            co_return;
        }
        self->check_drained();
        try {
            co_await stream.fill();
        } catch (const StreamClosedError& e) {
            if (self->closed_) co_return;
            std::exception_ptr cause = std::current_exception();
            if (self->goaway_received_ || !self->last_error_.empty()) {
                cause = self->connection_error("was closed by the server");
            } else if (!stream.close_reason()) {
                cause = std::make_exception_ptr(StreamClosedError(
                    "HTTP/2 connection " + self->pool_key_ + " was closed by the server: " + e.what(),
                    e.real_error(), e.error_code()));
            }
            self->close(cause);
            co_return;
        } catch (...) {
            self->close(std::current_exception());
            co_return;
        }
    }
}

void Http2Session::arm_ping_timer() {
    if (closed_ || options_.ping_interval <= Duration::zero()) return;
    const Duration wait = ping_outstanding_ ? options_.ping_timeout : options_.ping_interval;
    ping_timer_set_ = true;
    std::weak_ptr<Http2Session> weak = weak_from_this();
    ping_timer_ = stream_->loop().call_later(wait, [weak] {
        if (auto self = weak.lock()) {
            self->ping_timer_set_ = false;
            self->on_ping_timer();
        }
    });
}

void Http2Session::on_ping_timer() {
    if (closed_) return;
    const std::uint64_t now_read = stream_->bytes_read();
    if (ping_outstanding_) {
        if (now_read == bytes_read_at_ping_) {
            close(std::make_exception_ptr(
                StreamClosedError("HTTP/2 connection " + pool_key_ + " did not answer PING within " +
                                  ::squall::format_duration(options_.ping_timeout) + ": considered dead")));
            return;
        }
        ping_outstanding_ = false;  // something arrived: alive
    } else if (now_read == bytes_read_at_ping_) {
        ping_outstanding_ = true;
        nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr);
        flush_output();
    }
    bytes_read_at_ping_ = now_read;
    arm_ping_timer();
}

// ------------------------------------------------------------------------------------------ exchange

void Http2Session::cancel_stream(Stream& st, std::exception_ptr reason) {
    if (st.settled) return;
    st.fail(std::move(reason));
    if (st.attached && !closed_) {
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st.id, NGHTTP2_CANCEL);
        detach(st);
        flush_output();
    }
    finish(st);
}

void Http2Session::abort(Ticket& ticket, std::exception_ptr reason) {
    if (ticket.stream != nullptr) cancel_stream(*ticket.stream, std::move(reason));
}

void Http2Session::update_idle_timer() {
    if (idle_timer_set_) {
        stream_->loop().remove_timeout(idle_timer_);
        idle_timer_set_ = false;
    }
    if (closed_ || active_ > 0 || options_.idle_timeout <= Duration::zero()) return;
    idle_timer_set_ = true;
    std::weak_ptr<Http2Session> weak = weak_from_this();
    idle_timer_ = stream_->loop().call_later(options_.idle_timeout, [weak] {
        if (auto self = weak.lock()) {
            self->idle_timer_set_ = false;
            if (self->active_ == 0) self->shutdown();
        }
    });
}

Task<void> Http2Session::exchange(const HTTPRequest& request, const URL& url, const ExchangeOptions& options,
                                  TimePoint deadline, HTTPResponse& response, Ticket* ticket) {
    auto self = shared_from_this();  // the session outlives this exchange even if the Client forgets it
    if (closed_) std::rethrow_exception(close_reason_);
    if (!usable())
        throw RefusedStreamError(NGHTTP2_REFUSED_STREAM, "HTTP/2 connection " + pool_key_ +
                                                             " takes no new streams (GOAWAY) (" +
                                                             request.method + " " + request.url + ")");
    Stream st{*this, request, options, response};
    RequestHeaders& nva = *request_headers_;
    build_request_headers(nva, request, url);

    nghttp2_data_provider provider{};
    nghttp2_data_provider* data = nullptr;
    if (request.body_producer) {
        data = &provider;
    } else if (request.body && !request.body->empty()) {
        st.body_left = *request.body;
        data = &provider;
    }
    provider.read_callback = &Callbacks::read_body;

    std::int32_t id =
        nghttp2_submit_request(session_, nullptr, nva.fields.data(), nva.fields.size(), data, &st);
    if (id < 0)
        throw RequestError(std::string("HTTP/2: cannot submit ") + request.method + " " + request.url + ": " +
                           nghttp2_strerror(id));
    st.id = id;
    st.attached = true;
    ++active_;
    ++streams_opened_;
    live_.push_back(&st);
    IOLoop& loop = stream_->loop();
    st.sent_at = loop.time();
    flush_output();

    TimeoutHandle timer{};
    bool timer_set = false;
    if (deadline != TimePoint::max() && !st.settled) {
        timer_set = true;
        timer = loop.call_at(deadline, [&] {
            timer_set = false;
            cancel_stream(st, std::make_exception_ptr(TimeoutError(
                                  "request_timeout of " + ::squall::format_duration(request.request_timeout) +
                                  " expired before the response was complete (" + st.what() + ")")));
        });
    }
    if (ticket != nullptr) ticket->stream = &st;
    update_idle_timer();
    co_await st.done.get_future();
    if (ticket != nullptr) ticket->stream = nullptr;
    if (timer_set) loop.remove_timeout(timer);
    std::erase(live_, &st);
    detach(st);
    update_idle_timer();
    check_drained();
    if (st.error) std::rethrow_exception(st.error);
    if (!st.consumed_encoding.empty()) {
        response.headers.remove("content-encoding");
        response.headers.add("X-Consumed-Content-Encoding", std::move(st.consumed_encoding));
    }
}

}  // namespace squall::http
