// TLS bulk throughput over loopback: a blocking OpenSSL server thread sends --bytes (default 1 GiB) in
// 64 KiB SSL_writes; the receiver is either squall (IOStream with TLS, read_bytes of 64 KiB) or a plain
// blocking OpenSSL SSL_read loop, both with the same client settings, so they negotiate the same suite
// (reported as params.cipher). The handshake is not timed. Certificates come from
// tests/support/make-certs.sh (openssl CLI) in a temporary directory.
//   bench_tls_squall [--backend epoll|uring] [--bytes N]     bench_tls_openssl [--bytes N]
//   either with --impl all [--runs N] alternates openssl, squall-epoll, squall-uring in one process
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench/iostream/common.hpp"
#include "squall/iostream/iostream.hpp"
#include "squall/iostream/tls.hpp"

namespace {

constexpr std::size_t kPiece = 64 * 1024;

struct Certs {
    std::string dir, ca, cert, key;
    Certs() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "squall-bench-certs-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        dir = tmpl;
        std::string cmd = std::string("'") + SQUALL_SOURCE_DIR + "/tests/support/make-certs.sh' '" + dir +
                          "' >/dev/null 2>&1";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("make-certs.sh failed");
        ca = dir + "/ca.pem";
        cert = dir + "/server.pem";
        key = dir + "/server.key";
    }
    ~Certs() { std::filesystem::remove_all(dir); }
};

void serve(const Certs& certs, int fd, std::uint64_t total) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_chain_file(ctx, certs.cert.c_str());
    SSL_CTX_use_PrivateKey_file(ctx, certs.key.c_str(), SSL_FILETYPE_PEM);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) std::abort();
    std::string buf(kPiece, 'y');
    for (std::uint64_t sent = 0; sent < total;) {
        int n = SSL_write(ssl, buf.data(), static_cast<int>(std::min<std::uint64_t>(kPiece, total - sent)));
        if (n <= 0) std::abort();
        sent += static_cast<std::uint64_t>(n);
    }
    SSL_shutdown(ssl);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
}

struct Timing {
    double wall = 0, cpu = 0;
    std::string cipher;
};

Timing run_openssl(const Certs& certs, std::uint64_t total) {
    auto [s, r] = bench::tcp_pair();
    std::thread server(serve, std::cref(certs), s, total);
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_load_verify_locations(ctx, certs.ca.c_str(), nullptr);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL* ssl = SSL_new(ctx);
    SSL_set_tlsext_host_name(ssl, "localhost");
    SSL_set1_host(ssl, "localhost");
    SSL_set_fd(ssl, r);
    if (SSL_connect(ssl) != 1) std::abort();
    Timing t;
    t.cipher = SSL_get_cipher_name(ssl);
    std::vector<char> buf(kPiece);
    double t0 = bench::now_s(), c0 = bench::thread_cpu_s();
    for (std::uint64_t got = 0; got < total;) {
        int n = SSL_read(ssl, buf.data(), static_cast<int>(buf.size()));
        if (n <= 0) std::abort();
        got += static_cast<std::uint64_t>(n);
    }
    t.wall = bench::now_s() - t0;
    t.cpu = bench::thread_cpu_s() - c0;
    server.join();
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ::close(s);
    ::close(r);
    return t;
}

squall::Task<void> handshake(std::shared_ptr<squall::IOStream> s,
                             std::shared_ptr<const squall::TlsContext> ctx) {
    co_await s->start_tls(std::move(ctx), "localhost");
}

squall::Task<void> read_pieces(std::shared_ptr<squall::IOStream> s, std::uint64_t total) {
    for (std::uint64_t got = 0; got < total;) {
        std::string piece = co_await s->read_bytes(std::min<std::uint64_t>(kPiece, total - got));
        got += piece.size();
    }
}

Timing run_squall(const Certs& certs, squall::Backend backend, std::uint64_t total) {
    squall::IOLoop loop(backend);
    auto [s, r] = bench::tcp_pair();
    bench::set_nonblocking(r);
    std::thread server(serve, std::cref(certs), s, total);
    auto stream = squall::IOStream::create(loop, r);
    loop.run_sync(handshake(stream, squall::TlsContext::client({.ca_file = certs.ca})));
    Timing t;
    t.cipher = stream->tls()->cipher();
    double t0 = bench::now_s(), c0 = bench::thread_cpu_s();
    loop.run_sync(read_pieces(stream, total));
    t.wall = bench::now_s() - t0;
    t.cpu = bench::thread_cpu_s() - c0;
    server.join();
    ::close(s);
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    const bench::ThroughputArgs args = bench::throughput_args(argc, argv, BENCH_DEFAULT_IMPL, "openssl");
    const std::uint64_t total = args.total;
    Certs certs;
    for (int run = 0; run < args.runs; ++run) {
        for (const auto& name : args.impls) {
            Timing t;
            if (name == "openssl")
                t = run_openssl(certs, total);
            else if (name == "squall-epoll")
                t = run_squall(certs, squall::Backend::epoll, total);
            else if (name == "squall-uring")
                t = run_squall(certs, squall::Backend::uring, total);
            else
                return std::fprintf(stderr, "unknown --impl %s\n", name.c_str()), 2;
            const std::string params = "\"bytes\": " + std::to_string(total) +
                                       ", \"piece\": " + std::to_string(kPiece) + ", \"cipher\": \"" +
                                       t.cipher + "\"";
            bench::print_result("iostream_tls", name, params, "MB_per_s", total / 1e6 / t.wall, "MB/s");
            bench::print_result("iostream_tls", name, params, "cpu_us_per_op", t.cpu * 1e6 / (total / kPiece),
                                "us");
        }
    }
}
