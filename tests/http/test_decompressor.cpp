// Decompressor: gzip and deflate (zlib-wrapped and raw) fed in pieces, bombs and corrupt data.
#include <doctest/doctest.h>
#include <zlib.h>

#include <random>
#include <string>

#include "squall/httpclient/decompressor.hpp"
#include "squall/httpclient/errors.hpp"

using namespace squall::http;

namespace {

// window_bits: 16+15 gzip, 15 zlib, -15 raw deflate.
std::string compress(std::string_view data, int window_bits) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, data.size()) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::string sample() {
    std::string s;
    std::mt19937 rng(7);
    for (int i = 0; i < 20000; ++i) s += "word" + std::to_string(rng() % 500) + " ";
    return s;
}

std::string inflate_in_pieces(ContentEncoding e, std::string_view data, std::size_t piece,
                              DecompressorOptions options = {}) {
    std::string out;
    Decompressor d(e, options, [&](std::string_view s) { out += s; });
    for (std::size_t i = 0; i < data.size(); i += piece) d.feed(data.substr(i, piece));
    d.finish();
    return out;
}

}  // namespace

TEST_SUITE("http_parse") {
    TEST_CASE("encoding_of recognises gzip, x-gzip and deflate only") {
        CHECK(Decompressor::encoding_of("gzip") == ContentEncoding::gzip);
        CHECK(Decompressor::encoding_of(" X-GZIP ") == ContentEncoding::gzip);
        CHECK(Decompressor::encoding_of("Deflate") == ContentEncoding::deflate);
        CHECK_FALSE(Decompressor::encoding_of("br").has_value());
        CHECK_FALSE(Decompressor::encoding_of("identity").has_value());
        CHECK_FALSE(Decompressor::encoding_of("gzip, deflate").has_value());
    }

    TEST_CASE("gzip, zlib-wrapped deflate and raw deflate decode whole and in small pieces") {
        const std::string text = sample();
        struct Case {
            ContentEncoding encoding;
            int window_bits;
        };
        for (Case c : {Case{ContentEncoding::gzip, 16 + 15}, Case{ContentEncoding::deflate, 15},
                       Case{ContentEncoding::deflate, -15}}) {
            std::string packed = compress(text, c.window_bits);
            CHECK(packed.size() < text.size() / 2);
            for (std::size_t piece :
                 {packed.size(), std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{4096}}) {
                CHECK(inflate_in_pieces(c.encoding, packed, piece) == text);
            }
        }
    }

    TEST_CASE("concatenated gzip members decode as one body") {
        std::string packed = compress("first ", 16 + 15) + compress("second", 16 + 15);
        CHECK(inflate_in_pieces(ContentEncoding::gzip, packed, packed.size()) == "first second");
        CHECK(inflate_in_pieces(ContentEncoding::gzip, packed, 3) == "first second");
    }

    TEST_CASE("an empty body is accepted; total_in and total_out are counted") {
        Decompressor d(ContentEncoding::gzip, {}, [](std::string_view) {});
        d.finish();
        CHECK(d.total_out() == 0);
        std::string packed = compress("abc", 16 + 15);
        std::string out;
        Decompressor e(ContentEncoding::gzip, {}, [&](std::string_view s) { out += s; });
        e.feed(packed);
        e.finish();
        CHECK(e.total_in() == packed.size());
        CHECK(e.total_out() == 3);
    }

    TEST_CASE("a decompression bomb stops at max_output_size") {
        std::string zeros(10 * 1024 * 1024, '\0');
        std::string packed = compress(zeros, 16 + 15);
        CHECK(packed.size() < 20 * 1024);
        std::size_t delivered = 0;
        Decompressor d(ContentEncoding::gzip, {.max_output_size = 1024 * 1024},
                       [&](std::string_view s) { delivered += s.size(); });
        CHECK_THROWS_WITH_AS(d.feed(packed), doctest::Contains("exceeds max_output_size of 1048576 bytes"),
                             ProtocolError);
        CHECK(delivered <= 1024 * 1024);
        // Exactly at the limit is fine.
        CHECK(inflate_in_pieces(ContentEncoding::gzip, compress(std::string(1000, 'a'), 16 + 15), 100,
                                {.max_output_size = 1000})
                  .size() == 1000);
    }

    TEST_CASE("corrupt, truncated and trailing data are ProtocolErrors") {
        std::string packed = compress(sample(), 16 + 15);
        std::string corrupt = packed;
        corrupt[corrupt.size() / 2] ^= 0x55;
        corrupt[corrupt.size() / 2 + 1] ^= 0x55;
        CHECK_THROWS_AS(inflate_in_pieces(ContentEncoding::gzip, corrupt, 100), ProtocolError);
        CHECK_THROWS_WITH_AS(
            inflate_in_pieces(ContentEncoding::gzip, packed.substr(0, packed.size() - 10), 100),
            doctest::Contains("truncated gzip"), ProtocolError);
        CHECK_THROWS_AS(inflate_in_pieces(ContentEncoding::gzip, "not gzip at all", 3), ProtocolError);
        std::string deflated = compress("abc", 15) + "junk";
        CHECK_THROWS_WITH_AS(inflate_in_pieces(ContentEncoding::deflate, deflated, 1000),
                             doctest::Contains("after the end"), ProtocolError);
        CHECK_THROWS_WITH_AS(inflate_in_pieces(ContentEncoding::deflate, deflated, 1),
                             doctest::Contains("after the end"), ProtocolError);
        // gzip followed by garbage that is not another member.
        CHECK_THROWS_AS(inflate_in_pieces(ContentEncoding::gzip, compress("abc", 16 + 15) + "junk", 1000),
                        ProtocolError);
    }

    TEST_CASE("fuzz: random bytes and mutated streams never crash") {
        std::mt19937 rng(99);
        std::string packed = compress(sample().substr(0, 5000), 16 + 15);
        for (int i = 0; i < 500; ++i) {
            std::string input;
            if (i % 2 == 0) {
                input.resize(rng() % 300);
                for (char& c : input) c = static_cast<char>(rng());
            } else {
                input = packed;
                for (int m = 0; m < 3; ++m) input[rng() % input.size()] = static_cast<char>(rng());
            }
            for (ContentEncoding e : {ContentEncoding::gzip, ContentEncoding::deflate}) {
                try {
                    inflate_in_pieces(e, input, 1 + rng() % 50, {.max_output_size = 64 * 1024});
                } catch (const ProtocolError&) {
                }
            }
        }
    }

}  // TEST_SUITE
