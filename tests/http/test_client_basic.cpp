// http::Client against the loopback test server: framing, keep-alive, callbacks, uploads, errors.
// Requests are built in named variables, never as temporaries inside a co_await expression: GCC 12 frees
// the strings of an aggregate temporary's default member initializers twice there (bad-free).
#include <doctest/doctest.h>

#include <squall/testing.hpp>
#include <string>
#include <vector>

#include "squall/httpclient/http.hpp"
#include "tests/http/test_client_support.hpp"
#include "tests/support/http_test_server.hpp"

using namespace std::chrono_literals;
using namespace squall::http::test;

SQUALL_TEST_CASE("fetch reads a Content-Length body and reuses the keep-alive connection", 10s) {
    TestServer server(loop);
    server.route("/hello", [](const TestRequest& r) { return Reply::ok("hello " + r.method); });
    Client client(loop);
    for (int i = 0; i < 3; ++i) {
        HTTPResponse resp = co_await client.fetch(server.url("/hello"));
        CHECK(resp.code == 200);
        CHECK(resp.reason == "OK");
        CHECK(resp.body == "hello GET");
        CHECK(resp.headers.get("Content-Type") == "text/plain");
        CHECK(resp.effective_url() == server.url("/hello"));
        CHECK(resp.request_time > 0ns);
    }
    CHECK(server.connections_accepted() == 1);
    REQUIRE(server.requests_per_connection().size() == 1);
    CHECK(server.requests_per_connection()[0] == 3);
    CHECK(client.stats().connections_opened == 1);
    CHECK(client.stats().connections_reused == 2);
    CHECK(client.idle_connections() == 1);
    auto& req = server.requests().at(0);
    CHECK(req.header("User-Agent") == "squall/0.1");
    CHECK(req.header("Host") == server.authority());
    CHECK(req.header("Accept-Encoding") == "gzip");
}

SQUALL_TEST_CASE("a prepared request carries the client's defaults and is shared by every response", 10s) {
    TestServer server(loop);
    server.route("/p", [](const TestRequest& r) {
        return Reply::ok(std::string(r.header("X-Team").value_or("none")) + " " + r.method);
    });
    HTTPRequest defaults;
    defaults.headers.add("X-Team", "blue");
    defaults.user_agent = "prepared/1";
    Client client(loop, {.defaults = std::move(defaults)});
    const auto ping = client.prepare(server.url("/p"));
    HTTPRequest post;
    post.url = server.url("/p");
    post.method = "POST";
    post.body = "x";
    post.headers.add("X-Team", "red");  // set by the request: the default does not override it
    const auto upload = client.prepare(post);
    for (int i = 0; i < 3; ++i) {
        HTTPResponse resp = co_await client.fetch(ping);
        CHECK(resp.body == "blue GET");
        CHECK(resp.request == ping);  // shared, not copied
        CHECK(resp.effective_url() == server.url("/p"));
        HTTPResponse posted = co_await client.fetch(upload);
        CHECK(posted.body == "red POST");
        CHECK(posted.request == upload);
    }
    CHECK(server.requests().at(0).header("User-Agent") == "prepared/1");
    CHECK(server.requests().at(1).header("User-Agent") == "prepared/1");
    CHECK(client.stats().connections_opened == 1);
    const std::shared_ptr<const HTTPRequest> none;
    CHECK_THROWS_AS((void)client.fetch(none), RequestError);  // thrown before any Task exists
}

SQUALL_TEST_CASE("a prepared request fetched again and again sends its own head and body every time", 10s) {
    // The client serializes a prepared request once it is fetched twice at the same url; another request
    // at that url, or a new one made where an old one was, must never be sent the kept head.
    TestServer server(loop);
    server.route("/r", [](const TestRequest& r) {
        return Reply::ok(r.method + " " + std::string(r.header("X-Id").value_or("-")) + " " + r.body);
    });
    Client client(loop);
    HTTPRequest a;
    a.url = server.url("/r");
    a.method = "POST";
    a.body = "first";
    a.headers.add("X-Id", "a");
    const auto pa = client.prepare(a);
    for (int i = 0; i < 4; ++i) {
        HTTPResponse resp = co_await client.fetch(pa);
        CHECK(resp.body == "POST a first");
    }
    HTTPRequest b = a;
    b.body = "second";
    b.headers.set("X-Id", "b");
    const auto pb = client.prepare(b);
    for (int i = 0; i < 3; ++i) {
        HTTPResponse resp = co_await client.fetch(pb);
        CHECK(resp.body == "POST b second");
    }
    HTTPResponse again = co_await client.fetch(pa);
    CHECK(again.body == "POST a first");
    for (int i = 0; i < 3; ++i) {
        HTTPRequest c = a;
        c.headers.set("X-Id", std::to_string(i));
        auto pc = client.prepare(c);
        HTTPResponse first = co_await client.fetch(pc);
        HTTPResponse second = co_await client.fetch(pc);
        CHECK(first.body == "POST " + std::to_string(i) + " first");
        CHECK(second.body == first.body);
    }
    CHECK(server.requests().size() == 14);
    CHECK(client.stats().connections_opened == 1);
}

SQUALL_TEST_CASE("chunked body with trailers is decoded and trailers exposed", 10s) {
    TestServer server(loop);
    server.route("/c", [](const TestRequest&) {
        return Reply::chunked(200, {"hel", "lo ", "world"}, {{"X-Sum", "42"}});
    });
    Client client(loop);
    auto resp = co_await client.fetch(server.url("/c"));
    CHECK(resp.body == "hello world");
    CHECK(resp.trailers.get("X-Sum") == "42");
    auto again = co_await client.fetch(server.url("/c"));
    CHECK(again.body == "hello world");
    CHECK(server.connections_accepted() == 1);
}

SQUALL_TEST_CASE("close-delimited body ends at EOF and the connection is not reused", 10s) {
    TestServer server(loop);
    server.route("/close", [](const TestRequest&) { return Reply::close_delimited(200, "until the end"); });
    Client client(loop);
    auto a = co_await client.fetch(server.url("/close"));
    auto b = co_await client.fetch(server.url("/close"));
    CHECK(a.body == "until the end");
    CHECK(b.body == "until the end");
    CHECK(server.connections_accepted() == 2);
    CHECK(client.idle_connections() == 0);
}

SQUALL_TEST_CASE("HEAD, 204 and 304 end at the header block and keep the connection", 10s) {
    TestServer server(loop);
    server.route("/head", [](const TestRequest&) {
        return Reply::raw(Reply::head(200, {{"Content-Length", "100"}, {"Content-Type", "text/plain"}}));
    });
    server.route("/204", [](const TestRequest&) { return Reply::raw(Reply::head(204, {})); });
    server.route("/304", [](const TestRequest&) {
        return Reply::raw(Reply::head(304, {{"ETag", "\"x\""}}));
    });
    Client client(loop);
    HTTPRequest request1{.url = server.url("/head"), .method = "HEAD"};
    auto head = co_await client.fetch(request1);
    CHECK(head.code == 200);
    CHECK(head.body.empty());
    CHECK(head.headers.get("Content-Length") == "100");
    auto no_content = co_await client.fetch(server.url("/204"));
    CHECK(no_content.code == 204);
    CHECK(no_content.body.empty());
    auto not_modified = co_await client.fetch(server.url("/304"));
    CHECK(not_modified.code == 304);
    CHECK(not_modified.headers.get("ETag") == "\"x\"");
    CHECK(server.connections_accepted() == 1);
    CHECK(server.requests_total() == 3);
}

SQUALL_TEST_CASE("1xx responses are skipped, and header_callback sees every head line", 10s) {
    TestServer server(loop);
    server.route("/hints", [](const TestRequest&) {
        return Reply::text(200, "final", {{"X-Final", "1"}}).with_interim(103, {{"Link", "</style.css>"}});
    });
    Client client(loop);
    std::vector<std::string> lines;
    HTTPRequest request2{.url = server.url("/hints"),
                         .header_callback = [&](std::string_view l) { lines.emplace_back(l); }};
    auto resp = co_await client.fetch(request2);
    CHECK(resp.code == 200);
    CHECK(resp.body == "final");
    CHECK_FALSE(resp.headers.contains("Link"));
    REQUIRE(lines.size() >= 6);
    CHECK(lines[0] == "HTTP/1.1 103 Early Hints\r\n");
    CHECK(lines[1] == "Link: </style.css>\r\n");
    CHECK(lines[2] == "\r\n");
    CHECK(lines[3] == "HTTP/1.1 200 OK\r\n");
    CHECK(std::find(lines.begin(), lines.end(), "X-Final: 1\r\n") != lines.end());
    CHECK(lines.back() == "\r\n");
}

SQUALL_TEST_CASE("a truncated body raises ProtocolError and the connection is dropped", 10s) {
    TestServer server(loop);
    server.route("/short", [](const TestRequest&) { return Reply::truncated(200, 100, "only this"); });
    Client client(loop);
    auto what = co_await error_of<ProtocolError>(client.fetch(server.url("/short")));
    CHECK(contains(what, "got 9 of 100 bytes"));
    CHECK(client.idle_connections() == 0);
}

SQUALL_TEST_CASE("a malformed response raises ProtocolError", 10s) {
    TestServer server(loop);
    server.route("/bad", [](const TestRequest&) { return Reply::malformed("HTTP/1.1 2x0 OK\r\n\r\n"); });
    server.route("/garbage", [](const TestRequest&) { return Reply::malformed("SSH-2.0-OpenSSH\r\n"); });
    server.route("/empty", [](const TestRequest&) { return Reply::malformed(""); });
    Client client(loop);
    CHECK((co_await error_of<ProtocolError>(client.fetch(server.url("/bad")))).has_value());
    CHECK((co_await error_of<ProtocolError>(client.fetch(server.url("/garbage")))).has_value());
    // A fresh connection closed without a byte is a ProtocolError, not a stale connection to retry.
    CHECK((co_await error_of<ProtocolError>(client.fetch(server.url("/empty")))).has_value());
    CHECK(client.stats().stale_retries == 0);
}

SQUALL_TEST_CASE("raise_error: status >= 400 raises HTTPError with the response, or returns it when off",
                 10s) {
    TestServer server(loop);  // unrouted paths answer 404 with a body
    Client client(loop);
    int code = 0;
    std::string body;
    try {
        co_await client.fetch(server.url("/missing"));
    } catch (const HTTPError& e) {
        code = e.code();
        REQUIRE(e.response());
        body = e.response()->body;
        CHECK(std::string(e.what()).find("HTTP 404") != std::string::npos);
    }
    CHECK(code == 404);
    CHECK(body == "no route for /missing\n");
    HTTPRequest request3{.url = server.url("/missing"), .raise_error = false};
    auto resp = co_await client.fetch(request3);
    CHECK(resp.code == 404);
    CHECK(resp.body == "no route for /missing\n");
    CHECK(server.connections_accepted() == 1);  // an error status does not cost the connection
}

SQUALL_TEST_CASE("streaming_callback receives the body in pieces and nothing is buffered", 20s) {
    TestServer server(loop);
    constexpr std::size_t kSize = 3 * 1024 * 1024 + 17;
    server.route("/gen", [](const TestRequest&) { return Reply::generated(200, kSize, false, 256 * 1024); });
    server.route("/genc", [](const TestRequest&) { return Reply::generated(200, kSize, true, 100 * 1024); });
    Client client(loop);
    for (const char* path : {"/gen", "/genc"}) {
        std::size_t total = 0, pieces = 0;
        bool matches = true;
        HTTPRequest request{.url = server.url(path), .streaming_callback = [&](std::string_view p) {
                                if (p != Reply::pattern(total, p.size())) matches = false;
                                total += p.size();
                                ++pieces;
                            }};
        auto resp = co_await client.fetch(request);
        CHECK(resp.code == 200);
        CHECK(resp.body.empty());
        CHECK(total == kSize);
        CHECK(pieces > 1);
        CHECK(matches);
    }
}

SQUALL_TEST_CASE("a large body arrives whole", 20s) {
    TestServer server(loop);
    constexpr std::size_t kSize = 8 * 1024 * 1024;
    server.route("/big", [](const TestRequest&) { return Reply::generated(200, kSize, true, 64 * 1024); });
    Client client(loop);
    auto resp = co_await client.fetch(server.url("/big"));
    CHECK(resp.body.size() == kSize);
    CHECK((resp.body == Reply::pattern(0, kSize)));
}

SQUALL_TEST_CASE("body and body_producer uploads reach the server (fixed length and chunked)", 10s) {
    TestServer server(loop);
    server.route("/up", [](const TestRequest& r) {
        return Reply::ok(r.method + (r.chunked ? " chunked " : " fixed ") + r.body);
    });
    Client client(loop);
    HTTPRequest request4{.url = server.url("/up"), .method = "POST", .body = "a=1&b=2"};
    auto fixed = co_await client.fetch(request4);
    CHECK(fixed.body == "POST fixed a=1&b=2");
    std::vector<std::string> pieces{"first,", "", "second,", std::string(100000, 'x')};
    std::size_t next = 0;
    HTTPRequest request5{
        .url = server.url("/up"), .method = "PUT", .body_producer = [&]() -> std::optional<std::string> {
            if (next == pieces.size()) return std::nullopt;
            return pieces[next++];
        }};
    auto streamed = co_await client.fetch(request5);
    CHECK(streamed.body == "PUT chunked first,second," + std::string(100000, 'x'));
    CHECK(server.connections_accepted() == 1);
}

SQUALL_TEST_CASE("expect_100_continue sends the body after 100 Continue, or after the wait without it", 10s) {
    TestServer server(loop);
    server.route("/up", [](const TestRequest& r) { return Reply::ok("got " + r.body); });
    server.route("/deaf", [](const TestRequest& r) { return Reply::ok("got " + r.body); },
                 {.expect = squall::testing::ExpectContinue::ignore});
    server.route("/refuse", [](const TestRequest&) { return Reply::text(413, "too big"); },
                 {.expect = squall::testing::ExpectContinue::reply_first});
    Client client(loop);
    std::vector<std::string> lines;
    HTTPRequest request{.url = server.url("/up"),
                        .method = "POST",
                        .body = "payload",
                        .header_callback = [&](std::string_view l) { lines.emplace_back(l); },
                        .expect_100_continue = true};
    auto resp = co_await client.fetch(request);
    CHECK(resp.body == "got payload");
    REQUIRE(!lines.empty());
    CHECK(lines[0] == "HTTP/1.1 100 Continue\r\n");
    CHECK(server.requests().back().header("Expect") == "100-continue");

    auto t0 = loop.time();
    HTTPRequest request6{
        .url = server.url("/deaf"), .method = "POST", .body = "anyway", .expect_100_continue = true};
    auto deaf = co_await client.fetch(request6);
    CHECK(deaf.body == "got anyway");
    CHECK(loop.time() - t0 >= squall::http::kExpectContinueTimeout);

    HTTPRequest request7{.url = server.url("/refuse"),
                         .method = "POST",
                         .body = "never sent",
                         .expect_100_continue = true,
                         .raise_error = false};
    auto refused = co_await client.fetch(request7);
    CHECK(refused.code == 413);
    CHECK(client.idle_connections() == 0);  // the body was never sent: that connection is not kept
    auto after = co_await client.fetch(request);
    CHECK(after.body == "got payload");
}

SQUALL_TEST_CASE("max_body_size and max_header_size are enforced with ProtocolError", 10s) {
    TestServer server(loop);
    server.route("/big", [](const TestRequest&) { return Reply::generated(200, 200000, false); });
    server.route("/fat-head", [](const TestRequest&) {
        return Reply::text(200, "x", {{"X-Pad", std::string(9000, 'p')}});
    });
    Client client(loop);
    HTTPRequest request8{.url = server.url("/big"), .max_body_size = 100000};
    auto body_error = co_await error_of<ProtocolError>(client.fetch(request8));
    CHECK(body_error.has_value());
    HTTPRequest request9{.url = server.url("/fat-head"), .max_header_size = 4096};
    auto head_error = co_await error_of<ProtocolError>(client.fetch(request9));
    CHECK(head_error.has_value());
    CHECK(client.idle_connections() == 0);
    auto ok = co_await client.fetch(server.url("/fat-head"));
    CHECK(ok.body == "x");
}

SQUALL_TEST_CASE("a streaming_callback that throws fails the fetch with its error", 10s) {
    TestServer server(loop);
    server.route("/x", [](const TestRequest&) { return Reply::ok("data"); });
    Client client(loop);
    HTTPRequest request10{.url = server.url("/x"), .streaming_callback = [](std::string_view) {
                              throw std::logic_error("sink full");
                          }};
    auto what = co_await error_of<std::logic_error>(client.fetch(request10));
    CHECK(what == "sink full");
    CHECK(client.idle_connections() == 0);
}

SQUALL_TEST_CASE("close() fails queued fetches and later ones; defaults apply to fetch(url)", 10s) {
    TestServer server(loop);
    server.route("/h", [](const TestRequest& r) {
        return Reply::ok(std::string(r.header("X-Default").value_or("none")) + " " +
                         std::string(r.header("User-Agent").value_or("")));
    });
    Client client(loop, {.defaults = {.headers = {{"X-Default", "yes"}}, .user_agent = "tester/1"}});
    auto resp = co_await client.fetch(server.url("/h"));
    CHECK(resp.body == "yes tester/1");
    HTTPRequest request11{.url = server.url("/h")};
    auto explicit_request = co_await client.fetch(request11);
    CHECK(explicit_request.body == "yes tester/1");
    client.close();
    CHECK(client.idle_connections() == 0);
    CHECK((co_await error_of<squall::Error>(client.fetch(server.url("/h")))).has_value());
}
