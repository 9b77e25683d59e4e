// Interop with py-amqp 5.1 (Debian's python3-amqp): its bytes decode to exactly the expected values here,
// and what we encode decodes in py-amqp to the expected Python repr. The letters where py-amqp and
// RabbitMQ disagree (field_table.hpp) are tested both ways. tests/amqp/pyamqp_codec.py is the Python side.
#include <doctest/doctest.h>

#include <string>

#include "codec_test_util.hpp"
#include "squall/amqp/field_table.hpp"
#include "squall/amqp/properties.hpp"

using namespace squall::amqp;
using squall::amqp::test::hex;
using squall::amqp::test::run_pyamqp;
using squall::amqp::test::unhex;

namespace {

// pyamqp_codec.py's TABLE as we decode it.
FieldTable expected_pyamqp_table() {
    return FieldTable{
        {"str", "hello w\xc3\xb6rld"},
        {"bytes", std::string("\x00\x01\xfe\xff", 4)},
        {"empty", ""},
        {"true", true},
        {"false", false},
        {"int", int32_t{-123456}},
        {"int_max", int32_t{2147483647}},
        {"int_min", int64_t{-2147483648LL}},  // py-amqp writes 'L' here
        {"big", int64_t{1} << 40},
        {"neg_big", -(int64_t{1} << 40)},
        {"float", 2.5},
        {"decimal", Decimal{2, -314}},
        {"timestamp", Timestamp{1672628645}},
        {"nested",
         FieldTable{{"a", int32_t{1}},
                    {"list", FieldArray{int32_t{1}, "two", FieldValue(), FieldTable{{"x", true}}}}}},
        {"array", FieldArray{int32_t{1}, 2.5, "three", FieldArray{}, FieldTable{}}},
        {"void", FieldValue()},
    };
}

// pyamqp_codec.py's PROPERTIES as we decode them.
BasicProperties expected_pyamqp_properties() {
    BasicProperties p;
    p.content_type = "application/json";
    p.content_encoding = "utf-8";
    p.headers = FieldTable{{"x-retry", int32_t{3}}, {"x-origin", "py-amqp"}, {"x-big", int64_t{1} << 40}};
    p.delivery_mode = 2;
    p.priority = 7;
    p.correlation_id = "corr-1";
    p.reply_to = "amq.rabbitmq.reply-to";
    p.expiration = "60000";
    p.message_id = "msg-42";
    p.timestamp = Timestamp{1672628645};
    p.type = "order.created";
    p.user_id = "guest";
    p.app_id = "squall-tests";
    p.cluster_id = "c1";
    return p;
}

// py-amqp bytes with its 'L' letters turned into RabbitMQ's 'l' after the given keys.
std::string with_rabbitmq_letters(std::string wire, std::initializer_list<std::string_view> keys) {
    for (std::string_view key : keys) {
        std::string from = std::string(1, static_cast<char>(key.size())) + std::string(key) + "L";
        size_t at = wire.find(from);
        REQUIRE(at != std::string::npos);
        wire[at + from.size() - 1] = 'l';
    }
    return wire;
}

std::string pyamqp_repr_of_table(const FieldTable& t) {
    std::string wire;
    encode_field_table(wire, t);
    return run_pyamqp("decode-table " + hex(wire));
}

}  // namespace

TEST_SUITE("amqp_codec") {
    TEST_CASE("a table of every type py-amqp writes decodes exactly") {
        std::string wire = unhex(run_pyamqp("encode-table"));
        REQUIRE_FALSE(wire.empty());
        FieldTable decoded = decode_field_table(wire);
        CHECK(decoded == expected_pyamqp_table());
        // Re-encoded, the bytes are py-amqp's except for its 'L' letters, which we write as RabbitMQ's 'l'.
        std::string ours;
        encode_field_table(ours, decoded);
        CHECK(hex(ours) == hex(with_rabbitmq_letters(wire, {"int_min", "big", "neg_big"})));
    }

    TEST_CASE("a full set of basic properties written by py-amqp decodes exactly") {
        std::string wire = unhex(run_pyamqp("encode-properties"));
        detail::Reader in(wire, "py-amqp properties");
        BasicProperties decoded = BasicProperties::decode(in);
        in.expect_end();
        CHECK(decoded == expected_pyamqp_properties());
        CHECK(decoded.flags() == 0xfffc);
        std::string ours;
        decoded.encode(ours);
        CHECK(hex(ours) == hex(with_rabbitmq_letters(wire, {"x-big"})));
    }

    TEST_CASE("py-amqp decodes our properties to the expected values") {
        std::string wire;
        expected_pyamqp_properties().encode(wire);
        CHECK(run_pyamqp("decode-properties " + hex(wire)) ==
              "{'content_type': 'application/json', 'content_encoding': 'utf-8', 'application_headers': "
              "{'x-retry': 3, 'x-origin': 'py-amqp', 'x-big': 1099511627776}, 'delivery_mode': 2, "
              "'priority': 7, "
              "'correlation_id': 'corr-1', 'reply_to': 'amq.rabbitmq.reply-to', 'expiration': '60000', "
              "'message_id': 'msg-42', 'timestamp': 1672628645, 'type': 'order.created', 'user_id': 'guest', "
              "'app_id': 'squall-tests', 'cluster_id': 'c1'}");
    }

    TEST_CASE("py-amqp decodes our tables of every letter it reads the way RabbitMQ does") {
        FieldTable t{
            {"t", true},
            {"b", int8_t{5}},
            {"B", uint8_t{100}},
            {"u", uint16_t{65535}},
            {"I", int32_t{-7}},
            {"i", uint32_t{4000000000u}},
            {"l", int64_t{1} << 40},
            {"f", 1.5f},
            {"d", -0.25},
            {"D", Decimal{3, 12345}},
            {"S", "text"},
            {"x", ByteArray{std::string("\x00\x01", 2)}},
            {"T", Timestamp{1672628645}},
            {"A", FieldArray{int32_t{1}, "a", FieldArray{FieldTable{}}}},
            {"F", FieldTable{{"k", FieldValue()}}},
            {"V", FieldValue()},
        };
        CHECK(
            pyamqp_repr_of_table(t) ==
            "{'t': True, 'b': 5, 'B': 100, 'u': 65535, 'I': -7, 'i': 4000000000, 'l': 1099511627776, 'f': "
            "1.5, "
            "'d': -0.25, 'D': Decimal('12.345'), 'S': 'text', 'x': b'\\x00\\x01', "
            "'T': datetime.datetime(2023, 1, 2, 3, 4, 5), 'A': [1, 'a', [{}]], 'F': {'k': None}, 'V': None}");
    }

    TEST_CASE("where py-amqp disagrees with RabbitMQ: b/B signedness swapped, l unsigned, s a short string") {
        // We follow RabbitMQ: b signed, B unsigned, l signed. py-amqp 5.1 reads them the other way round.
        FieldTable t{{"b", int8_t{-5}}, {"B", uint8_t{250}}, {"l", int64_t{-1}}};
        CHECK(pyamqp_repr_of_table(t) == "{'b': 251, 'B': -6, 'l': 18446744073709551615}");
        // RabbitMQ's 's' is a signed 16-bit integer; py-amqp reads a short string: 0x0141 becomes 'A'.
        CHECK(pyamqp_repr_of_table(FieldTable{{"s", int16_t{0x0141}}}) == "{'s': 'A'}");
        // The other direction: py-amqp writes 'L' for 64-bit integers, which we decode as int64 (RabbitMQ
        // itself only knows 'l'); covered by the py-amqp table test above ("big", "neg_big", "int_min").
    }

}  // TEST_SUITE
