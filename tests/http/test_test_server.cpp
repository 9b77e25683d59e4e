// The loopback test server and proxy themselves (tests/support/http_test_server.hpp, http_test_proxy.hpp),
// exercised with plain IOStream clients so the HTTP client's tests can trust them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>

#include <doctest/doctest.h>

#include <squall/testing.hpp>

#include "squall/ioloop/async.hpp"
#include "squall/iostream/errors.hpp"
#include "squall/iostream/iostream.hpp"
#include "tests/support/http_test_proxy.hpp"
#include "tests/support/http_test_server.hpp"

using namespace std::chrono_literals;
using squall::IOStream;
using squall::Task;
using squall::testing::Reply;
using squall::testing::TestProxy;
using squall::testing::TestRequest;
using squall::testing::TestServer;

namespace {

Task<std::shared_ptr<IOStream>> connect_to(squall::IOLoop& loop, int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(static_cast<std::uint16_t>(port));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int r = co_await loop.connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    REQUIRE(r == 0);
    co_return IOStream::create(loop, fd);
}

// Reads one response with a Content-Length body (or none); returns head + body.
Task<std::string> read_response(IOStream& s) {
    std::string head = co_await s.read_until("\r\n\r\n", 64 * 1024);
    auto pos = head.find("Content-Length: ");
    if (pos == std::string::npos) co_return head;
    std::size_t n = std::stoul(head.substr(pos + 16));
    if (n == 0) co_return head;
    std::string body = co_await s.read_bytes(n);
    co_return head + body;
}

// True when no byte is waiting on the socket (checked without starting a read that would outlive the test).
bool nothing_arrived(const IOStream& s) {
    char c;
    return ::recv(s.fd(), &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

std::string get(std::string_view path, std::string_view extra = "") {
    return "GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra) + "\r\n";
}

}  // namespace

SQUALL_TEST_CASE("test server answers routes with exact bytes and counts keep-alive reuse", 10s) {
    TestServer server(loop);
    server.route("/a", [](const TestRequest& r) { return Reply::ok("path " + r.path + " q=" + r.query); });
    auto s = co_await connect_to(loop, server.port());
    co_await s->write(get("/a?x=1"));
    CHECK(co_await read_response(*s) ==
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\npath /a q=x=1");
    co_await s->write(get("/missing"));
    std::string second = co_await read_response(*s);
    CHECK(second.starts_with("HTTP/1.1 404 Not Found\r\n"));
    auto s2 = co_await connect_to(loop, server.port());
    co_await s2->write(get("/a"));
    co_await read_response(*s2);
    CHECK(server.connections_accepted() == 2);
    CHECK(server.requests_per_connection() == std::vector<std::size_t>{2, 1});
    CHECK(server.requests_total() == 3);
    REQUIRE(server.requests().size() == 3);
    CHECK(server.requests()[1].path == "/missing");
    CHECK(server.requests()[1].index_on_connection == 2);
    CHECK(server.requests()[2].connection == 2);
    CHECK(server.requests()[0].header("host") == "test");
    CHECK(server.requests()[0].query_param("x") == "1");
}

SQUALL_TEST_CASE("test server decodes Content-Length and chunked request bodies with trailers", 10s) {
    TestServer server(loop);
    server.route("/echo", [](const TestRequest& r) { return Reply::ok(r.body); });
    auto s = co_await connect_to(loop, server.port());
    co_await s->write("POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
    CHECK((co_await read_response(*s)).ends_with("\r\n\r\nhello"));
    co_await s->write(
        "PUT /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Sum: 13\r\n\r\n");
    CHECK((co_await read_response(*s)).ends_with("\r\n\r\nabc0123456789"));
    REQUIRE(server.requests().size() == 2);
    CHECK(server.requests()[1].chunked);
    CHECK(server.requests()[1].method == "PUT");
    REQUIRE(server.requests()[1].trailers.size() == 1);
    CHECK(server.requests()[1].trailers[0] == std::pair<std::string, std::string>{"X-Sum", "13"});
}

SQUALL_TEST_CASE("test server rejects malformed requests with 400 and closes", 10s) {
    TestServer server(loop);
    for (std::string bad : {"GET /\r\n\r\n", "GET / HTTP/1.1\r\nno colon\r\n\r\n",
                            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                            "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"}) {
        auto s = co_await connect_to(loop, server.port());
        co_await s->write(bad);
        std::string all = co_await s->read_until_close();
        CHECK_MESSAGE(all.starts_with("HTTP/1.1 400 Bad Request\r\n"), bad);
    }
    auto s = co_await connect_to(loop, server.port());
    co_await s->write("GET / HTTP/1.1\r\nX: " + std::string(70000, 'a') + "\r\n\r\n");
    CHECK((co_await s->read_until_close()).starts_with("HTTP/1.1 431 "));
}

SQUALL_TEST_CASE("chunked, close-delimited, truncated and early-hints replies send exact bytes", 10s) {
    TestServer server(loop);
    server.route("/c", [](const TestRequest&) {
        return Reply::chunked(200, {"hel", "", "lo"}, {{"X-T", "1"}});
    });
    server.route("/cd", [](const TestRequest&) { return Reply::close_delimited(200, "until close"); });
    server.route("/t", [](const TestRequest&) { return Reply::truncated(200, 100, "short"); });
    server.route("/eh", [](const TestRequest&) {
        return Reply::ok("final").with_interim(103, {{"Link", "</s.css>; rel=preload"}});
    });
    auto s = co_await connect_to(loop, server.port());
    co_await s->write(get("/c", "Connection: close\r\n"));
    CHECK(co_await s->read_until_close() ==
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\nX-T: 1\r\n\r\n");
    s = co_await connect_to(loop, server.port());
    co_await s->write(get("/cd"));
    CHECK(co_await s->read_until_close() == "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close");
    s = co_await connect_to(loop, server.port());
    co_await s->write(get("/t"));
    CHECK(co_await s->read_until_close() == "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
    s = co_await connect_to(loop, server.port());
    co_await s->write(get("/eh"));
    CHECK(co_await s->read_until("\r\n\r\n") ==
          "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n");
    CHECK((co_await read_response(*s)).ends_with("\r\n\r\nfinal"));
}

SQUALL_TEST_CASE("slow replies pause between pieces", 10s) {
    TestServer server(loop);
    server.route("/s", [](const TestRequest&) { return Reply::slow({"ab", "cd"}, 50ms).then_close(); });
    auto s = co_await connect_to(loop, server.port());
    auto t0 = loop.time();
    co_await s->write(get("/s"));
    CHECK(co_await s->read_bytes(2) == "ab");
    CHECK(loop.time() - t0 >= 50ms);
    CHECK(co_await s->read_until_close() == "cd");
    CHECK(loop.time() - t0 >= 100ms);
}

SQUALL_TEST_CASE("reset replies make the client's read fail with ECONNRESET", 10s) {
    TestServer server(loop);
    server.route("/r", [](const TestRequest&) { return Reply::reset("HTTP/1.1 200 OK\r\n"); });
    auto s = co_await connect_to(loop, server.port());
    co_await s->write(get("/r"));
    int err = 0;
    try {
        co_await s->read_until_close();
    } catch (const squall::StreamClosedError& e) {
        err = e.error_code();
    }
    CHECK(err == ECONNRESET);
}

SQUALL_TEST_CASE("never-answer replies hold the connection until the client closes", 10s) {
    TestServer server(loop);
    server.route("/n", [](const TestRequest&) { return Reply::never_answer(); });
    auto s = co_await connect_to(loop, server.port());
    co_await s->write(get("/n"));
    co_await squall::sleep(100ms);
    CHECK(nothing_arrived(*s));
    CHECK(server.open_connections() == 1);
    s->close();
    for (int i = 0; i < 100 && server.open_connections() != 0; ++i) co_await squall::sleep(5ms);
    CHECK(server.open_connections() == 0);
}

SQUALL_TEST_CASE("Expect: 100-continue is answered, ignored or refused as the route says", 10s) {
    TestServer server(loop);
    server.route("/go", [](const TestRequest& r) { return Reply::ok(r.body); });
    server.route(
        "/no", [](const TestRequest& r) { return Reply::text(417, "got " + std::to_string(r.body.size())); },
        {.expect = squall::testing::ExpectContinue::reply_first});
    server.route("/quiet", [](const TestRequest& r) { return Reply::ok(r.body); },
                 {.expect = squall::testing::ExpectContinue::ignore});
    const std::string head = " HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
    auto s = co_await connect_to(loop, server.port());
    co_await s->write("POST /go" + head);
    CHECK(co_await s->read_until("\r\n\r\n") == "HTTP/1.1 100 Continue\r\n\r\n");
    co_await s->write("body");
    CHECK((co_await read_response(*s)).ends_with("\r\n\r\nbody"));

    s = co_await connect_to(loop, server.port());
    co_await s->write("POST /no" + head);
    std::string refused = co_await read_response(*s);
    CHECK(refused.starts_with("HTTP/1.1 417 Expectation Failed\r\n"));
    CHECK(refused.ends_with("got 0"));
    s->close();

    s = co_await connect_to(loop, server.port());
    co_await s->write("POST /quiet" + head);
    co_await squall::sleep(50ms);
    CHECK(nothing_arrived(*s));  // no 100 Continue
    co_await s->write("body");
    CHECK((co_await read_response(*s)).ends_with("\r\n\r\nbody"));
}

SQUALL_TEST_CASE("generated bodies stream the pattern with Content-Length or chunked framing", 20s) {
    TestServer server(loop);
    server.route("/g", [](const TestRequest& r) {
        return Reply::generated(200, 200000, r.query == "chunked", 65536);
    });
    auto s = co_await connect_to(loop, server.port());
    co_await s->write(get("/g"));
    std::string plain = co_await read_response(*s);
    CHECK(plain.substr(plain.find("\r\n\r\n") + 4) == Reply::pattern(0, 200000));
    co_await s->write(get("/g?chunked", "Connection: close\r\n"));
    std::string chunked = co_await s->read_until_close();
    std::string_view rest = std::string_view(chunked).substr(chunked.find("\r\n\r\n") + 4);
    std::string decoded;
    for (;;) {
        auto eol = rest.find("\r\n");
        REQUIRE(eol != std::string_view::npos);
        std::size_t n = std::stoul(std::string(rest.substr(0, eol)), nullptr, 16);
        rest.remove_prefix(eol + 2);
        if (n == 0) break;
        decoded += rest.substr(0, n);
        rest.remove_prefix(n + 2);
    }
    CHECK(rest == "\r\n");
    CHECK(decoded == Reply::pattern(0, 200000));
}

SQUALL_TEST_CASE("destroying the server closes its connections at once", 10s) {
    auto server = std::make_unique<TestServer>(loop);
    server->route("/n", [](const TestRequest&) { return Reply::never_answer(); });
    int port = server->port();
    auto s = co_await connect_to(loop, port);
    co_await s->write(get("/n"));
    for (int i = 0; i < 100 && server->requests().empty(); ++i) co_await squall::sleep(2ms);
    REQUIRE(server->requests().size() == 1);
    server.reset();
    CHECK(co_await s->read_until_close() == "");
}

SQUALL_TEST_CASE("close_all_connections drops idle keep-alive connections", 10s) {
    TestServer server(loop);
    server.route("/a", [](const TestRequest&) { return Reply::ok("a"); });
    auto s = co_await connect_to(loop, server.port());
    co_await s->write(get("/a"));
    co_await read_response(*s);
    CHECK(server.open_connections() == 1);
    server.close_all_connections();
    CHECK(server.open_connections() == 0);
    CHECK(co_await s->read_until_close() == "");
}

SQUALL_TEST_CASE("test proxy forwards absolute-form requests and checks Proxy-Authorization", 10s) {
    TestServer origin(loop);
    origin.route("/x", [](const TestRequest& r) { return Reply::ok("origin saw " + r.target); });
    TestProxy proxy(loop, {.username = "user", .password = "pa:ss"});
    CHECK(squall::testing::basic_auth("user", "pa:ss") == "Basic dXNlcjpwYTpzcw==");

    auto s = co_await connect_to(loop, proxy.port());
    co_await s->write("GET " + origin.url("/x?q") + " HTTP/1.1\r\nHost: " + origin.authority() + "\r\n\r\n");
    std::string denied = co_await s->read_until_close();
    CHECK(denied.starts_with("HTTP/1.1 407 Proxy Authentication Required\r\n"));
    CHECK(denied.find("Proxy-Authenticate: Basic") != std::string::npos);
    CHECK(proxy.refused() == 1);

    s = co_await connect_to(loop, proxy.port());
    co_await s->write("POST " + origin.url("/x?q") + " HTTP/1.1\r\nHost: " + origin.authority() +
                      "\r\nProxy-Authorization: " + squall::testing::basic_auth("user", "pa:ss") +
                      "\r\nContent-Length: 2\r\n\r\nhi");
    std::string resp = co_await s->read_until_close();
    CHECK(resp.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(resp.find("Connection: close\r\n") != std::string::npos);
    CHECK(resp.ends_with("origin saw /x?q"));
    REQUIRE(proxy.forwarded().size() == 1);
    CHECK(proxy.forwarded()[0].target == origin.url("/x?q"));
    REQUIRE(origin.requests().size() == 1);
    CHECK(origin.requests()[0].body == "hi");
    CHECK_FALSE(origin.requests()[0].header("Proxy-Authorization"));
}

SQUALL_TEST_CASE("test proxy tunnels CONNECT both ways and can refuse it", 10s) {
    TestServer origin(loop);
    origin.route("/t", [](const TestRequest&) { return Reply::ok("through the tunnel"); });
    TestProxy proxy(loop);
    auto s = co_await connect_to(loop, proxy.port());
    co_await s->write("CONNECT " + origin.authority() + " HTTP/1.1\r\nHost: " + origin.authority() +
                      "\r\n\r\n");
    CHECK(co_await s->read_until("\r\n\r\n") == "HTTP/1.1 200 Connection established\r\n\r\n");
    co_await s->write(get("/t"));
    CHECK((co_await read_response(*s)).ends_with("through the tunnel"));
    co_await s->write(get("/t"));  // keep-alive inside the tunnel
    CHECK((co_await read_response(*s)).ends_with("through the tunnel"));
    CHECK(origin.requests_per_connection() == std::vector<std::size_t>{2});
    CHECK(proxy.tunnels() == std::vector<std::string>{origin.authority()});

    TestProxy strict(loop, {.allow_connect = false});
    s = co_await connect_to(loop, strict.port());
    co_await s->write("CONNECT " + origin.authority() + " HTTP/1.1\r\n\r\n");
    CHECK((co_await s->read_until_close()).starts_with("HTTP/1.1 403 Forbidden\r\n"));

    s = co_await connect_to(loop, proxy.port());
    co_await s->write("CONNECT 127.0.0.1:1 HTTP/1.1\r\n\r\n");  // nothing listens on port 1
    CHECK((co_await s->read_until_close()).starts_with("HTTP/1.1 502 Bad Gateway\r\n"));
}
