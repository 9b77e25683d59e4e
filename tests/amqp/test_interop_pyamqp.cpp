// Interop through a real RabbitMQ with py-amqp 5.1 (Debian's python3-amqp; tests/amqp/pyamqp_interop.py is
// the Python side): messages py-amqp publishes (all 14 properties, a header table of every type it writes,
// empty and multi-frame bodies) reach squall byte-exact, and squall's (every table letter squall writes)
// reach py-amqp byte-exact: the property bytes py-amqp receives are the ones squall encoded, and py-amqp
// decodes them to the expected Python values.
#include <doctest/doctest.h>

#include <cstdio>
#include <squall/testing.hpp>
#include <string>
#include <vector>

#include "squall/amqp/amqp.hpp"
#include "squall/ioloop/async.hpp"
#include "tests/amqp/amqp_test_util.hpp"

using namespace squall::amqp::test;

namespace {

std::string to_hex(std::string_view data) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    out.reserve(data.size() * 2);
    for (unsigned char c : data) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

// Runs pyamqp_interop.py with Debian's interpreter and returns its stdout lines. A failing script (or a
// missing python3-amqp) fails the test with its exit status.
std::vector<std::string> run_interop_script(const std::string& args) {
    std::string cmd = "/usr/bin/python3 " SQUALL_SOURCE_DIR "/tests/amqp/pyamqp_interop.py " + args;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    REQUIRE_MESSAGE(pipe != nullptr, "popen failed: " << cmd);
    std::string out;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    int status = ::pclose(pipe);
    REQUIRE_MESSAGE(status == 0, "py-amqp helper failed (status " << status << "): " << cmd);
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < out.size()) {
        size_t end = out.find('\n', start);
        if (end == std::string::npos) end = out.size();
        lines.push_back(out.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

// What pyamqp_interop.py's `receive` printed for one message.
struct Received {
    std::string body_hex, props_hex, repr;
};
Received parse_received(const std::string& line) {
    auto body = line.find("body="), props = line.find(" props="), repr = line.find(" repr=");
    REQUIRE_MESSAGE((body == 0 && props != std::string::npos && repr != std::string::npos), line);
    return {line.substr(5, props - 5), line.substr(props + 7, repr - props - 7), line.substr(repr + 6)};
}

std::string bytes_0_to_255() {
    std::string s(256, '\0');
    for (int i = 0; i < 256; ++i) s[static_cast<size_t>(i)] = static_cast<char>(i);
    return s;
}

// pyamqp_interop.py's big_body(): 300,000 bytes, several body frames.
std::string big_body() {
    std::string s(300000, '\0');
    for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>((i * 7 + (i >> 8)) & 0xFF);
    return s;
}

// pyamqp_interop.py's HEADERS as squall decodes them: py-amqp writes str and bytes as 'S', ints as 'I' or
// 'L' (int64), floats as 'd', Decimal 'D', datetime 'T' (UTC seconds).
FieldTable expected_pyamqp_headers() {
    return FieldTable{
        {"str", "h\xc3\xa9llo \xe2\x98\x83"},
        {"bytes", bytes_0_to_255()},
        {"empty", ""},
        {"true", true},
        {"false", false},
        {"int", int32_t{-123456}},
        {"int_max", int32_t{2147483647}},
        {"big", int64_t{1} << 40},
        {"neg_big", -(int64_t{1} << 53)},
        {"float", -1.5e300},
        {"decimal", Decimal{2, 12345}},
        {"timestamp", Timestamp{1709251198}},
        {"table",
         FieldTable{{"inner", FieldTable{{"deep", FieldArray{int32_t{1}, "x", FieldValue()}}}}, {"k", "v"}}},
        {"array", FieldArray{true, int32_t{7}, 2.5, "s", std::string("\x00\xff", 2), Decimal{1, -5},
                             Timestamp{1000000000}, FieldArray{}, FieldTable{}}},
        {"void", FieldValue()},
    };
}

// The first message of pyamqp_interop.py's MESSAGES, as squall decodes it.
BasicProperties expected_pyamqp_properties() {
    BasicProperties p;
    p.content_type = "application/x-test; charset=binary";
    p.content_encoding = "identity";
    p.headers = expected_pyamqp_headers();
    p.delivery_mode = 2;
    p.priority = 9;
    p.correlation_id = "corr-\xc3\xa9";
    p.reply_to = "reply.queue";
    p.expiration = "3600000";
    p.message_id = "id-" + std::string(200, 'm');
    p.timestamp = Timestamp{1709251198};
    p.type = "interop.full";
    p.user_id = "guest";
    p.app_id = "py-amqp";
    p.cluster_id = "cluster-7";
    return p;
}

// py-amqp's property bytes with its 'L' letter (64-bit integer) after `key` replaced by RabbitMQ's 'l',
// which is what squall writes for the same value.
std::string with_rabbitmq_letter(std::string hex_props, std::string_view key) {
    std::string from = to_hex(std::string(1, static_cast<char>(key.size())) + std::string(key) + "L");
    size_t at = hex_props.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, "no 'L' value for " << key);
    hex_props.replace(at + from.size() - 2, 2, to_hex("l"));
    return hex_props;
}

// Field by field, so a failure names the property.
void check_properties(const BasicProperties& got, const BasicProperties& want) {
    CHECK(got.content_type == want.content_type);
    CHECK(got.content_encoding == want.content_encoding);
    REQUIRE(got.headers.has_value() == want.headers.has_value());
    if (want.headers) {
        REQUIRE(got.headers->size() == want.headers->size());
        auto g = got.headers->begin();
        for (const auto& entry : *want.headers) {  // no structured binding: CHECK_MESSAGE is a lambda
            CHECK(g->first == entry.first);
            CHECK_MESSAGE(g->second == entry.second, "header " << entry.first << ": letter "
                                                               << g->second.type_letter() << ", want "
                                                               << entry.second.type_letter());
            ++g;
        }
    }
    CHECK(got.delivery_mode == want.delivery_mode);
    CHECK(got.priority == want.priority);
    CHECK(got.correlation_id == want.correlation_id);
    CHECK(got.reply_to == want.reply_to);
    CHECK(got.expiration == want.expiration);
    CHECK(got.message_id == want.message_id);
    CHECK(got.timestamp == want.timestamp);
    CHECK(got.type == want.type);
    CHECK(got.user_id == want.user_id);
    CHECK(got.app_id == want.app_id);
    CHECK(got.cluster_id == want.cluster_id);
    CHECK(got == want);
}

// Every letter squall encodes (field_table.hpp). Where py-amqp reads a letter differently from RabbitMQ
// (b and B signedness swapped, l unsigned, s a short string) the values are chosen so py-amqp stays in
// step and the difference shows in its repr.
FieldTable squall_headers() {
    return FieldTable{
        {"t", true},
        {"b", int8_t{-5}},
        {"B", uint8_t{250}},
        {"s", int16_t{0x0141}},  // py-amqp: the short string 'A'
        {"u", uint16_t{65535}},
        {"I", int32_t{-2147483647 - 1}},
        {"i", uint32_t{4000000000u}},
        {"l", int64_t{1} << 40},
        {"l_neg", int64_t{-1}},
        {"f", 1.5f},
        {"d", -0.25},
        {"D", Decimal{3, 12345}},
        {"S", "\xe2\x82\xac uro"},
        {"x", ByteArray{std::string("\x00\x01\xff", 3)}},
        {"T", Timestamp{1700000000}},
        {"A", FieldArray{int32_t{1}, "a", FieldArray{FieldTable{}}, true}},
        {"F", FieldTable{{"k", FieldValue()}, {"n", FieldTable{{"deep", int64_t{-7}}}}}},
        {"V", FieldValue()},
    };
}

BasicProperties squall_properties() {
    BasicProperties p;
    p.content_type = "application/json";
    p.content_encoding = "gzip";
    p.headers = squall_headers();
    p.delivery_mode = kDeliveryModePersistent;
    p.priority = 4;
    p.correlation_id = "corr-squall";
    p.reply_to = "reply.squall";  // amq.rabbitmq.reply-to would need a direct reply-to consumer
    p.expiration = "60000";
    p.message_id = std::string(255, 'z');
    p.timestamp = Timestamp{1700000001};
    p.type = "interop.squall";
    p.user_id = "guest";  // RabbitMQ checks it against the login
    p.app_id = "squall";
    p.cluster_id = "c";
    return p;
}

std::string encoded(const BasicProperties& p) {
    std::string out;
    p.encode(out);
    return to_hex(out);
}

}  // namespace

TEST_SUITE("amqp") {
    SQUALL_TEST_CASE("py-amqp's messages reach squall byte-exact: bodies, 14 properties, every header type",
                     60s) {
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        std::string queue = unique_name("interop-from-pyamqp");
        QueueDeclareOptions declare{.auto_delete = false};
        co_await ch->queue_declare(queue, std::move(declare));

        // py-amqp publishes (with confirms) and prints the property bytes it wrote for each message.
        std::vector<std::string> sent = run_interop_script("publish " + url + " " + queue);
        REQUIRE(sent.size() == 3);

        auto consumer = co_await ch->consume(queue);
        Delivery full = co_await consumer->next();
        Delivery empty = co_await consumer->next();
        Delivery big = co_await consumer->next();
        for (Delivery* m : {&full, &empty, &big}) ch->basic_ack(m->delivery_tag);

        std::string body(bytes_0_to_255());
        CHECK(full.body == body + body + body + body);
        check_properties(full.properties, expected_pyamqp_properties());
        // Re-encoded, the bytes are py-amqp's but for its 'L' letters, which squall writes as RabbitMQ's 'l'.
        CHECK(encoded(full.properties) ==
              with_rabbitmq_letter(with_rabbitmq_letter(sent[0], "big"), "neg_big"));

        CHECK(empty.body.empty());
        check_properties(empty.properties, BasicProperties{});
        CHECK(encoded(empty.properties) == sent[1]);

        CHECK(big.body.size() == 300000u);
        CHECK(big.body == big_body());
        BasicProperties big_props;
        big_props.content_type = "application/octet-stream";
        big_props.priority = 0;
        check_properties(big.properties, big_props);
        CHECK(encoded(big.properties) == sent[2]);

        co_await ch->queue_delete(queue);
        co_await conn->close();
    }

    SQUALL_TEST_CASE("squall's messages reach py-amqp byte-exact and decode to the expected values", 60s) {
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        std::string queue = unique_name("interop-to-pyamqp");
        QueueDeclareOptions declare{.auto_delete = false};
        co_await ch->queue_declare(queue, std::move(declare));
        co_await ch->confirm_select();

        BasicProperties full = squall_properties();
        BasicProperties big_props;
        big_props.content_type = "application/octet-stream";
        std::string body = bytes_0_to_255();
        co_await ch->basic_publish("", queue, body, full);
        co_await ch->basic_publish("", queue, "");
        co_await ch->basic_publish("", queue, big_body(), big_props);

        std::vector<std::string> got = run_interop_script("receive " + url + " " + queue + " 3");
        REQUIRE(got.size() == 3);
        Received r0 = parse_received(got[0]), r1 = parse_received(got[1]), r2 = parse_received(got[2]);

        CHECK(r0.body_hex == to_hex(body));
        CHECK(r0.props_hex == encoded(full));  // the broker forwarded squall's bytes unchanged
        CHECK(r0.repr ==
              "{'content_type': 'application/json', 'content_encoding': 'gzip', 'application_headers': "
              "{'t': True, 'b': 251, 'B': -6, 's': 'A', 'u': 65535, 'I': -2147483648, 'i': 4000000000, "
              "'l': 1099511627776, 'l_neg': 18446744073709551615, 'f': 1.5, 'd': -0.25, "
              "'D': Decimal('12.345'), 'S': '\xe2\x82\xac uro', 'x': b'\\x00\\x01\\xff', "
              "'T': datetime.datetime(2023, 11, 14, 22, 13, 20), 'A': [1, 'a', [{}], True], "
              "'F': {'k': None, 'n': {'deep': 18446744073709551609}}, 'V': None}, 'delivery_mode': 2, "
              "'priority': 4, 'correlation_id': 'corr-squall', 'reply_to': 'reply.squall', "
              "'expiration': '60000', 'message_id': '" +
                  std::string(255, 'z') +
                  "', 'timestamp': 1700000001, 'type': 'interop.squall', 'user_id': 'guest', "
                  "'app_id': 'squall', 'cluster_id': 'c'}");

        CHECK(r1.body_hex.empty());
        CHECK(r1.props_hex == "0000");
        CHECK(r1.repr == "{}");

        CHECK(r2.body_hex == to_hex(big_body()));
        CHECK(r2.props_hex == encoded(big_props));
        CHECK(r2.repr == "{'content_type': 'application/octet-stream'}");

        co_await ch->queue_delete(queue);
        co_await conn->close();
    }
}
