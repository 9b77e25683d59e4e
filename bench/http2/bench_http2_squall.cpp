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
#include <new>
#include <vector>

#include "bench/http/bench_common.hpp"
#include "squall/coro/gather.hpp"
#include "squall/httpclient/client.hpp"
#include "squall/ioloop/async.hpp"

namespace {
std::uint64_t g_allocs = 0;  // single-threaded apart from the resolver's pool (idle here)
}

void* operator new(std::size_t n) {
    ++g_allocs;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}

namespace {

using squall::http::HTTPRequest;

struct Run {
    std::string url;
    double warm_end, end;
    std::uint64_t completed = 0;
    bool measuring = false;
    double t0 = 0, cpu0 = 0;
    std::uint64_t done0 = 0, allocs0 = 0;
};

squall::Task<void> worker(Run& run, squall::http::Client& client) {
    for (;;) {
        double t = bench::now_s(CLOCK_MONOTONIC);
        if (!run.measuring && t >= run.warm_end) {
            run.measuring = true;
            run.t0 = t;
            run.cpu0 = bench::now_s(CLOCK_PROCESS_CPUTIME_ID);
            run.done0 = run.completed;
            run.allocs0 = g_allocs;
        }
        if (t >= run.end) co_return;
        auto resp = co_await client.fetch(run.url);
        if (resp.code != 200 || resp.protocol != "HTTP/2")
            bench::die("unexpected response: " + std::to_string(resp.code) + " over " + resp.protocol);
        ++run.completed;
    }
}

squall::Task<void> streams_main(Run& run, std::vector<std::unique_ptr<squall::http::Client>>& clients,
                                long streams) {
    std::vector<squall::Task<void>> workers;
    for (auto& c : clients)
        for (long i = 0; i < streams; ++i) workers.push_back(worker(run, *c));
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
    std::string backend = "epoll", url;
    long streams = 1, connections = 1;
    double duration = 5, warmup = 1;
    bool body = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--body") {
            body = true;
            continue;
        }
        if (i + 1 >= argc) bench::die("option " + a + " needs a value");
        std::string v = argv[++i];
        if (a == "--backend")
            backend = v;
        else if (a == "--url")
            url = v;
        else if (a == "--streams")
            streams = std::atol(v.c_str());
        else if (a == "--connections")
            connections = std::atol(v.c_str());
        else if (a == "--duration")
            duration = std::atof(v.c_str());
        else if (a == "--warmup")
            warmup = std::atof(v.c_str());
        else
            bench::die("unknown option " + a);
    }
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
            std::printf(
                "{\"bench\": \"http2_body\", \"impl\": \"%s\", \"params\": {\"path\": \"%s\"}, "
                "\"metric\": \"mb_per_s\", \"value\": %.3f, \"unit\": \"MB/s\"}\n",
                impl.c_str(), path.c_str(), static_cast<double>(total) / elapsed / 1e6);
            std::printf(
                "{\"bench\": \"http2_body\", \"impl\": \"%s\", \"params\": {\"path\": \"%s\"}, "
                "\"metric\": \"cpu_ms_per_gb\", \"value\": %.3f, \"unit\": \"ms\"}\n",
                impl.c_str(), path.c_str(), cpu * 1e3 / (static_cast<double>(total) / 1e9));
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
        double start = bench::now_s(CLOCK_MONOTONIC);
        Run run{url, start + warmup, start + warmup + duration};
        loop.run_sync(streams_main(run, clients, streams));
        double elapsed = bench::now_s(CLOCK_MONOTONIC) - run.t0;
        double cpu = bench::now_s(CLOCK_PROCESS_CPUTIME_ID) - run.cpu0;
        std::uint64_t allocs = g_allocs - run.allocs0;
        double n = static_cast<double>(run.completed - run.done0);
        if (n <= 0) bench::die("no request completed in the measured interval");
        auto line = [&](const char* metric, double value, const char* unit) {
            std::printf(
                "{\"bench\": \"http2_streams\", \"impl\": \"%s\", \"params\": {\"streams\": %ld, "
                "\"connections\": %ld}, \"metric\": \"%s\", \"value\": %.3f, \"unit\": \"%s\"}\n",
                impl.c_str(), streams, connections, metric, value, unit);
        };
        line("req_per_s", n / elapsed, "1/s");
        line("cpu_us_per_op", cpu * 1e6 / n, "us");
        line("allocs_per_op", static_cast<double>(allocs) / n, "1");
        std::uint64_t opened = 0;
        for (auto& c : clients) opened += c->stats().connections_opened;
        std::fprintf(stderr,
                     "%s streams=%ld connections=%ld: %.0f requests in %.2f s, %.0f req/s, %.2f us CPU/req, "
                     "%.2f allocs/req, %llu connections opened\n",
                     impl.c_str(), streams, connections, n, elapsed, n / elapsed, cpu * 1e6 / n,
                     static_cast<double>(allocs) / n, static_cast<unsigned long long>(opened));
    } catch (const std::exception& e) {
        bench::die(std::string("bench_http2_squall: ") + e.what());
    }
    return 0;
}
