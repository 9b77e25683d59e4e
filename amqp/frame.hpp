// AMQP frames: parsing buffered bytes into frames, and appending encoded frames to an output buffer.
//
// A frame is a 7-byte header (type octet, channel short, payload size long), the payload, and the end
// octet 0xCE. frame_max, negotiated by connection.tune, bounds the whole frame (header, payload and end
// octet); 0 means no limit beyond the 32-bit size field.
//
// Reading: parse_frame() looks at the bytes buffered so far and either reports how many bytes the next
// frame needs, or returns a view of the complete frame (valid while the buffer is) and its length, so the
// connection handles every complete frame already buffered before it reads again:
//
//   while (true) {
//       amqp::FrameParse p = amqp::parse_frame(buffered, frame_max);   // FrameError when malformed
//       if (!p.complete()) break;                                       // wait for p.size bytes in total
//       dispatch(*p.frame);
//       buffered.remove_prefix(p.size);
//   }
//
// Writing: the output buffer is a std::string that the append_* functions grow; a connection keeps one,
// appends every frame written during a loop iteration and writes it in one go (one writev). Publishing a
// message is one call that appends the method, header and body frames contiguously:
//
//   amqp::append_publish(out, channel, {.exchange = "media", .routing_key = "video"}, props, body,
//   frame_max);
//
// Every append_* either appends whole frames or, on an exception, leaves `out` exactly as it was.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "squall/amqp/properties.hpp"
#include "squall/amqp/spec.hpp"

namespace squall::amqp {

// type (1 octet), channel (2), payload size (4).
inline constexpr size_t kFrameHeaderSize = 7;
// Header plus end octet: a frame of payload n occupies n + kFrameOverhead bytes.
inline constexpr size_t kFrameOverhead = 8;

// A parsed frame, pointing into the buffer it was parsed from.
struct FrameView {
    uint8_t type = 0;            // spec::kFrameMethod, kFrameHeader, kFrameBody or kFrameHeartbeat
    uint16_t channel = 0;        // 0 for the connection's own frames
    std::string_view payload{};  // points into the parsed buffer
};

// What parse_frame found at the start of a buffer: a frame, or how many bytes it needs first.
struct FrameParse {
    // Set when the buffer starts with a complete frame.
    std::optional<FrameView> frame{};
    // Complete: the bytes the frame occupies (consume them). Incomplete: the bytes the buffer must hold
    // before the frame can be parsed (kFrameHeaderSize while the header itself is incomplete).
    size_t size = 0;
    bool complete() const { return frame.has_value(); }
};

namespace detail {
// Throws the FrameError that describes what is wrong with the frame at the start of `buffered`.
[[noreturn]] void throw_frame_error(std::string_view buffered, uint32_t frame_max);
}  // namespace detail

// Parses the frame at the start of `buffered`. Throws FrameError for an unknown frame type, a frame larger
// than frame_max (detected from the header alone, before its payload arrives) or a bad end octet.
// Inline: the connection's reader calls it once per frame.
inline FrameParse parse_frame(std::string_view buffered, uint32_t frame_max) {
    if (buffered.size() < kFrameHeaderSize) return FrameParse{std::nullopt, kFrameHeaderSize};
    const auto* p = reinterpret_cast<const unsigned char*>(buffered.data());
    const uint8_t type = p[0];
    const auto channel = static_cast<uint16_t>(p[1] << 8 | p[2]);
    const uint32_t payload_size = uint32_t{p[3]} << 24 | uint32_t{p[4]} << 16 | uint32_t{p[5]} << 8 | p[6];
    // size_t arithmetic: payload_size + 8 cannot overflow on a 64-bit size_t.
    const size_t total = size_t{payload_size} + kFrameOverhead;
    const bool known_type = type == spec::kFrameMethod || type == spec::kFrameHeader ||
                            type == spec::kFrameBody || type == spec::kFrameHeartbeat;
    if (!known_type || (frame_max != 0 && total > frame_max)) detail::throw_frame_error(buffered, frame_max);
    if (buffered.size() < total) return FrameParse{std::nullopt, total};
    if (p[total - 1] != spec::kFrameEnd) detail::throw_frame_error(buffered, frame_max);
    return FrameParse{FrameView{type, channel, buffered.substr(kFrameHeaderSize, payload_size)}, total};
}

// Appends one frame around `payload`. Throws MessageTooLargeError (a UsageError; `out` unchanged) when
// the frame exceeds frame_max (0: no limit).
void append_frame(std::string& out, uint8_t type, uint16_t channel, std::string_view payload,
                  uint32_t frame_max = 0);
void append_heartbeat_frame(std::string& out);

namespace detail {
// Starts a frame (header with a zero size) and returns its start offset.
size_t begin_frame(std::string& out, uint8_t type, uint16_t channel);
// Patches the size of the frame begun at `start` and appends the end octet. Throws MessageTooLargeError (and
// truncates `out` back to `start`) when the frame exceeds frame_max.
void end_frame(std::string& out, size_t start, uint32_t frame_max);
}  // namespace detail

// Appends a method frame. Throws MessageTooLargeError when it would exceed frame_max (0: not checked), and
// squall::UsageError when an argument does not fit its wire type (a short string over 255 bytes).
template <class M>
void append_method_frame(std::string& out, uint16_t channel, const M& method, uint32_t frame_max = 0) {
    size_t start = detail::begin_frame(out, spec::kFrameMethod, channel);
    try {
        spec::encode_method(out, method);
    } catch (...) {
        out.resize(start);
        throw;
    }
    detail::end_frame(out, start, frame_max);
}
void append_method_frame(std::string& out, uint16_t channel, const spec::Method& method,
                         uint32_t frame_max = 0);

// Appends a content header frame for a body of `body_size` bytes.
void append_content_header_frame(std::string& out, uint16_t channel, uint64_t body_size,
                                 const BasicProperties& properties, uint32_t frame_max = 0);

// Appends `body` as body frames of at most frame_max bytes each (frame_max 0: one frame). An empty body
// appends nothing: a content header with body size 0 is followed by no body frame.
void append_body_frames(std::string& out, uint16_t channel, std::string_view body, uint32_t frame_max);

// The same for Channel::basic_publish, without a spec::BasicPublish (no copies of exchange and routing
// key): `bits` is the publish flags octet (mandatory 1, immediate 2). A message without properties whose
// body fits one frame (the common case) is written in one pass.
void append_publish(std::string& out, uint16_t channel, std::string_view exchange,
                    std::string_view routing_key, uint8_t bits, const BasicProperties& properties,
                    std::string_view body, uint32_t frame_max);

// basic.ack, basic.nack or basic.reject (`id`): one fixed-size method frame with a delivery tag and one
// flags octet (`bits`: multiple 1, requeue 2 for nack; requeue 1 for reject), written without a spec struct
// on every consumer's per-message path. The same bytes as append_method_frame with the spec struct.
void append_tag_method_frame(std::string& out, uint16_t channel, spec::MethodId id, uint64_t delivery_tag,
                             uint8_t bits);

// basic.publish + content header + body frames, in one contiguous append.
void append_publish(std::string& out, uint16_t channel, const spec::BasicPublish& publish,
                    const BasicProperties& properties, std::string_view body, uint32_t frame_max);

}  // namespace squall::amqp
