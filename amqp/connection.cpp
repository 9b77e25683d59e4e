#include "squall/amqp/connection.hpp"

#include <algorithm>

#include "squall/amqp/channel.hpp"
#include "squall/amqp/errors.hpp"
#include "squall/coro/log.hpp"
#include "squall/coro/start.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/ioloop/periodic_callback.hpp"
#include "squall/iostream/errors.hpp"
#include "squall/iostream/tcp_client.hpp"

namespace squall::amqp {
namespace {

// Writes what is queued, then closes. Detached: a failure only means the peer went first.
squall::Detached flush_then_close(std::shared_ptr<IOStream> stream) {
    try {
        co_await stream->close_after_flush();
    } catch (...) {
        stream->close();
    }
}

// After the client sent connection.close for a protocol error: reads until the broker's close-ok (or its
// connection.close, or EOF). The rest of a malformed stream cannot be framed reliably: bytes that do not
// parse are dropped and reading goes on. Never throws (with_timeout's caller closes the stream on expiry,
// which ends the read here).
Task<void> await_close_ok_frame(std::shared_ptr<IOStream> stream) {
    try {
        for (;;) {
            Buffer& buf = stream->read_buffer();
            std::string_view view(buf.data(), buf.size());
            size_t used = 0;
            try {
                for (;;) {
                    FrameParse p = parse_frame(view.substr(used), 0);
                    if (!p.complete()) break;
                    used += p.size;
                    if (p.frame->channel == 0 && p.frame->type == spec::kFrameMethod) {
                        spec::MethodId id = spec::peek_method_id(p.frame->payload);
                        if (id == spec::ConnectionCloseOk::kId || id == spec::ConnectionClose::kId) co_return;
                    }
                }
            } catch (const FrameError&) {
                used = view.size();  // unframeable: drop what is buffered and keep waiting
            }
            buf.consume(used);
            co_await stream->fill();
        }
    } catch (const std::exception&) {
        // EOF or the stream closed: the close is complete either way.
    }
}

}  // namespace

ConnectionOptions ConnectionOptions::from_url(std::string_view url_text) {
    Url url = parse_url(url_text);
    ConnectionOptions o;
    o.host = url.host;
    o.port = url.port;
    o.user = url.user;
    o.password = url.password;
    o.vhost = url.vhost;
    if (url.heartbeat) o.heartbeat = std::chrono::seconds(*url.heartbeat);
    if (url.frame_max) o.frame_max = *url.frame_max;
    if (url.channel_max) o.channel_max = *url.channel_max;
    if (url.connection_timeout) o.connection_timeout = *url.connection_timeout;
    if (url.tls) {
        TlsClientOptions tls;
        tls.verify_peer = url.verify_peer.value_or(true);
        tls.check_hostname = tls.verify_peer;
        tls.ca_file = url.ca_file;
        tls.cert_file = url.cert_file;
        tls.key_file = url.key_file;
        o.tls = TlsContext::client(tls);
        o.server_hostname = url.server_name;
    }
    return o;
}

Connection::Connection(Key, IOLoop& loop, ConnectionOptions options, std::shared_ptr<IOStream> stream)
    : loop_(loop), options_(std::move(options)), stream_(std::move(stream)) {
    unblocked_.set();
}

Connection::~Connection() {
    if (heartbeat_timer_) heartbeat_timer_->stop();
    if (stream_ && !stream_->closed()) stream_->close();
}

Task<std::shared_ptr<Connection>> Connection::open(IOLoop& loop, std::string_view url) {
    return open(loop, ConnectionOptions::from_url(url));
}

Task<std::shared_ptr<Connection>> Connection::open(IOLoop& loop, ConnectionOptions options) {
    const TimePoint started = loop.time();
    const auto timeout = options.connection_timeout;
    ConnectOptions connect;
    connect.timeout = timeout;
    connect.tls = options.tls;
    connect.server_hostname = options.server_hostname;
    TCPClient client(loop);
    std::shared_ptr<IOStream> stream = co_await client.connect(options.host, options.port, connect);
    stream->set_nodelay(true);

    auto conn = std::make_shared<Connection>(Key{}, loop, std::move(options), stream);
    // The rest of connection_timeout bounds the handshake: on expiry the stream closes, which fails the
    // handshake's read; the error is then reported as the timeout.
    auto timed_out = std::make_shared<bool>(false);
    Duration left = std::max<Duration>(timeout - (loop.time() - started), Duration::zero());
    TimeoutHandle timer = loop.call_later(left, [stream, timed_out] {
        *timed_out = true;
        stream->close();
    });
    std::exception_ptr failure;
    try {
        co_await conn->handshake();
    } catch (...) {
        failure = std::current_exception();
    }
    loop.remove_timeout(timer);
    if (failure) {
        conn->state_ = State::closed;
        conn->close_reason_ = failure;
        if (!stream->closed()) {
            // Deliver what was queued (a close-ok), briefly; awaited so nothing outlives the failure.
            auto flushed = with_timeout(std::chrono::seconds(1), stream->flush());
            try {
                co_await std::move(flushed);
            } catch (const std::exception&) {
                // Best effort: the handshake already failed with `failure`, which the caller gets.
            }
            stream->close();
        }
        if (*timed_out) {
            throw TimeoutError(timeout_message("connection_timeout", timeout,
                                               "during the AMQP handshake with " + conn->options_.host + ":" +
                                                   std::to_string(conn->options_.port)) +
                               " (waiting for " + conn->handshake_step_ + ")");
        }
        std::rethrow_exception(failure);
    }
    conn->state_ = State::open;
    conn->last_read_ = loop.time();
    conn->start_heartbeats();
    conn->reader_running_ = true;
    start(conn->read_loop());
    co_return conn;
}

// --- frames out

void Connection::throw_not_writable() const {
    if (close_reason_) std::rethrow_exception(close_reason_);
    throw ConnectionLostError("the connection is closed");
}

void Connection::flush_out() {
    if (out_.empty()) return;
    try {
        // Small frames are copied into the stream's shared blocks (out_ keeps its capacity); large ones
        // (a big body) are moved, so the body is not copied a second time.
        if (out_.size() > WriteQueue::kCoalesceLimit) {
            stream_->write_buffered(std::move(out_));
            out_ = std::string();
        } else {
            stream_->write_buffered(std::string_view(out_));
            out_.clear();
        }
    } catch (...) {
        out_.clear();
        throw;
    }
}

// --- backpressure

Task<void> Connection::flush(std::optional<std::chrono::milliseconds> timeout) {
    auto self = shared_from_this();
    const auto bound = timeout ? timeout : options_.blocked_timeout;
    check_writable();
    if (stream_->write_buffer_size() == 0) co_return;
    Future<void> written = stream_->flush();
    std::exception_ptr error;
    try {
        if (bound)
            co_await with_timeout(*bound, written);
        else
            co_await Future<void>(written);
    } catch (const TimeoutError&) {
        written.cancel();  // the stream resolves it later (or fails it on close): nobody waits any more
        throw TimeoutError("amqp: " + std::to_string(stream_->write_buffer_size()) +
                           " bytes still unsent to the broker after " + format_duration(*bound) +
                           " (it does not read: flow control, or a frozen or overloaded node)");
    } catch (const StreamClosedError&) {
        error = std::current_exception();
    }
    if (error) {
        check_writable();  // the connection's close reason when it closed
        std::rethrow_exception(error);
    }
}

Task<void> Connection::wait_writable(std::optional<std::chrono::milliseconds> timeout) {
    auto self = shared_from_this();
    const auto bound = timeout ? timeout : options_.blocked_timeout;
    const TimePoint started = loop_.time();
    while (over_high_water()) {
        std::optional<std::chrono::milliseconds> left;
        if (bound) {
            left = std::chrono::ceil<std::chrono::milliseconds>(
                std::max<Duration>(*bound - (loop_.time() - started), Duration::zero()));
        }
        auto t = flush(left ? left : std::optional<std::chrono::milliseconds>());
        co_await std::move(t);
    }
    check_writable();
}

// --- frames in

Task<void> Connection::read_loop() {
    auto self = shared_from_this();
    std::exception_ptr failure;
    bool await_close_ok = false;
    try {
        for (;;) {
            Buffer& buf = stream_->read_buffer();
            dispatching_ = true;
            const size_t used = dispatch_frames(std::string_view(buf.data(), buf.size()));
            end_dispatch();
            if (state_ == State::closed) break;
            flush_out();  // the acks the batch's handlers deferred
            buf.consume(used);
            co_await stream_->fill();
            last_read_ = loop_.time();
        }
    } catch (const FrameError& e) {
        end_dispatch();
        // Malformed input: tell the broker why and give up on the connection (every pending operation
        // fails at once, below); the socket stays open until the broker's close-ok, bounded.
        if (state_ != State::closed && !stream_->closed()) {
            out_.clear();
            append_method_frame(out_, 0,
                                spec::ConnectionClose{.reply_code = pending_error_code_,
                                                      .reply_text = std::string(e.what()).substr(0, 255),
                                                      .class_id = 0,
                                                      .method_id = 0});
            try {
                flush_out();
                await_close_ok = true;
            } catch (const StreamClosedError&) {
                // The socket is already gone: there is nobody to tell, and the FrameError stays the reason.
            }
        }
        failure = std::current_exception();
    } catch (const StreamClosedError& e) {
        end_dispatch();
        if (state_ == State::closing) {
            // The broker dropped the socket instead of sending close-ok: the close is complete anyway.
            failure = close_reason_;
        } else {
            failure = std::make_exception_ptr(
                ConnectionLostError(std::string("the socket closed without connection.close: ") + e.what(),
                                    std::current_exception()));
        }
    } catch (...) {
        end_dispatch();
        failure = std::current_exception();
    }
    if (state_ != State::closed) finish(failure, /*flush=*/true);
    if (await_close_ok && !stream_->closed()) {
        // After a protocol error: wait (bounded by connection_timeout) for the broker's close-ok, so it
        // logs an orderly close rather than a reset. Anything else it sends meanwhile is dropped.
        auto close_ok = with_timeout(options_.connection_timeout, await_close_ok_frame(stream_));
        try {
            co_await std::move(close_ok);
        } catch (const TimeoutError&) {
            // No close-ok in time: close anyway (closing the stream ends the waiting read).
        }
    }
    // The reader outlives finish(): it flushes what finish() left queued (a close-ok), and wait_closed()
    // resolves only once the reader is gone, so nothing of the connection runs after it.
    if (flush_on_exit_ && !stream_->closed()) {
        try {
            co_await stream_->close_after_flush();
        } catch (const StreamClosedError&) {
            // The broker closed first: nothing is left to deliver, and the close reason is already set.
        }
    }
    if (!stream_->closed()) stream_->close();
    reader_running_ = false;
    resolve_closed_waiters();
}

void Connection::end_dispatch() noexcept {
    dispatching_ = false;
    released_.clear();
}

void Connection::resolve_closed_waiters() {
    auto waiters = std::move(closed_waiters_);
    closed_waiters_.clear();
    for (auto& w : waiters) w.set_value();
}

void Connection::protocol_error(uint16_t reply_code, const std::string& what) {
    pending_error_code_ = reply_code;
    throw FrameError(what);
}

size_t Connection::dispatch_frames(std::string_view buffered) {
    size_t used = 0;
    while (state_ != State::closed) {
        FrameParse p = parse_frame(buffered.substr(used), frame_max_);
        if (!p.complete()) break;
        used += p.size;
        handle_frame(*p.frame);
    }
    return used;
}

void Connection::handle_frame(const FrameView& frame) {
    pending_error_code_ = spec::kFrameError;
    // The common case first: a well-formed frame for an open channel in the state it expects.
    Channel* ch = open_channel(frame.channel);
    if (ch) {
        const std::string_view payload = frame.payload;
        if (ch->expecting_content()) {
            if (frame.type == spec::kFrameBody) {
                ch->handle_body(payload);
                return;
            }
            if (frame.type == spec::kFrameHeader) {
                ch->handle_header(payload);
                return;
            }
        } else if (frame.type == spec::kFrameMethod && payload.size() >= 4) {
            const auto* p = reinterpret_cast<const unsigned char*>(payload.data());
            ch->handle_method(spec::MethodId{static_cast<uint16_t>(p[0] << 8 | p[1]),
                                             static_cast<uint16_t>(p[2] << 8 | p[3])},
                              payload);
            return;
        }
    }
    handle_other_frame(frame);
}

void Connection::handle_other_frame(const FrameView& frame) {
    switch (frame.type) {
        case spec::kFrameHeartbeat:
            if (frame.channel != 0 || !frame.payload.empty())
                protocol_error(spec::kFrameError, "heartbeat frame on channel " +
                                                      std::to_string(frame.channel) + " or with a payload");
            return;
        case spec::kFrameMethod: {
            if (frame.channel == 0) {
                handle_connection_method(frame);
                return;
            }
            Channel* ch = open_channel(frame.channel);
            if (!ch) {
                protocol_error(spec::kChannelError,
                               "method " + spec::to_string(spec::peek_method_id(frame.payload)) +
                                   " on channel " + std::to_string(frame.channel) + ", which is not open");
            }
            if (ch->expecting_content()) {
                protocol_error(spec::kUnexpectedFrame, "method frame on channel " +
                                                           std::to_string(frame.channel) +
                                                           " while a content header or body was expected");
            }
            ch->handle_method(spec::peek_method_id(frame.payload), frame.payload);
            return;
        }
        case spec::kFrameHeader:
        case spec::kFrameBody: {
            Channel* ch = open_channel(frame.channel);
            if (!ch || !ch->expecting_content()) {
                protocol_error(
                    spec::kUnexpectedFrame,
                    std::string(frame.type == spec::kFrameHeader ? "content header" : "content body") +
                        " frame on channel " + std::to_string(frame.channel) +
                        " without a content method before it");
            }
            if (frame.type == spec::kFrameHeader)
                ch->handle_header(frame.payload);
            else
                ch->handle_body(frame.payload);
            return;
        }
        default:
            protocol_error(spec::kFrameError, "unknown frame type " + std::to_string(frame.type));
    }
}

void Connection::handle_connection_method(const FrameView& frame) {
    // connection.blocked (10, 60) and unblocked (10, 61) are RabbitMQ extensions the spec XML lacks.
    spec::MethodId id = spec::peek_method_id(frame.payload);
    if (id == spec::MethodId{10, 60}) {
        detail::Reader in(frame.payload.substr(4), "connection.blocked");
        std::string reason = in.shortstr("reason");
        in.expect_end();
        on_blocked_frame(std::move(reason));
        return;
    }
    if (id == spec::MethodId{10, 61}) {
        if (frame.payload.size() != 4)
            protocol_error(spec::kFrameError, "connection.unblocked with arguments");
        on_unblocked_frame();
        return;
    }
    spec::Method m = spec::decode_method(frame.payload);
    if (auto* close = std::get_if<spec::ConnectionClose>(&m)) {
        on_server_close(*close);
    } else if (std::get_if<spec::ConnectionCloseOk>(&m)) {
        if (state_ != State::closing)
            protocol_error(spec::kCommandInvalid, "unexpected connection.close-ok: no close was sent");
        finish(close_reason_, /*flush=*/false);
    } else {
        protocol_error(spec::kCommandInvalid,
                       "unexpected " + spec::to_string(spec::method_id(m)) + " on channel 0");
    }
}

void Connection::on_blocked_frame(std::string reason) {
    blocked_ = true;
    blocked_reason_ = std::move(reason);
    unblocked_.clear();
    for (auto& cb : std::vector(on_blocked_)) {
        try {
            cb(blocked_reason_);
        } catch (const std::exception& e) {
            log(LogLevel::error, std::string("amqp: on_blocked callback threw: ") + e.what());
        }
    }
}

void Connection::on_unblocked_frame() {
    blocked_ = false;
    blocked_reason_.clear();
    for (auto& cb : std::vector(on_unblocked_)) {
        try {
            cb();
        } catch (const std::exception& e) {
            log(LogLevel::error, std::string("amqp: on_unblocked callback threw: ") + e.what());
        }
    }
    unblocked_.set();
}

void Connection::on_server_close(const spec::ConnectionClose& close) {
    // Reply close-ok, flush it, then fail everything with the broker's reason.
    try {
        if (!stream_->closed()) {
            append_method_frame(out_, 0, spec::ConnectionCloseOk{});
            flush_out();
        }
    } catch (const StreamClosedError&) {
        // The socket is gone: nobody to answer, and the broker's close stays the reason (below).
    }
    finish(make_close_error(CloseScope::connection, close.reply_code, close.reply_text, close.class_id,
                            close.method_id),
           /*flush=*/true);
}

// --- channels

Task<std::shared_ptr<Channel>> Connection::channel(uint16_t id) {
    check_writable();
    if (state_ != State::open) throw UsageError("amqp: channel() on a connection that is closing");
    if (channels_.size() < size_t{channel_max_} + 1) channels_.resize(size_t{channel_max_} + 1);
    if (id == 0) {
        // The lowest free id; next_channel_hint_ is a lower bound of the free ids.
        for (size_t candidate = next_channel_hint_; candidate <= channel_max_; ++candidate) {
            if (!channels_[candidate]) {
                id = static_cast<uint16_t>(candidate);
                break;
            }
        }
        if (id == 0) {
            throw UsageError("amqp: all " + std::to_string(channel_max_) +
                             " channels (the negotiated channel_max) are in use");
        }
        next_channel_hint_ = static_cast<uint16_t>(id + 1 > channel_max_ ? channel_max_ : id + 1);
    } else if (id > channel_max_) {
        throw UsageError("amqp: channel id " + std::to_string(id) + " exceeds channel_max " +
                         std::to_string(channel_max_));
    } else if (channels_[id]) {
        throw UsageError("amqp: channel " + std::to_string(id) + " is already open");
    }
    auto ch = std::make_shared<Channel>(Channel::Key{}, shared_from_this(), id);
    channels_[id] = ch;
    ++channel_count_;
    co_await ch->open();
    co_return ch;
}

void Connection::release_channel(uint16_t id) {
    if (id < channels_.size() && channels_[id]) {
        if (dispatching_)
            released_.push_back(std::move(channels_[id]));  // may be running its frame handler
        else
            channels_[id].reset();
        --channel_count_;
        if (id < next_channel_hint_) next_channel_hint_ = id;
    }
}

// --- close

Future<void> Connection::wait_closed() {
    if (state_ == State::closed && !reader_running_) return make_ready_future();
    closed_waiters_.emplace_back();
    return closed_waiters_.back().get_future();
}

Task<void> Connection::close(uint16_t reply_code, std::string reply_text) {
    auto self = shared_from_this();
    if (state_ == State::closed) co_return;
    if (state_ != State::closing) {
        close_reason_ = std::make_exception_ptr(ConnectionClosedError(reply_code, reply_text));
        state_ = State::closing;
        try {
            append_method_frame(out_, 0,
                                spec::ConnectionClose{.reply_code = reply_code,
                                                      .reply_text = std::move(reply_text),
                                                      .class_id = 0,
                                                      .method_id = 0});
            flush_out();
        } catch (...) {
            finish(close_reason_, false);
            co_return;
        }
    }
    // Wait for close-ok (the reader finishes the connection), bounded by connection_timeout.
    auto closed = wait_closed();
    bool expired = false;
    try {
        co_await with_timeout(options_.connection_timeout, closed);
    } catch (const TimeoutError&) {
        expired = true;
    }
    if (expired) {
        if (state_ != State::closed) finish(close_reason_, false);
        co_await wait_closed();  // the reader ends once the socket's cancelled read completes
    }
}

void Connection::finish(std::exception_ptr reason, bool flush) {
    if (state_ == State::closed) return;
    auto self = shared_from_this();
    state_ = State::closed;
    if (!close_reason_ || reason) close_reason_ = reason;
    if (!close_reason_) close_reason_ = std::make_exception_ptr(ConnectionLostError("closed"));
    if (heartbeat_timer_) heartbeat_timer_->stop();
    if (!stream_->closed()) {
        if (flush && reader_running_)
            flush_on_exit_ = true;  // the reader flushes and closes as it exits
        else if (flush)
            flush_then_close(stream_);
        else
            stream_->close();
    }
    // Channels release their ids as they finish: iterate over a copy.
    auto channels = std::move(channels_);
    channels_.clear();
    for (auto& ch : channels) {
        if (ch) ch->finish(close_reason_);
    }
    if (dispatching_) {
        for (auto& ch : channels) {
            if (ch) released_.push_back(std::move(ch));
        }
    }
    channel_count_ = 0;
    unblocked_.set();  // publishers waiting for unblocked wake up and see the close
    if (!reader_running_) resolve_closed_waiters();
}

// --- heartbeats

void Connection::start_heartbeats() {
    if (heartbeat_.count() == 0) return;
    // Tick every half interval: send when nothing was written since the last tick; dead after two
    // intervals without a byte from the broker.
    auto interval = std::chrono::duration_cast<Duration>(heartbeat_) / 2;
    std::weak_ptr<Connection> weak = weak_from_this();
    heartbeat_timer_ = std::make_unique<PeriodicCallback>(
        loop_,
        [weak] {
            if (auto self = weak.lock()) self->heartbeat_tick();
        },
        interval);
    written_at_last_tick_ = stream_->bytes_written();
    heartbeat_timer_->start();
}

void Connection::heartbeat_tick() {
    if (state_ == State::closed) return;
    auto now = loop_.time();
    if (now - last_read_ >= 2 * std::chrono::duration_cast<Duration>(heartbeat_)) {
        finish(std::make_exception_ptr(
                   HeartbeatTimeoutError(std::chrono::duration_cast<std::chrono::milliseconds>(heartbeat_))),
               false);
        return;
    }
    if (stream_->bytes_written() == written_at_last_tick_ && !stream_->writing()) {
        try {
            append_heartbeat_frame(out_);
            flush_out();
        } catch (const StreamClosedError&) {
            // The socket died: the reader's read fails too and finishes the connection with the cause.
        }
    }
    written_at_last_tick_ = stream_->bytes_written();
}

}  // namespace squall::amqp
