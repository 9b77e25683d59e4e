#include "amqp/frame.hpp"

#include "amqp/detail/wire.hpp"
#include "amqp/errors.hpp"

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

FrameParse parse_frame(std::string_view buffered, uint32_t frame_max) {
    if (buffered.size() < kFrameHeaderSize) return FrameParse{std::nullopt, kFrameHeaderSize};
    detail::Reader in(buffered, "frame");
    uint8_t type = in.u8("frame type");
    uint16_t channel = in.u16("channel");
    uint32_t payload_size = in.u32("payload size");
    if (!known_frame_type(type)) fail("unknown frame type " + std::to_string(type) + " at offset 0");
    // size_t arithmetic: payload_size + 8 cannot overflow on a 64-bit size_t.
    size_t total = size_t{payload_size} + kFrameOverhead;
    if (frame_max != 0 && total > frame_max) {
        fail("frame of " + std::to_string(total) + " bytes (type " + std::to_string(type) + ", channel " +
             std::to_string(channel) + ") exceeds frame_max " + std::to_string(frame_max));
    }
    if (buffered.size() < total) return FrameParse{std::nullopt, total};
    auto end = static_cast<uint8_t>(buffered[total - 1]);
    if (end != spec::kFrameEnd) {
        fail("bad frame end octet " + std::to_string(end) + " (expected 206) at offset " +
             std::to_string(total - 1) + " (type " + std::to_string(type) + ", channel " +
             std::to_string(channel) + ", payload size " + std::to_string(payload_size) + ")");
    }
    return FrameParse{FrameView{type, channel, buffered.substr(kFrameHeaderSize, payload_size)}, total};
}

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
        throw FrameError("cannot send a frame of " + std::to_string(total) + " bytes (type " +
                         std::to_string(type) + "): frame_max is " + std::to_string(frame_max));
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
    size_t start = out.size();
    try {
        append_method_frame(out, channel, publish, frame_max);
        append_content_header_frame(out, channel, body.size(), properties, frame_max);
        append_body_frames(out, channel, body, frame_max);
    } catch (...) {
        out.resize(start);
        throw;
    }
}

}  // namespace squall::amqp
