// Utf8Validator: RFC 3629's rules, fed whole and in every split; the AVX2 path (pieces of 64 bytes or
// more) against an independent decoder on every byte pair and on random mixed-script texts.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "squall/websocket/utf8.hpp"

using squall::websocket::is_valid_utf8;
using squall::websocket::Utf8Validator;

namespace {

// Feeds `s` cut at `cut` and returns whether it is valid and complete.
bool valid_split(const std::string& s, std::size_t cut) {
    Utf8Validator v;
    return v.feed(std::string_view(s).substr(0, cut)) && v.feed(std::string_view(s).substr(cut)) &&
           v.complete();
}

}  // namespace

TEST_CASE("valid UTF-8: ASCII, 2/3/4-byte characters, the edges of each range, in every split") {
    const std::vector<std::string> valid = {
        "",
        "plain ascii",
        "\xc2\x80",          // U+0080
        "\xdf\xbf",          // U+07FF
        "\xe0\xa0\x80",      // U+0800
        "\xed\x9f\xbf",      // U+D7FF
        "\xee\x80\x80",      // U+E000
        "\xef\xbf\xbf",      // U+FFFF
        "\xf0\x90\x80\x80",  // U+10000
        "\xf4\x8f\xbf\xbf",  // U+10FFFF
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\x8a",
    };
    for (const auto& s : valid) {
        INFO(s);
        CHECK(is_valid_utf8(s));
        for (std::size_t cut = 0; cut <= s.size(); ++cut) CHECK(valid_split(s, cut));
    }
}

TEST_CASE("invalid UTF-8: overlongs, surrogates, above U+10FFFF, stray and missing continuations") {
    const std::vector<std::string> invalid = {
        "\x80",  // continuation without a lead
        "\xbf",
        "\xc0\x80",          // overlong NUL
        "\xc1\xbf",          // overlong
        "\xe0\x9f\xbf",      // overlong 3-byte
        "\xed\xa0\x80",      // U+D800 surrogate
        "\xed\xbf\xbf",      // U+DFFF
        "\xf0\x8f\xbf\xbf",  // overlong 4-byte
        "\xf4\x90\x80\x80",  // U+110000
        "\xf5\x80\x80\x80",
        "\xff",
        "\xc3",  // truncated
        "\xe2\x82",
        "\xc3\x28",  // bad continuation
        "ok\xe2\x28\xa1",
    };
    for (const auto& s : invalid) {
        INFO(s);
        CHECK_FALSE(is_valid_utf8(s));
        for (std::size_t cut = 0; cut <= s.size(); ++cut) CHECK_FALSE(valid_split(s, cut));
    }
}

TEST_CASE("long ASCII runs with one bad byte anywhere are caught by the 32-byte fast path") {
    std::string s(1000, 'a');
    CHECK(is_valid_utf8(s));
    for (std::size_t pos : {0u, 1u, 31u, 32u, 63u, 64u, 65u, 500u, 999u}) {
        std::string bad = s;
        bad[pos] = '\xff';
        INFO(pos);
        CHECK_FALSE(is_valid_utf8(bad));
        bad[pos] = '\xc3';  // lead byte followed by 'a'
        CHECK_FALSE(is_valid_utf8(bad));
    }
}

TEST_CASE("a failed validator stays failed") {
    Utf8Validator v;
    CHECK_FALSE(v.feed("\xff"));
    CHECK_FALSE(v.feed("fine"));
    CHECK_FALSE(v.complete());
    CHECK(v.failed());
}

namespace {

// An independent reading of RFC 3629 (decode each character, then judge its value), the oracle for the
// validator's register-at-a-time path.
bool reference_valid(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t length;
        std::uint32_t cp, min;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            length = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            length = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            length = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (s.size() - i < length) return false;
        for (std::size_t k = 1; k < length; ++k) {
            const auto d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xc0) != 0x80) return false;
            cp = cp << 6 | (d & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += length;
    }
    return true;
}

// Feeds s in pieces cut at the given offsets (ascending) and returns whether it is valid and complete.
bool valid_in_pieces(std::string_view s, const std::vector<std::size_t>& cuts) {
    Utf8Validator v;
    std::size_t from = 0;
    for (std::size_t cut : cuts) {
        if (!v.feed(s.substr(from, cut - from))) return false;
        from = cut;
    }
    return v.feed(s.substr(from)) && v.complete();
}

}  // namespace

TEST_CASE("every byte pair and every 3-byte lead sequence, at register and block edges, as RFC 3629 says") {
    // Positions around the 32-byte register and 64-byte step boundaries of a 160-byte text, and near its
    // end (where the tail is padded).
    std::string text(160, 'a');
    long mismatches = 0;
    for (std::size_t at : {0u, 30u, 31u, 32u, 63u, 64u, 95u, 157u, 158u}) {
        for (int b1 = 0; b1 < 256; ++b1) {
            for (int b2 = 0; b2 < 256; ++b2) {
                std::string s = text;
                s[at] = static_cast<char>(b1);
                s[at + 1] = static_cast<char>(b2);
                if (is_valid_utf8(s) != reference_valid(s)) ++mismatches;
                if (b1 < 0xe0 || b1 > 0xf4 || at + 3 >= s.size()) continue;
                for (int b3 : {0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0}) {
                    s[at + 2] = static_cast<char>(b3);
                    for (int b4 : {0x61, 0x80, 0xbf, 0xc0}) {
                        s[at + 3] = static_cast<char>(b4);
                        if (is_valid_utf8(s) != reference_valid(s)) ++mismatches;
                    }
                }
            }
        }
    }
    CHECK(mismatches == 0);
}

TEST_CASE("random mixed-script texts, valid and with one byte changed, whole and in random pieces") {
    std::uint64_t seed = 0x9e3779b97f4a7c15ull;
    auto next = [&seed] {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        return seed;
    };
    const std::vector<std::string> characters = {"a",
                                                 "Z",
                                                 " ",
                                                 "\xc3\xa9",
                                                 "\xdf\xbf",
                                                 "\xe2\x82\xac",
                                                 "\xed\x9f\xbf",
                                                 "\xef\xbf\xbf",
                                                 "\xf0\x9f\x8c\x8a",
                                                 "\xf4\x8f\xbf\xbf"};
    int valid_seen = 0, invalid_seen = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string s;
        const std::size_t length = next() % 700;
        while (s.size() < length) {
            // Mostly runs of one kind, so some 64-byte steps are all ASCII and some are not.
            const std::string& c = characters[next() % characters.size()];
            for (std::size_t k = next() % 40; k-- > 0;) s += c;
        }
        if (round % 2 == 1 && !s.empty()) s[next() % s.size()] = static_cast<char>(next() & 0xff);
        const bool expected = reference_valid(s);
        (expected ? valid_seen : invalid_seen) += 1;
        std::vector<std::size_t> cuts;
        for (std::size_t cut = 0; s.size() > 0 && cuts.size() < 4;) {
            cut += next() % (s.size() / 2 + 1);
            if (cut > s.size()) break;
            cuts.push_back(cut);
        }
        INFO("round ", round, " length ", s.size());
        REQUIRE(is_valid_utf8(s) == expected);
        REQUIRE(valid_in_pieces(s, cuts) == expected);
    }
    CHECK(valid_seen > 1000);
    CHECK(invalid_seen > 500);
}
