// Helpers shared by the amqp_codec test files: byte literals, hex, running the py-amqp helper script, and a
// BasicProperties with every property set (also the broker tests' round trip).
#pragma once

#include <cstdio>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

#include "squall/amqp/field_table.hpp"
#include "squall/amqp/properties.hpp"

namespace squall::amqp::test {

// Bytes from a list of octets (ints) and strings, e.g. bytes({0x00, 0x0a, "PLAIN"}).
struct Piece {
    Piece(int octet) : text(1, static_cast<char>(octet)) {}
    Piece(const char* s) : text(s) {}
    Piece(std::string s) : text(std::move(s)) {}
    std::string text;
};
inline std::string bytes(std::initializer_list<Piece> pieces) {
    std::string out;
    for (const Piece& p : pieces) out += p.text;
    return out;
}

inline std::string hex(std::string_view data) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : data) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

inline std::string unhex(std::string_view text) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        throw std::runtime_error("bad hex digit");
    };
    std::string out;
    for (size_t i = 0; i + 1 < text.size(); i += 2) {
        out += static_cast<char>(nibble(text[i]) * 16 + nibble(text[i + 1]));
    }
    return out;
}

// Runs tests/amqp/pyamqp_codec.py with Debian's interpreter (which has python3-amqp) and returns its
// stdout without the trailing newline. Throws when the script fails: a missing py-amqp fails the test.
inline std::string run_pyamqp(const std::string& args) {
    std::string cmd = "/usr/bin/python3 " SQUALL_SOURCE_DIR "/tests/amqp/pyamqp_codec.py " + args;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (!pipe) throw std::runtime_error("popen failed: " + cmd);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    int status = ::pclose(pipe);
    if (status != 0)
        throw std::runtime_error("py-amqp helper failed (status " + std::to_string(status) + "): " + cmd);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

// All 14 basic properties set, the header table with values of several types. user_id is "guest", the
// user the tests connect as (the broker refuses a message whose user_id is not the connection's).
inline BasicProperties every_property() {
    BasicProperties p;
    p.content_type = "application/json";
    p.content_encoding = "utf-8";
    p.headers = FieldTable{{"s", "str"},
                           {"i", int32_t{-5}},
                           {"l", int64_t{1} << 40},
                           {"b", true},
                           {"d", 2.5},
                           {"t", FieldTable{{"nested", int8_t{1}}}},
                           {"a", FieldArray{int32_t{1}, "two"}},
                           {"ts", Timestamp{1700000000}},
                           {"x", ByteArray{std::string("\0\1", 2)}}};
    p.delivery_mode = kDeliveryModePersistent;
    p.priority = 3;
    p.correlation_id = "corr";
    p.reply_to = "reply.q";
    p.expiration = "60000";
    p.message_id = "mid-1";
    p.timestamp = Timestamp{1700000001};
    p.type = "kind";
    p.user_id = "guest";
    p.app_id = "squall-tests";
    p.cluster_id = "cluster";
    return p;
}

}  // namespace squall::amqp::test
