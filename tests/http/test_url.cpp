// URL parsing, request targets and RFC 3986 reference resolution.
#include <doctest/doctest.h>

#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/url.hpp"

using namespace squall::http;

TEST_SUITE("http_parse") {
    TEST_CASE("URL parses scheme, userinfo, host, port, path and query; drops the fragment") {
        auto u = URL::parse("HTTP://us%20er:p%40ss:w@Example.COM:8080/a/b?x=1&y=2#frag");
        CHECK(u.scheme == "http");
        CHECK(u.username == "us er");
        CHECK(u.password == "p@ss:w");
        CHECK(u.host == "example.com");
        CHECK(u.port == 8080);
        CHECK(u.path == "/a/b");
        CHECK(u.query == "x=1&y=2");
        CHECK(u.request_target() == "/a/b?x=1&y=2");
        CHECK(u.host_header() == "example.com:8080");
        CHECK(u.to_string() == "http://us%20er:p%40ss%3Aw@example.com:8080/a/b?x=1&y=2");
    }

    TEST_CASE("URL defaults: port by scheme, path \"/\"") {
        auto a = URL::parse("http://h");
        CHECK(a.port == 80);
        CHECK(a.path == "/");
        CHECK(a.request_target() == "/");
        CHECK(a.host_header() == "h");
        auto b = URL::parse("https://h?q");
        CHECK(b.port == 443);
        CHECK(b.is_https());
        CHECK(b.request_target() == "/?q");
        CHECK(URL::parse("https://h:443/").host_header() == "h");
        CHECK(URL::parse("http://h:/x").port == 80);
        CHECK(URL::parse("http://h/p?").request_target() == "/p?");
        CHECK(URL::parse("http://h/p").host_port() == "h:80");
    }

    TEST_CASE("URL IPv6 literals: brackets removed, lowercase, bracketed again in Host") {
        auto u = URL::parse("http://[2001:DB8::1]:8000/x");
        CHECK(u.host == "2001:db8::1");
        CHECK(u.port == 8000);
        CHECK(u.host_header() == "[2001:db8::1]:8000");
        auto v = URL::parse("https://[::1]/");
        CHECK(v.host_header() == "[::1]");
        CHECK(v.host_port() == "[::1]:443");
        CHECK(v.to_string() == "https://[::1]/");
    }

    TEST_CASE("URL encodes spaces and non-ASCII in path and query, keeps valid escapes, encodes a stray %") {
        auto u = URL::parse("http://h/a b/\xc3\xa9?q=a b&r=%41%zz");
        CHECK(u.path == "/a%20b/%C3%A9");
        CHECK(u.query == "q=a%20b&r=%41%25zz");
    }

    TEST_CASE("bad URLs throw InvalidURLError saying what is wrong") {
        auto why = [](std::string_view text) {
            try {
                URL::parse(text);
            } catch (const InvalidURLError& e) {
                return std::string(e.what());
            }
            return std::string("no error");
        };
        CHECK(why("").find("empty URL") != std::string::npos);
        CHECK(why("example.com/x").find("no scheme") != std::string::npos);
        CHECK(why("ftp://h/").find("unsupported scheme \"ftp\"") != std::string::npos);
        CHECK(why("http:/h").find("no \"//\"") != std::string::npos);
        CHECK(why("http:///x").find("empty host") != std::string::npos);
        CHECK(why("http://h:0/").find("out of range") != std::string::npos);
        CHECK(why("http://h:65536/").find("out of range") != std::string::npos);
        CHECK(why("http://h:99999999999999999999/").find("not a number") != std::string::npos);
        CHECK(why("http://h:8a/").find("not a number") != std::string::npos);
        CHECK(why("http://h:-1/").find("not a number") != std::string::npos);
        CHECK(why("http://[::1/").find("']'") != std::string::npos);
        CHECK(why("http://[zz::1]/").find("invalid IPv6 literal") != std::string::npos);
        CHECK(why("http://[::1]x/").find("after the IPv6 literal") != std::string::npos);
        CHECK(why("http://ho st/").find("invalid character ' ' in host") != std::string::npos);
        CHECK(why("http://h/a\r\nX: y").find("CR, LF or NUL") != std::string::npos);
        // The scan goes eight bytes at a time: a CR, LF or NUL is found at every position, in a word or
        // in the tail, and neighbouring control bytes are not mistaken for one.
        const std::string url = "http://example.com/some/longer/path?with=query&and=more";
        for (std::size_t pos = 0; pos <= url.size(); ++pos) {
            for (char c : {'\r', '\n', '\0'}) {
                std::string bad = url;
                bad.insert(pos, 1, c);
                CHECK_MESSAGE(why(bad).find("CR, LF or NUL") != std::string::npos, pos);
            }
            for (char c : {'\x01', '\x0c', '\x0e', '\x1f', '\x7f'}) {
                std::string odd = url;
                odd.insert(pos, 1, c);
                CHECK_MESSAGE(why(odd).find("CR, LF or NUL") == std::string::npos, pos);
            }
        }
        CHECK(why("http://h/a\x01").find("control character in the path") != std::string::npos);
        CHECK(URL::parse("  http://h/  ").path == "/");  // surrounding whitespace is trimmed
    }

    TEST_CASE("remove_dot_segments follows RFC 3986 5.2.4") {
        CHECK(detail::remove_dot_segments("/a/b/c/./../../g") == "/a/g");
        CHECK(detail::remove_dot_segments("mid/content=5/../6") == "mid/6");
        CHECK(detail::remove_dot_segments("/..") == "/");
        CHECK(detail::remove_dot_segments("/a/..") == "/");
        CHECK(detail::remove_dot_segments("/a/.") == "/a/");
        CHECK(detail::remove_dot_segments("/../../x") == "/x");
    }

    TEST_CASE("resolve: RFC 3986 5.4 normal and abnormal examples (base http://a/b/c/d;p?q)") {
        auto base = URL::parse("http://a/b/c/d;p?q");
        auto r = [&](const char* ref) { return resolve(base, ref).to_string(); };
        CHECK(r("g") == "http://a/b/c/g");
        CHECK(r("./g") == "http://a/b/c/g");
        CHECK(r("g/") == "http://a/b/c/g/");
        CHECK(r("/g") == "http://a/g");
        CHECK(r("//g") == "http://g/");
        CHECK(r("?y") == "http://a/b/c/d;p?y");
        CHECK(r("g?y") == "http://a/b/c/g?y");
        CHECK(r("#s") == "http://a/b/c/d;p?q");
        CHECK(r("g#s") == "http://a/b/c/g");
        CHECK(r(";x") == "http://a/b/c/;x");
        CHECK(r("") == "http://a/b/c/d;p?q");
        CHECK(r(".") == "http://a/b/c/");
        CHECK(r("..") == "http://a/b/");
        CHECK(r("../g") == "http://a/b/g");
        CHECK(r("../..") == "http://a/");
        CHECK(r("../../g") == "http://a/g");
        CHECK(r("../../../g") == "http://a/g");
        CHECK(r("/./g") == "http://a/g");
        CHECK(r("/../g") == "http://a/g");
        CHECK(r("g.") == "http://a/b/c/g.");
        CHECK(r("..g") == "http://a/b/c/..g");
        CHECK(r("./../g") == "http://a/b/g");
        CHECK(r("g/./h") == "http://a/b/c/g/h");
        CHECK(r("g/../h") == "http://a/b/c/h");
        CHECK(r("g;x=1/../y") == "http://a/b/c/y");
        CHECK(r("g?y/./x") == "http://a/b/c/g?y/./x");
    }

    TEST_CASE("resolve: absolute and network-path references keep their own host, port and scheme") {
        auto base = URL::parse("https://user:pw@example.com:8443/dir/page?x");
        CHECK(resolve(base, "http://other.org/p").to_string() == "http://other.org/p");
        auto net = resolve(base, "//cdn.example.net:9000/a/../b?c");
        CHECK(net.scheme == "https");
        CHECK(net.host == "cdn.example.net");
        CHECK(net.port == 9000);
        CHECK(net.request_target() == "/b?c");
        CHECK(net.username.empty());
        auto rel = resolve(base, "next");
        CHECK(rel.to_string() == "https://user:pw@example.com:8443/dir/next");
        CHECK(resolve(URL::parse("http://[::1]:8080/a/b"), "../c").to_string() == "http://[::1]:8080/c");
        CHECK_THROWS_AS(resolve(base, "ftp://x/"), InvalidURLError);
    }

}  // TEST_SUITE
