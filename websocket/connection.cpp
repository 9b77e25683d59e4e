#include "squall/websocket/connection.hpp"

#include <cstring>

#include "squall/coro/start.hpp"
#include "squall/httpclient/errors.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/iostream/errors.hpp"
#include "squall/websocket/detail/core.hpp"
#include "squall/websocket/frame.hpp"

namespace squall::websocket {

int WebSocketHandshakeError::code() const noexcept {
    return response_ ? response_->code : 0;
}

namespace detail {

namespace {

std::string describe(Duration d) {
    return squall::format_duration(d);
}

bool valid_sent_close_code(int code) {
    if (code >= 3000 && code <= 4999) return true;
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

}  // namespace

Core::Core(IOLoop& l, std::shared_ptr<IOStream> s, WebSocketOptions o)
    : loop(l), stream(std::move(s)), options(std::move(o)) {}

Core::~Core() {
    if (ping_timer_set) loop.remove_timeout(ping_timer);
    if (close_timer_set) loop.remove_timeout(close_timer);
}

void Core::start() {
    if (deflate) {
        deflater = std::make_unique<MessageDeflater>(*deflate);
        inflater = std::make_unique<MessageInflater>(*deflate);
    }
    last_received = loop.time();
    reader_done = squall::start(read_loop(shared_from_this()));
    if (options.ping_interval > Duration::zero() && !ended) schedule_keepalive(options.ping_interval);
}

void Core::send_frame_now(Opcode opcode, std::string_view payload) {
    if (stream->closed()) return;
    std::string out;
    out.reserve(kMaxFrameHeaderSize + payload.size());
    append_frame(out, FrameHeader{.fin = true, .opcode = opcode}, payload, random_mask_key());
    stream->write_buffered(std::move(out));
}

void Core::send_close(int close_code, std::string_view why) {
    char payload[125];
    payload[0] = static_cast<char>(close_code >> 8);
    payload[1] = static_cast<char>(close_code & 0xff);
    const std::size_t n = std::min<std::size_t>(why.size(), 123);
    if (n != 0) std::memcpy(payload + 2, why.data(), n);
    send_frame_now(Opcode::close, std::string_view(payload, 2 + n));
}

void Core::arm_close_timer(const char* waiting_for) {
    if (close_timer_set || ended) return;
    close_timer_set = true;
    std::weak_ptr<Core> weak = shared_from_this();
    std::string what = "websocket close_timeout of " + describe(options.close_timeout) +
                       " expired waiting for " + waiting_for;
    close_timer = loop.call_later(options.close_timeout, [weak, what = std::move(what)] {
        auto c = weak.lock();
        if (!c) return;
        c->close_timer_set = false;
        if (c->stream->closed()) return;
        c->kill_reason = std::make_exception_ptr(TimeoutError(what));
        c->stream->close(c->kill_reason);
    });
}

void Core::schedule_keepalive(Duration delay) {
    std::weak_ptr<Core> weak = shared_from_this();
    ping_timer_set = true;
    ping_timer = loop.call_later(delay, [weak] {
        if (auto c = weak.lock()) {
            c->ping_timer_set = false;
            c->keepalive_tick();
        }
    });
}

void Core::keepalive_tick() {
    if (ended || close_sent || stream->closed()) return;
    const Duration timeout =
        options.ping_timeout > Duration::zero() ? options.ping_timeout : options.ping_interval;
    const TimePoint now = loop.time();
    if (!ready.empty()) {
        // The application has not taken the last message, so the reader is paused: frames from the peer
        // wait in the socket. That is no sign of a dead peer; check again later.
        ping_outstanding = false;
        schedule_keepalive(options.ping_interval);
        return;
    }
    if (ping_outstanding) {
        if (now - ping_sent_at >= timeout) {
            kill_reason =
                std::make_exception_ptr(PingTimeoutError("websocket ping_timeout of " + describe(timeout) +
                                                         " expired: no frame from the peer since the ping"));
            stream->close(kill_reason);
            return;
        }
        schedule_keepalive(ping_sent_at + timeout - now);
        return;
    }
    send_frame_now(Opcode::ping, {});
    ping_outstanding = true;
    ping_sent_at = now;
    schedule_keepalive(std::min(timeout, options.ping_interval));
}

void Core::deliver(WebSocketMessage&& msg) {
    if (read_waiter) {
        auto waiter = std::move(*read_waiter);
        read_waiter.reset();
        waiter.set_value(std::optional<WebSocketMessage>(std::move(msg)));
        return;
    }
    if (close_sent && ready.size() >= kMaxPendingWhileClosing) return;  // dropped while closing
    ready.push_back(std::move(msg));
}

void Core::finish() {
    ended = true;
    if (ping_timer_set) {
        loop.remove_timeout(ping_timer);
        ping_timer_set = false;
    }
    if (close_timer_set) {
        loop.remove_timeout(close_timer);
        close_timer_set = false;
    }
    if (!code) code = close_codes::kAbnormal;
    if (!stream->closed()) stream->close();
    if (read_waiter) {
        auto waiter = std::move(*read_waiter);
        read_waiter.reset();
        if (end_error)
            waiter.set_exception(end_error);
        else
            waiter.set_value(std::nullopt);
    }
}

}  // namespace detail

// ---------------------------------------------------------------- WebSocketConnection

WebSocketConnection::WebSocketConnection(std::shared_ptr<detail::Core> core) : core_(std::move(core)) {}
WebSocketConnection::WebSocketConnection(WebSocketConnection&&) noexcept = default;
WebSocketConnection& WebSocketConnection::operator=(WebSocketConnection&& other) noexcept {
    if (this != &other) {
        abort();
        core_ = std::move(other.core_);
    }
    return *this;
}

WebSocketConnection::~WebSocketConnection() {
    abort();
}

void WebSocketConnection::abort() {
    if (!core_ || core_->ended || core_->stream->closed()) return;
    core_->kill_reason =
        std::make_exception_ptr(WebSocketClosedError(close_codes::kAbnormal, "websocket connection aborted"));
    core_->stream->close(core_->kill_reason);
    if (core_->room) {
        auto room = std::move(*core_->room);
        core_->room.reset();
        room.set_value();
    }
}

Future<std::optional<WebSocketMessage>> WebSocketConnection::read_message() {
    auto& c = *core_;
    if (!c.ready.empty()) {
        std::optional<WebSocketMessage> msg(std::move(c.ready.front()));
        c.ready.pop_front();
        if (c.room) {
            // Resume the reader from the loop, not from inside this call.
            c.loop.add_callback([p = std::move(*c.room)]() mutable { p.set_value(); });
            c.room.reset();
        }
        return make_ready_future(std::move(msg));
    }
    if (c.ended) {
        if (c.end_error) {
            Promise<std::optional<WebSocketMessage>> p;
            auto f = p.get_future();
            p.set_exception(c.end_error);
            return f;
        }
        return make_ready_future(std::optional<WebSocketMessage>());
    }
    if (c.read_waiter) throw UsageError("websocket: read_message() while another read_message() is pending");
    c.read_waiter.emplace();
    return c.read_waiter->get_future();
}

static Future<void> closed_future(const detail::Core& c, const char* doing) {
    Promise<void> p;
    auto f = p.get_future();
    p.set_exception(std::make_exception_ptr(WebSocketClosedError(
        c.code.value_or(close_codes::kAbnormal), std::string("websocket: ") + doing +
                                                     " on a closed connection" +
                                                     (c.reason.empty() ? "" : " (" + c.reason + ")"))));
    return f;
}

// Fails a write that would take the unsent bytes over max_write_buffer_size while some are unsent;
// decided before anything is compressed, so the deflate context never sees a message that is not sent.
static std::optional<Future<void>> over_write_bound(const detail::Core& c, std::size_t size,
                                                    const char* doing) {
    const std::size_t limit = c.options.max_write_buffer_size;
    const std::size_t unsent = c.stream->write_buffer_size();
    if (limit == 0 || unsent == 0 || unsent + size <= limit) return std::nullopt;
    Promise<void> p;
    auto f = p.get_future();
    p.set_exception(std::make_exception_ptr(StreamBufferFullError(
        std::string("websocket: ") + doing + " of " + std::to_string(size) + " bytes refused: " +
        std::to_string(unsent) + " bytes are still unsent and max_write_buffer_size is " +
        std::to_string(limit) + " (await each write, or raise the bound)")));
    return f;
}

Future<void> WebSocketConnection::write_message(std::string_view data, bool binary) {
    auto& c = *core_;
    if (c.ended || c.close_sent || c.stream->closed()) return closed_future(c, "write_message");
    if (auto refused = over_write_bound(c, data.size(), "write_message")) return std::move(*refused);
    const Opcode first = binary ? Opcode::binary : Opcode::text;
    std::string compressed;
    std::string_view payload = data;
    bool rsv1 = false;
    if (c.deflater && data.size() >= c.deflate->min_compress_size) {
        c.deflater->compress(data, compressed);
        payload = compressed;
        rsv1 = true;
    }
    std::string out;
    const std::size_t frag = c.options.fragment_size;
    if (frag == 0 || payload.size() <= frag) {
        out.reserve(kMaxFrameHeaderSize + payload.size());
        append_frame(out, FrameHeader{.fin = true, .rsv1 = rsv1, .opcode = first}, payload,
                     random_mask_key());
    } else {
        out.reserve(payload.size() + (payload.size() / frag + 1) * kMaxFrameHeaderSize);
        for (std::size_t pos = 0; pos < payload.size(); pos += frag) {
            const bool last = payload.size() - pos <= frag;
            FrameHeader h{
                .fin = last, .rsv1 = pos == 0 && rsv1, .opcode = pos == 0 ? first : Opcode::continuation};
            append_frame(out, h, payload.substr(pos, frag), random_mask_key());
        }
    }
    return c.stream->write(std::move(out));
}

Future<void> WebSocketConnection::ping(std::string_view data) {
    auto& c = *core_;
    if (data.size() > kMaxControlPayload) throw UsageError("websocket: ping payload over 125 bytes");
    if (c.ended || c.close_sent || c.stream->closed()) return closed_future(c, "ping");
    if (auto refused = over_write_bound(c, data.size(), "ping")) return std::move(*refused);
    std::string out;
    append_frame(out, FrameHeader{.fin = true, .opcode = Opcode::ping}, data, random_mask_key());
    return c.stream->write(std::move(out));
}

Task<void> WebSocketConnection::close(int code, std::string reason) {
    auto core = core_;
    auto& c = *core;
    if (!c.ended && !c.close_sent) {
        if (!detail::valid_sent_close_code(code))
            throw UsageError("websocket: close code " + std::to_string(code) + " may not be sent");
        if (reason.size() > 123) throw UsageError("websocket: close reason over 123 bytes");
        if (!is_valid_utf8(reason)) throw UsageError("websocket: close reason is not valid UTF-8");
        c.send_close(code, reason);
        c.close_sent = true;
        c.code = code;
        c.reason = reason;
        c.arm_close_timer("the server's close frame");
        if (c.room) {
            auto room = std::move(*c.room);
            c.room.reset();
            room.set_value();
        }
    }
    if (!c.ended) {
        Future<void> done = c.reader_done;
        co_await done;
    }
}

bool WebSocketConnection::closed() const noexcept {
    return core_->ended;
}
std::optional<int> WebSocketConnection::close_code() const noexcept {
    return core_->ended || core_->close_received ? core_->code : std::nullopt;
}
const std::string& WebSocketConnection::close_reason() const noexcept {
    return core_->reason;
}
Future<void> WebSocketConnection::wait_closed() {
    return core_->reader_done;
}
const std::string& WebSocketConnection::selected_subprotocol() const noexcept {
    return core_->subprotocol;
}
const http::HTTPResponse& WebSocketConnection::handshake_response() const noexcept {
    return core_->response;
}
const std::optional<DeflateParams>& WebSocketConnection::compression() const noexcept {
    return core_->deflate;
}
IOStream& WebSocketConnection::stream() const noexcept {
    return *core_->stream;
}

}  // namespace squall::websocket
