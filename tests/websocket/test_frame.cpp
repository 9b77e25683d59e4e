// Frame headers and masking without sockets.
#include <doctest/doctest.h>

#include <string>

#include "squall/websocket/frame.hpp"

using namespace squall::websocket;

TEST_CASE("frame headers round-trip in the three length forms, and non-shortest lengths are refused") {
    for (std::uint64_t len : {0ull, 125ull, 126ull, 65535ull, 65536ull, 1ull << 40}) {
        FrameHeader h{.fin = false,
                      .rsv1 = true,
                      .opcode = Opcode::binary,
                      .masked = true,
                      .length = len,
                      .mask = {1, 2, 3, 4}};
        char buf[kMaxFrameHeaderSize];
        const std::size_t n = write_frame_header(buf, h);
        CHECK(n == (len < 126 ? 6u : len <= 0xffff ? 8u : 14u));
        FrameHeader back;
        CHECK(parse_frame_header(std::string_view(buf, n - 1), back) == 0);
        REQUIRE(parse_frame_header(std::string_view(buf, n), back) == n);
        CHECK(back.length == len);
        CHECK(back.rsv1);
        CHECK_FALSE(back.fin);
        CHECK(back.masked);
        CHECK(back.opcode == Opcode::binary);
        CHECK(back.mask == MaskKey{1, 2, 3, 4});
    }
    const char short_in_16[] = {'\x82', 126, 0, 5};
    FrameHeader h;
    CHECK(parse_frame_header(std::string_view(short_in_16, 4), h) == kInvalidHeader);
    const char top_bit[] = {'\x82', 127, '\x80', 0, 0, 0, 0, 0, 0, 1};
    CHECK(parse_frame_header(std::string_view(top_bit, 10), h) == kInvalidHeader);
}

TEST_CASE("masking in pieces at any offset equals masking in one go, and masking twice restores") {
    std::string data(1000, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + 3);
    const MaskKey key{0x12, 0x34, 0x56, 0x78};
    std::string whole = data;
    mask_in_place(whole.data(), whole.size(), key);
    for (std::size_t i = 0; i < data.size(); ++i)
        REQUIRE(static_cast<unsigned char>(whole[i]) == (static_cast<unsigned char>(data[i]) ^ key[i % 4]));
    for (std::size_t cut : {1u, 3u, 31u, 33u, 130u, 999u}) {
        std::string pieces = data;
        mask_in_place(pieces.data(), cut, key, 0);
        mask_in_place(pieces.data() + cut, pieces.size() - cut, key, cut);
        CHECK(pieces == whole);
        std::string copy(data.size(), '\0');
        mask_copy(copy.data(), data.data(), cut, key, 0);
        mask_copy(copy.data() + cut, data.data() + cut, data.size() - cut, key, cut);
        CHECK(copy == whole);
    }
    mask_in_place(whole.data(), whole.size(), key);
    CHECK(whole == data);
}

TEST_CASE("append_frame writes a masked client frame whose payload unmasks to the message") {
    std::string out;
    append_frame(out, {.opcode = Opcode::text}, "Hello", MaskKey{0x37, 0xfa, 0x21, 0x3d});
    // RFC 6455 5.7: a masked "Hello".
    CHECK(out == std::string("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11));
}

TEST_CASE("random_mask_key gives different keys") {
    auto a = random_mask_key();
    auto b = random_mask_key();
    auto c = random_mask_key();
    CHECK_FALSE((a == b && b == c));
}
