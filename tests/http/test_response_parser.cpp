// ResponseParser: framing, limits, errors, and identical results however the bytes are split.
#include <doctest/doctest.h>

#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/response_parser.hpp"

using namespace squall::http;

namespace {

// Everything observable about one parse, so that runs with different splits can be compared.
struct Outcome {
    bool complete = false;
    int code = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;
    std::vector<std::pair<std::string, std::string>> trailers;
    std::string body;
    std::vector<int> interim;
    bool keep_alive = false;
    std::size_t consumed = 0;
    std::string error;  // ProtocolError's message, if one was thrown
    bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
    os << "{complete=" << o.complete << " code=" << o.code << " reason=" << o.reason << " body=\"" << o.body
       << "\" headers=" << o.headers.size() << " trailers=" << o.trailers.size()
       << " keep_alive=" << o.keep_alive << " consumed=" << o.consumed << " error=\"" << o.error << "\"}";
    return os;
}

std::vector<std::pair<std::string, std::string>> fields(const HTTPHeaders& h) {
    return {h.begin(), h.end()};
}

// Feeds `bytes` in the given slice sizes (the rest in one slice), like a connection draining its buffer:
// a slice that is not fully consumed ends the response. With `eof`, the peer closes after the last byte.
Outcome run(std::string_view bytes, const std::vector<std::size_t>& sizes, bool eof = true,
            ResponseParserOptions options = {}) {
    Outcome out;
    ResponseParser parser(
        std::move(options),
        {.on_interim = [&](int code, const HTTPHeaders&) { out.interim.push_back(code); },
         .on_headers = {},
         .on_body = [&](std::span<const char> piece) { out.body.append(piece.data(), piece.size()); }});
    try {
        std::size_t pos = 0;
        std::size_t i = 0;
        while (pos < bytes.size() && !parser.complete()) {
            std::size_t n = i < sizes.size() ? std::min(sizes[i], bytes.size() - pos) : bytes.size() - pos;
            ++i;
            std::size_t used = parser.feed(bytes.substr(pos, n));
            REQUIRE(used <= n);
            pos += used;
            if (used < n) {
                REQUIRE(parser.complete());
                break;
            }
        }
        if (eof && !parser.complete()) parser.finish_eof();
        // Anything the parser did not take is left in the "stream buffer": hand it over once more, as a
        // connection checking for stray bytes would.
        if (pos < bytes.size()) CHECK(parser.feed(bytes.substr(pos)) == 0);
        out.consumed = pos;
    } catch (const ProtocolError& e) {
        out.error = e.what();
        out.body.clear();  // how much body reached the sink before an error depends on the split
    }
    out.complete = parser.complete();
    if (parser.headers_complete()) {
        out.code = parser.code();
        out.reason = parser.reason();
        out.headers = fields(parser.headers());
        out.trailers = fields(parser.trailers());
    }
    out.keep_alive = parser.keep_alive();
    return out;
}

Outcome whole(std::string_view bytes, bool eof = true, ResponseParserOptions options = {}) {
    return run(bytes, {}, eof, std::move(options));
}

std::vector<std::size_t> ones(std::size_t n) {
    return std::vector<std::size_t>(n, 1);
}

std::vector<std::size_t> random_sizes(std::mt19937& rng, std::size_t total) {
    std::vector<std::size_t> sizes;
    std::uniform_int_distribution<std::size_t> d(1, 17);
    for (std::size_t sum = 0; sum < total;) sizes.push_back(d(rng)), sum += sizes.back();
    return sizes;
}

// The same outcome whole, one byte at a time and in 20 random splits.
Outcome parse_all_ways(std::string_view bytes, bool eof = true, ResponseParserOptions options = {}) {
    Outcome reference = whole(bytes, eof, options);
    CHECK(run(bytes, ones(bytes.size()), eof, options) == reference);
    std::mt19937 rng(12345);
    for (int i = 0; i < 20; ++i)
        CHECK(run(bytes, random_sizes(rng, bytes.size()), eof, options) == reference);
    return reference;
}

}  // namespace

TEST_SUITE("http_parse") {
    TEST_CASE("response with Content-Length: status, reason, headers, body, keep-alive") {
        std::string r =
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: "
            "2\r\n\r\nhello";
        auto o = parse_all_ways(r, false);
        CHECK(o.error == "");
        CHECK(o.complete);
        CHECK(o.code == 200);
        CHECK(o.reason == "OK");
        CHECK(o.body == "hello");
        CHECK(o.consumed == r.size());
        CHECK(o.keep_alive);
        REQUIRE(o.headers.size() == 4);
        CHECK(o.headers[3] == std::pair<std::string, std::string>{"x-a", "2"});
    }

    TEST_CASE("body collected in body() when no sink is given, and accessors") {
        ResponseParser p({.method = "GET"});
        std::string r = "HTTP/1.0 404 Not Found\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc";
        CHECK(p.feed(r) == r.size());
        REQUIRE(p.complete());
        CHECK(p.body() == "abc");
        CHECK(p.http_major() == 1);
        CHECK(p.http_minor() == 0);
        CHECK(p.content_length() == 3u);
        CHECK(p.keep_alive());  // HTTP/1.0 with Connection: keep-alive
        CHECK(p.headers().get("content-length") == "3");
        CHECK(p.bytes_consumed() == r.size());
    }

    TEST_CASE("header values delivered in pieces are joined, folded lines joined with one space") {
        std::string r =
            "HTTP/1.1 200 OK\r\nX-Long: part one and\r\n   part two\r\n\tpart three  \r\nX-Empty:\r\n"
            "X-Spaced:   v  \r\nContent-Length: 0\r\n\r\n";
        auto o = parse_all_ways(r, false);
        REQUIRE(o.error == "");
        REQUIRE(o.headers.size() == 4);
        CHECK(o.headers[0].second == "part one and part two part three");
        CHECK(o.headers[1] == std::pair<std::string, std::string>{"X-Empty", ""});
        CHECK(o.headers[2].second == "v");
    }

    TEST_CASE("HEAD response has no body even with Content-Length") {
        std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
        auto o = parse_all_ways(r, false, {.method = "HEAD"});
        CHECK(o.complete);
        CHECK(o.body == "");
        CHECK(o.keep_alive);
        // The same bytes for a GET wait for 1000 body bytes.
        CHECK_FALSE(whole(r, false).complete);
    }

    TEST_CASE("1xx responses (100, 103) are reported and skipped before the final response") {
        std::string r =
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
            "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
        auto o = parse_all_ways(r, false);
        REQUIRE(o.error == "");
        CHECK(o.interim == std::vector<int>{100, 103});
        CHECK(o.code == 201);
        CHECK(o.reason == "Created");
        CHECK(o.headers.size() == 1);  // the 103's Link header is not mixed into the final headers
        CHECK(o.body == "ok");
        CHECK(o.keep_alive);
    }

    TEST_CASE("204 and 304 end at the header block even with Content-Length") {
        for (std::string code : {"204 No Content", "304 Not Modified"}) {
            std::string r = "HTTP/1.1 " + code + "\r\nContent-Length: 42\r\n\r\n";
            auto o = parse_all_ways(r, false);
            CHECK(o.complete);
            CHECK(o.body == "");
            CHECK(o.keep_alive);
            // Stray bytes after it make the connection unreusable.
            auto stray = whole(r + "junk", false);
            CHECK(stray.complete);
            CHECK(stray.consumed == r.size());
            CHECK_FALSE(stray.keep_alive);
        }
    }

    TEST_CASE("101 Switching Protocols is an error: no upgrade was requested") {
        auto o =
            whole("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
        CHECK(o.error.find("101") != std::string::npos);
    }

    TEST_CASE("2xx to CONNECT ends at the header block; the rest is tunnel data") {
        std::string head = "HTTP/1.1 200 Connection established\r\n\r\n";
        auto o = whole(head + "\x16\x03\x01tls bytes", false, {.method = "CONNECT"});
        CHECK(o.complete);
        CHECK(o.consumed == head.size());
        CHECK_FALSE(o.keep_alive);
    }

    TEST_CASE("equal duplicate Content-Length values are one value, differing ones an error") {
        auto a = parse_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc", false);
        CHECK(a.error == "");
        CHECK(a.body == "abc");
        auto b = parse_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length:3\r\n\r\nabc", false);
        CHECK(b.error == "");
        CHECK(b.body == "abc");
        CHECK(b.keep_alive);
        auto c =
            parse_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", false);
        CHECK(c.error.find("conflicting Content-Length values 3 and 4") != std::string::npos);
        auto d = whole("HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd", false);
        CHECK(d.error.find("conflicting Content-Length") != std::string::npos);
    }

    TEST_CASE("invalid Content-Length values are errors") {
        for (std::string v : {"abc", "-1", "1 2", "", "3,", "99999999999999999999999"}) {
            auto o = whole("HTTP/1.1 200 OK\r\nContent-Length: " + v + "\r\n\r\nabc", false);
            CHECK_MESSAGE(o.error.find("Content-Length") != std::string::npos, (v + " -> " + o.error));
        }
    }

    TEST_CASE("chunked body: extensions ignored, trailers exposed") {
        std::string r =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5;name=value\r\nhello\r\n6;ext\r\n world\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n";
        auto o = parse_all_ways(r, false);
        REQUIRE(o.error == "");
        CHECK(o.body == "hello world");
        REQUIRE(o.trailers.size() == 2);
        CHECK(o.trailers[0] == std::pair<std::string, std::string>{"X-Checksum", "abc"});
        CHECK(o.keep_alive);
        CHECK(o.consumed == r.size());
    }

    TEST_CASE("chunked body: invalid and overflowing chunk sizes are errors") {
        std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        auto bad = parse_all_ways(head + "zz\r\nhello\r\n0\r\n\r\n", false);
        CHECK(bad.error.find("invalid chunk size") != std::string::npos);
        CHECK(bad.error.find("at byte " + std::to_string(head.size())) != std::string::npos);
        auto overflow = whole(head + "fffffffffffffffffff\r\n", false);
        CHECK(overflow.error.find("overflow") != std::string::npos);
        auto missing_crlf = whole(head + "5\r\nhelloX\r\n0\r\n\r\n", false);
        CHECK(missing_crlf.error != "");
        // RFC 9112 7.1.1 allows BWS before a chunk extension's ";" (llhttp 8.1 rejected it).
        auto space = parse_all_ways(head + "5 ;x=y\r\nhello\r\n0\r\n\r\n", false);
        CHECK(space.error == "");
        CHECK(space.body == "hello");
        // A space after the size with no extension is outside the grammar.
        auto trailing = whole(head + "5 \r\nhello\r\n0\r\n\r\n", false);
        CHECK(trailing.error.find("expected \";\"") != std::string::npos);
    }

    TEST_CASE("chunked body: bytes after chunk data other than CRLF are an error naming the offset") {
        // Issue 13, defect 1: llhttp 8.1 skipped the two bytes after chunk data unchecked.
        std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        auto o = parse_all_ways(head + "5\r\nhelloXX0\r\n\r\n", true);
        CHECK(o.error == "malformed chunked body: chunk data not followed by CRLF, got 0x58 at byte " +
                             std::to_string(head.size() + 8));
        CHECK_FALSE(o.complete);
        auto cr_only = parse_all_ways(head + "5\r\nhello\rX0\r\n\r\n", true);
        CHECK(cr_only.error == "malformed chunked body: chunk data not followed by CRLF, got 0x58 at byte " +
                                   std::to_string(head.size() + 9));
        auto lf_only = parse_all_ways(head + "5\r\nhello\n0\r\n\r\n", true);
        CHECK(lf_only.error.find("chunk data not followed by CRLF, got 0x0a") != std::string::npos);
    }

    TEST_CASE("chunked body: every form of the chunk-ext grammar is accepted and ignored") {
        // Issue 13, defect 2: llhttp 8.1 rejected quoted-pairs ("Invalid character in chunk extensions
        // quoted value").
        std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (std::string line :
             {"8;q=\"x;y\\\"z\";flag", "8;a", "8;a=b", "8;a=\"\"", "8 ; a = b ; c", "8\t;\ta\t=\t\"v\\\\\"",
              "8;a=\"tab\there\";b=tok!#$%&'*+-.^_`|~", "0008;a=\"obs\x80\xff\"", "8;a=\"q\\\x80\""}) {
            auto o = parse_all_ways(head + line + "\r\nchunked!\r\n0;last=\"1\"\r\n\r\n", false);
            CHECK_MESSAGE(o.error == "", line);
            CHECK_MESSAGE(o.body == "chunked!", line);
            CHECK(o.complete);
        }
    }

    TEST_CASE("chunked body: bytes outside the chunk-ext grammar are rejected") {
        std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (std::string line : {"8;", "8;=v", "8;a=", "8;a b", "8;a=\"open", "8;a=\"x\"y", "8;a=b c",
                                 "8;a=\"\x01\"", "8;a=\"\\\x7f\"", "8;a\x7f", "8;@", "8;a=b,c", "8 x"}) {
            auto o = whole(head + line + "\r\nchunked!\r\n0\r\n\r\n", true);
            CHECK_MESSAGE(o.error.find("malformed chunked body") == 0, line << " -> " << o.error);
            CHECK_MESSAGE(o.error.find("at byte ") != std::string::npos, line);
        }
    }

    TEST_CASE("chunked body: the extension bytes of one chunk are bounded") {
        std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        std::string fits = "1;a=" + std::string(kMaxChunkExtensionSize - 3, 'x');  // exactly the limit
        CHECK(whole(head + fits + "\r\nz\r\n0\r\n\r\n", false).error == "");
        std::string over = "1;a=" + std::string(kMaxChunkExtensionSize - 2, 'x');
        auto o = whole(head + over + "\r\nz\r\n0\r\n\r\n", false);
        CHECK(o.error.find("chunk extensions longer than " + std::to_string(kMaxChunkExtensionSize)) !=
              std::string::npos);
        // An endless extension fails as it streams in, without its end.
        ResponseParser endless;
        endless.feed(head + "1;a=");
        std::string piece(4096, 'x');
        bool threw = false;
        for (int i = 0; i < 8 && !threw; ++i) {
            try {
                endless.feed(piece);
            } catch (const ProtocolError&) {
                threw = true;
            }
        }
        CHECK(threw);
        // Leading zeros of a chunk size are bounded too.
        auto zeros = whole(head + std::string(100, '0') + "1\r\nz\r\n0\r\n\r\n", false);
        CHECK(zeros.error.find("chunk size line too long") != std::string::npos);
    }

    TEST_CASE("max_header_size is exact and split-invariant: the head may be exactly the limit") {
        std::string r = "HTTP/1.1 200 OK\r\nX-Pad: abc\r\nContent-Length: 0\r\n\r\n";
        auto exact = parse_all_ways(r, true, {.max_header_size = r.size()});
        CHECK(exact.error == "");
        CHECK(exact.complete);
        // One byte over, wherever the bytes are cut (the last line end used to count only when a slice
        // ended inside it).
        auto over = parse_all_ways(r, true, {.max_header_size = r.size() - 1});
        CHECK(over.error.find("response headers exceed max_header_size") == 0);
        for (std::size_t cut = 1; cut < r.size(); ++cut) {
            CHECK(run(r, {cut}, true, {.max_header_size = r.size()}) == exact);
            CHECK(run(r, {cut}, true, {.max_header_size = r.size() - 1}) == over);
        }
        // Trailers: the section (its final CRLF included) is bounded the same way.
        std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
        std::string section = "X-T: " + std::string(100, 'v') + "\r\n\r\n";  // longer than the head
        CHECK(parse_all_ways(head + section, false, {.max_header_size = section.size()}).error == "");
        CHECK(parse_all_ways(head + section, false, {.max_header_size = section.size() - 1})
                  .error.find("trailers exceed max_header_size") == 0);
    }

    TEST_CASE("trailers: obsolete folding and bad bytes are rejected, values trimmed") {
        std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
        auto ok = parse_all_ways(head + "X-A:  v w \t\r\nX-B:\r\n\r\n", false);
        REQUIRE(ok.trailers.size() == 2);
        CHECK(ok.trailers[0].second == "v w");
        CHECK(ok.trailers[1].second == "");
        CHECK(whole(head + "X-A: v\r\n folded\r\n\r\n", false).error.find("obsolete line folding") !=
              std::string::npos);
        CHECK(whole(head + "X-A: v\rw\r\n\r\n", false).error.find("expected LF") != std::string::npos);
        CHECK(whole(head + "X A: v\r\n\r\n", false).error.find("invalid trailer field name") !=
              std::string::npos);
        CHECK(whole(head + std::string("X-A: v\0\r\n\r\n", 11), false).error.find("invalid character") !=
              std::string::npos);
    }

    TEST_CASE("close-delimited body ends at EOF and the connection is not reused") {
        std::string r = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end";
        auto o = parse_all_ways(r, true);
        REQUIRE(o.error == "");
        CHECK(o.complete);
        CHECK(o.body == "until the end");
        CHECK_FALSE(o.keep_alive);
        CHECK_FALSE(whole(r, false).complete);  // without EOF it is not done
    }

    TEST_CASE("EOF before Content-Length is satisfied is an error saying how much arrived") {
        auto o = parse_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true);
        CHECK(o.error == "body shorter than Content-Length: got 3 of 10 bytes");
        CHECK_FALSE(o.complete);
    }

    TEST_CASE("EOF inside a chunked body, inside the headers or before any byte is an error") {
        auto chunked = whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", true);
        CHECK(chunked.error.find("inside the chunked body after 3 body bytes") != std::string::npos);
        auto head = whole("HTTP/1.1 200 OK\r\nContent-Le", true);
        CHECK(head.error.find("before the response headers were complete") != std::string::npos);
        ResponseParser p;
        CHECK_THROWS_WITH_AS(p.finish_eof(), "connection closed before any response byte was received",
                             ProtocolError);
        CHECK(p.bytes_consumed() == 0);
    }

    TEST_CASE("Content-Length with Transfer-Encoding: chunked wins and the connection is not reused") {
        std::string r =
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: "
            "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        auto o = parse_all_ways(r, false);
        REQUIRE(o.error == "");
        CHECK(o.complete);
        CHECK(o.body == "abc");
        CHECK_FALSE(o.keep_alive);
    }

    TEST_CASE("Transfer-Encoding without chunked last is read until close") {
        auto o = parse_all_ways(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nabcdef", true);
        REQUIRE(o.error == "");
        CHECK(o.body == "abcdef");
        CHECK_FALSE(o.keep_alive);
    }

    TEST_CASE("keep-alive rules: Connection: close, HTTP/1.0") {
        CHECK_FALSE(
            whole("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false).keep_alive);
        CHECK_FALSE(whole("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false).keep_alive);
        CHECK(whole("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false).keep_alive);
    }

    TEST_CASE("bytes after a complete response are left over and make the connection unreusable") {
        std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab";
        auto o = whole(first + "HTTP/1.1 200 OK\r\n", false);
        CHECK(o.complete);
        CHECK(o.body == "ab");
        CHECK(o.consumed == first.size());
        CHECK_FALSE(o.keep_alive);
        ResponseParser p;
        CHECK(p.feed(first) == first.size());
        CHECK(p.keep_alive());
        CHECK(p.feed(std::string_view("x")) == 0);  // a byte arriving later on the idle connection
        CHECK_FALSE(p.keep_alive());
    }

    TEST_CASE("malformed status lines are ProtocolErrors naming the reason and the position") {
        for (std::string line : {"HTTQ/1.1 200 OK", "HTTP/1.1 2OO OK", "HTTP/1.1 20 OK", "HTTP/x.1 200 OK",
                                 "HTTP/1.1200 OK", "garbage", "HTTP/3.0 200 OK"}) {
            auto o = parse_all_ways(line + "\r\nContent-Length: 0\r\n\r\n", true);
            CHECK_MESSAGE(o.error.find("malformed HTTP response: ") == 0, (line + " -> " + o.error));
            CHECK_FALSE(o.complete);
        }
        auto o = whole("HTTP/1.1 2OO OK\r\n\r\n");
        CHECK(o.error ==
              "malformed HTTP response: invalid status code (3 digits expected), got 0x4f at byte 10");
    }

    TEST_CASE("bad header lines are errors") {
        for (std::string h :
             std::vector<std::string>{"Bad Name: x", "Name : x", "NoColon", "X: a\rb", ": empty name",
                                      "X\x01: y", std::string("X: a\0b", 6)}) {
            auto o = parse_all_ways("HTTP/1.1 200 OK\r\n" + h + "\r\nContent-Length: 0\r\n\r\n", true);
            CHECK_MESSAGE(o.error.find("malformed HTTP response") == 0, (h + " -> " + o.error));
        }
    }

    TEST_CASE("after an error the headers hold only the fields that were complete") {
        // A field is stored once its line is whole and valid; one cut short by an error is not.
        for (std::string bad : {"Bad Name: x\r\n", "X: a\rb\r\n", "NoColon\r\n"}) {
            for (std::size_t cut : {std::size_t{0}, std::size_t{3}}) {
                std::string r = "HTTP/1.1 200 OK\r\nGood: 1\r\n" + bad + "Content-Length: 0\r\n\r\n";
                ResponseParser p;
                std::size_t split = r.find(bad) + cut;
                CHECK_THROWS_AS(
                    (p.feed(std::string_view(r).substr(0, split)), p.feed(std::string_view(r).substr(split))),
                    ProtocolError);
                CHECK(p.state() == ResponseParser::State::failed);
                CHECK(fields(p.headers()) == std::vector<std::pair<std::string, std::string>>{{"Good", "1"}});
            }
        }
        // EOF in the middle of a field.
        ResponseParser p;
        p.feed("HTTP/1.1 200 OK\r\nGood: 1\r\nHalf: va");
        CHECK_THROWS_AS(p.finish_eof(), ProtocolError);
        CHECK(fields(p.headers()) == std::vector<std::pair<std::string, std::string>>{{"Good", "1"}});
    }

    TEST_CASE("strict by choice: every head line ends in CRLF, and no control byte is accepted in it") {
        auto o = whole("HTTP/1.1 200 OK\nX: a\nContent-Length: 0\n\n", false);
        CHECK(o.error ==
              "malformed HTTP response: line ended by a bare LF (CRLF expected), got 0x0a at byte 15");
        auto field = parse_all_ways("HTTP/1.1 200 OK\r\nX: a\nContent-Length: 0\r\n\r\n", false);
        CHECK(field.error ==
              "malformed HTTP response: line ended by a bare LF (CRLF expected), got 0x0a at byte 21");
        auto blank = parse_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n", false);
        CHECK(blank.error.find("malformed HTTP response") == 0);
        auto cr = parse_all_ways("HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n", false);
        CHECK(cr.error == "malformed HTTP response: CR not followed by LF, got 0x0d at byte 21");
        for (char c : {'\x01', '\x1f', '\x7f', '\0'}) {
            auto reason =
                parse_all_ways(std::string("HTTP/1.1 200 O") + c + "K\r\nContent-Length: 0\r\n\r\n", false);
            CHECK(reason.error.find("malformed HTTP response: invalid character in the status line") == 0);
        }
        // HTAB and obs-text are value characters.
        auto ok = parse_all_ways("HTTP/1.1 200 OK\r\nX: a\tb \xe9\xff\r\nContent-Length: 0\r\n\r\n", false);
        REQUIRE(ok.error == "");
        CHECK(ok.headers[0].second == "a\tb \xe9\xff");
    }

    TEST_CASE("status line: the reason phrase may be missing; only HTTP/1.x is accepted") {
        for (std::string line : {"HTTP/1.1 200", "HTTP/1.1 200 "}) {
            auto o = parse_all_ways(line + "\r\nContent-Length: 0\r\n\r\n", false);
            REQUIRE_MESSAGE(o.error == "", line);
            CHECK(o.code == 200);
            CHECK(o.reason == "");
        }
        auto reason = parse_all_ways("HTTP/1.1 404 Not  Found \r\nContent-Length: 0\r\n\r\n", false);
        CHECK(reason.reason == "Not  Found ");
        for (std::string line :
             {"HTTP/1.1 2000 OK", "HTTP/1.1 200OK", "HTTP/2.0 200 OK", "HTTP/0.9 200 OK", "http/1.1 200 OK",
              "HTTP/1.1  200 OK", "HTTP/1.1 099 Low", " HTTP/1.1 200 OK"}) {
            auto o = parse_all_ways(line + "\r\nContent-Length: 0\r\n\r\n", false);
            CHECK_MESSAGE(o.error.find("malformed HTTP response: ") == 0, (line + " -> " + o.error));
        }
        ResponseParser minor;
        minor.feed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
        CHECK(minor.http_major() == 1);
        CHECK(minor.http_minor() == 0);
    }

    TEST_CASE("obsolete line folding: not before the first field; a fold cut short drops its field") {
        auto first = parse_all_ways("HTTP/1.1 200 OK\r\n folded: x\r\nContent-Length: 0\r\n\r\n", false);
        CHECK(first.error.find("malformed HTTP response: obsolete line folding with no field before it") ==
              0);
        for (std::size_t cut : {std::size_t{0}, std::size_t{5}, std::size_t{9}}) {
            std::string r = "HTTP/1.1 200 OK\r\nGood: 1\r\nFolded: a\r\n b\x01c\r\nContent-Length: 0\r\n\r\n";
            ResponseParser p;
            std::size_t split = r.find("Folded") + cut;
            CHECK_THROWS_AS(
                (p.feed(std::string_view(r).substr(0, split)), p.feed(std::string_view(r).substr(split))),
                ProtocolError);
            CHECK(fields(p.headers()) == std::vector<std::pair<std::string, std::string>>{{"Good", "1"}});
        }
        // A folded Content-Length is read with its continuation.
        auto cl = parse_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 3,\r\n 3\r\n\r\nabc", false);
        REQUIRE(cl.error == "");
        CHECK(cl.body == "abc");
    }

    TEST_CASE("Connection and Transfer-Encoding are read as token lists, case-insensitively") {
        CHECK(whole("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", false)
                  .keep_alive);
        CHECK_FALSE(
            whole("HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n", false)
                .keep_alive);
        CHECK_FALSE(whole("HTTP/1.1 200 OK\r\nconnection: upgrade ,CLOSE\r\nContent-Length: 0\r\n\r\n", false)
                        .keep_alive);
        CHECK(whole("HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n", false).keep_alive);
        auto chunked =
            parse_all_ways("HTTP/1.1 200 OK\r\nTRANSFER-ENCODING: gzip, Chunked ,\r\n\r\n0\r\n\r\n", false);
        REQUIRE(chunked.error == "");
        CHECK(chunked.complete);
        CHECK(chunked.keep_alive);
        ResponseParser ka;
        ka.feed("HTTP/1.1 200 OK\r\nkeep-ALIVE: timeout=5\r\nContent-Length: 0\r\n\r\n");
        CHECK(ka.has_keep_alive_field());
        ResponseParser none;
        none.feed("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
        CHECK_FALSE(none.has_keep_alive_field());
        CHECK_FALSE(none.content_encoding());
        ResponseParser ce;
        ce.feed(
            "HTTP/1.1 200 OK\r\nCONTENT-encoding: gzip\r\nContent-Encoding: br\r\nContent-Length: 0\r\n\r\n");
        CHECK(ce.content_encoding() == "gzip");
        CHECK(ce.content_encoding() == ce.headers().get("Content-Encoding"));
        // The last field decides: chunked then gzip is not chunked, so the body runs until close.
        auto later = parse_all_ways(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n",
            true);
        REQUIRE(later.error == "");
        CHECK(later.body == "0\r\n\r\n");
        CHECK_FALSE(later.keep_alive);
    }

    TEST_CASE("max_header_size bounds the status line, headers and 1xx heads together") {
        std::string big(5000, 'a');
        auto o = parse_all_ways("HTTP/1.1 200 OK\r\nX-Big: " + big + "\r\nContent-Length: 0\r\n\r\n", true,
                                {.max_header_size = 1024});
        CHECK(o.error.find("response headers exceed max_header_size of 1024 bytes") == 0);
        std::string many;
        for (int i = 0; i < 20; ++i)
            many += "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n";
        auto m = whole(many + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true, {.max_header_size = 512});
        CHECK(m.error.find("exceed max_header_size") != std::string::npos);
        // Incomplete head bigger than the limit fails without waiting for its end.
        ResponseParser p({.max_header_size = 100});
        CHECK_THROWS_AS(p.feed("HTTP/1.1 200 OK\r\nX: " + big), ProtocolError);
        auto trailers =
            whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: " + big + "\r\n\r\n", false,
                  {.max_header_size = 1024});
        CHECK(trailers.error.find("trailers exceed max_header_size") == 0);
    }

    TEST_CASE("max_body_size bounds Content-Length, chunked and close-delimited bodies") {
        ResponseParserOptions small{.max_body_size = 10};
        auto cl = whole("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", false, small);
        CHECK(cl.error.find("Content-Length 11 exceeds max_body_size of 10 bytes") == 0);
        CHECK(whole("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", false, small).complete);
        auto chunk =
            whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\n", false, small);
        CHECK(chunk.error.find("exceeds max_body_size of 10 bytes") != std::string::npos);
        auto eof = parse_all_ways("HTTP/1.1 200 OK\r\n\r\n0123456789abc", true, small);
        CHECK(eof.error.find("body exceeds max_body_size of 10 bytes") == 0);
    }

    TEST_CASE("an exception thrown by a callback propagates unchanged and fails the parser") {
        struct Stop {};
        ResponseParser p(
            {}, {.on_interim = {}, .on_headers = [](const ResponseParser&) { throw Stop{}; }, .on_body = {}});
        CHECK_THROWS_AS(p.feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"), Stop);
        CHECK(p.state() == ResponseParser::State::failed);
        CHECK_THROWS_AS(p.feed("x"), ProtocolError);
        CHECK_THROWS_AS(p.finish_eof(), ProtocolError);
    }

    TEST_CASE("on_headers sees the final status and headers before any body byte") {
        bool seen = false;
        std::string body;
        ResponseParser p({}, {.on_interim = {},
                              .on_headers =
                                  [&](const ResponseParser& r) {
                                      seen = true;
                                      CHECK(r.code() == 200);
                                      CHECK(r.headers().get("X") == "y");
                                      CHECK(body.empty());
                                  },
                              .on_body = [&](std::span<const char> s) { body.append(s.data(), s.size()); }});
        p.feed("HTTP/1.1 200 OK\r\nX: y\r\nContent-Length: 2\r\n\r\nhi");
        CHECK(seen);
        CHECK(body == "hi");
    }

    TEST_CASE("fuzz: random bytes and mutated responses never crash and split the same way") {
        std::vector<std::string> seeds = {
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: v\r\n\r\n",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
            "HTTP/1.0 200 OK\r\nX: a\r\n  b\r\n\r\nclose delimited",
        };
        std::mt19937 rng(2024);
        auto byte = std::uniform_int_distribution<int>(0, 255);
        for (int iter = 0; iter < 3000; ++iter) {
            std::string input;
            if (iter % 4 == 0) {
                input.resize(std::uniform_int_distribution<std::size_t>(0, 200)(rng));
                for (char& c : input) c = static_cast<char>(byte(rng));
                if (iter % 8 == 0) input = "HTTP/1.1 " + input;
            } else {
                input = seeds[iter % seeds.size()];
                int mutations = std::uniform_int_distribution<int>(1, 4)(rng);
                for (int m = 0; m < mutations && !input.empty(); ++m) {
                    auto at = std::uniform_int_distribution<std::size_t>(0, input.size() - 1)(rng);
                    switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
                        case 0:
                            input[at] = static_cast<char>(byte(rng));
                            break;
                        case 1:
                            input.erase(at, 1);
                            break;
                        case 2:
                            input.insert(at, 1, static_cast<char>(byte(rng)));
                            break;
                        default:
                            input.insert(at, input.substr(at, 8));
                            break;
                    }
                }
            }
            bool eof = iter % 2 == 0;
            Outcome a = whole(input, eof, {.max_header_size = 256, .max_body_size = 64});
            Outcome b = run(input, ones(input.size()), eof, {.max_header_size = 256, .max_body_size = 64});
            Outcome c = run(input, random_sizes(rng, input.size()), eof,
                            {.max_header_size = 256, .max_body_size = 64});
            // A limit is checked where a slice ends as well as where a line or chunk ends, so only a limit
            // error may report a different position; every other outcome must be identical.
            auto same = [](const Outcome& x, const Outcome& y) {
                if (x.error.find("max_") != std::string::npos || y.error.find("max_") != std::string::npos) {
                    return x.error.empty() == y.error.empty();
                }
                return x == y;
            };
            CHECK_MESSAGE(same(a, b), input);
            CHECK_MESSAGE(same(a, c), input);
        }
    }

}  // TEST_SUITE
