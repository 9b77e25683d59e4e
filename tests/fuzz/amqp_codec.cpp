// libFuzzer target: the AMQP byte layer on arbitrary broker bytes: the frame parser (as a connection runs
// it over its read buffer), the method decoder, the content header decoder and the field table decoder.
//
// Input: byte 0 picks frame_max (0 = unlimited, or a small or RabbitMQ-like limit); the rest is a stream
// of frames, and is also handed whole to each decoder.
// Oracles: only squall::Error escapes; a parsed frame lies inside the buffer, matches its header and
// respects frame_max; an incomplete parse asks for more bytes than are buffered; whatever decodes
// re-encodes without an error, and re-encoding is stable (encode(decode(encode(decode(x)))) ==
// encode(decode(x))), so nothing a peer sends is lost or mangled on the way through our types.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "squall/amqp/field_table.hpp"
#include "squall/amqp/frame.hpp"
#include "squall/amqp/properties.hpp"
#include "squall/amqp/spec.hpp"
#include "squall/coro/errors.hpp"

namespace {

namespace amqp = squall::amqp;

template <class F>
void typed_errors_only(F&& f) {
    try {
        f();
    } catch (const squall::Error&) {
    }
}

void check_method(std::string_view payload) {
    typed_errors_only([&] {
        amqp::spec::MethodId id = amqp::spec::peek_method_id(payload);
        amqp::spec::Method m = amqp::spec::decode_method(payload);
        std::string once;
        amqp::spec::encode_method(once, m);  // must not throw: every decoded value fits its wire type
        amqp::spec::Method again = amqp::spec::decode_method(once);
        std::string twice;
        amqp::spec::encode_method(twice, again);
        SQUALL_FUZZ_CHECK(once == twice);
        SQUALL_FUZZ_CHECK(amqp::spec::peek_method_id(once) == id);
    });
}

void check_content_header(std::string_view payload) {
    typed_errors_only([&] {
        amqp::ContentHeader h = amqp::decode_content_header(payload);
        std::string once;
        amqp::encode_content_header(once, h.body_size, h.properties);
        amqp::ContentHeader again = amqp::decode_content_header(once);
        std::string twice;
        amqp::encode_content_header(twice, again.body_size, again.properties);
        SQUALL_FUZZ_CHECK(once == twice);
        SQUALL_FUZZ_CHECK(again.body_size == h.body_size);
    });
}

void check_field_table(std::string_view bytes) {
    typed_errors_only([&] {
        size_t used = 0;
        amqp::FieldTable t = amqp::decode_field_table(bytes, &used);
        SQUALL_FUZZ_CHECK(used >= 4 && used <= bytes.size());
        std::string once;
        amqp::encode_field_table(once, t);
        size_t used_again = 0;
        amqp::FieldTable again = amqp::decode_field_table(once, &used_again);
        SQUALL_FUZZ_CHECK(used_again == once.size());
        SQUALL_FUZZ_CHECK(again.size() == t.size());
        std::string twice;
        amqp::encode_field_table(twice, again);
        SQUALL_FUZZ_CHECK(once == twice);
    });
    // Without `consumed`, trailing bytes are an error; with exactly the table's bytes it must decode.
    typed_errors_only([&] { amqp::decode_field_table(bytes); });
}

void check_frames(std::string_view buffered, uint32_t frame_max) {
    typed_errors_only([&] {
        while (true) {
            amqp::FrameParse p = amqp::parse_frame(buffered, frame_max);
            if (!p.complete()) {
                SQUALL_FUZZ_CHECK(p.size > buffered.size());
                SQUALL_FUZZ_CHECK(p.size >= amqp::kFrameHeaderSize);
                return;
            }
            const amqp::FrameView& f = *p.frame;
            SQUALL_FUZZ_CHECK(p.size <= buffered.size());
            SQUALL_FUZZ_CHECK(p.size == f.payload.size() + amqp::kFrameOverhead);
            SQUALL_FUZZ_CHECK(f.payload.data() == buffered.data() + amqp::kFrameHeaderSize);
            SQUALL_FUZZ_CHECK(frame_max == 0 || p.size <= frame_max);
            SQUALL_FUZZ_CHECK(static_cast<uint8_t>(buffered[p.size - 1]) == amqp::spec::kFrameEnd);
            switch (f.type) {
                case amqp::spec::kFrameMethod:
                    check_method(f.payload);
                    break;
                case amqp::spec::kFrameHeader:
                    check_content_header(f.payload);
                    break;
                case amqp::spec::kFrameBody:
                    break;
                case amqp::spec::kFrameHeartbeat:
                    break;
                default:
                    SQUALL_FUZZ_CHECK(!"parse_frame returned an unknown frame type");
            }
            // Re-framing the payload gives back the same bytes.
            std::string reframed;
            amqp::append_frame(reframed, f.type, f.channel, f.payload, frame_max);
            SQUALL_FUZZ_CHECK(reframed == buffered.substr(0, p.size));
            buffered.remove_prefix(p.size);
        }
    });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    squall::fuzz::FuzzInput input(data, size);
    uint8_t mode = input.u8();
    static constexpr uint32_t kFrameMax[] = {0, 8, 64, 4096, 131072};
    uint32_t frame_max = kFrameMax[mode % 5];
    std::string_view bytes = input.rest();

    check_frames(bytes, frame_max);
    check_method(bytes);
    check_content_header(bytes);
    check_field_table(bytes);
    return 0;
}
