#include "amqp/properties.hpp"

#include "amqp/detail/wire.hpp"

namespace squall::amqp {

ContentHeader decode_content_header(std::string_view payload) {
    detail::Reader in(payload, "content header");
    ContentHeader h;
    h.class_id = in.u16("class id");
    if (h.class_id != spec::kClassBasic) {
        in.fail("content class " + std::to_string(h.class_id) + " is not basic (60)", 0);
    }
    uint16_t weight = in.u16("weight");
    if (weight != 0) in.fail("weight must be 0, got " + std::to_string(weight), 2);
    h.body_size = in.u64("body size");
    h.properties = BasicProperties::decode(in);
    in.expect_end();
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
