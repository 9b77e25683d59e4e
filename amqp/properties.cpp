#include "squall/amqp/properties.hpp"

#include "squall/amqp/detail/wire.hpp"

namespace squall::amqp {

namespace detail {

uint64_t decode_content_header_into(std::string_view payload, BasicProperties& properties) {
    // The common case first: class basic, weight 0, no properties (14 bytes, nothing to assign).
    if (payload.size() == 14) {
        const auto* p = reinterpret_cast<const unsigned char*>(payload.data());
        if (p[0] == 0 && p[1] == spec::kClassBasic && p[2] == 0 && p[3] == 0 && p[12] == 0 && p[13] == 0) {
            uint64_t body_size = 0;
            for (int i = 4; i < 12; ++i) body_size = body_size << 8 | p[i];
            return body_size;
        }
    }
    Reader in(payload, "content header");
    uint16_t class_id = in.u16("class id");
    if (class_id != spec::kClassBasic) {
        in.fail("content class " + std::to_string(class_id) + " is not basic (60)", 0);
    }
    uint16_t weight = in.u16("weight");
    if (weight != 0) in.fail("weight must be 0, got " + std::to_string(weight), 2);
    uint64_t body_size = in.u64("body size");
    // No properties (two zero flag bytes and nothing after them) is the common case: nothing to assign.
    if (in.remaining() == 2 && payload[payload.size() - 2] == 0 && payload[payload.size() - 1] == 0)
        return body_size;
    properties = BasicProperties::decode(in);
    in.expect_end();
    return body_size;
}

}  // namespace detail

ContentHeader decode_content_header(std::string_view payload) {
    ContentHeader h;
    h.body_size = detail::decode_content_header_into(payload, h.properties);
    return h;
}

void encode_content_header(std::string& out, uint64_t body_size, const BasicProperties& properties) {
    size_t start = out.size();
    try {
        detail::put_u16(out, spec::kClassBasic);
        detail::put_u16(out, 0);  // weight, unused
        detail::put_u64(out, body_size);
        properties.encode(out);
    } catch (...) {
        out.resize(start);
        throw;
    }
}

}  // namespace squall::amqp
