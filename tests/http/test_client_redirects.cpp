// http::Client redirects against the loopback test server: method and body rules per code, relative
// Locations, loops, max_redirects, credentials across hosts. Requests are built in named variables (see
// test_client_basic.cpp about GCC 12).
#include <doctest/doctest.h>

#include <squall/testing.hpp>
#include <string>
#include <vector>

#include "squall/httpclient/http.hpp"
#include "tests/http/test_client_support.hpp"
#include "tests/support/http_test_server.hpp"

using namespace std::chrono_literals;
using namespace squall::http::test;

namespace {
void add_echo(TestServer& server) {
    server.route("/echo", [](const TestRequest& r) {
        return Reply::ok(r.method + " [" + r.body +
                         "] auth=" + std::string(r.header("Authorization").value_or("-")) +
                         " host=" + std::string(r.header("Host").value_or("-")));
    });
}
}  // namespace

SQUALL_TEST_CASE("redirects: 301/302 after POST and 303 become GET without body; 307/308 keep both", 10s) {
    TestServer server(loop);
    add_echo(server);
    for (int code : {301, 302, 303, 307, 308})
        server.route("/r/" + std::to_string(code), [code](const TestRequest&) {
            return Reply::text(code, "moved", {{"Location", "/echo"}});
        });
    Client client(loop);
    const std::vector<std::pair<int, std::string>> expected{
        {301, "GET []"}, {302, "GET []"}, {303, "GET []"}, {307, "POST [data]"}, {308, "POST [data]"}};
    for (const auto& [code, body] : expected) {
        HTTPRequest request{
            .url = server.url("/r/" + std::to_string(code)), .method = "POST", .body = "data"};
        auto resp = co_await client.fetch(request);
        CHECK(resp.code == 200);
        CHECK(resp.body.rfind(body, 0) == 0);
        CHECK(resp.effective_url() == server.url("/echo"));
        REQUIRE(resp.request);
        CHECK(resp.request->url == server.url("/echo"));
    }
    CHECK(server.connections_accepted() == 1);  // redirect bodies are read: the connection is reused
    // GET stays GET for every code; 303 after HEAD stays HEAD.
    HTTPRequest get{.url = server.url("/r/301")};
    CHECK((co_await client.fetch(get)).body.rfind("GET []", 0) == 0);
    HTTPRequest head{.url = server.url("/r/303"), .method = "HEAD"};
    auto head_resp = co_await client.fetch(head);
    CHECK(head_resp.code == 200);
    CHECK(server.requests().back().method == "HEAD");
}

SQUALL_TEST_CASE("redirects: relative Locations resolve, callbacks never see the redirect response", 10s) {
    TestServer server(loop);
    add_echo(server);
    server.route("/a/b/go", [](const TestRequest&) {
        return Reply::text(302, "", {{"Location", "../../echo?x=1"}});
    });
    Client client(loop);
    std::vector<std::string> lines;
    std::string streamed;
    HTTPRequest request{.url = server.url("/a/b/go"),
                        .streaming_callback = [&](std::string_view p) { streamed += p; },
                        .header_callback = [&](std::string_view l) { lines.emplace_back(l); }};
    auto resp = co_await client.fetch(request);
    CHECK(resp.effective_url() == server.url("/echo?x=1"));
    CHECK(streamed.rfind("GET []", 0) == 0);
    REQUIRE(!lines.empty());
    CHECK(lines[0] == "HTTP/1.1 200 OK\r\n");
    CHECK(std::find(lines.begin(), lines.end(), "HTTP/1.1 302 Found\r\n") == lines.end());
}

SQUALL_TEST_CASE("redirects: a loop and more than max_redirects raise HTTPError with the last response",
                 10s) {
    TestServer server(loop);
    add_echo(server);
    server.route("/loop", [](const TestRequest&) { return Reply::text(302, "", {{"Location", "/loop"}}); });
    server.route("/hop", [](const TestRequest& r) {
        int n = std::stoi(r.query_param("n").value_or("0"));
        return Reply::text(302, "", {{"Location", n <= 1 ? "/echo" : "/hop?n=" + std::to_string(n - 1)}});
    });
    Client client(loop);
    int loop_code = 0;
    try {
        co_await client.fetch(server.url("/loop"));
    } catch (const HTTPError& e) {
        loop_code = e.code();
        CHECK(std::string(e.what()).find("redirect loop") != std::string::npos);
        REQUIRE(e.response());
        CHECK(e.response()->headers.get("Location") == "/loop");
    }
    CHECK(loop_code == 302);

    HTTPRequest three{.url = server.url("/hop?n=3"), .max_redirects = 3};
    auto ok = co_await client.fetch(three);
    CHECK(ok.body.rfind("GET", 0) == 0);
    HTTPRequest too_many{.url = server.url("/hop?n=3"), .max_redirects = 2};
    auto what = co_await error_of<HTTPError>(client.fetch(too_many));
    CHECK(contains(what, "too many redirects: more than max_redirects=2"));
    HTTPRequest returned{.url = server.url("/hop?n=3"), .max_redirects = 2, .raise_error = false};
    auto last = co_await client.fetch(returned);
    CHECK(last.code == 302);
    CHECK(last.headers.get("Location") == "/echo");
    HTTPRequest not_followed{.url = server.url("/hop?n=1"), .follow_redirects = false};
    auto plain = co_await client.fetch(not_followed);
    CHECK(plain.code == 302);
    CHECK(plain.effective_url() == server.url("/hop?n=1"));
}

SQUALL_TEST_CASE("redirects: Authorization is dropped when the host changes (hostname_mapping)", 10s) {
    TestServer server(loop);
    add_echo(server);
    const std::string other = "http://other.test:" + std::to_string(server.port());
    server.route("/same", [](const TestRequest&) { return Reply::text(307, "", {{"Location", "/echo"}}); });
    server.route("/away", [other](const TestRequest&) {
        return Reply::text(307, "", {{"Location", other + "/echo"}});
    });
    Client client(loop, {.hostname_mapping = {{"other.test", "127.0.0.1"}}});
    HTTPRequest same{.url = server.url("/same"), .auth_username = "user", .auth_password = "secret"};
    auto kept = co_await client.fetch(same);
    CHECK(kept.body.find("auth=Basic dXNlcjpzZWNyZXQ=") != std::string::npos);
    HTTPRequest away{.url = server.url("/away"), .auth_username = "user", .auth_password = "secret"};
    auto dropped = co_await client.fetch(away);
    CHECK(dropped.body.find("auth=-") != std::string::npos);
    CHECK(dropped.body.find("host=other.test:" + std::to_string(server.port())) != std::string::npos);
    CHECK(dropped.effective_url() == other + "/echo");
}
