// Field tables and arrays: every type letter, nesting, order, and malformed input.
#include <doctest/doctest.h>

#include <string>

#include "codec_test_util.hpp"
#include "squall/amqp/errors.hpp"
#include "squall/amqp/field_table.hpp"

using namespace squall::amqp;
using squall::amqp::test::bytes;
using squall::amqp::test::hex;

namespace {

// A table body (without its length) wrapped as a wire table.
std::string table_bytes(const std::string& body) {
    std::string out;
    uint32_t n = static_cast<uint32_t>(body.size());
    out += static_cast<char>(n >> 24);
    out += static_cast<char>(n >> 16);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n);
    return out + body;
}

std::string encoded(const FieldTable& t) {
    std::string out;
    encode_field_table(out, t);
    return out;
}

std::string frame_error_of(std::string_view data) {
    try {
        decode_field_table(data);
    } catch (const FrameError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_SUITE("amqp_codec") {
    TEST_CASE("every RabbitMQ field type letter encodes to the hand-checked bytes and decodes back") {
        struct Case {
            FieldValue value;
            std::string wire;  // letter and value bytes
        };
        const Case cases[] = {
            {true, bytes({'t', 1})},
            {false, bytes({'t', 0})},
            {int8_t{-2}, bytes({'b', 0xfe})},
            {uint8_t{200}, bytes({'B', 200})},
            {int16_t{-2}, bytes({'s', 0xff, 0xfe})},
            {uint16_t{0xabcd}, bytes({'u', 0xab, 0xcd})},
            {int32_t{-2}, bytes({'I', 0xff, 0xff, 0xff, 0xfe})},
            {uint32_t{0xdeadbeef}, bytes({'i', 0xde, 0xad, 0xbe, 0xef})},
            {int64_t{-2}, bytes({'l', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe})},
            {1.5f, bytes({'f', 0x3f, 0xc0, 0, 0})},
            {-2.5, bytes({'d', 0xc0, 0x04, 0, 0, 0, 0, 0, 0})},
            {Decimal{2, -314}, bytes({'D', 2, 0xff, 0xff, 0xfe, 0xc6})},
            {"hi", bytes({'S', 0, 0, 0, 2, "hi"})},
            {ByteArray{std::string("\0\xff", 2)}, bytes({'x', 0, 0, 0, 2, 0, 0xff})},
            {Timestamp{1672628645}, bytes({'T', 0, 0, 0, 0, 0x63, 0xb2, 0x49, 0xa5})},
            {FieldValue(), bytes({'V'})},
            {FieldArray{int8_t{1}, "a"}, bytes({'A', 0, 0, 0, 8, 'b', 1, 'S', 0, 0, 0, 1, "a"})},
            {FieldTable{{"k", true}}, bytes({'F', 0, 0, 0, 4, 1, "k", 't', 1})},
        };
        for (const Case& c : cases) {
            CAPTURE(hex(c.wire));
            std::string out;
            encode_field_value(out, c.value);
            CHECK(hex(out) == hex(c.wire));
            CHECK(c.value.type_letter() == c.wire[0]);

            std::string table = table_bytes(bytes({1, "k"}) + c.wire);
            FieldTable decoded = decode_field_table(table);
            REQUIRE(decoded.size() == 1);
            CHECK(decoded.entries()[0].first == "k");
            CHECK(decoded.entries()[0].second == c.value);
            CHECK(encoded(decoded) == table);
        }
    }

    TEST_CASE(
        "letters only py-amqp or the 0-9-1 spec use decode: U as int16, L as int64, re-encoded as s and l") {
        std::string wire = table_bytes(bytes({1, "u", 'U', 0xff, 0xfe, 1, "L", 'L', 0, 0, 1, 0, 0, 0, 0, 0}));
        FieldTable t = decode_field_table(wire);
        CHECK(t.find("u")->as<int16_t>() == -2);
        CHECK(t.find("L")->as<int64_t>() == (int64_t{1} << 40));
        CHECK(hex(encoded(t)) ==
              hex(table_bytes(bytes({1, "u", 's', 0xff, 0xfe, 1, "L", 'l', 0, 0, 1, 0, 0, 0, 0, 0}))));
    }

    TEST_CASE("nested tables and arrays round trip and keep insertion order") {
        FieldTable inner{{"z", int32_t{1}},
                         {"a", FieldArray{FieldTable{{"deep", "yes"}}, FieldArray{}, FieldValue()}}};
        FieldTable t{
            {"zeta", inner}, {"alpha", "first?"}, {"mid", FieldArray{inner, inner}}, {"empty", FieldTable{}}};
        std::string wire = encoded(t);
        FieldTable back = decode_field_table(wire);
        CHECK(back == t);
        std::vector<std::string> keys;
        for (const auto& [k, v] : back) keys.push_back(k);
        CHECK(keys == std::vector<std::string>{"zeta", "alpha", "mid", "empty"});
        CHECK(back.find("zeta")
                  ->as<FieldTable>()
                  .find("a")
                  ->as<FieldArray>()[0]
                  .as<FieldTable>()
                  .find("deep")
                  ->as<std::string>() == "yes");
        CHECK(hex(encoded(FieldTable{})) == "00000000");
    }

    TEST_CASE("FieldTable set replaces, append keeps duplicates, find returns the first, erase removes all") {
        FieldTable t;
        t.set("a", int32_t{1});
        t.set("b", "x");
        t.set("a", int32_t{2});
        CHECK(t.size() == 2);
        CHECK(t.find("a")->as<int32_t>() == 2);
        t.append("a", int32_t{3});
        CHECK(t.size() == 3);
        CHECK(t.find("a")->as<int32_t>() == 2);
        CHECK(t.find("missing") == nullptr);
        CHECK_FALSE(t.contains("missing"));
        CHECK(t.erase("a") == 2);
        CHECK(t.size() == 1);

        // A decoded table keeps the peer's duplicates, in order.
        FieldTable d = decode_field_table(table_bytes(bytes({1, "k", 't', 1, 1, "k", 't', 0})));
        CHECK(d.size() == 2);
        CHECK(d.find("k")->as<bool>() == true);
    }

    TEST_CASE("FieldValue API: as_integer, is, get_if, string constructors") {
        CHECK(FieldValue(int8_t{-3}).as_integer() == -3);
        CHECK(FieldValue(uint32_t{4000000000u}).as_integer() == 4000000000LL);
        CHECK(FieldValue(int64_t{-1}).as_integer() == -1);
        CHECK_FALSE(FieldValue(true).as_integer().has_value());
        CHECK_FALSE(FieldValue("1").as_integer().has_value());
        CHECK(FieldValue("text").is<std::string>());  // not bool
        CHECK(FieldValue(std::string_view("sv")).as<std::string>() == "sv");
        CHECK(FieldValue().is_void());
        CHECK(FieldValue(2.0).get_if<double>() != nullptr);
        CHECK(FieldValue(2.0).get_if<float>() == nullptr);
        CHECK_THROWS_AS(FieldValue(1.0).as<std::string>(), std::bad_variant_access);
        CHECK(FieldValue(int32_t{1}) != FieldValue(int64_t{1}));  // the type is part of the value
    }

    TEST_CASE("a non-zero boolean octet decodes as true") {
        FieldTable t = decode_field_table(table_bytes(bytes({1, "k", 't', 7})));
        CHECK(t.find("k")->as<bool>() == true);
    }

    TEST_CASE("malformed field tables give FrameError saying what and where") {
        SUBCASE("unknown type letter") {
            std::string msg = frame_error_of(table_bytes(bytes({1, "k", 'Q', 0, 0})));
            CHECK(msg.find("unknown field type letter 'Q'") != std::string::npos);
            CHECK(msg.find("at offset 6") != std::string::npos);
            CHECK(frame_error_of(table_bytes(bytes({1, "k", 0x00}))).find("byte 0") != std::string::npos);
        }
        SUBCASE("table length beyond the input") {
            std::string msg = frame_error_of(bytes({0, 0, 0, 9, 1, "k", 'V'}));
            CHECK(msg.find("field table length 9 exceeds the 3 bytes left") != std::string::npos);
            CHECK(msg.find("at offset 0") != std::string::npos);
        }
        SUBCASE("truncated length prefix") {
            CHECK(frame_error_of(bytes({0, 0})).find("truncated field table: need 4 bytes, 2 left") !=
                  std::string::npos);
            CHECK(frame_error_of("").find("truncated") != std::string::npos);
        }
        SUBCASE("a long string running past the table") {
            std::string msg = frame_error_of(table_bytes(bytes({1, "k", 'S', 0, 0, 0, 200, "abc"})));
            CHECK(msg.find("truncated long string field: need 200 bytes, 3 left") != std::string::npos);
        }
        SUBCASE("a value overrunning its table's declared length") {
            // The table says 3 bytes but its only entry needs 4; the byte exists in the buffer after it.
            std::string data = bytes({0, 0, 0, 3, 1, "k", 't', 1});
            std::string msg = frame_error_of(data);
            CHECK(msg.find("overruns the field table length 3") != std::string::npos);
        }
        SUBCASE("nested array length beyond its parent") {
            std::string data = table_bytes(bytes({1, "a", 'A', 0, 0, 0, 50, 'V'}));
            CHECK(frame_error_of(data).find("field array length 50 exceeds") != std::string::npos);
        }
        SUBCASE("key length beyond the table") {
            CHECK(frame_error_of(table_bytes(bytes({9, "k"}))).find("truncated field table key") !=
                  std::string::npos);
        }
        SUBCASE("trailing bytes after the table") {
            CHECK(frame_error_of(table_bytes("") + "x").find("1 unexpected trailing bytes") !=
                  std::string::npos);
            size_t used = 0;
            CHECK(decode_field_table(table_bytes("") + "x", &used).empty());
            CHECK(used == 4);
        }
        SUBCASE("every truncation of a valid table") {
            FieldTable t{
                {"s", "str"}, {"n", FieldTable{{"a", FieldArray{int64_t{5}, Decimal{1, 2}}}}}, {"d", 1.0}};
            std::string wire = encoded(t);
            for (size_t n = 0; n < wire.size(); ++n) {
                CAPTURE(n);
                CHECK_THROWS_AS(decode_field_table(std::string_view(wire).substr(0, n)), FrameError);
            }
        }
    }

    TEST_CASE("nesting deeper than kMaxFieldNesting is refused when decoding and encoding") {
        FieldValue v = "leaf";
        for (int i = 0; i < kMaxFieldNesting + 5; ++i) v = FieldTable{{"n", v}};
        FieldTable deep{{"n", v}};
        std::string out = "keep";
        CHECK_THROWS_AS(encode_field_table(out, deep), squall::UsageError);
        CHECK(out == "keep");  // unchanged on error

        // Hand-build the same nesting on the wire: F inside F inside F ...
        std::string wire = bytes({'S', 0, 0, 0, 1, "x"});
        for (int i = 0; i < kMaxFieldNesting + 5; ++i)
            wire = bytes({'F'}) + table_bytes(bytes({1, "n"}) + wire);
        wire = table_bytes(bytes({1, "n"}) + wire);
        try {
            decode_field_table(wire);
            FAIL("no error");
        } catch (const FrameError& e) {
            CHECK(std::string(e.what()).find("nested too deep") != std::string::npos);
        }

        // At the limit itself it works.
        FieldValue ok = "leaf";
        for (int i = 0; i < kMaxFieldNesting - 1; ++i) ok = FieldTable{{"n", ok}};
        FieldTable at_limit{{"n", ok}};
        CHECK(decode_field_table(encoded(at_limit)) == at_limit);
    }

    TEST_CASE("encoding a key over 255 bytes is a UsageError and leaves the buffer unchanged") {
        std::string out = "prefix";
        CHECK_THROWS_AS(encode_field_table(out, FieldTable{{std::string(256, 'k'), true}}),
                        squall::UsageError);
        CHECK(out == "prefix");
    }

}  // TEST_SUITE
