// bench_http_squall: keep-alive GETs with squall's http::Client (bench/README.md, "http").
//
//   bench_http_squall --backend epoll|uring --url URL --connections N --duration S [--warmup S]
//
// N coroutines each fetch URL in a loop through one Client (max_clients = N, pooled connections), so N
// requests are in flight on N keep-alive connections. Prints req_per_s, cpu_us_per_op (CLOCK_PROCESS_
// CPUTIME_ID over the measured interval) and allocs_per_op (operator new calls in that interval / requests),
// bench "http_keepalive", params {"connections": N}. Any failed fetch or a status other than 200 fails the
// run.
#include <atomic>
#include <cstdint>
#include <new>
#include <vector>

#include "bench/http/bench_common.hpp"
#include "squall/coro/gather.hpp"
#include "squall/httpclient/client.hpp"
#include "squall/ioloop/async.hpp"

namespace {
std::uint64_t g_allocs = 0;  // the program is single-threaded apart from the resolver's pool (idle here)
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

struct Run {
    squall::IOLoop& loop;
    squall::http::Client& client;
    std::string url;
    double warm_end, end;
    std::uint64_t completed = 0;
    bool measuring = false;
    double t0 = 0, cpu0 = 0;
    std::uint64_t done0 = 0, allocs0 = 0;
};

squall::Task<void> worker(Run& run) {
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
        auto resp = co_await run.client.fetch(run.url);
        if (resp.code != 200) bench::die("unexpected HTTP status " + std::to_string(resp.code));
        ++run.completed;
    }
}

squall::Task<void> bench_main(Run& run, long connections) {
    std::vector<squall::Task<void>> workers;
    for (long i = 0; i < connections; ++i) workers.push_back(worker(run));
    co_await squall::gather(std::move(workers));
}

}  // namespace

int main(int argc, char** argv) {
    std::string backend = "epoll", url;
    long connections = 1;
    double duration = 5, warmup = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i], v = argv[i + 1];
        if (a == "--backend")
            backend = v;
        else if (a == "--url")
            url = v;
        else if (a == "--connections")
            connections = std::atol(v.c_str());
        else if (a == "--duration")
            duration = std::atof(v.c_str());
        else if (a == "--warmup")
            warmup = std::atof(v.c_str());
        else
            bench::die("unknown option " + a);
    }
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
        double start = bench::now_s(CLOCK_MONOTONIC);
        Run run{loop, client, url, start + warmup, start + warmup + duration};
        loop.run_sync(bench_main(run, connections));
        double elapsed = bench::now_s(CLOCK_MONOTONIC) - run.t0;
        double cpu = bench::now_s(CLOCK_PROCESS_CPUTIME_ID) - run.cpu0;
        std::uint64_t allocs = g_allocs - run.allocs0;
        double n = static_cast<double>(run.completed - run.done0);
        if (n <= 0) bench::die("no request completed in the measured interval");
        std::string impl = bench::impl_name(loop);
        auto line = [&](const char* metric, double value, const char* unit) {
            std::printf(
                "{\"bench\": \"http_keepalive\", \"impl\": \"%s\", \"params\": {\"connections\": %ld}, "
                "\"metric\": \"%s\", \"value\": %.3f, \"unit\": \"%s\"}\n",
                impl.c_str(), connections, metric, value, unit);
        };
        line("req_per_s", n / elapsed, "1/s");
        line("cpu_us_per_op", cpu * 1e6 / n, "us");
        line("allocs_per_op", static_cast<double>(allocs) / n, "1");
        const auto& st = client.stats();
        std::fprintf(stderr,
                     "%s c=%ld: %.0f requests in %.2f s, %.0f req/s, %.2f us CPU/req, %.2f allocs/req, "
                     "%llu connections opened, %llu reused\n",
                     impl.c_str(), connections, n, elapsed, n / elapsed, cpu * 1e6 / n,
                     static_cast<double>(allocs) / n, static_cast<unsigned long long>(st.connections_opened),
                     static_cast<unsigned long long>(st.connections_reused));
    } catch (const std::exception& e) {
        bench::die(std::string("bench_http_squall: ") + e.what());
    }
    return 0;
}
