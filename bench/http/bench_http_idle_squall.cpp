// bench_http_idle_squall: memory per idle pooled keep-alive connection with squall's http::Client
// (bench/README.md, "http"; issue 18, "Memory per connection").
//
//   bench_http_idle_squall --backend epoll|uring --url URL [--connections N] [--ca-file PEM]
//
// Opens N keep-alive connections to URL's server through one Client (max_clients and max_idle_per_host
// N, so all N requests run at once, each on its own connection, and every connection stays pooled), lets
// the loop settle, then reports (RssAnon after - RssAnon before) / N in KiB: bench "http_idle_memory",
// metric rss_kib_per_conn, params {"connections": N, "tls": 0|1}. Both snapshots follow malloc_trim(0),
// as in the libcurl peer, so memory freed to the allocator is not counted. RssAnon (the process's heap and
// anonymous mappings) is what connections cost; VmRSS also counts code pages first touched in between,
// and is printed on stderr with it. Before the snapshot a throwaway Client fetches once (code and TLS
// tables touched, the loop's structures warm). Afterwards nginx's /status is fetched on one of the pooled
// connections: "Active connections" must be at least N, or the run fails.
#include <malloc.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bench/support/squall.hpp"
#include "squall/coro/gather.hpp"
#include "squall/httpclient/client.hpp"
#include "squall/ioloop/async.hpp"

namespace {

// A field of /proc/self/status in KiB ("RssAnon", "VmRSS").
long status_kib(const char* field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::size_t len = std::strlen(field);
    while (std::getline(in, line))
        if (line.compare(0, len, field) == 0 && line.size() > len && line[len] == ':')
            return std::atol(line.c_str() + len + 1);
    bench::die(std::string("no ") + field + " in /proc/self/status");
}

struct Rss {
    long anon = 0, total = 0;
    std::size_t heap_in_use = 0;  // malloc's bytes in live allocations (mallinfo2)
    std::size_t heap_free = 0;    // free bytes inside malloc's heap (mallinfo2: fragmentation)
};

Rss measure() {
    ::malloc_trim(0);
    const auto mi = ::mallinfo2();
    return {status_kib("RssAnon"), status_kib("VmRSS"), mi.uordblks + mi.hblkhd, mi.fordblks};
}

squall::http::HTTPRequest request_for(const std::string& url, const std::string& ca_file) {
    squall::http::HTTPRequest req;
    req.url = url;
    // No Accept-Encoding, as the libcurl peer: the same plain bytes for both.
    req.decompress_response = false;
    // HTTP/1.1 pooled connections are measured (with TLS the Client would otherwise wait for ALPN and
    // put the requests on one HTTP/2 session where nginx offers it).
    req.http_version = squall::http::HTTPVersion::http1_1;
    if (!ca_file.empty()) req.ca_certs = ca_file;
    return req;
}

squall::Task<void> fetch_ok(squall::http::Client& client, const squall::http::HTTPRequest& req) {
    auto resp = co_await client.fetch(req);
    if (resp.code != 200) bench::die("unexpected HTTP status " + std::to_string(resp.code));
}

squall::Task<void> open_all(squall::http::Client& client, const squall::http::HTTPRequest& req, long n) {
    std::vector<squall::Task<void>> fetches;
    fetches.reserve(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i) fetches.push_back(fetch_ok(client, req));
    co_await squall::gather(std::move(fetches));
}

squall::Task<long> active_connections(squall::http::Client& client, squall::http::HTTPRequest req) {
    auto slash = req.url.find('/', req.url.find("://") + 3);
    req.url = req.url.substr(0, slash) + "/status";
    auto resp = co_await client.fetch(req);
    const std::string& body = resp.body;
    auto at = body.find("Active connections:");
    if (resp.code != 200 || at == std::string::npos) bench::die("no stub_status at " + req.url);
    co_return std::atol(body.c_str() + at + std::strlen("Active connections:"));
}

squall::Task<void> settle(squall::IOLoop& loop, int ms) {
    co_await squall::sleep(loop, std::chrono::milliseconds(ms));
}

}  // namespace

int main(int argc, char** argv) {
    bench::Options opts(argc, argv, {"--backend", "--url", "--connections", "--ca-file"});
    const std::string backend = opts.text("--backend", "epoll"), url = opts.text("--url");
    const long n = opts.integer("--connections", 10000);
    if (url.empty() || n < 1)
        bench::die(
            "usage: bench_http_idle_squall --backend epoll|uring --url URL [--connections N] "
            "[--ca-file PEM]");
    try {
        squall::IOLoop loop(bench::parse_backend(backend));
        const auto req = request_for(url, opts.text("--ca-file"));
        {
            squall::http::Client warm(loop);
            loop.run_sync(fetch_ok(warm, req));
        }
        loop.run_sync(settle(loop, 50));
        const Rss before = measure();

        squall::http::Client client(loop, {.max_clients = static_cast<std::size_t>(n),
                                           .max_idle_per_host = static_cast<std::size_t>(n),
                                           .idle_timeout = std::chrono::seconds(600)});
        loop.run_sync(open_all(client, req, n));
        // Idle: every exchange has finished and parked its connection; a short wait lets the loop run the
        // end-of-iteration work of the last ones.
        loop.run_sync(settle(loop, 200));
        const std::size_t idle = client.idle_connections();
        const auto& st = client.stats();
        const Rss after = measure();
        if (idle != static_cast<std::size_t>(n) || st.connections_opened != static_cast<std::uint64_t>(n))
            bench::die("expected " + std::to_string(n) + " idle connections, have " + std::to_string(idle) +
                       " (" + std::to_string(st.connections_opened) + " opened)");
        const long active = loop.run_sync(active_connections(client, req));
        if (active < n) bench::die("nginx reports only " + std::to_string(active) + " active connections");

        const double per_conn = static_cast<double>(after.anon - before.anon) / static_cast<double>(n);
        const std::string impl = bench::impl_name(loop);
        const bool tls = url.rfind("https:", 0) == 0;
        const std::string params =
            "\"connections\": " + std::to_string(n) + ", \"tls\": " + std::string(tls ? "1" : "0");
        bench::print_result("http_idle_memory", impl, params, "rss_kib_per_conn", per_conn, "KiB");
        std::fprintf(
            stderr,
            "%s %s n=%ld: RssAnon %ld -> %ld KiB (%.2f KiB/conn), VmRSS %ld -> %ld KiB (%.2f KiB/conn), "
            "heap in use %.2f KiB/conn (%.2f KiB free in the heap), %zu idle, nginx active %ld\n",
            impl.c_str(), tls ? "https" : "http", n, before.anon, after.anon, per_conn, before.total,
            after.total, static_cast<double>(after.total - before.total) / static_cast<double>(n),
            static_cast<double>(after.heap_in_use - before.heap_in_use) / 1024.0 / static_cast<double>(n),
            static_cast<double>(after.heap_free - before.heap_free) / 1024.0 / static_cast<double>(n), idle,
            active);
    } catch (const std::exception& e) {
        bench::die(std::string("bench_http_idle_squall: ") + e.what());
    }
    return 0;
}
