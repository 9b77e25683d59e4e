// bench_http_squall: keep-alive GETs with squall's http::Client (bench/README.md, "http").
//
//   bench_http_squall --backend epoll|uring --url URL --connections N --duration S [--warmup S]
//                     [--fresh-requests 1]
//
// N coroutines each fetch a prepared request for URL (Client::prepare; with --fresh-requests 1, fetch(URL))
// in a loop through one Client (max_clients = N, pooled connections), so N
// requests are in flight on N keep-alive connections. Prints req_per_s, cpu_us_per_op (CLOCK_PROCESS_
// CPUTIME_ID over the measured interval) and allocs_per_op (operator new calls in that interval / requests),
// bench "http_keepalive", params {"connections": N}. Any failed fetch or a status other than 200 fails the
// run.
#include <cstdint>
#include <vector>

#include "bench/support/squall.hpp"
#include "squall/coro/gather.hpp"
#include "squall/httpclient/client.hpp"
#include "squall/ioloop/async.hpp"

namespace {

squall::Task<void> worker(bench::Interval& run, squall::http::Client& client,
                          std::shared_ptr<const squall::http::HTTPRequest> request) {
    while (run.keep_going()) {
        auto resp = co_await client.fetch(request);
        if (resp.code != 200) bench::die("unexpected HTTP status " + std::to_string(resp.code));
        run.completed_one();
    }
}

squall::Task<void> fresh_worker(bench::Interval& run, squall::http::Client& client, const std::string& url) {
    while (run.keep_going()) {
        auto resp = co_await client.fetch(url);
        if (resp.code != 200) bench::die("unexpected HTTP status " + std::to_string(resp.code));
        run.completed_one();
    }
}

squall::Task<void> bench_main(bench::Interval& run, squall::http::Client& client, const std::string& url,
                              long connections, bool fresh_requests) {
    std::vector<squall::Task<void>> workers;
    // One prepared request fetched again and again, as wrk sends one request text and the libcurl
    // program reuses its easy handles (--fresh-requests: fetch(url), a new request per fetch).
    const auto request = client.prepare(url);
    for (long i = 0; i < connections; ++i) {
        if (fresh_requests)
            workers.push_back(fresh_worker(run, client, url));
        else
            workers.push_back(worker(run, client, request));
    }
    co_await squall::gather(std::move(workers));
}

}  // namespace

int main(int argc, char** argv) {
    bench::Options opts(
        argc, argv, {"--backend", "--url", "--connections", "--duration", "--warmup", "--fresh-requests"});
    const std::string backend = opts.text("--backend", "epoll"), url = opts.text("--url");
    const long connections = opts.integer("--connections", 1);
    const bool fresh_requests = opts.integer("--fresh-requests", 0) != 0;
    const double duration = opts.number("--duration", 5), warmup = opts.number("--warmup", 1);
    if (url.empty() || connections < 1 || duration <= 0)
        bench::die("usage: bench_http_squall --backend epoll|uring --url URL --connections N --duration S");
    try {
        squall::IOLoop loop(bench::parse_backend(backend));
        // No Accept-Encoding, as wrk and the libcurl program: every client fetches the same plain bytes
        // (nginx would otherwise gzip the text file for squall alone).
        squall::http::HTTPRequest defaults;
        defaults.decompress_response = false;
        squall::http::Client client(loop, {.max_clients = static_cast<std::size_t>(connections),
                                           .defaults = std::move(defaults),
                                           .max_idle_per_host = static_cast<std::size_t>(connections)});
        bench::Interval run(warmup, duration, bench::allocations);
        loop.run_sync(bench_main(run, client, url, connections, fresh_requests));
        run.close();
        if (!run.measured()) bench::die("no request completed in the measured interval");
        const double n = run.ops(), elapsed = run.seconds(), cpu = run.cpu_seconds(), allocs = run.allocs();
        const std::string impl = bench::impl_name(loop);
        const std::string params = "\"connections\": " + std::to_string(connections);
        bench::print_result("http_keepalive", impl, params, "req_per_s", n / elapsed, "1/s");
        bench::print_result("http_keepalive", impl, params, "cpu_us_per_op", cpu * 1e6 / n, "us");
        bench::print_result("http_keepalive", impl, params, "allocs_per_op", allocs / n, "1");
        const auto& st = client.stats();
        std::fprintf(stderr,
                     "%s c=%ld: %.0f requests in %.2f s, %.0f req/s, %.2f us CPU/req, %.2f allocs/req, "
                     "%llu connections opened, %llu reused\n",
                     impl.c_str(), connections, n, elapsed, n / elapsed, cpu * 1e6 / n, allocs / n,
                     static_cast<unsigned long long>(st.connections_opened),
                     static_cast<unsigned long long>(st.connections_reused));
    } catch (const std::exception& e) {
        bench::die(std::string("bench_http_squall: ") + e.what());
    }
    return 0;
}
