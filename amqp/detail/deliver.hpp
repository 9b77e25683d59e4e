// The basic.deliver fast path: the arguments of a basic.deliver payload as views into it, without a Reader
// and without allocating. Every consumer's per-message path; tests/amqp/test_codec_deliver.cpp checks it
// field by field against the generated decoder (spec::decode_method_as<spec::BasicDeliver>) on valid,
// cut-short, overlong and random payloads.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace squall::amqp::detail {

struct DeliverView {
    std::string_view consumer_tag;
    uint64_t delivery_tag = 0;
    bool redelivered = false;
    std::string_view exchange;
    std::string_view routing_key;
};

// payload: the method frame's payload, method id included. False when it is not exactly a well-formed
// basic.deliver (then the generated decoder names what is wrong).
inline bool decode_deliver(std::string_view payload, DeliverView& out) noexcept {
    // method id (4), consumer-tag (shortstr), delivery-tag (u64), redelivered (bit octet), exchange
    // (shortstr), routing-key (shortstr), nothing after.
    const auto* p = reinterpret_cast<const unsigned char*>(payload.data());
    const size_t n = payload.size();
    size_t at = 4;
    if (at >= n) return false;
    const size_t tag_at = at + 1, tag_len = p[at];
    at = tag_at + tag_len;
    if (at + 9 >= n) return false;
    uint64_t tag;
    std::memcpy(&tag, p + at, sizeof tag);
    if constexpr (std::endian::native == std::endian::little) tag = __builtin_bswap64(tag);
    const bool redelivered = (p[at + 8] & 1) != 0;
    at += 9;
    const size_t exchange_at = at + 1, exchange_len = p[at];
    at = exchange_at + exchange_len;
    if (at >= n) return false;
    const size_t key_at = at + 1, key_len = p[at];
    if (key_at + key_len != n) return false;
    out.consumer_tag = payload.substr(tag_at, tag_len);
    out.delivery_tag = tag;
    out.redelivered = redelivered;
    out.exchange = payload.substr(exchange_at, exchange_len);
    out.routing_key = payload.substr(key_at, key_len);
    return true;
}

}  // namespace squall::amqp::detail
