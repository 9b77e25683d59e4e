// squall's side of the websocket benchmark: N connections each doing echo round trips of one message
// size (write_message, then read_message) against the C echo server, for a warm-up and a measured
// interval. Prints msg_per_s (round trips), mb_per_s (payload echoed, one direction) and cpu_us_per_op
// (CLOCK_PROCESS_CPUTIME_ID over the measured interval, per round trip) as JSON lines (DESIGN section 8).
//
//   bench_ws_squall --backend epoll --url ws://127.0.0.1:56510/ --size 64 --connections 64 --duration 5
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/support/bench.hpp"
#include "squall/coro/gather.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/websocket/websocket.hpp"

namespace {

using bench::now_s;

[[noreturn]] void die(const std::string& msg) {
    bench::die("bench_ws_squall: " + msg);
}

struct Run {
    squall::IOLoop& loop;
    std::string url;
    std::size_t size;
    bool stop = false;
    std::uint64_t completed = 0;
    std::uint64_t done0 = 0, done1 = 0;
    double t0 = 0, t1 = 0, cpu0 = 0, cpu1 = 0;
};

squall::Task<void> connection(Run& run) {
    squall::websocket::WebSocketOptions options{.max_message_size = 64 * 1024 * 1024};
    auto ws = co_await squall::websocket::websocket_connect(run.loop, run.url, options);
    const std::string payload(run.size, 'w');
    while (!run.stop) {
        co_await ws.write_message(payload, true);
        auto got = co_await ws.read_message();
        if (!got || got->data.size() != run.size) die("echo lost or wrong size");
        ++run.completed;
    }
    co_await ws.close();
}

squall::Task<void> bench_main(Run& run, int connections, double warmup, double duration) {
    run.loop.call_later(std::chrono::duration_cast<squall::Duration>(std::chrono::duration<double>(warmup)),
                        [&run] {
                            run.t0 = now_s(CLOCK_MONOTONIC);
                            run.cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
                            run.done0 = run.completed;
                        });
    run.loop.call_later(
        std::chrono::duration_cast<squall::Duration>(std::chrono::duration<double>(warmup + duration)),
        [&run] {
            run.t1 = now_s(CLOCK_MONOTONIC);
            run.cpu1 = now_s(CLOCK_PROCESS_CPUTIME_ID);
            run.done1 = run.completed;
            run.stop = true;
        });
    std::vector<squall::Task<void>> tasks;
    for (int i = 0; i < connections; ++i) tasks.push_back(connection(run));
    co_await squall::gather(std::move(tasks));
}

}  // namespace

int main(int argc, char** argv) {
    bench::Options opts(argc, argv,
                        {"--backend", "--url", "--size", "--connections", "--duration", "--warmup"});
    const std::string backend = opts.text("--backend", "epoll"),
                      url = opts.text("--url", "ws://127.0.0.1:56510/");
    const std::size_t size = static_cast<std::size_t>(opts.integer("--size", 64));
    const int connections = static_cast<int>(opts.integer("--connections", 1));
    const double duration = opts.number("--duration", 5), warmup = opts.number("--warmup", 0.5);
    squall::Backend be = backend == "uring" ? squall::Backend::uring : squall::Backend::epoll;
    if (backend != "uring" && backend != "epoll") die("--backend must be epoll or uring");
    try {
        squall::IOLoop loop(be);
        Run run{loop, url, size};
        loop.run_sync(bench_main(run, connections, warmup, duration));
        const double n = static_cast<double>(run.done1 - run.done0);
        const double elapsed = run.t1 - run.t0;
        if (n <= 0) die("no round trip completed in the measured interval");
        const char* impl = be == squall::Backend::uring ? "squall-uring" : "squall-epoll";
        const char* bench = size >= (1u << 20) ? "websocket_throughput" : "websocket_echo";
        auto line = [&](const char* metric, double value, const char* unit) {
            std::printf(
                "{\"bench\": \"%s\", \"impl\": \"%s\", \"params\": {\"size\": %zu, \"connections\": %d}, "
                "\"metric\": \"%s\", \"value\": %.3f, \"unit\": \"%s\"}\n",
                bench, impl, size, connections, metric, value, unit);
        };
        line("msg_per_s", n / elapsed, "1/s");
        line("mb_per_s", n * static_cast<double>(size) / elapsed / 1e6, "MB/s");
        line("cpu_us_per_op", (run.cpu1 - run.cpu0) * 1e6 / n, "us");
        std::fprintf(stderr, "%s size=%zu c=%d: %.0f round trips/s, %.2f us CPU per round trip\n", impl, size,
                     connections, n / elapsed, (run.cpu1 - run.cpu0) * 1e6 / n);
    } catch (const std::exception& e) {
        die(e.what());
    }
}
