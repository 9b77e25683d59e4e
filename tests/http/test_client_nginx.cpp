// http::Client against a real server: the private nginx of scripts/nginx (scripts/test starts it).
// Requests are built in named variables (see test_client_basic.cpp about GCC 12).
#include <doctest/doctest.h>

#include <squall/testing.hpp>
#include <string>

#include "squall/httpclient/http.hpp"
#include "squall/iostream/tls.hpp"
#include "tests/http/sha256.hpp"
#include "tests/http/test_client_support.hpp"
#include "tests/support/nginx_fixture.hpp"

using namespace std::chrono_literals;
using namespace squall::http::test;
namespace nginx = squall::testing;

SQUALL_TEST_CASE("nginx: small file, keep-alive reuse counted by stub_status", 20s) {
    auto base = nginx::nginx_url();
    if (base.empty()) co_return;
    auto before = nginx::nginx_stub_status();
    Client client(loop);
    for (int i = 0; i < 5; ++i) {
        auto resp = co_await client.fetch(base + "/small.txt");
        CHECK(resp.code == 200);
        CHECK(resp.body.size() == 100);
        CHECK(resp.headers.get("X-Consumed-Content-Encoding") == "gzip");  // gzip on for text/plain
    }
    auto after = nginx::nginx_stub_status();
    CHECK(after.accepts - before.accepts == 2);    // our one connection + the status request's own
    CHECK(after.requests - before.requests == 6);  // five fetches + the status request
    CHECK(client.stats().connections_opened == 1);
}

SQUALL_TEST_CASE("nginx: 64 MiB body by hash, buffered and streamed; chunked file", 60s) {
    auto base = nginx::nginx_url();
    if (base.empty()) co_return;
    Client client(loop);
    HTTPRequest big{.url = base + "/big.bin", .request_timeout = 50s};
    auto resp = co_await client.fetch(big);
    CHECK(resp.body.size() == 64u << 20);
    CHECK(sha256_hex(resp.body) == nginx::nginx_big_sha256());
    Sha256 hash;
    std::size_t total = 0;
    HTTPRequest streamed{.url = base + "/chunked/big.bin",
                         .request_timeout = 50s,
                         .streaming_callback = [&](std::string_view p) {
                             hash.update(p);
                             total += p.size();
                         }};
    auto chunked = co_await client.fetch(streamed);
    CHECK(chunked.headers.get("Transfer-Encoding") == "chunked");
    CHECK(total == 64u << 20);
    CHECK(hash.hex() == nginx::nginx_big_sha256());
    CHECK(client.stats().connections_opened == 1);
}

SQUALL_TEST_CASE("nginx: gzip'd chunked text is inflated, or kept raw without decompress_response", 20s) {
    auto base = nginx::nginx_url();
    if (base.empty()) co_return;
    Client client(loop);
    auto resp = co_await client.fetch(base + "/text.txt");
    CHECK(resp.headers.get("Transfer-Encoding") == "chunked");
    CHECK(resp.headers.get("X-Consumed-Content-Encoding") == "gzip");
    CHECK_FALSE(resp.headers.contains("Content-Encoding"));
    CHECK(sha256_hex(resp.body) == nginx::nginx_text_sha256());
    HTTPRequest raw{
        .url = base + "/text.txt", .headers = {{"Accept-Encoding", "gzip"}}, .decompress_response = false};
    auto gz = co_await client.fetch(raw);
    CHECK(gz.headers.get("Content-Encoding") == "gzip");
    CHECK(gz.body.size() < resp.body.size() / 4);
    CHECK(gz.body.substr(0, 2) == "\x1f\x8b");
}

SQUALL_TEST_CASE("nginx: redirects of every code, relative, chain, loop", 20s) {
    auto base = nginx::nginx_url();
    if (base.empty()) co_return;
    Client client(loop);
    for (const char* kind : {"/redirect/", "/redirect-rel/"}) {
        for (int code : {301, 302, 303, 307, 308}) {
            auto resp = co_await client.fetch(base + kind + std::to_string(code));
            CHECK(resp.code == 200);
            CHECK(resp.body.size() == 100);
            CHECK(resp.effective_url() == base + "/small.txt");
        }
    }
    auto chain = co_await client.fetch(base + "/redirect/chain/5");
    CHECK(chain.effective_url() == base + "/small.txt");
    auto too_long = co_await error_of<HTTPError>(client.fetch(base + "/redirect/chain/6"));
    CHECK(contains(too_long, "too many redirects"));
    auto loop_error = co_await error_of<HTTPError>(client.fetch(base + "/redirect/loop"));
    CHECK(contains(loop_error, "redirect loop"));
    if (nginx::nginx_has_echo()) {
        HTTPRequest post{.url = base + "/redirect-echo/307", .method = "POST", .body = "kept"};
        auto kept = co_await client.fetch(post);
        CHECK(kept.body == "POST /echo\nkept");
        HTTPRequest post303{.url = base + "/redirect-echo/303", .method = "POST", .body = "dropped"};
        auto dropped = co_await client.fetch(post303);
        CHECK(dropped.body == "GET /echo\n");
    }
    CHECK(client.stats().connections_opened == 1);
}

SQUALL_TEST_CASE("nginx: upload echo (fixed and chunked body_producer) and request_timeout on /slow", 20s) {
    auto base = nginx::nginx_url();
    if (base.empty()) co_return;
    if (!nginx::nginx_has_echo()) {
        FAIL("nginx lacks its echo module (libnginx-mod-http-echo): /echo and /slow are not served");
        co_return;
    }
    Client client(loop);
    HTTPRequest fixed{.url = base + "/echo", .method = "POST", .body = "fixed body"};
    CHECK((co_await client.fetch(fixed)).body == "POST /echo\nfixed body");
    int n = 0;
    HTTPRequest chunked{
        .url = base + "/echo", .method = "PUT", .body_producer = [&]() -> std::optional<std::string> {
            if (n == 3) return std::nullopt;
            return "piece" + std::to_string(n++) + ";";
        }};
    CHECK((co_await client.fetch(chunked)).body == "PUT /echo\npiece0;piece1;piece2;");
    HTTPRequest expect{
        .url = base + "/echo", .method = "POST", .body = "after 100", .expect_100_continue = true};
    CHECK((co_await client.fetch(expect)).body == "POST /echo\nafter 100");
    HTTPRequest slow{.url = base + "/slow?s=3", .request_timeout = 300ms};
    auto what = co_await error_of<squall::TimeoutError>(client.fetch(slow));
    CHECK(contains(what, "request_timeout of 300 ms"));
}

SQUALL_TEST_CASE("nginx: HTTPS with the test CA, connection reused, TLS timing; no CA fails verification",
                 20s) {
    auto base = nginx::nginx_tls_url();
    if (base.empty()) co_return;
    auto ca = nginx::nginx_ca_file();
    REQUIRE(!ca.empty());
    Client client(loop);
    HTTPRequest request{.url = base + "/small.txt", .ca_certs = ca};
    auto first = co_await client.fetch(request);
    CHECK(first.code == 200);
    CHECK(first.body.size() == 100);
    CHECK(first.time_info.tls > 0ns);
    CHECK(first.time_info.connect > 0ns);
    auto second = co_await client.fetch(request);
    CHECK(second.body.size() == 100);
    CHECK(second.time_info.tls == 0ns);
    CHECK(client.stats().connections_opened == 1);
    HTTPRequest gz{.url = base + "/text.txt", .ca_certs = ca};
    auto text = co_await client.fetch(gz);
    CHECK(sha256_hex(text.body) == nginx::nginx_text_sha256());

    HTTPRequest untrusted{.url = base + "/small.txt"};  // the system store does not know the test CA
    auto what = co_await error_of<squall::TlsError>(client.fetch(untrusted));
    CHECK(contains(what, "certificate verify failed"));
    HTTPRequest unchecked{.url = base + "/small.txt", .validate_cert = false};
    auto insecure = co_await client.fetch(unchecked);
    CHECK(insecure.code == 200);
    auto port = std::string(base.substr(base.rfind(':')));
    HTTPRequest by_ip{.url = "https://127.0.0.1" + port + "/small.txt", .ca_certs = ca};
    CHECK((co_await client.fetch(by_ip)).code == 200);  // the certificate names 127.0.0.1 too
}
