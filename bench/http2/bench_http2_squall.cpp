// bench_http2_squall: HTTP/2 GETs of a small file over `connections` h2c connections with `streams`
// requests in flight on each (one Client per connection, max_clients = streams), or one large download
// (--body): JSON lines as DESIGN section 8 (bench http2_streams / http2_body), a summary on stderr.
//
//     bench_http2_squall --backend epoll --url http://127.0.0.1:18081/small.txt --streams 100 --connections 4
//     bench_http2_squall --backend uring --body --url http://127.0.0.1:18081/big.bin
//
// Client CPU is CLOCK_PROCESS_CPUTIME_ID over the measured interval (after --warmup); allocations are
// counted by a replaced operator new.
#include <cstdint>
#include <memory>
#include <vector>

#include "bench/support/squall.hpp"
#include "squall/coro/gather.hpp"
#include "squall/httpclient/client.hpp"
#include "squall/ioloop/async.hpp"

namespace {

using squall::http::HTTPRequest;

squall::Task<void> worker(bench::Interval& run, squall::http::Client& client, const std::string& url) {
    while (run.keep_going()) {
        auto resp = co_await client.fetch(url);
        if (resp.code != 200 || resp.protocol != "HTTP/2")
            bench::die("unexpected response: " + std::to_string(resp.code) + " over " + resp.protocol);
        run.completed_one();
    }
}

squall::Task<void> streams_main(bench::Interval& run, const std::string& url,
                                std::vector<std::unique_ptr<squall::http::Client>>& clients, long streams) {
    std::vector<squall::Task<void>> workers;
    for (auto& c : clients)
        for (long i = 0; i < streams; ++i) workers.push_back(worker(run, *c, url));
    co_await squall::gather(std::move(workers));
}
squall::Task<std::uint64_t> body_main(squall::http::Client& client, std::string url) {
    std::uint64_t total = 0;
    HTTPRequest r;
    r.url = std::move(url);
    r.request_timeout = std::chrono::seconds(120);
    r.decompress_response = false;
    r.http_version = squall::http::HTTPVersion::http2_prior_knowledge;
    r.streaming_callback = [&total](std::string_view piece) { total += piece.size(); };
    auto resp = co_await client.fetch(r);
    if (resp.code != 200 || resp.protocol != "HTTP/2") bench::die("unexpected response to the body GET");
    co_return total;
}

}  // namespace

int main(int argc, char** argv) {
    bench::Options opts(argc, argv,
                        {"--backend", "--url", "--streams", "--connections", "--duration", "--warmup"},
                        {"--body"});
    const std::string backend = opts.text("--backend", "epoll"), url = opts.text("--url");
    const long streams = opts.integer("--streams", 1), connections = opts.integer("--connections", 1);
    const double duration = opts.number("--duration", 5), warmup = opts.number("--warmup", 1);
    const bool body = opts.flag("--body");
    if (url.empty() || streams < 1 || connections < 1)
        bench::die("usage: see the top of bench_http2_squall.cpp");
    try {
        squall::IOLoop loop(bench::parse_backend(backend));
        const std::string impl = bench::impl_name(loop);
        HTTPRequest defaults;
        defaults.decompress_response = false;  // as h2load and libcurl: the same plain bytes for everyone
        defaults.http_version = squall::http::HTTPVersion::http2_prior_knowledge;
        if (body) {
            const std::string path = bench::url_path(url);  // params as the curl rows': the grid's path
            squall::http::Client client(loop, {.defaults = defaults});
            double t0 = bench::now_s(CLOCK_MONOTONIC), cpu0 = bench::now_s(CLOCK_PROCESS_CPUTIME_ID);
            std::uint64_t total = loop.run_sync(body_main(client, url), std::chrono::seconds(180));
            double elapsed = bench::now_s(CLOCK_MONOTONIC) - t0;
            double cpu = bench::now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
            const std::string params = "\"path\": \"" + path + "\"";
            bench::print_result("http2_body", impl, params, "mb_per_s",
                                static_cast<double>(total) / elapsed / 1e6, "MB/s");
            bench::print_result("http2_body", impl, params, "cpu_ms_per_gb",
                                cpu * 1e3 / (static_cast<double>(total) / 1e9), "ms");
            std::fprintf(stderr, "%s body: %llu bytes in %.3f s, %.0f MB/s\n", impl.c_str(),
                         static_cast<unsigned long long>(total), elapsed,
                         static_cast<double>(total) / elapsed / 1e6);
            return 0;
        }
        std::vector<std::unique_ptr<squall::http::Client>> clients;
        for (long c = 0; c < connections; ++c)
            clients.push_back(std::make_unique<squall::http::Client>(
                loop, squall::http::ClientOptions{.max_clients = static_cast<std::size_t>(streams),
                                                  .defaults = defaults}));
        bench::Interval run(warmup, duration, bench::allocations);
        loop.run_sync(streams_main(run, url, clients, streams));
        run.close();
        if (!run.measured()) bench::die("no request completed in the measured interval");
        const double n = run.ops(), elapsed = run.seconds(), cpu = run.cpu_seconds(), allocs = run.allocs();
        const std::string params =
            "\"streams\": " + std::to_string(streams) + ", \"connections\": " + std::to_string(connections);
        bench::print_result("http2_streams", impl, params, "req_per_s", n / elapsed, "1/s");
        bench::print_result("http2_streams", impl, params, "cpu_us_per_op", cpu * 1e6 / n, "us");
        bench::print_result("http2_streams", impl, params, "allocs_per_op", allocs / n, "1");
        std::uint64_t opened = 0;
        for (auto& c : clients) opened += c->stats().connections_opened;
        std::fprintf(stderr,
                     "%s streams=%ld connections=%ld: %.0f requests in %.2f s, %.0f req/s, %.2f us CPU/req, "
                     "%.2f allocs/req, %llu connections opened\n",
                     impl.c_str(), streams, connections, n, elapsed, n / elapsed, cpu * 1e6 / n, allocs / n,
                     static_cast<unsigned long long>(opened));
    } catch (const std::exception& e) {
        bench::die(std::string("bench_http2_squall: ") + e.what());
    }
    return 0;
}
