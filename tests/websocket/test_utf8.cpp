// Utf8Validator: RFC 3629's rules, fed whole and in every split.
#include <doctest/doctest.h>

#include <string>
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
