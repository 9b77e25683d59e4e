// TLS streams over loopback: TCPServer with a server context, TCPClient with a client context, using the
// certificates tests/support/make-certs.sh makes at test time.
#include <doctest/doctest.h>

#include <squall/testing.hpp>

#include "squall/coro/start.hpp"
#include "squall/iostream/tcp_client.hpp"
#include "squall/iostream/tcp_server.hpp"
#include "tests/iostream/net/net_support.hpp"
#include "tests/support/certs.hpp"

using namespace std::chrono_literals;
using namespace squall;

namespace {

// Echoes n bytes back after reading them, then sends n bytes of its own.
Task<void> tls_bulk_handler(std::shared_ptr<IOStream> s, SocketAddress) {
    std::string request = co_await s->read_until("\n");
    std::size_t n = std::stoul(request);
    std::string data = co_await s->read_bytes(n);
    test::Fnv1a h;
    h.update(data);
    co_await s->write(std::to_string(h.h) + "\n");
    co_await s->write(test::pattern_bytes(n, 5));
    std::string bye = co_await s->read_until("\n");
    CHECK(bye == "bye\n");
    co_await s->close_after_flush();
}

Task<std::string> connect_error(IOLoop& loop, std::uint16_t port, std::shared_ptr<const TlsContext> tls,
                                bool read_after) {
    TCPClient client(loop);
    std::string what;
    try {
        ConnectOptions options{.timeout = 5s,
                               .tls = tls};  // see tcp_client.hpp: never a temporary in co_await
        auto s = co_await client.connect("localhost", port, options);
        if (read_after)
            co_await s->read_until("\n");  // TLS 1.3: a client-cert refusal arrives after the handshake
    } catch (const Error& e) {
        what = e.what();
    }
    co_return what;
}

}  // namespace

SQUALL_TEST_CASE("TLS client and server handshake over loopback and move 8 MiB each way", 60s) {
    test::TlsLoopbackServer server(loop, tls_bulk_handler);
    auto s = co_await server.connect();
    REQUIRE(s->is_tls());
    CHECK(s->tls()->handshake_done());
    constexpr std::size_t kSize = 8 << 20;
    std::string payload = test::pattern_bytes(kSize, 4);
    test::Fnv1a mine;
    mine.update(payload);
    co_await s->write(std::to_string(kSize) + "\n");
    co_await s->write(std::move(payload));
    std::string their_hash = co_await s->read_until("\n");
    CHECK(their_hash == std::to_string(mine.h) + "\n");
    std::string back = co_await s->read_bytes(kSize);
    CHECK(back == test::pattern_bytes(kSize, 5));
    co_await s->write("bye\n");
    std::string rest = co_await s->read_until_close();  // close_notify, then EOF: a clean end
    CHECK(rest.empty());
    server.stop(true);
    co_await server.stopped();
}

SQUALL_TEST_CASE("TLS verification failures name the reason: wrong hostname, untrusted CA", 30s) {
    const auto& certs = testing::test_certs();
    auto handler = [](std::shared_ptr<IOStream> s, SocketAddress) -> Task<void> {
        co_await s->read_until_close();
    };
    auto client_ctx = TlsContext::client({.ca_file = certs.ca_file});
    {
        TCPServer server(loop, handler,
                         {.tls = TlsContext::server(
                              {.cert_file = certs.wrong_host_cert, .key_file = certs.wrong_host_key})});
        server.listen(0, "127.0.0.1");
        std::string what = co_await connect_error(loop, server.port(), client_ctx, false);
        CAPTURE(what);
        CHECK(what.find("localhost") != std::string::npos);
        CHECK(what.find("ostname mismatch") != std::string::npos);
        server.stop(true);
        co_await server.stopped();
    }
    {
        TCPServer server(loop, handler,
                         {.tls = TlsContext::server({.cert_file = certs.untrusted_server_cert,
                                                     .key_file = certs.untrusted_server_key})});
        server.listen(0, "127.0.0.1");
        std::string what = co_await connect_error(loop, server.port(), client_ctx, false);
        CAPTURE(what);
        CHECK(what.find("certificate verify failed") != std::string::npos);
        server.stop(true);
        co_await server.stopped();
    }
    co_await squall::sleep(loop, 20ms);  // let the servers' failed handshakes finish
}

SQUALL_TEST_CASE("a server requiring a client certificate refuses a client without one, accepts one with it",
                 30s) {
    const auto& certs = testing::test_certs();
    auto handler = [](std::shared_ptr<IOStream> s, SocketAddress) -> Task<void> {
        co_await s->write("welcome\n");
        co_await s->read_until_close();
    };
    TCPServer server(loop, handler,
                     {.tls = TlsContext::server({.cert_file = certs.server_cert,
                                                 .key_file = certs.server_key,
                                                 .client_cert = ClientCertMode::required,
                                                 .client_ca_file = certs.ca_file})});
    server.listen(0, "127.0.0.1");
    auto no_cert_ctx = TlsContext::client({.ca_file = certs.ca_file});
    std::string what = co_await connect_error(loop, server.port(), no_cert_ctx, true);
    CAPTURE(what);
    CHECK(what.find("certificate required") != std::string::npos);

    TCPClient client(loop);
    auto cert_ctx = TlsContext::client(
        {.ca_file = certs.ca_file, .cert_file = certs.client_cert, .key_file = certs.client_key});
    ConnectOptions options{.timeout = 5s, .tls = cert_ctx};
    auto s = co_await client.connect("localhost", server.port(), options);
    std::string hello = co_await s->read_until("\n");
    CHECK(hello == "welcome\n");
    s->close();
    server.stop(true);
    co_await server.stopped();
    co_await squall::sleep(loop, 20ms);
}

SQUALL_TEST_CASE("watch_idle on TLS absorbs records without plaintext (session tickets) and reports data",
                 20s) {
    // TLS 1.3: the server's session tickets follow the handshake, so they reach the idle client stream.
    auto handler = [](std::shared_ptr<IOStream> s, SocketAddress) -> Task<void> {
        std::string go = co_await s->read_until("\n");
        co_await squall::sleep(std::chrono::milliseconds(100));
        co_await s->write("stray");
        co_await s->read_until_close();
    };
    test::TlsLoopbackServer server(loop, handler);
    auto s = co_await server.connect();
    int calls = 0;
    REQUIRE(s->watch_idle([&] { ++calls; }));
    co_await s->write("go\n");
    co_await squall::sleep(loop, 50ms);  // the tickets have come and gone
    CHECK(calls == 0);
    CHECK(s->watching_idle());
    for (int i = 0; i < 100 && calls == 0; ++i) co_await squall::sleep(loop, 5ms);
    CHECK(calls == 1);
    CHECK(s->closed());
    CHECK(s->read_buffer().view() == "stray");  // the plaintext nobody asked for stays visible
    server.stop(true);
    co_await server.stopped();
}
