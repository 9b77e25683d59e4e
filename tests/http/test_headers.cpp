// HTTPHeaders: case-insensitive, multi-valued, ordered; line parsing with folded continuations. reason_phrase.
#include <doctest/doctest.h>

#include <thread>

#include "squall/coro/frame_allocator.hpp"
#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/headers.hpp"
#include "squall/httpclient/status.hpp"

using namespace squall::http;

TEST_SUITE("http_parse") {
    TEST_CASE("HTTPHeaders storage is recycled per thread: a head made and dropped per request reuses it") {
        auto one_head = [] {
            HTTPHeaders h;
            h.reserve(512, 16);
            h.add("Content-Length", "100");
            HTTPHeaders moved = std::move(h);
            CHECK(moved.get("content-length") == "100");
        };
        one_head();  // warm-up: the first block of this size is fresh
        const auto before = squall::frame_allocator_stats();
        for (int i = 0; i < 100; ++i) one_head();
        const auto after = squall::frame_allocator_stats();
#if defined(SQUALL_ASAN) || defined(SQUALL_TSAN)
        CHECK(after.fresh - before.fresh == 100);  // recycling is off under sanitizers
#else
        CHECK(after.fresh == before.fresh);
        CHECK(after.recycled - before.recycled == 100);
#endif
        // Headers made on one thread and dropped on another (a response handed to a worker) are fine.
        auto made = std::make_unique<HTTPHeaders>(HTTPHeaders{{"A", "1"}, {"B", "2"}});
        std::thread([h = std::move(made)]() mutable { h.reset(); }).join();
    }

    TEST_CASE("HTTPHeaders lookups are case-insensitive and keep every value in order") {
        HTTPHeaders h;
        h.add("Set-Cookie", "a=1");
        h.add("Content-Type", "text/html");
        h.add("set-cookie", "b=2");
        CHECK(h.get("SET-COOKIE") == "a=1");
        CHECK(h.get_all("Set-Cookie") == std::vector<std::string_view>{"a=1", "b=2"});
        CHECK(h.contains("content-type"));
        CHECK_FALSE(h.contains("Content-Length"));
        CHECK_FALSE(h.get("Content-Length").has_value());
        CHECK(h.get("Content-Length", "none") == "none");
        CHECK(h.size() == 3);
        std::vector<std::string> names;
        for (const auto& [name, value] : h) names.emplace_back(name);
        CHECK(names == std::vector<std::string>{"Set-Cookie", "Content-Type", "set-cookie"});
    }

    TEST_CASE("HTTPHeaders set replaces every value at the first position; remove drops all") {
        HTTPHeaders h{{"A", "1"}, {"B", "2"}, {"a", "3"}};
        h.set("A", "x");
        REQUIRE(h.size() == 2);
        CHECK(h.begin()->first == "A");
        CHECK(h.begin()->second == "x");
        h.set("C", "new");
        CHECK(h.get("c") == "new");
        CHECK(h.remove("b") == 1);
        CHECK(h.remove("b") == 0);
        CHECK(h.size() == 2);
        h.clear();
        CHECK(h.empty());
    }

    TEST_CASE("HTTPHeaders keeps order and values past the inline fields, through set, remove and copies") {
        HTTPHeaders h;
        const std::size_t n = 48;  // the table grows several times
        for (std::size_t i = 0; i < n; ++i)
            h.add("X-" + std::to_string(i), std::string(20 + i, 'a' + i % 26));
        REQUIRE(h.size() == n);
        // Every third field goes: the survivors close up in order across the inline / overflow boundary.
        for (std::size_t i = 0; i < n; i += 3) CHECK(h.remove("x-" + std::to_string(i)) == 1);
        std::size_t at = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (i % 3 == 0) continue;
            const auto [name, value] = h.field(at++);
            CHECK(name == "X-" + std::to_string(i));
            CHECK(value == std::string(20 + i, 'a' + i % 26));
        }
        CHECK(at == h.size());
        HTTPHeaders copy = h;
        CHECK(copy == h);
        HTTPHeaders moved = std::move(copy);
        CHECK(moved == h);
        moved.set("X-1", "changed");
        CHECK_FALSE(moved == h);
        CHECK(moved.get("X-1") == "changed");
        CHECK(h.get("X-1") == std::string(21, 'b'));
    }

    TEST_CASE("HTTPHeaders: a value taken from the same headers can be added; repeated set stays bounded") {
        HTTPHeaders h{{"Host", "example.com"}};
        for (int i = 0; i < 40; ++i) h.add("Copy", *h.get("Host"));  // the buffer grows under the view
        CHECK(h.get_all("copy").size() == 40);
        for (const auto v : h.get_all("copy")) CHECK(v == "example.com");
        HTTPHeaders s;
        s.add("Keep", "k");
        const std::string big(1000, 'v');
        for (int i = 0; i < 10000; ++i) s.set("Token", big + std::to_string(i % 10));
        CHECK(s.get("token") == big + "9");
        CHECK(s.get("keep") == "k");
        CHECK(s.bytes() < 4 * big.size());
        // The replaced values are reclaimed: the set() loop above would otherwise keep 10 MB.
        HTTPHeaders fresh;
        fresh.add("Keep", "k");
        fresh.add("Token", big + "9");
        CHECK(s == fresh);
    }

    TEST_CASE("HTTPHeaders builds its last field piece by piece, as the response parser does") {
        HTTPHeaders h{{"First", "1"}};
        h.open_field();
        h.append_name("Cont");
        h.append_name("ent-Type");
        h.append_value("text/");
        h.append_value("html  ");
        h.resize_last_value(9);
        CHECK(h.last_name() == "Content-Type");
        CHECK(h.last_value() == "text/html");
        h.open_field();
        h.append_name("Dropped");
        h.pop_back();
        REQUIRE(h.size() == 2);
        CHECK(h.get("content-type") == "text/html");
        h.set("First", "a much longer first value than before");  // moves First's value to the end
        h.open_field();
        h.append_name("Next");
        h.append_value("n");
        CHECK(h.get("first") == "a much longer first value than before");
        CHECK(h.get("next") == "n");
    }

    TEST_CASE("HTTPHeaders::parse joins folded continuation lines with one space") {
        auto h = HTTPHeaders::parse(
            "Content-Type: text/html\r\nX-Folded: first  \r\n   second\r\n\tthird\r\nX-Plain:  v "
            "\r\n\r\nIgnored: after");
        REQUIRE(h.size() == 3);
        CHECK(h.get("X-Folded") == "first second third");
        CHECK(h.get("X-Plain") == "v");
        CHECK_FALSE(h.contains("Ignored"));
        auto lf = HTTPHeaders::parse("A: 1\nB: 2\n");
        CHECK(lf.get("B") == "2");
    }

    TEST_CASE("HTTPHeaders::parse_line accepts lines one at a time, as a header_callback gets them") {
        HTTPHeaders h;
        h.parse_line("Link: <a>;\r\n");
        h.parse_line(" rel=preload\r\n");
        h.parse_line("\r\n");
        CHECK(h.get("link") == "<a>; rel=preload");
    }

    TEST_CASE("HTTPHeaders::parse rejects lines without a colon, bad names and leading continuations") {
        CHECK_THROWS_AS(HTTPHeaders::parse("NoColon\r\n"), ProtocolError);
        CHECK_THROWS_AS(HTTPHeaders::parse("Bad Name: x\r\n"), ProtocolError);
        CHECK_THROWS_AS(HTTPHeaders::parse(": x\r\n"), ProtocolError);
        CHECK_THROWS_AS(HTTPHeaders::parse(" continuation\r\n"), ProtocolError);
    }

    TEST_CASE("iequals compares ASCII case-insensitively") {
        CHECK(iequals("Content-Length", "content-LENGTH"));
        CHECK_FALSE(iequals("Content-Length", "Content-Lengt"));
        CHECK_FALSE(iequals("a", "b"));
    }

    TEST_CASE("reason_phrase gives RFC 9110's phrase, empty for a code it does not know") {
        static_assert(reason_phrase(404) == "Not Found");
        CHECK(reason_phrase(200) == "OK");
        CHECK(reason_phrase(407) == "Proxy Authentication Required");
        CHECK(reason_phrase(504) == "Gateway Timeout");
        CHECK(reason_phrase(299).empty());
        CHECK(reason_phrase(-1).empty());
    }

    TEST_CASE("parse_keep_alive reads timeout and max, whatever the spacing, case and separators") {
        using squall::http::parse_keep_alive;
        auto apache = parse_keep_alive("timeout=5, max=100");
        CHECK(apache.timeout_seconds == 5u);
        CHECK(apache.max == 100u);
        auto loose = parse_keep_alive(" Timeout = \"15\" ;MAX=0,  other=x, flag");
        CHECK(loose.timeout_seconds == 15u);
        CHECK(loose.max == 0u);
        auto bad = parse_keep_alive("timeout=-1, max=2x, timeout, =3");
        CHECK_FALSE(bad.timeout_seconds);
        CHECK_FALSE(bad.max);
        CHECK(parse_keep_alive("max=99999999999999999999999").max == UINT64_MAX);
        CHECK_FALSE(parse_keep_alive("").timeout_seconds);
    }

}  // TEST_SUITE
