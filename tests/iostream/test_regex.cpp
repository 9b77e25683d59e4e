// StreamRegex / StreamingSearch / DelimiterSearch: incremental results equal one-shot ones, resumption
// after partial matches, linear work for trickled input, and clear errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "squall/iostream/buffer.hpp"
#include "squall/iostream/regex.hpp"

using squall::DelimiterSearch;
using squall::RegexError;
using squall::StreamingSearch;
using squall::StreamRegex;
using Match = std::optional<std::pair<size_t, size_t>>;

namespace {

const std::vector<std::string> kPatterns = {
    "\\r?\\n\\r?\\n",
    "abc\\d+;",
    "a+b",
    "(foo|foobar)baz",
    "\\bword\\b",
    "x{3,5}y",
    "[0-9]+\\r\\n",
    "(?<=:)\\d+;",
    "end$",
    "(?m)^end$",
    "b(?=az)",
    "ab|bc|cd",
    "z*;",
    "[^\\n]{5}\\n",
    "(ab)+c",
    "\\d{2,}(?!\\d)",
};
const std::string kAlphabet = "ab\r\n0123;:xyfoobarzwdenc ";

std::string random_text(std::mt19937& rng, size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) {
        // Sometimes whole words, so multi-character patterns actually occur.
        if (rng() % 6 == 0) {
            static const char* const kWords[] = {"foobarbaz", "word", "abc12;", "xxxxy",
                                                 "\r\n\r\n",  ":42;", "end"};
            s += kWords[rng() % 7];
        } else {
            s += kAlphabet[rng() % kAlphabet.size()];
        }
    }
    return s;
}

// What a fresh search of the buffer from offset 0 reports: the reference the incremental one must equal.
Match fresh_search(const std::shared_ptr<StreamRegex>& re, std::string_view buffer) {
    StreamingSearch s(re);
    return s.search(buffer);
}

// Feeds text in pieces whose sizes come from next_piece; returns the first match and the prefix length
// at which it was found.
template <typename NextPiece>
std::pair<Match, size_t> feed(const std::shared_ptr<StreamRegex>& re, const std::string& text,
                              NextPiece next_piece) {
    StreamingSearch search(re);
    squall::Buffer buf;
    size_t fed = 0;
    while (fed < text.size()) {
        const size_t n = std::min(next_piece(), text.size() - fed);
        buf.append(std::string_view(text).substr(fed, n));
        fed += n;
        Match m = search.search(buf.view());
        // Never behind a fresh search of the same bytes: nothing skipped, nothing invented.
        REQUIRE(m == fresh_search(re, buf.view()));
        if (m) {
            // A complete hard match is also what a plain one-shot search finds.
            REQUIRE(m == re->search(buf.view()));
            return {m, fed};
        }
        REQUIRE(search.resume_offset() <= buf.size());
    }
    return {std::nullopt, fed};
}

}  // namespace

TEST_CASE("StreamingSearch finds the same match for 1-byte feeds, random splits and one burst") {
    for (const auto& pattern : kPatterns) {
        CAPTURE(pattern);
        auto re = std::make_shared<StreamRegex>(pattern);
        for (unsigned seed = 1; seed <= 40; ++seed) {
            std::mt19937 rng(seed);
            const std::string text = random_text(rng, 10 + rng() % 200);
            CAPTURE(text);
            auto [one_byte, at1] = feed(re, text, [] { return size_t{1}; });
            auto [random, at2] = feed(re, text, [&] { return size_t{1} + rng() % 17; });
            auto [burst, at3] = feed(re, text, [&] { return text.size(); });
            CHECK(one_byte == random);
            CHECK(one_byte == burst);
            if (one_byte) {
                // Found as soon as the bytes that decide it were present.
                CHECK(at1 <= at2);
                CHECK(fresh_search(re, std::string_view(text).substr(0, at1 - 1)) == std::nullopt);
            }
        }
    }
}

TEST_CASE("read_until_regex resumes across partial matches") {
    auto re = std::make_shared<StreamRegex>("abc\\d+;");
    StreamingSearch search(re);
    std::string buf = "xxab";
    CHECK_FALSE(search.search(buf));
    CHECK(search.resume_offset() == 2);  // "ab" may begin a match; "xx" cannot
    buf += "c12";
    CHECK_FALSE(search.search(buf));
    CHECK(search.resume_offset() == 2);
    buf += "34;tail";
    CHECK(search.search(buf) == Match({2, 10}));
    CHECK(search.search(buf) == Match({2, 10}));  // idempotent until consumed
}

TEST_CASE("StreamingSearch greedy repeats wait for the byte that ends them") {
    auto re = std::make_shared<StreamRegex>("\\d+");
    StreamingSearch search(re);
    CHECK_FALSE(search.search("ab12"));  // more digits may follow
    CHECK(search.search("ab123x") == Match({2, 5}));
}

TEST_CASE("StreamingSearch with \\K reports the same match again until it is consumed") {
    // \K moves the reported start past where the attempt began; resuming at the reported start would
    // lose the bytes before it (found by fuzz_stream_search with "\r?\n\r?\K").
    auto re = std::make_shared<StreamRegex>("ab\\Kc");
    StreamingSearch search(re);
    CHECK(search.search("xabc") == Match({3, 4}));
    CHECK(search.search("xabc") == Match({3, 4}));
    CHECK(search.resume_offset() == 1);  // where the attempt that matched began
    auto line = std::make_shared<StreamRegex>("\\r?\\n\\r?\\K");
    StreamingSearch after_newline(line);
    CHECK(after_newline.search("head\r\nbody") == Match({6, 6}));
    CHECK(after_newline.search("head\r\nbody") == Match({6, 6}));
}

TEST_CASE("StreamingSearch offsets follow the buffer's readable start through consume and compaction") {
    auto re = std::make_shared<StreamRegex>("\\r?\\n");
    StreamingSearch search(re);
    squall::Buffer buf;
    std::vector<std::string> lines;
    std::mt19937 rng(3);
    std::string stream;
    for (int i = 0; i < 2000; ++i) stream += std::string(rng() % 300, 'a' + i % 26) + (i % 2 ? "\r\n" : "\n");
    size_t fed = 0;
    while (fed < stream.size()) {
        const size_t n = std::min<size_t>(1 + rng() % 700, stream.size() - fed);
        auto space = buf.prepare(n);  // may compact or grow the storage
        std::copy_n(stream.data() + fed, n, space.data());
        buf.commit(n);
        fed += n;
        while (auto m = search.search(buf.view())) {
            lines.push_back(buf.take(m->second));
            search.consume(m->second);
        }
    }
    REQUIRE(lines.size() == 2000);
    std::string joined;
    for (const auto& l : lines) joined += l;
    CHECK(joined == stream);
}

TEST_CASE("StreamingSearch scans a 1 MiB line fed 1 byte per call in linear total work") {
    constexpr size_t kLine = 1 << 20;
    auto re = std::make_shared<StreamRegex>("\\r?\\n\\r?\\n");
    StreamingSearch search(re);
    squall::Buffer buf;
    const std::string tail = "\r\n\r\n";
    std::string text(kLine, 'q');
    text[1000] = '\r';  // a few false starts along the way
    text[5000] = '\n';
    text += tail;
    Match found;
    size_t calls = 0;
    for (char c : text) {
        buf.append(std::string_view(&c, 1));
        ++calls;
        found = search.search(buf.view());
        if (found) break;
    }
    REQUIRE(found == Match({kLine, kLine + 4}));
    CHECK(calls == text.size());
    // Each byte is offered to the matcher a bounded number of times; a rescan-from-start search would
    // have done about kLine * kLine / 2 = 5.5e11.
    CHECK(search.bytes_scanned() <= 2 * text.size());
    MESSAGE("bytes scanned for a " << text.size()
                                   << "-byte line fed 1 byte per call: " << search.bytes_scanned());

    DelimiterSearch delim("\r\n\r\n");
    std::string_view all(text);
    std::optional<std::pair<size_t, size_t>> hit;
    for (size_t i = 1; i <= all.size() && !hit; ++i) hit = delim.search(all.substr(0, i));
    REQUIRE(hit == Match({kLine, kLine + 4}));
    CHECK(delim.bytes_scanned() <= 4 * text.size());
}

TEST_CASE("StreamRegex reports a bad pattern clearly") {
    try {
        StreamRegex re("a(b");
        FAIL("no exception");
    } catch (const RegexError& e) {
        const std::string what = e.what();
        CHECK(what.find("a(b") != std::string::npos);
        CHECK(what.find("missing closing parenthesis") != std::string::npos);
        CHECK(what.find("offset 3") != std::string::npos);
    }
    CHECK_THROWS_AS(StreamRegex("[z-a]"), RegexError);
    CHECK_THROWS_AS(StreamRegex("(?<!a+)b"), RegexError);  // unbounded lookbehind
}

TEST_CASE("StreamingSearch turns catastrophic backtracking into RegexError, not a hang") {
    auto re = std::make_shared<StreamRegex>("(a+)+b");
    StreamingSearch search(re);
    const std::string evil = std::string(40, 'a') + "c" + std::string(10, 'x');
    CHECK_THROWS_AS(search.search(evil), RegexError);
}

TEST_CASE("StreamRegex options and JIT") {
    StreamRegex re("content-length:", {.caseless = true});
    CHECK(re.search("X: 1\r\nContent-Length: 5") == Match({6, 21}));
    StreamRegex dot("a.b", {.dotall = true});
    CHECK(dot.search("a\nb") == Match({0, 3}));
    MESSAGE("PCRE2 JIT in use: " << re.jit());
}

TEST_CASE("DelimiterSearch finds delimiters split across feeds, as a one-shot find does") {
    for (const std::string delimiter : {"\n", "\r\n", "\r\n\r\n", "--boundary--"}) {
        for (unsigned seed = 1; seed <= 30; ++seed) {
            std::mt19937 rng(seed);
            std::string text = random_text(rng, 50 + rng() % 300);
            if (rng() % 2) text.insert(rng() % text.size(), delimiter);
            DelimiterSearch search(delimiter);
            size_t fed = 0;
            Match m;
            while (fed < text.size() && !m) {
                fed = std::min(text.size(), fed + 1 + rng() % 9);
                m = search.search(std::string_view(text).substr(0, fed));
                const size_t pos = squall::find_delimiter(std::string_view(text).substr(0, fed), delimiter);
                REQUIRE(m.has_value() == (pos != std::string_view::npos));
                if (m) REQUIRE(m->first == pos);
            }
        }
    }
    CHECK_THROWS_AS(DelimiterSearch(""), std::invalid_argument);
}

TEST_CASE("DelimiterSearch consume shifts the resume offset") {
    DelimiterSearch search("\r\n");
    std::string buf = "line one\r\nline two\r";
    auto m = search.search(buf);
    REQUIRE(m == Match({8, 10}));
    buf.erase(0, m->second);
    search.consume(m->second);
    CHECK_FALSE(search.search(buf));
    CHECK(search.resume_offset() == buf.size() - 1);  // the trailing '\r' may begin a delimiter
    buf += "\n";
    CHECK(search.search(buf) == Match({8, 10}));
}
