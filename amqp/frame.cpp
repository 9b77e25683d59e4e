#include "squall/amqp/frame.hpp"

#include <algorithm>
#include <cstring>

#include "squall/amqp/detail/wire.hpp"
#include "squall/amqp/errors.hpp"

namespace squall::amqp {
namespace {

bool known_frame_type(uint8_t type) {
    return type == spec::kFrameMethod || type == spec::kFrameHeader || type == spec::kFrameBody ||
           type == spec::kFrameHeartbeat;
}

[[noreturn]] void fail(const std::string& message) {
    throw FrameError("frame: " + message);
}

}  // namespace

namespace detail {

void throw_frame_error(std::string_view buffered, uint32_t frame_max) {
    detail::Reader in(buffered, "frame");
    uint8_t type = in.u8("frame type");
    uint16_t channel = in.u16("channel");
    uint32_t payload_size = in.u32("payload size");
    if (!known_frame_type(type)) fail("unknown frame type " + std::to_string(type) + " at offset 0");
    size_t total = size_t{payload_size} + kFrameOverhead;
    if (frame_max != 0 && total > frame_max) {
        fail("frame of " + std::to_string(total) + " bytes (type " + std::to_string(type) + ", channel " +
             std::to_string(channel) + ") exceeds frame_max " + std::to_string(frame_max));
    }
    auto end = static_cast<uint8_t>(buffered[total - 1]);
    fail("bad frame end octet " + std::to_string(end) + " (expected 206) at offset " +
         std::to_string(total - 1) + " (type " + std::to_string(type) + ", channel " +
         std::to_string(channel) + ", payload size " + std::to_string(payload_size) + ")");
}

}  // namespace detail

namespace detail {

size_t begin_frame(std::string& out, uint8_t type, uint16_t channel) {
    size_t start = out.size();
    put_u8(out, type);
    put_u16(out, channel);
    put_u32(out, 0);
    return start;
}

void end_frame(std::string& out, size_t start, uint32_t frame_max) {
    size_t payload = out.size() - start - kFrameHeaderSize;
    size_t total = payload + kFrameOverhead;
    if (payload > UINT32_MAX || (frame_max != 0 && total > frame_max)) {
        auto type = static_cast<uint8_t>(out[start]);
        out.resize(start);
        // The caller's mistake (a header table or argument too large), not a broken connection: nothing
        // of the frame stays in `out`, and callers drop the frames of the same message they appended.
        throw MessageTooLargeError("amqp: cannot send a frame of " + std::to_string(total) + " bytes (type " +
                                       std::to_string(type) + "): the negotiated frame_max is " +
                                       std::to_string(frame_max),
                                   total, frame_max);
    }
    patch_u32(out, start + 3, static_cast<uint32_t>(payload));
    put_u8(out, spec::kFrameEnd);
}

}  // namespace detail

void append_frame(std::string& out, uint8_t type, uint16_t channel, std::string_view payload,
                  uint32_t frame_max) {
    size_t start = detail::begin_frame(out, type, channel);
    out.append(payload);
    detail::end_frame(out, start, frame_max);
}

void append_heartbeat_frame(std::string& out) {
    append_frame(out, spec::kFrameHeartbeat, 0, {});
}

void append_method_frame(std::string& out, uint16_t channel, const spec::Method& method, uint32_t frame_max) {
    std::visit([&](const auto& m) { append_method_frame(out, channel, m, frame_max); }, method);
}

void append_content_header_frame(std::string& out, uint16_t channel, uint64_t body_size,
                                 const BasicProperties& properties, uint32_t frame_max) {
    size_t start = detail::begin_frame(out, spec::kFrameHeader, channel);
    try {
        encode_content_header(out, body_size, properties);
    } catch (...) {
        out.resize(start);
        throw;
    }
    detail::end_frame(out, start, frame_max);
}

void append_body_frames(std::string& out, uint16_t channel, std::string_view body, uint32_t frame_max) {
    if (frame_max != 0 && frame_max <= kFrameOverhead) {
        throw UsageError("frame_max " + std::to_string(frame_max) +
                         " leaves no room for a body frame payload");
    }
    // frame_max 0: no negotiated limit, but a frame's size field is 32 bits.
    size_t chunk = frame_max == 0 ? size_t{UINT32_MAX} : frame_max - kFrameOverhead;
    size_t frames = (body.size() + chunk - 1) / chunk;
    out.reserve(out.size() + body.size() + frames * kFrameOverhead);
    for (size_t at = 0; at < body.size(); at += chunk) {
        append_frame(out, spec::kFrameBody, channel, body.substr(at, chunk));
    }
}

void append_publish(std::string& out, uint16_t channel, const spec::BasicPublish& publish,
                    const BasicProperties& properties, std::string_view body, uint32_t frame_max) {
    append_publish(out, channel, publish.exchange, publish.routing_key,
                   static_cast<uint8_t>((publish.mandatory ? 1 : 0) | (publish.immediate ? 2 : 0)),
                   properties, body, frame_max);
}

namespace {

char* put_be(char* p, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v);
    return p + bytes;
}

char* put_frame_header(char* p, uint8_t type, uint16_t channel, size_t payload) {
    *p++ = static_cast<char>(type);
    p = put_be(p, channel, 2);
    return put_be(p, payload, 4);
}

}  // namespace

void append_publish(std::string& out, uint16_t channel, std::string_view exchange,
                    std::string_view routing_key, uint8_t bits, const BasicProperties& properties,
                    std::string_view body, uint32_t frame_max) {
    const char* too_long = exchange.size() > 255      ? "basic.publish exchange"
                           : routing_key.size() > 255 ? "basic.publish routing-key"
                                                      : nullptr;
    if (too_long) {
        throw UsageError(std::string("cannot encode ") + too_long + ": short string of " +
                         std::to_string(std::max(exchange.size(), routing_key.size())) +
                         " bytes (at most 255)");
    }
    const size_t method_payload = 4 + 2 + 1 + exchange.size() + 1 + routing_key.size() + 1;
    const size_t start = out.size();
    // No properties: the header payload is class, weight, body size and a zero flags word.
    constexpr size_t kHeaderPayload = 2 + 2 + 8 + 2;
    const bool fits = frame_max == 0 ||
                      std::max({method_payload, kHeaderPayload, body.size()}) + kFrameOverhead <= frame_max;
    if (fits && properties.flags() == 0) {
        const size_t total = method_payload + kFrameOverhead + kHeaderPayload + kFrameOverhead +
                             (body.empty() ? 0 : body.size() + kFrameOverhead);
        out.resize(start + total);
        char* p = out.data() + start;
        p = put_frame_header(p, spec::kFrameMethod, channel, method_payload);
        p = put_be(p, spec::BasicPublish::kId.class_id, 2);
        p = put_be(p, spec::BasicPublish::kId.method_id, 2);
        p = put_be(p, 0, 2);  // reserved (ticket)
        *p++ = static_cast<char>(exchange.size());
        if (!exchange.empty()) std::memcpy(p, exchange.data(), exchange.size());
        p += exchange.size();
        *p++ = static_cast<char>(routing_key.size());
        if (!routing_key.empty()) std::memcpy(p, routing_key.data(), routing_key.size());
        p += routing_key.size();
        *p++ = static_cast<char>(bits);
        *p++ = static_cast<char>(spec::kFrameEnd);
        p = put_frame_header(p, spec::kFrameHeader, channel, kHeaderPayload);
        p = put_be(p, spec::kClassBasic, 2);
        p = put_be(p, 0, 2);  // weight
        p = put_be(p, body.size(), 8);
        p = put_be(p, 0, 2);  // property flags
        *p++ = static_cast<char>(spec::kFrameEnd);
        if (!body.empty()) {
            p = put_frame_header(p, spec::kFrameBody, channel, body.size());
            std::memcpy(p, body.data(), body.size());
            p += body.size();
            *p++ = static_cast<char>(spec::kFrameEnd);
        }
        return;
    }
    try {
        size_t frame = detail::begin_frame(out, spec::kFrameMethod, channel);
        detail::put_u16(out, spec::BasicPublish::kId.class_id);
        detail::put_u16(out, spec::BasicPublish::kId.method_id);
        detail::put_u16(out, 0);  // reserved (ticket)
        detail::put_shortstr(out, exchange, "basic.publish exchange");
        detail::put_shortstr(out, routing_key, "basic.publish routing-key");
        detail::put_u8(out, bits);
        detail::end_frame(out, frame, frame_max);
        append_content_header_frame(out, channel, body.size(), properties, frame_max);
        append_body_frames(out, channel, body, frame_max);
    } catch (...) {
        out.resize(start);
        throw;
    }
}

void append_tag_method_frame(std::string& out, uint16_t channel, spec::MethodId id, uint64_t delivery_tag,
                             uint8_t bits) {
    constexpr size_t kPayload = 4 + 8 + 1;
    char f[kFrameHeaderSize + kPayload + 1];
    f[0] = static_cast<char>(spec::kFrameMethod);
    f[1] = static_cast<char>(channel >> 8);
    f[2] = static_cast<char>(channel);
    f[3] = 0;
    f[4] = 0;
    f[5] = 0;
    f[6] = static_cast<char>(kPayload);
    f[7] = static_cast<char>(id.class_id >> 8);
    f[8] = static_cast<char>(id.class_id);
    f[9] = static_cast<char>(id.method_id >> 8);
    f[10] = static_cast<char>(id.method_id);
    for (int i = 7; i >= 0; --i, delivery_tag >>= 8) f[11 + i] = static_cast<char>(delivery_tag);
    f[19] = static_cast<char>(bits);
    f[20] = static_cast<char>(spec::kFrameEnd);
    out.append(f, sizeof f);
}

}  // namespace squall::amqp
