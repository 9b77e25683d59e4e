// Request serialization: request line, default headers, framing, proxies, injection checks, chunking.
#include <doctest/doctest.h>

#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/request_writer.hpp"

using namespace squall::http;

namespace {
SerializedRequest write(const HTTPRequest& r, RequestWriterOptions o = {}) {
    return write_request(r, URL::parse(r.url), o);
}
}  // namespace

TEST_SUITE("http_parse") {
    TEST_CASE("GET head: request line, Host, User-Agent, Accept-Encoding, user headers, blank line") {
        HTTPRequest r{.url = "http://example.com/a?b=1#frag", .headers = {{"X-Trace", "42"}}};
        auto out = write(r);
        CHECK(
            out.head ==
            "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: squall/0.1\r\nAccept-Encoding: gzip\r\n"
            "X-Trace: 42\r\n\r\n");
        CHECK(out.body.empty());
        CHECK_FALSE(out.chunked);
    }

    TEST_CASE("Host carries a non-default port and IPv6 brackets") {
        CHECK(write({.url = "http://h:8080/"}).head.find("\r\nHost: h:8080\r\n") != std::string::npos);
        CHECK(write({.url = "https://h:443/"}).head.find("\r\nHost: h\r\n") != std::string::npos);
        CHECK(write({.url = "http://[::1]:81/"}).head.find("\r\nHost: [::1]:81\r\n") != std::string::npos);
        CHECK(write({.url = "http://[::1]/"}).head.find("\r\nHost: [::1]\r\n") != std::string::npos);
    }

    TEST_CASE("user headers override the defaults; no Accept-Encoding without decompress_response") {
        HTTPRequest r{.url = "http://h/",
                      .headers = {{"host", "virtual"}, {"user-agent", "me"}},
                      .decompress_response = false};
        auto head = write(r).head;
        CHECK(head == "GET / HTTP/1.1\r\nhost: virtual\r\nuser-agent: me\r\n\r\n");
        HTTPRequest custom{.url = "http://h/", .user_agent = "agent/2"};
        CHECK(write(custom).head.find("User-Agent: agent/2\r\n") != std::string::npos);
    }

    TEST_CASE("a body gets Content-Length and goes out as a second buffer, not copied") {
        HTTPRequest r{.url = "http://h/post", .method = "POST", .body = "hello"};
        auto out = write(r);
        CHECK(out.head.find("POST /post HTTP/1.1\r\n") == 0);
        CHECK(out.head.find("\r\nContent-Length: 5\r\n") != std::string::npos);
        CHECK(out.body == "hello");
        CHECK(out.body.data() == r.body->data());
        auto bufs = out.buffers();
        CHECK(bufs[0] == out.head);
        CHECK(bufs[1] == "hello");
        // POST without a body still says Content-Length: 0; GET does not.
        CHECK(write({.url = "http://h/", .method = "POST"}).head.find("Content-Length: 0\r\n") !=
              std::string::npos);
        CHECK(write({.url = "http://h/"}).head.find("Content-Length") == std::string::npos);
        // A user Content-Length must match.
        CHECK_THROWS_AS(
            write(
                {.url = "http://h/", .method = "PUT", .headers = {{"Content-Length", "3"}}, .body = "hello"}),
            RequestError);
    }

    TEST_CASE("body_producer is sent chunked unless the user gives Content-Length") {
        int calls = 0;
        HTTPRequest r{
            .url = "http://h/up", .method = "PUT", .body_producer = [&]() -> std::optional<std::string> {
                return ++calls < 3 ? std::optional<std::string>("x") : std::nullopt;
            }};
        auto out = write(r);
        CHECK(out.chunked);
        CHECK(out.streamed);
        CHECK(out.head.find("\r\nTransfer-Encoding: chunked\r\n") != std::string::npos);
        CHECK(out.head.find("Content-Length") == std::string::npos);
        r.headers.add("Content-Length", "2");
        auto fixed = write(r);
        CHECK_FALSE(fixed.chunked);
        CHECK(fixed.streamed);
        CHECK(fixed.head.find("Transfer-Encoding") == std::string::npos);
        HTTPRequest both{.url = "http://h/", .method = "POST", .body = "x", .body_producer = [] {
                             return std::optional<std::string>();
                         }};
        CHECK_THROWS_AS(write(both), RequestError);
    }

    TEST_CASE("Basic authorization from auth_username/password and from URL userinfo") {
        HTTPRequest r{.url = "http://h/", .auth_username = "Aladdin", .auth_password = "open sesame"};
        CHECK(write(r).head.find("\r\nAuthorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n") !=
              std::string::npos);
        CHECK(write({.url = "http://u%3A:p@h/"}).head.find("Authorization: " + basic_auth_value("u:", "p")) !=
              std::string::npos);
        CHECK(base64_encode("") == "");
        CHECK(base64_encode("f") == "Zg==");
        CHECK(base64_encode("fo") == "Zm8=");
        CHECK(base64_encode("foo") == "Zm9v");
        CHECK(base64_encode("foob") == "Zm9vYg==");
        CHECK(base64_encode("\xff\xfe\xfd") == "//79");
    }

    TEST_CASE("plain HTTP proxy: absolute-form target without credentials, Proxy-Authorization") {
        HTTPRequest r{.url = "http://user:pw@h:8080/p?q",
                      .proxy_host = "proxy",
                      .proxy_port = 3128,
                      .proxy_username = "pu",
                      .proxy_password = "pp"};
        auto head = write(r, {.via_proxy = true}).head;
        CHECK(head.find("GET http://h:8080/p?q HTTP/1.1\r\n") == 0);
        CHECK(head.find("\r\nProxy-Authorization: " + basic_auth_value("pu", "pp") + "\r\n") !=
              std::string::npos);
        CHECK(head.find("\r\nAuthorization: " + basic_auth_value("user", "pw") + "\r\n") !=
              std::string::npos);
        CHECK(write(r).head.find("Proxy-Authorization") == std::string::npos);  // not sent to the origin
    }

    TEST_CASE("CONNECT request for a tunnel") {
        HTTPRequest r{.url = "https://[::1]/x", .proxy_username = "u", .proxy_password = "p"};
        CHECK(write_connect_request(r, URL::parse(r.url)) ==
              "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\nProxy-Authorization: Basic dTpw\r\n\r\n");
    }

    TEST_CASE("Connection: close when the connection will not be reused; Expect: 100-continue") {
        CHECK(write({.url = "http://h/"}, {.keep_alive = false}).head.find("\r\nConnection: close\r\n") !=
              std::string::npos);
        CHECK(write({.url = "http://h/"}).head.find("Connection") == std::string::npos);
        HTTPRequest r{.url = "http://h/", .method = "POST", .body = "data", .expect_100_continue = true};
        auto out = write(r);
        CHECK(out.expect_continue);
        CHECK(out.head.find("\r\nExpect: 100-continue\r\n") != std::string::npos);
        HTTPRequest no_body{.url = "http://h/", .expect_100_continue = true};
        CHECK_FALSE(write(no_body).expect_continue);  // nothing to hold back
    }

    TEST_CASE("write_request_into reuses the head buffer and resets every field") {
        HTTPRequest post{
            .url = "http://h/up", .method = "POST", .body = "hello", .expect_100_continue = true};
        HTTPRequest stream{.url = "http://h/s", .method = "PUT", .body_producer = [] {
                               return std::optional<std::string>();
                           }};
        HTTPRequest get{.url = "http://h:8080/a?b", .headers = {{"Accept-Encoding", "br"}, {"X", "y"}}};
        SerializedRequest out;
        for (const HTTPRequest* r : {&post, &stream, &get, &post}) {
            const char* before = out.head.data();
            write_request_into(out, *r, URL::parse(r->url));
            SerializedRequest fresh = write(*r);
            CHECK(out.head == fresh.head);
            CHECK(out.body == fresh.body);
            CHECK(out.chunked == fresh.chunked);
            CHECK(out.streamed == fresh.streamed);
            CHECK(out.expect_continue == fresh.expect_continue);
            if (r != &post) CHECK(out.head.data() == before);  // no reallocation for a small head
        }
    }

    TEST_CASE("user headers are recognised case-insensitively whatever their position") {
        HTTPRequest r{.url = "http://h/",
                      .method = "POST",
                      .headers = {{"X-A", "1"},
                                  {"CONTENT-LENGTH", "3"},
                                  {"expect", "nothing"},
                                  {"connection", "keep-alive"},
                                  {"AUTHORIZATION", "Bearer t"},
                                  {"Accept-encoding", "identity"}},
                      .body = "abc",
                      .auth_username = "u",
                      .expect_100_continue = true};
        auto head = write(r, {.keep_alive = false}).head;
        CHECK(head ==
              "POST / HTTP/1.1\r\nHost: h\r\nUser-Agent: squall/0.1\r\nX-A: 1\r\nCONTENT-LENGTH: 3\r\n"
              "expect: nothing\r\nconnection: keep-alive\r\nAUTHORIZATION: Bearer t\r\n"
              "Accept-encoding: identity\r\n\r\n");
    }

    TEST_CASE("CR/LF in header names, values, method or target is rejected (header injection)") {
        auto bad = [](HTTPRequest r) {
            try {
                write(r);
            } catch (const RequestError& e) {
                return std::string(e.what());
            }
            return std::string("no error");
        };
        CHECK(bad({.url = "http://h/", .headers = {{"X", "a\r\nEvil: 1"}}}).find("header injection") !=
              std::string::npos);
        CHECK(bad({.url = "http://h/", .headers = {{"X", std::string("a\0b", 3)}}}).find("NUL") !=
              std::string::npos);
        CHECK(bad({.url = "http://h/", .headers = {{"X\r\nEvil", "1"}}}).find("invalid header name") !=
              std::string::npos);
        CHECK(bad({.url = "http://h/", .headers = {{"Bad Name", "1"}}}).find("invalid header name") !=
              std::string::npos);
        CHECK(bad({.url = "http://h/", .method = "GET /x HTTP/1.1\r\n"}).find("invalid HTTP method") !=
              std::string::npos);
        CHECK(bad({.url = "http://h/", .user_agent = "a\nb"}).find("user_agent") != std::string::npos);
        // A hand-built URL with a space or CR/LF in the target.
        URL u = URL::parse("http://h/");
        u.path = "/a HTTP/1.1\r\nEvil: 1\r\n";
        CHECK_THROWS_AS(write_request({.url = "http://h/"}, u), RequestError);
    }

    TEST_CASE("chunk encoding for streamed uploads") {
        CHECK(encode_chunk("hello") == "5\r\nhello\r\n");
        CHECK(encode_chunk(std::string(26, 'x')) == "1a\r\n" + std::string(26, 'x') + "\r\n");
        CHECK(encode_chunk("") == "");  // an empty chunk would end the body
        CHECK(chunk_size_line(0x1000) == "1000\r\n");
        CHECK(chunk_size_line(0) == "0\r\n");
        std::string out;
        append_chunk(out, "ab");
        append_chunk(out, "c");
        out += kLastChunk;
        CHECK(out == "2\r\nab\r\n1\r\nc\r\n0\r\n\r\n");
    }

}  // TEST_SUITE
