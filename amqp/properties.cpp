#include "amqp/properties.hpp"

#include "amqp/detail/wire.hpp"

namespace squall::amqp {

namespace detail {

uint64_t decode_content_header_into(std::string_view payload, BasicProperties& properties) {
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
