// http::Client over HTTP/2: the same fetch, negotiated by ALPN against nginx's h2 listener (TLS) or by
// prior knowledge (h2c), multiplexed on one connection, with redirects across protocols and the typed
// errors and retries of the scriptable server (tests/support/h2_test_server.py). Requests are built in
// named variables (GCC 12, see test_client_basic.cpp).
#include <doctest/doctest.h>

#include <optional>
#include <squall/testing.hpp>
#include <string>
#include <vector>

#include "squall/coro/gather.hpp"
#include "squall/httpclient/client.hpp"
#include "squall/httpclient/errors.hpp"
#include "squall/ioloop/async.hpp"
#include "tests/http/sha256.hpp"
#include "tests/http/test_client_support.hpp"
#include "tests/support/h2_test_server.hpp"
#include "tests/support/nginx_fixture.hpp"

using namespace std::chrono_literals;
using namespace squall::http::test;
namespace nginx = squall::testing;

namespace {

HTTPRequest tls_request(const std::string& url) {
    HTTPRequest r;
    r.url = url;
    r.ca_certs = nginx::nginx_ca_file();
    return r;
}

}  // namespace

SQUALL_TEST_CASE(
    "http2 client: ALPN picks h2 on nginx's h2 listener; http1_1 and the plain TLS port stay HTTP/1.1", 20s) {
    auto h2 = nginx::nginx_h2_url();
    auto tls = nginx::nginx_tls_url();
    if (h2.empty() || tls.empty()) co_return;
    Client client(loop);
    HTTPRequest auto_req = tls_request(h2 + "/small.txt");
    auto resp = co_await client.fetch(auto_req);
    CHECK(resp.code == 200);
    CHECK(resp.reason == "OK");
    CHECK(resp.protocol == "HTTP/2");
    CHECK(resp.body.size() == 100);
    CHECK(resp.headers.get("X-Consumed-Content-Encoding") == "gzip");
    HTTPRequest h1_req = tls_request(h2 + "/small.txt");
    h1_req.http_version = HTTPVersion::http1_1;
    auto h1 = co_await client.fetch(h1_req);
    CHECK(h1.protocol == "HTTP/1.1");
    CHECK(h1.body == resp.body);
    HTTPRequest plain_tls = tls_request(tls + "/small.txt");
    auto old = co_await client.fetch(plain_tls);
    CHECK(old.protocol == "HTTP/1.1");
    auto again = co_await client.fetch(auto_req);  // the h2 session is reused
    CHECK(again.protocol == "HTTP/2");
    CHECK(client.stats().connections_opened == 3);
    CHECK(client.stats().connections_reused == 1);
    client.close();  // and let its sessions' readers see it before the loop goes
    co_await squall::sleep(loop, std::chrono::milliseconds(50));
}

SQUALL_TEST_CASE("http2 client: 100 concurrent fetches share one connection (counted by nginx), h2 and h2c",
                 30s) {
    auto h2 = nginx::nginx_h2_url();
    auto h2c = nginx::nginx_h2c_url();
    if (h2.empty() || h2c.empty()) co_return;
    for (const auto& base : {h2, h2c}) {
        CAPTURE(base);
        auto before = nginx::nginx_stub_status();
        Client client(loop, {.max_clients = 100});
        std::vector<squall::Task<HTTPResponse>> fetches;
        for (int i = 0; i < 100; ++i) {
            HTTPRequest r = tls_request(base + "/small.txt");
            r.http_version = HTTPVersion::http2_prior_knowledge;  // only matters for h2c
            fetches.push_back(client.fetch(r));  // copied: fetch(HTTPRequest&&) is deleted on GCC < 13
        }
        auto responses = co_await squall::gather(std::move(fetches));
        for (auto& r : responses) {
            CHECK(r.code == 200);
            CHECK(r.protocol == "HTTP/2");
            CHECK(r.body.size() == 100);
        }
        auto after = nginx::nginx_stub_status();
        CHECK(after.accepts - before.accepts == 2);  // one connection + the status request's own
        CHECK(after.requests - before.requests == 101);
        CHECK(client.stats().connections_opened == 1);
        CHECK(client.stats().connections_reused == 99);
        client.close();  // and let its sessions' readers see it before the loop goes
        co_await squall::sleep(loop, std::chrono::milliseconds(50));
    }
}

SQUALL_TEST_CASE("http2 client: 64 MiB by hash, gzip'd text, trailers, POST with a body", 60s) {
    auto h2 = nginx::nginx_h2_url();
    if (h2.empty()) co_return;
    Client client(loop);
    HTTPRequest big = tls_request(h2 + "/big.bin");
    big.request_timeout = 50s;
    auto resp = co_await client.fetch(big);
    CHECK(resp.body.size() == 64u << 20);
    CHECK(sha256_hex(resp.body) == nginx::nginx_big_sha256());
    HTTPRequest text = tls_request(h2 + "/text.txt");
    auto inflated = co_await client.fetch(text);
    CHECK(inflated.headers.get("X-Consumed-Content-Encoding") == "gzip");
    CHECK(sha256_hex(inflated.body) == nginx::nginx_text_sha256());
    HTTPRequest trailers = tls_request(h2 + "/trailers/small.txt");
    auto with_trailers = co_await client.fetch(trailers);
    CHECK(with_trailers.body.size() == 100);
    CHECK(with_trailers.trailers.get("X-Squall-Trailer") == "done");
    if (nginx::nginx_has_echo()) {
        HTTPRequest post = tls_request(h2 + "/echo");
        post.method = "POST";
        post.body = std::string(300000, 'x');
        auto echoed = co_await client.fetch(post);
        CHECK(echoed.body == "POST /echo\n" + std::string(300000, 'x'));
    }
    CHECK(client.stats().connections_opened == 1);
    client.close();  // and let its sessions' readers see it before the loop goes
    co_await squall::sleep(loop, std::chrono::milliseconds(50));
}

SQUALL_TEST_CASE("http2 client: redirects from HTTP/2 to HTTP/1.1 and back", 20s) {
    auto h2 = nginx::nginx_h2_url();
    auto tls = nginx::nginx_tls_url();
    if (h2.empty() || tls.empty()) co_return;
    const std::string h2_port = h2.substr(h2.rfind(':') + 1);
    const std::string tls_port = tls.substr(tls.rfind(':') + 1);
    Client client(loop);
    HTTPRequest down = tls_request(h2 + "/redirect-tls-port/" + tls_port);
    auto to_h1 = co_await client.fetch(down);
    CHECK(to_h1.code == 200);
    CHECK(to_h1.protocol == "HTTP/1.1");
    CHECK(to_h1.effective_url() == tls + "/small.txt");
    HTTPRequest up = tls_request(tls + "/redirect-tls-port/" + h2_port);
    auto to_h2 = co_await client.fetch(up);
    CHECK(to_h2.code == 200);
    CHECK(to_h2.protocol == "HTTP/2");
    CHECK(to_h2.effective_url() == h2 + "/small.txt");
    client.close();  // and let its sessions' readers see it before the loop goes
    co_await squall::sleep(loop, std::chrono::milliseconds(50));
}

SQUALL_TEST_CASE("http2 client: GOAWAY before processing retries a GET on a new connection, not a POST",
                 20s) {
    squall::testing::H2TestServer server;
    Client client(loop);
    HTTPRequest get{.url = server.url("/goaway-once"), .http_version = HTTPVersion::http2_prior_knowledge};
    auto resp = co_await client.fetch(get);
    CHECK(resp.body == "hello");
    CHECK(resp.headers.get("x-connection") == "2");
    CHECK(client.stats().stale_retries == 1);

    squall::testing::H2TestServer fresh;  // its first /goaway-once refuses again
    HTTPRequest post{.url = fresh.url("/goaway-once"),
                     .method = "POST",
                     .body = "x",
                     .http_version = HTTPVersion::http2_prior_knowledge};
    auto e = co_await error_of<RefusedStreamError>(client.fetch(post));
    CHECK(contains(e, "not retried: POST"));
    client.close();  // and let its sessions' readers see it before the loop goes
    co_await squall::sleep(loop, std::chrono::milliseconds(50));
}

SQUALL_TEST_CASE(
    "http2 client: RST_STREAM and a request_timeout fail one fetch; the connection serves the next", 20s) {
    squall::testing::H2TestServer server;
    Client client(loop);
    HTTPRequest rst{.url = server.url("/rst/8"), .http_version = HTTPVersion::http2_prior_knowledge};
    auto e = co_await error_of<StreamResetError>(client.fetch(rst));
    CHECK(contains(e, "CANCEL"));
    HTTPRequest silent{.url = server.url("/never"),
                       .request_timeout = 300ms,
                       .http_version = HTTPVersion::http2_prior_knowledge};
    auto t = co_await error_of<squall::TimeoutError>(client.fetch(silent));
    CHECK(contains(t, "request_timeout"));
    HTTPRequest ok{.url = server.url("/ok"), .http_version = HTTPVersion::http2_prior_knowledge};
    auto resp = co_await client.fetch(ok);
    CHECK(resp.body == "hello");
    CHECK(resp.headers.get("x-connection") == "1");
    CHECK(client.stats().connections_opened == 1);
    client.close();  // and let its sessions' readers see it before the loop goes
    co_await squall::sleep(loop, std::chrono::milliseconds(50));
}

SQUALL_TEST_CASE("http2 client: a body_producer upload flows under the server's 64 KiB window", 20s) {
    squall::testing::H2TestServer server;
    Client client(loop);
    int pieces = 0;
    HTTPRequest upload{.url = server.url("/echo"),
                       .method = "PUT",
                       .body_producer = [&pieces]() -> std::optional<std::string> {
                           if (pieces == 40) return std::nullopt;
                           return std::string(10000, static_cast<char>('a' + pieces++ % 26));
                       },
                       .http_version = HTTPVersion::http2_prior_knowledge};
    auto resp = co_await client.fetch(upload);
    CHECK(resp.code == 200);
    REQUIRE(resp.body.size() == 4 + 400000);  // "PUT\n" + 40 pieces, more than the 65535-byte window
    CHECK(resp.body.substr(0, 4) == "PUT\n");
    CHECK(resp.body.substr(4 + 39 * 10000, 3) == std::string(3, static_cast<char>('a' + 39 % 26)));
    client.close();  // and let its sessions' readers see it before the loop goes
    co_await squall::sleep(loop, std::chrono::milliseconds(50));
}

SQUALL_TEST_CASE(
    "http2 client: beyond max_concurrent_streams a further connection opens; header_callback lines", 20s) {
    squall::testing::H2TestServer server;
    squall::http::ClientOptions options{.max_clients = 25};
    options.http2.max_concurrent_streams = 10;
    Client client(loop, options);
    std::vector<squall::Task<HTTPResponse>> fetches;
    for (int i = 0; i < 25; ++i) {
        HTTPRequest r{.url = server.url("/ok"), .http_version = HTTPVersion::http2_prior_knowledge};
        fetches.push_back(client.fetch(r));
    }
    auto responses = co_await squall::gather(std::move(fetches));
    for (auto& r : responses) CHECK(r.body == "hello");
    CHECK(client.stats().connections_opened == 3);
    std::vector<std::string> lines;
    HTTPRequest head{.url = server.url("/ok"),
                     .header_callback = [&lines](std::string_view line) { lines.emplace_back(line); },
                     .http_version = HTTPVersion::http2_prior_knowledge};
    co_await client.fetch(head);
    REQUIRE(lines.size() >= 3);
    CHECK(lines.front() == "HTTP/2 200\r\n");
    CHECK(lines.back() == "\r\n");
    client.close();  // and let its sessions' readers see it before the loop goes
    co_await squall::sleep(loop, std::chrono::milliseconds(50));
}
