// Generated method structs: ids from the spec, hand-checked byte vectors, round trips of every method,
// and malformed method payloads.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <utility>

#include "codec_random.hpp"
#include "codec_test_util.hpp"
#include "squall/amqp/errors.hpp"
#include "squall/amqp/spec.hpp"

using namespace squall::amqp;
using squall::amqp::test::bytes;
using squall::amqp::test::hex;

namespace {

template <class M>
std::string payload_of(const M& m) {
    std::string out;
    spec::encode_method(out, m);
    return out;
}

// Calls f(std::type_identity<M>{}) for every alternative of spec::Method.
template <class F, size_t... I>
void for_each_method_type(F&& f, std::index_sequence<I...>) {
    (f(std::type_identity<std::variant_alternative_t<I, spec::Method>>{}), ...);
}
template <class F>
void for_each_method_type(F&& f) {
    for_each_method_type(f, std::make_index_sequence<std::variant_size_v<spec::Method>>{});
}

}  // namespace

TEST_SUITE("amqp_codec") {
    TEST_CASE("method ids come from the spec XML, including exchange.unbind-ok (40, 51)") {
        CHECK(spec::ExchangeUnbindOk::kId == spec::MethodId{40, 51});
        CHECK(spec::ExchangeUnbind::kId == spec::MethodId{40, 40});
        CHECK(spec::QueueUnbind::kId == spec::MethodId{50, 50});
        CHECK(spec::QueueUnbindOk::kId == spec::MethodId{50, 51});
        CHECK(spec::BasicNack::kId == spec::MethodId{60, 120});
        CHECK(spec::ConfirmSelect::kId == spec::MethodId{85, 10});
        CHECK(spec::method_name({40, 51}) == "exchange.unbind-ok");
        CHECK(spec::method_name({60, 99}).empty());
        CHECK(spec::to_string({60, 99}) == "unknown method (60, 99)");
        CHECK(std::variant_size_v<spec::Method> == 60);
        CHECK(spec::kProtocolHeader == std::string_view("AMQP\0\0\x09\x01", 8));
        CHECK(spec::kFrameEnd == 0xCE);
        CHECK(spec::is_hard_error(spec::kConnectionForced));
        CHECK_FALSE(spec::is_hard_error(spec::kNotFound));
    }

    TEST_CASE("method facts: synchronous replies, content and nowait") {
        const spec::MethodInfo* declare = spec::method_info(spec::QueueDeclare::kId);
        REQUIRE(declare != nullptr);
        CHECK(declare->name == "queue.declare");
        CHECK(declare->synchronous);
        CHECK(declare->has_nowait);
        CHECK_FALSE(declare->has_content);
        REQUIRE(declare->response_count == 1);
        CHECK(declare->responses[0] == spec::QueueDeclareOk::kId);

        const spec::MethodInfo* get = spec::method_info(spec::BasicGet::kId);
        REQUIRE(get->response_count == 2);
        CHECK(get->responses[0] == spec::BasicGetOk::kId);
        CHECK(get->responses[1] == spec::BasicGetEmpty::kId);

        const spec::MethodInfo* unbind = spec::method_info(spec::ExchangeUnbind::kId);
        CHECK(unbind->responses[0] == spec::MethodId{40, 51});

        for (auto id : {spec::BasicPublish::kId, spec::BasicDeliver::kId, spec::BasicReturn::kId,
                        spec::BasicGetOk::kId}) {
            CHECK(spec::method_info(id)->has_content);
        }
        CHECK(spec::BasicGetOk::kHasContent);
        CHECK_FALSE(spec::BasicAck::kHasContent);
        CHECK_FALSE(spec::method_info(spec::BasicAck::kId)->synchronous);
        CHECK(spec::method_info(spec::BasicConsume::kId)->has_nowait);
        CHECK_FALSE(spec::method_info(spec::BasicQos::kId)->has_nowait);
        CHECK(spec::method_info({60, 99}) == nullptr);

        // Every method of the variant is in the table, under its own id and name.
        size_t count = 0;
        for_each_method_type([&](auto type) {
            using M = typename decltype(type)::type;
            const spec::MethodInfo* info = spec::method_info(M::kId);
            REQUIRE(info != nullptr);
            CHECK(info->name == M::kName);
            CHECK(info->has_content == M::kHasContent);
            ++count;
        });
        CHECK(count == 60);
    }

    TEST_CASE("connection.start-ok encodes to the hand-checked bytes") {
        spec::ConnectionStartOk m;
        m.client_properties = FieldTable{{"product", "squall"}};
        m.mechanism = "PLAIN";
        m.response = std::string("\0guest\0guest", 12);
        m.locale = "en_US";
        std::string expected =
            bytes({0x00, 0x0a,    0x00, 0x0b,                                                 // (10, 11)
                   0,    0,       0,    19,   7, "product", 'S', 0,       0, 0, 6, "squall",  // table
                   5,    "PLAIN",                                                             // shortstr
                   0,    0,       0,    12,   0, "guest",   0,   "guest",                     // longstr
                   5,    "en_US"});
        CHECK(hex(payload_of(m)) == hex(expected));
        CHECK(spec::decode_method_as<spec::ConnectionStartOk>(expected) == m);
    }

    TEST_CASE("basic.publish encodes the reserved ticket as zero and packs mandatory/immediate bits") {
        spec::BasicPublish m{.exchange = "ex", .routing_key = "rk", .mandatory = true, .immediate = false};
        std::string expected = bytes({0x00, 0x3c, 0x00, 0x28, 0, 0, 2, "ex", 2, "rk", 0x01});
        CHECK(hex(payload_of(m)) == hex(expected));
        spec::BasicPublish both{.exchange = "", .routing_key = "", .mandatory = true, .immediate = true};
        CHECK(hex(payload_of(both)) == hex(bytes({0x00, 0x3c, 0x00, 0x28, 0, 0, 0, 0, 0x03})));
    }

    TEST_CASE("basic.deliver decodes from the hand-checked bytes") {
        std::string payload = bytes({0x00, 0x3c, 0x00, 0x3c, 4, "ctag", 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
                                     0x07, 0x08, 0x01, 0, 1, "q"});
        CHECK(spec::peek_method_id(payload) == spec::BasicDeliver::kId);
        spec::Method m = spec::decode_method(payload);
        auto* d = std::get_if<spec::BasicDeliver>(&m);
        REQUIRE(d != nullptr);
        CHECK(d->consumer_tag == "ctag");
        CHECK(d->delivery_tag == 0x0102030405060708ULL);
        CHECK(d->redelivered);
        CHECK(d->exchange.empty());
        CHECK(d->routing_key == "q");
        CHECK(payload_of(*d) == payload);
        CHECK(spec::method_id(m) == spec::MethodId{60, 60});
    }

    TEST_CASE("queue.declare-ok decodes from the hand-checked bytes") {
        std::string payload = bytes({0x00, 0x32, 0x00, 0x0b, 2, "q1", 0, 0, 0, 5, 0, 0, 1, 2});
        auto ok = spec::decode_method_as<spec::QueueDeclareOk>(payload);
        CHECK(ok.queue == "q1");
        CHECK(ok.message_count == 5);
        CHECK(ok.consumer_count == 258);
        CHECK(payload_of(ok) == payload);
    }

    TEST_CASE(
        "consecutive bits pack into one octet, least significant first; a reserved bit is written as zero") {
        // queue.declare: reserved short, queue, then five bits in one octet, then the table.
        spec::QueueDeclare m{.queue = "q",
                             .passive = false,
                             .durable = true,
                             .exclusive = false,
                             .auto_delete = true,
                             .no_wait = true,
                             .arguments = {}};
        CHECK(hex(payload_of(m)) == hex(bytes({0, 50, 0, 10, 0, 0, 1, "q", 0x02 | 0x08 | 0x10, 0, 0, 0, 0})));
        // connection.open: its reserved bit occupies an octet that is written as zero.
        CHECK(hex(payload_of(spec::ConnectionOpen{.virtual_host = "/"})) ==
              hex(bytes({0, 10, 0, 40, 1, "/", 0, 0})));
    }

    TEST_CASE("every method round trips through encode and decode with random field values") {
        squall::amqp::test::RandomFiller random(12345);
        for_each_method_type([&](auto type) {
            using M = typename decltype(type)::type;
            CAPTURE(M::kName);
            for (int i = 0; i < 20; ++i) {
                M m;
                random.fill(m);
                std::string payload = payload_of(m);
                CHECK(spec::peek_method_id(payload) == M::kId);
                spec::Method decoded = spec::decode_method(payload);
                REQUIRE(std::holds_alternative<M>(decoded));
                CHECK(std::get<M>(decoded) == m);
                CHECK(spec::decode_method_as<M>(payload) == m);

                std::string via_variant;
                spec::encode_method(via_variant, decoded);
                CHECK(via_variant == payload);

                // Every truncation and any trailing byte are FrameErrors.
                for (size_t n = 0; n < payload.size(); ++n) {
                    CHECK_THROWS_AS(spec::decode_method(std::string_view(payload).substr(0, n)), FrameError);
                }
                CHECK_THROWS_AS(spec::decode_method(payload + "x"), FrameError);
            }
        });
    }

    TEST_CASE("malformed method payloads give FrameError with the method and offset") {
        auto message_of = [](std::string_view payload) -> std::string {
            try {
                spec::decode_method(payload);
            } catch (const FrameError& e) {
                return e.what();
            }
            return "no error";
        };
        CHECK(message_of(bytes({0, 60, 0, 99})).find("unknown method (60, 99)") != std::string::npos);
        CHECK(message_of(bytes({0, 60})).find("truncated method id") != std::string::npos);
        std::string msg = message_of(bytes({0x00, 0x3c, 0x00, 0x3c, 4, "ct"}));
        CHECK(msg.find("basic.deliver") != std::string::npos);
        CHECK(msg.find("consumer-tag") != std::string::npos);
        CHECK(msg.find("at offset 5") != std::string::npos);
        std::string trailing =
            message_of(bytes({0x00, 0x14, 0x00, 0x0b, 0, 0, 0, 0, 'x'}));  // channel.open-ok
        CHECK(trailing.find("channel.open-ok: 1 unexpected trailing bytes at offset 8") != std::string::npos);
        CHECK_THROWS_WITH_AS(spec::decode_method_as<spec::BasicAck>(bytes({0, 60, 0, 60})),
                             doctest::Contains("expected basic.ack, got basic.deliver"), FrameError);
    }

    TEST_CASE("a short string argument over 255 bytes is a UsageError and leaves the buffer unchanged") {
        std::string out = "keep";
        CHECK_THROWS_AS(spec::encode_method(out, spec::QueueDeclare{.queue = std::string(256, 'q')}),
                        squall::UsageError);
        CHECK(out == "keep");
        spec::encode_method(out, spec::QueueDeclare{.queue = std::string(255, 'q')});
        CHECK(out.size() == 4 + 4 + 2 + 1 + 255 + 1 + 4);
    }

}  // TEST_SUITE
