// TlsEngine: a client and a server engine pumping ciphertext in memory (no sockets).
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "squall/iostream/buffer.hpp"
#include "squall/iostream/tls.hpp"
#include "tests/support/certs.hpp"

using squall::Buffer;
using squall::ClientCertMode;
using squall::TlsContext;
using squall::TlsEngine;
using squall::TlsError;
using squall::testing::test_certs;

namespace {

// Moves up to max_bytes of from's pending ciphertext into to.
size_t transfer(TlsEngine& from, TlsEngine& to, size_t max_bytes = SIZE_MAX) {
    auto pending = from.pending_ciphertext();
    const size_t n = std::min(pending.size(), max_bytes);
    to.feed_ciphertext(pending.substr(0, n));
    from.consume_ciphertext(n);
    return n;
}

// Drives both handshakes to completion (each side throws TlsError on failure).
void handshake(TlsEngine& client, TlsEngine& server) {
    for (int round = 0; round < 20; ++round) {
        const auto c = client.handshake_step();
        transfer(client, server);
        const auto s = server.handshake_step();
        transfer(server, client);
        if (c == TlsEngine::Status::done && s == TlsEngine::Status::done &&
            client.pending_ciphertext().empty() && server.pending_ciphertext().empty()) {
            return;
        }
    }
    FAIL("handshake did not converge");
}

std::shared_ptr<TlsContext> server_context(ClientCertMode mode = ClientCertMode::none) {
    const auto& c = test_certs();
    return TlsContext::server({.cert_file = c.server_cert,
                               .key_file = c.server_key,
                               .client_cert = mode,
                               .client_ca_file = mode == ClientCertMode::none ? "" : c.ca_file});
}

std::shared_ptr<TlsContext> client_context() {
    return TlsContext::client({.ca_file = test_certs().ca_file});
}

std::string random_bytes(std::mt19937& rng, size_t n) {
    std::string s(n, '\0');
    for (auto& ch : s) ch = static_cast<char>(rng());
    return s;
}

// The message of the TlsError fn throws ("" if it throws none).
template <typename Fn>
std::string tls_error_of(Fn fn) {
    try {
        fn();
    } catch (const TlsError& e) {
        return e.what();
    }
    return "";
}

// Runs the handshake until the server refuses it (at most 10 rounds): the server's TlsError message.
std::string server_handshake_error(TlsEngine& client, TlsEngine& server) {
    std::string error;
    for (int round = 0; round < 10 && error.empty(); ++round) {
        client.handshake_step();
        transfer(client, server);
        error = tls_error_of([&] { server.handshake_step(); });
        transfer(server, client);
    }
    return error;
}

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("TLS handshake verifies the server by DNS name and by IPv4/IPv6 address") {
    auto server_ctx = server_context();
    auto client_ctx = client_context();
    for (const char* host : {"localhost", "127.0.0.1", "::1", "[::1]"}) {
        CAPTURE(host);
        TlsEngine client(client_ctx, host);
        TlsEngine server(server_ctx);
        handshake(client, server);
        CHECK(client.handshake_done());
        CHECK(server.handshake_done());
        CHECK(client.protocol_version() == "TLSv1.3");
        CHECK(client.has_peer_certificate());
        CHECK_FALSE(server.has_peer_certificate());
        CHECK_FALSE(client.cipher().empty());
    }
}

TEST_CASE("TLS carries 1 MiB each way intact, pumped in uneven pieces, straight into Buffers") {
    auto server_ctx = server_context();
    TlsEngine client(client_context(), "localhost");
    TlsEngine server(server_ctx);
    handshake(client, server);

    std::mt19937 rng(42);
    const std::string up = random_bytes(rng, 1 << 20);
    const std::string down = random_bytes(rng, 1 << 20);
    Buffer at_server, at_client;
    size_t up_sent = 0, down_sent = 0;
    for (int guard = 0; guard < 100000 && (at_server.size() < up.size() || at_client.size() < down.size());
         ++guard) {
        if (up_sent < up.size()) {
            const size_t n = std::min<size_t>(1 + rng() % 50000, up.size() - up_sent);
            client.write_plaintext(std::string_view(up).substr(up_sent, n));
            up_sent += n;
        }
        if (down_sent < down.size()) {
            const size_t n = std::min<size_t>(1 + rng() % 50000, down.size() - down_sent);
            server.write_plaintext(std::string_view(down).substr(down_sent, n));
            down_sent += n;
        }
        transfer(client, server, 1 + rng() % 30000);  // partial records on purpose
        transfer(server, client, 1 + rng() % 30000);
        server.read_plaintext(at_server);
        client.read_plaintext(at_client);
    }
    CHECK(at_server.size() == up.size());
    CHECK(at_client.size() == down.size());
    CHECK(at_server.view() == up);
    CHECK(at_client.view() == down);
}

TEST_CASE("TLS read_plaintext respects max_bytes and keeps the rest for later") {
    auto server_ctx = server_context();
    TlsEngine client(client_context(), "localhost");
    TlsEngine server(server_ctx);
    handshake(client, server);
    const std::string msg(100000, 'm');
    server.write_plaintext(msg);
    transfer(server, client);
    Buffer out;
    CHECK(client.read_plaintext(out, 1000) == 1000);
    CHECK(client.buffered_ciphertext() > 0);  // later records wait in the engine
    CHECK(client.read_plaintext(out) == msg.size() - 1000);
    CHECK(out.view() == msg);
    CHECK(client.read_plaintext(out) == 0);  // nothing more fed
    CHECK(client.buffered_ciphertext() == 0);
    client.shrink_buffers();
    server.write_plaintext("still works");
    transfer(server, client);
    CHECK(client.read_plaintext(out) == 11);
}

TEST_CASE("TLS client rejects a certificate for another hostname, naming the reason") {
    const auto& c = test_certs();
    auto server_ctx = TlsContext::server({.cert_file = c.wrong_host_cert, .key_file = c.wrong_host_key});
    {
        TlsEngine client(client_context(), "localhost");
        TlsEngine server(server_ctx);
        std::string what;
        long code = 0;
        try {
            handshake(client, server);
        } catch (const TlsError& e) {
            what = e.what();
            code = e.verify_result();
        }
        CHECK(contains(what, "TLS handshake with localhost failed"));
        CHECK(contains(what, "hostname mismatch"));
        CHECK(code == 62);  // X509_V_ERR_HOSTNAME_MISMATCH
    }
    {
        TlsEngine client(client_context(), "127.0.0.1");
        TlsEngine server(server_ctx);
        const std::string what = tls_error_of([&] { handshake(client, server); });
        CHECK(contains(what, "IP address mismatch"));
    }
}

TEST_CASE("TLS client rejects a server from an untrusted CA, naming the reason; the server sees the alert") {
    const auto& c = test_certs();
    auto server_ctx =
        TlsContext::server({.cert_file = c.untrusted_server_cert, .key_file = c.untrusted_server_key});
    TlsEngine client(client_context(), "localhost");
    TlsEngine server(server_ctx);
    CHECK(client.handshake_step() == TlsEngine::Status::want_write);
    transfer(client, server);
    CHECK(server.handshake_step() == TlsEngine::Status::want_write);
    transfer(server, client);
    const std::string what = tls_error_of([&] { client.handshake_step(); });
    CHECK(contains(what, "certificate verify failed: unable to get local issuer certificate (code 20)"));
    // The client's alert is still pending for the peer.
    REQUIRE_FALSE(client.pending_ciphertext().empty());
    transfer(client, server);
    const std::string server_side = tls_error_of([&] { server.handshake_step(); });
    CHECK(contains(server_side, "peer sent alert"));
    CHECK(contains(server_side, "unknown ca"));
}

TEST_CASE("TLS client with the system CA store does not trust the test CA") {
    auto server_ctx = server_context();
    TlsEngine client(TlsContext::client(), "localhost");
    TlsEngine server(server_ctx);
    const std::string what = tls_error_of([&] { handshake(client, server); });
    CHECK(contains(what, "certificate verify failed"));
}

TEST_CASE("TLS client certificates: required and present, required and absent, optional and absent") {
    const auto& c = test_certs();
    SUBCASE("required and present") {
        auto client_ctx =
            TlsContext::client({.ca_file = c.ca_file, .cert_file = c.client_cert, .key_file = c.client_key});
        TlsEngine client(client_ctx, "localhost");
        TlsEngine server(server_context(ClientCertMode::required));
        handshake(client, server);
        CHECK(server.has_peer_certificate());
        client.write_plaintext("hello");
        transfer(client, server);
        Buffer got;
        server.read_plaintext(got);
        CHECK(got.view() == "hello");
    }
    SUBCASE("required and absent") {
        TlsEngine client(client_context(), "localhost");
        TlsEngine server(server_context(ClientCertMode::required));
        const std::string server_error = server_handshake_error(client, server);
        CHECK(contains(server_error, "peer did not return a certificate"));
        // TLS 1.3: the client finished its side first and learns of the refusal from the alert.
        Buffer got;
        const std::string client_error = tls_error_of([&] { client.read_plaintext(got); });
        CHECK(contains(client_error, "peer sent alert"));
        CHECK(contains(client_error, "certificate required"));
    }
    SUBCASE("optional and absent") {
        TlsEngine client(client_context(), "localhost");
        TlsEngine server(server_context(ClientCertMode::optional));
        handshake(client, server);
        CHECK_FALSE(server.has_peer_certificate());
    }
    SUBCASE("client certificate from an untrusted CA is refused") {
        auto client_ctx = TlsContext::client(
            {.ca_file = c.ca_file, .cert_file = c.untrusted_server_cert, .key_file = c.untrusted_server_key});
        TlsEngine client(client_ctx, "localhost");
        TlsEngine server(server_context(ClientCertMode::required));
        const std::string server_error = server_handshake_error(client, server);
        CHECK(contains(server_error, "certificate verify failed"));
    }
}

TEST_CASE("TLS distinguishes a clean close_notify from a truncated stream") {
    auto server_ctx = server_context();
    SUBCASE("close_notify then EOF is a clean end") {
        TlsEngine client(client_context(), "localhost");
        TlsEngine server(server_ctx);
        handshake(client, server);
        server.write_plaintext("last words");
        server.shutdown();
        transfer(server, client);
        client.feed_eof();
        Buffer got;
        CHECK(client.read_plaintext(got) == 10);
        CHECK(got.view() == "last words");
        CHECK(client.peer_closed());
        CHECK(client.read_plaintext(got) == 0);
        CHECK_THROWS_AS(server.write_plaintext("more"), squall::UsageError);
    }
    SUBCASE("EOF without close_notify is a truncation, reported after the data") {
        TlsEngine client(client_context(), "localhost");
        TlsEngine server(server_ctx);
        handshake(client, server);
        server.write_plaintext("partial response");
        transfer(server, client);
        client.feed_eof();
        Buffer got;
        CHECK(client.read_plaintext(got) == 16);
        CHECK(got.view() == "partial response");
        CHECK_FALSE(client.peer_closed());
        const std::string what = tls_error_of([&] { client.read_plaintext(got); });
        CHECK(contains(what, "truncated"));
        CHECK(contains(what, "without close_notify"));
    }
    SUBCASE("EOF in the middle of a record is a truncation") {
        TlsEngine client(client_context(), "localhost");
        TlsEngine server(server_ctx);
        handshake(client, server);
        server.write_plaintext(std::string(5000, 'x'));
        transfer(server, client, 2000);
        client.feed_eof();
        Buffer got;
        CHECK(contains(tls_error_of([&] { client.read_plaintext(got); }), "truncated"));
        CHECK(got.empty());
    }
    SUBCASE("EOF during the handshake") {
        TlsEngine client(client_context(), "localhost");
        CHECK(client.handshake_step() == TlsEngine::Status::want_write);
        client.consume_ciphertext(client.pending_ciphertext().size());
        client.feed_eof();
        CHECK(contains(tls_error_of([&] { client.handshake_step(); }),
                       "closed by the peer during the handshake"));
    }
}

TEST_CASE("TLS garbage from the network is a TlsError, never a crash") {
    std::mt19937 rng(99);
    auto client_ctx = client_context();
    SUBCASE("plain HTTP instead of a ServerHello") {
        TlsEngine client(client_ctx, "localhost");
        client.handshake_step();
        client.feed_ciphertext(std::string_view("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
        const std::string what = tls_error_of([&] { client.handshake_step(); });
        CHECK(contains(what, "TLS handshake with localhost failed"));
    }
    SUBCASE("random bytes during the handshake") {
        for (int i = 0; i < 200; ++i) {
            TlsEngine client(client_ctx, "localhost");
            client.handshake_step();
            std::string junk = random_bytes(rng, 1 + rng() % 3000);
            if (i % 2) junk[0] = 0x16, junk[1] = 0x03, junk[2] = 0x03;  // looks like a handshake record
            client.feed_ciphertext(junk);
            try {
                // Either it waits for more bytes or it fails with TlsError; nothing else.
                const auto st = client.handshake_step();
                CHECK(st != TlsEngine::Status::done);
            } catch (const TlsError&) {
            }
        }
    }
    SUBCASE("a corrupted record after the handshake") {
        TlsEngine client(client_ctx, "localhost");
        TlsEngine server(server_context());
        handshake(client, server);
        server.write_plaintext("authentic");
        std::string record(server.pending_ciphertext());
        server.consume_ciphertext(record.size());
        record[record.size() / 2] ^= 0x40;
        client.feed_ciphertext(record);
        Buffer got;
        const std::string what = tls_error_of([&] { client.read_plaintext(got); });
        CHECK(contains(what, "TLS read from localhost failed"));
        CHECK(got.empty());
    }
}

TEST_CASE("TLS ALPN picks the server's preferred protocol among the client's offers") {
    const auto& c = test_certs();
    auto server_ctx = TlsContext::server(
        {.cert_file = c.server_cert, .key_file = c.server_key, .alpn = {"http/1.1", "amqp"}});
    auto client_ctx = TlsContext::client({.ca_file = c.ca_file, .alpn = {"h2", "amqp", "http/1.1"}});
    TlsEngine client(client_ctx, "localhost");
    TlsEngine server(server_ctx);
    handshake(client, server);
    CHECK(client.alpn_selected() == "http/1.1");
    CHECK(server.alpn_selected() == "http/1.1");

    auto plain_client = client_context();
    TlsEngine client2(plain_client, "localhost");
    TlsEngine server2(server_ctx);
    handshake(client2, server2);
    CHECK(client2.alpn_selected().empty());
}

TEST_CASE("TLS configuration errors are clear") {
    const auto& c = test_certs();
    const std::string missing = c.dir + "/does-not-exist.pem";
    const std::string what = tls_error_of([&] { TlsContext::server({.cert_file = missing}); });
    CHECK(contains(what, "cannot load server certificate from " + missing));
    const std::string mismatch =
        tls_error_of([&] { TlsContext::server({.cert_file = c.server_cert, .key_file = c.client_key}); });
    MESSAGE(mismatch);
    CHECK(contains(mismatch, "does not match"));
    CHECK_THROWS_AS(TlsEngine(client_context(), ""), squall::UsageError);
    TlsEngine no_verify(TlsContext::client({.verify_peer = false}));  // no hostname needed
    TlsEngine client(client_context(), "localhost");
    CHECK_THROWS_AS(client.write_plaintext("early"), squall::UsageError);
    Buffer b;
    CHECK_THROWS_AS(client.read_plaintext(b), squall::UsageError);
}

TEST_CASE("TLS engines can be moved mid-connection") {
    auto server_ctx = server_context();
    TlsEngine client(client_context(), "localhost");
    TlsEngine server(server_ctx);
    handshake(client, server);
    TlsEngine moved(std::move(client));
    moved.write_plaintext("after move");
    transfer(moved, server);
    Buffer got;
    server.read_plaintext(got);
    CHECK(got.view() == "after move");
}
