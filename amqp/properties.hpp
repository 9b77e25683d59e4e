// Message properties and the content header frame payload.
//
// A published or delivered message is a method frame (basic.publish / deliver / return / get-ok), one
// content header frame (class id, body size, properties), then body frames. BasicProperties is generated
// from the spec (amqp/spec.hpp): the 14 basic properties, each a std::optional that is sent only when set.
//
//   amqp::BasicProperties props;
//   props.content_type = "application/json";
//   props.delivery_mode = 2;  // persistent
//   props.headers = amqp::FieldTable{{"x-retry", int32_t{3}}};
//   amqp::ContentHeader h = amqp::decode_content_header(frame.payload);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "squall/amqp/spec.hpp"

namespace squall::amqp {

// The 14 basic properties (content_type, headers, delivery_mode, ...), each optional (spec.hpp).
using BasicProperties = spec::BasicProperties;

// BasicProperties::delivery_mode: kept in memory only, or written to disk by a durable queue.
inline constexpr uint8_t kDeliveryModeTransient = 1;
inline constexpr uint8_t kDeliveryModePersistent = 2;

// A content header frame's payload: the class, the size of the body that follows, the properties.
struct ContentHeader {
    uint16_t class_id = spec::kClassBasic;  // always basic (60) in AMQP 0-9-1
    uint64_t body_size = 0;                 // total bytes of the body frames that follow
    BasicProperties properties{};           // the message's properties
    // Field by field.
    bool operator==(const ContentHeader&) const = default;
};

// Decodes a content header frame payload: class id (must be basic, 60), weight (must be 0), body size,
// property flags and list. Malformed, truncated or trailing bytes → FrameError.
ContentHeader decode_content_header(std::string_view payload);

// Appends a content header payload for the basic class. On an exception `out` is unchanged.
void encode_content_header(std::string& out, uint64_t body_size, const BasicProperties& properties);

namespace detail {
// decode_content_header for the reader's hot path: decodes the properties into `properties` (which must
// hold none: nothing is assigned when the flags are 0) and returns the body size. Same checks and errors.
uint64_t decode_content_header_into(std::string_view payload, BasicProperties& properties);
}  // namespace detail

}  // namespace squall::amqp
