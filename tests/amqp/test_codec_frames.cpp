// Frames: parsing buffered bytes (incomplete, complete, several, malformed) and appending frames, content
// headers and whole publishes.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "codec_test_util.hpp"
#include "squall/amqp/errors.hpp"
#include "squall/amqp/frame.hpp"
#include "squall/amqp/properties.hpp"

using namespace squall::amqp;
using squall::amqp::test::bytes;
using squall::amqp::test::every_property;
using squall::amqp::test::hex;

namespace {

// Splits a buffer into frames the way a connection does: every complete frame, then what is left.
std::vector<FrameView> parse_all(std::string_view buffered, uint32_t frame_max, size_t* left = nullptr) {
    std::vector<FrameView> frames;
    while (true) {
        FrameParse p = parse_frame(buffered, frame_max);
        if (!p.complete()) break;
        frames.push_back(*p.frame);
        buffered.remove_prefix(p.size);
    }
    if (left) *left = buffered.size();
    return frames;
}

std::string error_of(std::string_view data, uint32_t frame_max) {
    try {
        parse_frame(data, frame_max);
    } catch (const FrameError& e) {
        return e.what();
    }
    return "no error";
}

// The spec-struct way of writing a publish, which the one-pass append_publish must match byte for byte.
std::string generic_publish(uint16_t channel, const spec::BasicPublish& publish, const BasicProperties& props,
                            std::string_view body, uint32_t frame_max) {
    std::string out;
    append_method_frame(out, channel, publish, frame_max);
    append_content_header_frame(out, channel, body.size(), props, frame_max);
    append_body_frames(out, channel, body, frame_max);
    return out;
}

}  // namespace

TEST_SUITE("amqp_codec") {
    TEST_CASE("parse_frame reports the bytes still needed, then the complete frame and its length") {
        std::string frame = bytes({1, 0, 5, 0, 0, 0, 3, "abc", 0xCE});
        for (size_t n = 0; n < 7; ++n) {
            FrameParse p = parse_frame(std::string_view(frame).substr(0, n), 4096);
            CHECK_FALSE(p.complete());
            CHECK(p.size == kFrameHeaderSize);
        }
        for (size_t n = 7; n < frame.size(); ++n) {
            FrameParse p = parse_frame(std::string_view(frame).substr(0, n), 4096);
            CHECK_FALSE(p.complete());
            CHECK(p.size == 11);
        }
        std::string buffered = frame + "extra";
        FrameParse p = parse_frame(buffered, 4096);
        REQUIRE(p.complete());
        CHECK(p.size == 11);
        CHECK(p.frame->type == spec::kFrameMethod);
        CHECK(p.frame->channel == 5);
        CHECK(p.frame->payload == "abc");
    }

    TEST_CASE("every complete frame already buffered is parsed before waiting for more") {
        std::string out;
        append_heartbeat_frame(out);
        append_method_frame(out, 1, spec::BasicAck{.delivery_tag = 7, .multiple = true});
        append_frame(out, spec::kFrameBody, 2, "body");
        std::string partial = bytes({3, 0, 2, 0, 0, 0, 10, "par"});
        size_t left = 0;
        std::string buffered = out + partial;  // the views point into it
        auto frames = parse_all(buffered, 4096, &left);
        REQUIRE(frames.size() == 3);
        CHECK(frames[0].type == spec::kFrameHeartbeat);
        CHECK(frames[0].channel == 0);
        CHECK(frames[0].payload.empty());
        CHECK(frames[1].channel == 1);
        CHECK(spec::decode_method_as<spec::BasicAck>(frames[1].payload) ==
              spec::BasicAck{.delivery_tag = 7, .multiple = true});
        CHECK(frames[2].payload == "body");
        CHECK(left == partial.size());
        CHECK(hex(out.substr(0, 8)) == "08000000000000ce");
    }

    TEST_CASE("a bad frame end octet is a FrameError naming the octet and offset") {
        std::string msg = error_of(bytes({1, 0, 1, 0, 0, 0, 2, "ab", 0xCD}), 4096);
        CHECK(msg.find("bad frame end octet 205 (expected 206) at offset 9") != std::string::npos);
    }

    TEST_CASE("an oversized frame is refused from its header alone, before the payload arrives") {
        // Payload 4089 + 8 = 4097 > 4096.
        std::string header = bytes({3, 0, 1, 0, 0, 0x0f, 0xf9});
        CHECK(error_of(header, 4096).find("frame of 4097 bytes (type 3, channel 1) exceeds frame_max 4096") !=
              std::string::npos);
        // Exactly frame_max is fine.
        std::string ok = bytes({3, 0, 1, 0, 0, 0x0f, 0xf8}) + std::string(4088, 'x') + bytes({0xCE});
        CHECK(parse_frame(ok, 4096).complete());
        // A 4 GiB size claim is refused, not waited for.
        CHECK_THROWS_AS(parse_frame(bytes({3, 0, 1, 0xff, 0xff, 0xff, 0xff}), 131072), FrameError);
        // frame_max 0: no limit but the size field's.
        CHECK_FALSE(parse_frame(bytes({3, 0, 1, 0xff, 0xff, 0xff, 0xff}), 0).complete());
        CHECK(parse_frame(bytes({3, 0, 1, 0xff, 0xff, 0xff, 0xff}), 0).size == 0xffffffffULL + 8);
    }

    TEST_CASE("an unknown frame type is a FrameError") {
        CHECK(error_of(bytes({4, 0, 0, 0, 0, 0, 0, 0xCE}), 4096).find("unknown frame type 4") !=
              std::string::npos);
        CHECK(error_of("HTTP/1.1 400", 4096).find("unknown frame type 72") != std::string::npos);
    }

    TEST_CASE("a truncated frame is incomplete, never read past the buffer") {
        std::string out;
        append_method_frame(out, 3,
                            spec::QueueDeclareOk{.queue = "q", .message_count = 1, .consumer_count = 2});
        for (size_t n = 0; n < out.size(); ++n) {
            CHECK_FALSE(parse_frame(std::string_view(out).substr(0, n), 4096).complete());
        }
    }

    TEST_CASE("append_method_frame writes header, payload and end octet") {
        std::string out = "prefix";
        append_method_frame(out, 1,
                            spec::BasicPublish{.exchange = "ex", .routing_key = "rk", .mandatory = true});
        CHECK(hex(out) == hex(bytes({"prefix", 1,    0, 1, 0, 0,    0, 13,   0x00, 0x3c,
                                     0x00,     0x28, 0, 0, 2, "ex", 2, "rk", 0x01, 0xCE})));
        // Through the variant too.
        std::string via_variant;
        append_method_frame(
            via_variant, 1,
            spec::Method{spec::BasicPublish{.exchange = "ex", .routing_key = "rk", .mandatory = true}});
        CHECK(via_variant == out.substr(6));
    }

    TEST_CASE(
        "a method frame over frame_max is a MessageTooLargeError (a usage error) and the buffer unchanged") {
        std::string out = "keep";
        spec::QueueDeclare big{.queue = "q", .arguments = FieldTable{{"x", std::string(5000, 'a')}}};
        CHECK_THROWS_AS(append_method_frame(out, 1, big, 4096), MessageTooLargeError);
        CHECK_THROWS_AS(append_method_frame(out, 1, big, 4096), squall::UsageError);
        try {
            append_method_frame(out, 1, big, 4096);
        } catch (const MessageTooLargeError& e) {
            CHECK(e.frame_max() == 4096u);
            CHECK(e.frame_size() > 5000u);
            CHECK(std::string(e.what()).find("frame_max is 4096") != std::string::npos);
        }
        CHECK(out == "keep");
        append_method_frame(out, 1, big);  // 0: unchecked
        CHECK(out.size() > 5000);
    }

    TEST_CASE("content header with every basic property round trips; flags follow the spec order") {
        BasicProperties p = every_property();
        CHECK(p.flags() == 0xfffc);
        std::string payload;
        encode_content_header(payload, 1234, p);
        ContentHeader h = decode_content_header(payload);
        CHECK(h.class_id == 60);
        CHECK(h.body_size == 1234);
        CHECK(h.properties == p);

        BasicProperties none;
        CHECK(none.flags() == 0);
        std::string empty;
        encode_content_header(empty, 0, none);
        CHECK(hex(empty) == hex(bytes({0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})));

        BasicProperties two;
        two.delivery_mode = 2;
        two.content_type = "a";
        std::string two_bytes;
        encode_content_header(two_bytes, 5, two);
        CHECK(hex(two_bytes) == hex(bytes({0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0x90, 0x00, 1, "a", 2})));
    }

    TEST_CASE("malformed content headers give FrameError") {
        auto msg = [](std::string_view payload) -> std::string {
            try {
                decode_content_header(payload);
            } catch (const FrameError& e) {
                return e.what();
            }
            return "no error";
        };
        CHECK(msg(bytes({0, 50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})).find("content class 50 is not basic") !=
              std::string::npos);
        CHECK(msg(bytes({0, 60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})).find("weight must be 0") !=
              std::string::npos);
        CHECK(msg(bytes({0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x02})).find("unknown property flags") !=
              std::string::npos);
        CHECK(msg(bytes({0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x00, 5, "ab"}))
                  .find("truncated basic property content_type") != std::string::npos);
        CHECK(msg(bytes({0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'z'})).find("trailing") !=
              std::string::npos);
        // A continuation flags word is accepted when it sets no property.
        CHECK(decode_content_header(bytes({0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x01, 0, 0, 2}))
                  .properties.delivery_mode == 2);
        CHECK(
            msg(bytes({0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, 0x80, 0x00})).find("continuation") !=
            std::string::npos);
    }

    TEST_CASE("append_publish appends method, header and body frames split by frame_max in one buffer") {
        const uint32_t frame_max = 4096;
        std::string body(10000, '\0');
        for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 7);
        BasicProperties props;
        props.content_type = "application/octet-stream";
        std::string out = "earlier publish";
        append_publish(out, 9, {.exchange = "media", .routing_key = "video"}, props, body, frame_max);

        size_t left = 0;
        auto frames = parse_all(std::string_view(out).substr(15), frame_max, &left);
        CHECK(left == 0);
        REQUIRE(frames.size() == 5);
        CHECK(frames[0].type == spec::kFrameMethod);
        auto publish = spec::decode_method_as<spec::BasicPublish>(frames[0].payload);
        CHECK(publish.exchange == "media");
        CHECK(frames[1].type == spec::kFrameHeader);
        ContentHeader h = decode_content_header(frames[1].payload);
        CHECK(h.body_size == 10000);
        CHECK(h.properties == props);
        std::string joined;
        for (size_t i = 2; i < 5; ++i) {
            CHECK(frames[i].type == spec::kFrameBody);
            CHECK(frames[i].channel == 9);
            joined += frames[i].payload;
        }
        CHECK(frames[2].payload.size() == 4088);
        CHECK(frames[3].payload.size() == 4088);
        CHECK(frames[4].payload.size() == 1824);
        CHECK(joined == body);
    }

    TEST_CASE("body frame boundaries: empty, frame_max-9, frame_max-8, frame_max-7 bytes of payload") {
        const uint32_t frame_max = 4096;
        struct Case {
            size_t body;
            size_t frames;
        };
        for (Case c :
             {Case{0, 0}, Case{1, 1}, Case{4087, 1}, Case{4088, 1}, Case{4089, 2}, Case{3 * 4088, 3}}) {
            CAPTURE(c.body);
            std::string out;
            append_body_frames(out, 1, std::string(c.body, 'b'), frame_max);
            size_t left = 0;
            auto frames = parse_all(out, frame_max, &left);
            CHECK(left == 0);
            CHECK(frames.size() == c.frames);
            size_t total = 0;
            for (const auto& f : frames) total += f.payload.size();
            CHECK(total == c.body);
        }
        std::string out;
        append_body_frames(out, 1, "abc", 0);
        CHECK(parse_all(out, 0).size() == 1);
        CHECK_THROWS_AS(append_body_frames(out, 1, "abc", 8), squall::UsageError);
    }

    TEST_CASE("a publish whose content header exceeds frame_max fails whole: nothing is appended") {
        BasicProperties props;
        props.headers = FieldTable{{"big", std::string(5000, 'h')}};
        std::string out = "keep";
        CHECK_THROWS_AS(append_publish(out, 1, {.exchange = "", .routing_key = "q"}, props, "body", 4096),
                        MessageTooLargeError);
        CHECK(out == "keep");
        BasicProperties bad;
        bad.message_id = std::string(300, 'm');
        CHECK_THROWS_AS(append_publish(out, 1, {.exchange = "", .routing_key = "q"}, bad, "body", 4096),
                        squall::UsageError);
        CHECK(out == "keep");
    }

    TEST_CASE("append_publish writes the bytes of the spec-struct encoding, fast path or not") {
        BasicProperties none;
        BasicProperties some;
        some.content_type = "text/plain";
        some.delivery_mode = 2;
        const uint32_t frame_max = 4096;
        struct Case {
            std::string exchange, routing_key;
            bool mandatory, immediate;
            size_t body;
        };
        std::vector<Case> cases = {{"", "q", false, false, 100},
                                   {"media", "video", true, false, 0},
                                   {"x", "", false, true, 1},
                                   {"", "q", false, false, 4088},
                                   {"", "q", true, false, 4089},
                                   {std::string(255, 'e'), "", false, false, 7},
                                   {"", std::string(255, 'r'), true, true, 3 * 4088}};
        for (const auto& c : cases) {
            for (const BasicProperties* props : {&none, &some}) {
                for (uint32_t fm : {frame_max, 0u}) {
                    CAPTURE(c.exchange.size());
                    CAPTURE(c.body);
                    CAPTURE(fm);
                    std::string body(c.body, 'b');
                    spec::BasicPublish publish{.exchange = c.exchange,
                                               .routing_key = c.routing_key,
                                               .mandatory = c.mandatory,
                                               .immediate = c.immediate};
                    std::string out = "before";
                    append_publish(out, 7, c.exchange, c.routing_key,
                                   static_cast<uint8_t>((c.mandatory ? 1 : 0) | (c.immediate ? 2 : 0)),
                                   *props, body, fm);
                    CHECK(out == "before" + generic_publish(7, publish, *props, body, fm));
                    std::string via_struct = "before";
                    append_publish(via_struct, 7, publish, *props, body, fm);
                    CHECK(via_struct == out);
                }
            }
        }
        std::string out = "keep";
        CHECK_THROWS_AS(append_publish(out, 1, std::string(256, 'e'), "q", 0, none, "b", frame_max),
                        squall::UsageError);
        CHECK_THROWS_AS(append_publish(out, 1, "", std::string(256, 'r'), 0, none, "b", frame_max),
                        squall::UsageError);
        CHECK(out == "keep");
    }

    TEST_CASE("append_tag_method_frame writes basic.ack, nack and reject as append_method_frame does") {
        for (uint64_t tag : {uint64_t{0}, uint64_t{1}, uint64_t{0x0102030405060708}, ~uint64_t{0}}) {
            for (bool a : {false, true}) {
                for (bool b : {false, true}) {
                    CAPTURE(tag);
                    std::string want, got;
                    append_method_frame(want, 3, spec::BasicAck{.delivery_tag = tag, .multiple = a});
                    append_tag_method_frame(got, 3, spec::BasicAck::kId, tag, a ? 1 : 0);
                    CHECK(hex(got) == hex(want));
                    want.clear();
                    got.clear();
                    append_method_frame(want, 300,
                                        spec::BasicNack{.delivery_tag = tag, .multiple = a, .requeue = b});
                    append_tag_method_frame(got, 300, spec::BasicNack::kId, tag,
                                            static_cast<uint8_t>((a ? 1 : 0) | (b ? 2 : 0)));
                    CHECK(hex(got) == hex(want));
                    want.clear();
                    got.clear();
                    append_method_frame(want, 65535, spec::BasicReject{.delivery_tag = tag, .requeue = b});
                    append_tag_method_frame(got, 65535, spec::BasicReject::kId, tag, b ? 1 : 0);
                    CHECK(hex(got) == hex(want));
                }
            }
        }
    }

    TEST_CASE("decode_content_header_into: no properties leaves them untouched, others are decoded") {
        std::string none, some;
        encode_content_header(none, 42, BasicProperties{});
        BasicProperties props;
        props.message_id = "id-1";
        props.headers = FieldTable{{"k", int32_t{1}}};
        encode_content_header(some, 7, props);
        BasicProperties into;
        CHECK(detail::decode_content_header_into(none, into) == 42);
        CHECK(into == BasicProperties{});
        CHECK(detail::decode_content_header_into(some, into) == 7);
        CHECK(into == props);
        CHECK(decode_content_header(some).properties == props);
        // Trailing bytes after a zero flags word are still refused.
        CHECK_THROWS_AS(detail::decode_content_header_into(none + std::string(1, '\0'), into), FrameError);
    }
}  // TEST_SUITE
