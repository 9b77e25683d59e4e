// The reader coroutine: frames parsed from the stream's buffer in place, every RFC 6455 check, control
// frames answered, messages reassembled (inflated, UTF-8-checked) and handed to read_message().
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "squall/coro/log.hpp"
#include "squall/websocket/detail/core.hpp"
#include "squall/websocket/frame.hpp"

namespace squall::websocket::detail {

namespace {

[[noreturn]] void protocol_error(std::string what) {
    throw WebSocketProtocolError(close_codes::kProtocolError, "websocket protocol error: " + what);
}

bool valid_received_close_code(int code) {
    if (code >= 3000 && code <= 4999) return true;
    switch (code) {
        case 1000:
        case 1001:
        case 1002:
        case 1003:
        case 1007:
        case 1008:
        case 1009:
        case 1010:
        case 1011:
        case 1012:
        case 1013:
        case 1014:
            return true;
        default:
            return false;
    }
}

const char* opcode_name(Opcode op) {
    switch (op) {
        case Opcode::continuation:
            return "continuation";
        case Opcode::text:
            return "text";
        case Opcode::binary:
            return "binary";
        case Opcode::close:
            return "close";
        case Opcode::ping:
            return "ping";
        case Opcode::pong:
            return "pong";
    }
    return "unknown";
}

// One message being received.
struct Assembly {
    bool active = false;
    bool binary = false;
    bool compressed = false;
    std::string data;
    Utf8Validator utf8;
    std::size_t streamed = 0;  // bytes handed to on_message_fragment
};

void check_utf8(Assembly& m, std::string_view piece) {
    if (!m.binary && !m.utf8.feed(piece))
        throw WebSocketProtocolError(close_codes::kInvalidPayload,
                                     "websocket: invalid UTF-8 in a text message");
}

// Runs one inflate step (a piece, or the end of the message) that appends to m.data, false when it would
// pass the limit, and checks the text it added. zlib's errors are protocol errors.
template <class Step>
void inflate_into(Core& c, Assembly& m, Step step) {
    const std::size_t before = m.data.size();
    bool ok;
    try {
        ok = step();
    } catch (const std::runtime_error& e) {
        protocol_error(e.what());
    }
    if (!ok)
        throw MessageTooBigError("websocket: message inflates past max_message_size of " +
                                 std::to_string(c.options.max_message_size) + " bytes");
    check_utf8(m, std::string_view(m.data).substr(before));
}

// Adds payload bytes to the message: inflated when compressed, checked, streamed or kept.
void add_payload(Core& c, Assembly& m, std::string_view bytes) {
    const bool streaming = static_cast<bool>(c.options.on_message_fragment);
    const std::size_t limit = streaming ? SIZE_MAX : c.options.max_message_size;
    if (m.compressed) {
        inflate_into(c, m, [&] { return c.inflater->decompress(bytes, m.data, limit); });
    } else {
        if (bytes.size() > limit - m.data.size())
            throw MessageTooBigError("websocket: message exceeds max_message_size of " +
                                     std::to_string(c.options.max_message_size) + " bytes");
        check_utf8(m, bytes);
        m.data.append(bytes);
    }
    if (streaming && !m.data.empty()) {
        c.options.on_message_fragment(m.data, m.binary, false);
        m.streamed += m.data.size();
        m.data.clear();
    }
}

void end_message(Core& c, Assembly& m) {
    if (m.compressed) {
        const bool streaming = static_cast<bool>(c.options.on_message_fragment);
        const std::size_t limit = streaming ? SIZE_MAX : c.options.max_message_size;
        inflate_into(c, m, [&] { return c.inflater->finish_message(m.data, limit); });
    }
    if (!m.binary && !m.utf8.complete())
        throw WebSocketProtocolError(close_codes::kInvalidPayload,
                                     "websocket: text message ends inside a UTF-8 sequence");
    m.active = false;
    if (c.options.on_message_fragment) {
        c.options.on_message_fragment(m.data, m.binary, true);
        m.data.clear();
        return;
    }
    c.deliver(WebSocketMessage{std::move(m.data), m.binary});
    m.data = std::string();
}

// Validates a header against the connection's state (RFC 6455 5.2, 5.4, 5.5; RFC 7692 6).
void check_header(const Core& c, const FrameHeader& h, const Assembly& m) {
    if (h.masked) protocol_error("the server sent a masked frame");
    if (h.rsv2 || h.rsv3) protocol_error("reserved bits RSV2/RSV3 set without a negotiated extension");
    if (!is_known_opcode(h.opcode))
        protocol_error("unknown opcode " + std::to_string(static_cast<int>(h.opcode)));
    if (is_control(h.opcode)) {
        if (!h.fin) protocol_error(std::string("fragmented ") + opcode_name(h.opcode) + " frame");
        if (h.length > kMaxControlPayload)
            protocol_error(std::string(opcode_name(h.opcode)) + " frame payload of " +
                           std::to_string(h.length) + " bytes (at most 125)");
        if (h.rsv1) protocol_error(std::string("RSV1 set on a ") + opcode_name(h.opcode) + " frame");
        return;
    }
    if (h.opcode == Opcode::continuation) {
        if (!m.active) protocol_error("continuation frame without a message to continue");
        if (h.rsv1) protocol_error("RSV1 set on a continuation frame");
    } else {
        if (m.active)
            protocol_error(std::string("new ") + opcode_name(h.opcode) + " message inside a fragmented one");
        if (h.rsv1 && !c.inflater) protocol_error("RSV1 set but permessage-deflate was not negotiated");
    }
}

}  // namespace

// Handles a close frame's payload; throws for an invalid one.
static void on_close_frame(Core& c, std::string_view payload) {
    if (payload.size() == 1) protocol_error("close frame with a 1-byte payload");
    int code = close_codes::kNoStatus;
    std::string_view reason;
    if (payload.size() >= 2) {
        code = static_cast<unsigned char>(payload[0]) << 8 | static_cast<unsigned char>(payload[1]);
        if (!valid_received_close_code(code))
            protocol_error("close frame with invalid code " + std::to_string(code));
        reason = payload.substr(2);
        if (!is_valid_utf8(reason))
            throw WebSocketProtocolError(close_codes::kInvalidPayload,
                                         "websocket: close reason is not valid UTF-8");
    }
    c.close_received = true;
    c.code = code;  // the peer's code, also when it answers our close (Tornado's close_code)
    c.reason = std::string(reason);
    if (!c.close_sent) {
        // Echo the peer's code (RFC 6455 5.5.1); none when it sent none.
        if (code == close_codes::kNoStatus)
            c.send_frame_now(Opcode::close, {});
        else
            c.send_close(code, {});
        c.close_sent = true;
    }
}

// Answers a ping, hands pings and pongs to their callbacks, and handles a close frame.
static void on_control_frame(Core& c, Opcode opcode, std::string_view payload) {
    if (opcode == Opcode::close) {
        on_close_frame(c, payload);
    } else if (opcode == Opcode::ping) {
        if (!c.close_sent) c.send_frame_now(Opcode::pong, payload);
        if (c.options.on_ping) c.options.on_ping(payload);
    } else if (c.options.on_pong) {
        c.options.on_pong(payload);
    }
}

// A text or binary frame starts a new message.
static void begin_message(Assembly& m, const FrameHeader& h) {
    m.active = true;
    m.binary = h.opcode == Opcode::binary;
    m.compressed = h.rsv1;
    m.utf8.reset();
    m.streamed = 0;
    m.data.clear();
}

// A message that is kept whole and not compressed: refuses a frame that would take it past
// max_message_size, and reserves room for the frame's payload.
static void make_room_for_frame(const Core& c, Assembly& m, const FrameHeader& h) {
    if (m.compressed || c.options.on_message_fragment) return;
    if (h.length > c.options.max_message_size - std::min(c.options.max_message_size, m.data.size()))
        throw MessageTooBigError("websocket: message of more than " +
                                 std::to_string(c.options.max_message_size) + " bytes (max_message_size)");
    m.data.reserve(m.data.size() + static_cast<std::size_t>(h.length));
}

// The reader ends on a protocol error: our close frame carries its code, unless we sent one already.
// Called from the handler, so std::current_exception() is the error.
static void end_on_protocol_error(Core& c, const WebSocketProtocolError& e) {
    if (!c.close_sent) {
        c.code = e.close_code();
        c.reason = e.what();
        c.send_close(e.close_code(), {});
        c.close_sent = true;
    }
    c.end_error = std::current_exception();
}

// The reader ends because the stream closed.
static void end_on_stream_closed(Core& c, const StreamClosedError& e) {
    if (c.kill_reason) {
        // A timer or abort() closed the stream under us. Waiting for the end of a closing handshake
        // that was under way is not an error; otherwise the kill reason is.
        if (!c.close_received) {
            c.code = close_codes::kAbnormal;
            try {
                std::rethrow_exception(c.kill_reason);
            } catch (const std::exception& k) {
                c.reason = k.what();
            }
            if (!c.close_sent) c.end_error = c.kill_reason;
        }
    } else if (!c.close_received) {
        c.code = close_codes::kAbnormal;
        c.reason = std::string("connection closed without a closing handshake: ") + e.what();
        if (!c.close_sent)
            c.end_error = std::make_exception_ptr(WebSocketClosedError(close_codes::kAbnormal, c.reason));
    }
}

Task<void> read_loop(std::shared_ptr<Core> core) {
    Core& c = *core;
    IOStream& stream = *c.stream;
    Buffer& buf = stream.read_buffer();
    Assembly m;
    try {
        while (!c.close_received) {
            FrameHeader h;
            std::size_t hsize;
            while ((hsize = parse_frame_header(buf.view(), h)) == 0) co_await stream.fill();
            if (hsize == kInvalidHeader)
                protocol_error("frame length not in its shortest form, or over 2^63");
            buf.consume(hsize);
            c.last_received = c.loop.time();
            c.ping_outstanding = false;
            check_header(c, h, m);
            if (is_control(h.opcode)) {
                while (buf.size() < h.length) co_await stream.fill();
                std::string payload(buf.data(), static_cast<std::size_t>(h.length));
                buf.consume(static_cast<std::size_t>(h.length));
                on_control_frame(c, h.opcode, payload);
                continue;
            }
            if (h.opcode != Opcode::continuation) begin_message(m, h);
            make_room_for_frame(c, m, h);
            std::uint64_t remaining = h.length;
            while (remaining != 0) {
                if (buf.empty()) co_await stream.fill();
                const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, buf.size()));
                add_payload(c, m, std::string_view(buf.data(), n));
                buf.consume(n);
                remaining -= n;
            }
            if (h.fin) end_message(c, m);
            // While read_message() has not taken the last message, read no further (backpressure).
            while (!c.ready.empty() && !c.close_sent) {
                c.room.emplace();
                auto wait = c.room->get_future();
                co_await wait;
            }
        }
        // The peer's close frame arrived (and ours went out): the server closes TCP first (RFC 6455 7.1.1).
        c.arm_close_timer("the server to close the TCP connection");
        for (;;) {
            buf.clear();
            co_await stream.fill();
        }
    } catch (const WebSocketProtocolError& e) {
        end_on_protocol_error(c, e);
    } catch (const StreamClosedError& e) {
        end_on_stream_closed(c, e);
    } catch (const std::exception& e) {
        c.code = close_codes::kAbnormal;
        c.reason = e.what();
        c.end_error = std::current_exception();
    }
    // After a failure we sent our close frame: give it up to close_timeout to leave, then drop TCP.
    if (!c.stream->closed() && c.stream->writing()) {
        c.arm_close_timer("our close frame to be written");
        try {
            co_await c.stream->flush();
        } catch (const std::exception&) {
        }
    }
    c.finish();
}

}  // namespace squall::websocket::detail
