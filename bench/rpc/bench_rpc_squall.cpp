// bench_rpc_squall: RPC round trips over RabbitMQ with squall's RpcClient and RpcServer (bench/README.md,
// "rpc"); bench_rpc_pika.py is its peer.
//
//   bench_rpc_squall --backend epoll|uring --url U --in-flight K --duration S [--warmup 1] [--size 100]
//
// One process, one loop, two connections: an RpcServer (prefetch K, replies with the request body) on a
// fresh queue, and an RpcClient (direct reply-to) whose K coroutines each call in a loop, so K calls are
// in flight. After the warm-up the program snapshots (wall clock, CLOCK_PROCESS_CPUTIME_ID, calls) and
// again `duration` later: calls_per_s and cpu_us_per_op cover exactly that interval, and the CPU is the
// whole process's, client and server (as for the pika driver, whose server runs in a thread).
#include <unistd.h>

#include <string>
#include <vector>

#include "bench/http/bench_common.hpp"
#include "squall/amqp/amqp.hpp"
#include "squall/amqp/rpc.hpp"
#include "squall/coro/gather.hpp"

namespace {

struct Run {
    double warm_end = 0, end = 0;
    std::uint64_t completed = 0, done0 = 0;
    bool measuring = false;
    double t0 = 0, cpu0 = 0, t1 = 0, cpu1 = 0;
    std::uint64_t done1 = 0;
    bool finished = false;
};

squall::Task<void> caller(Run& run, squall::amqp::RpcClient& client, const std::string& queue,
                          const std::string& body) {
    for (;;) {
        double t = bench::now_s(CLOCK_MONOTONIC);
        if (!run.measuring && t >= run.warm_end) {
            run.measuring = true;
            run.t0 = t;
            run.cpu0 = bench::now_s(CLOCK_PROCESS_CPUTIME_ID);
            run.done0 = run.completed;
        }
        if (t >= run.end) {
            if (!run.finished) {  // the first caller past the end closes the interval
                run.finished = true;
                run.t1 = t;
                run.cpu1 = bench::now_s(CLOCK_PROCESS_CPUTIME_ID);
                run.done1 = run.completed;
            }
            co_return;
        }
        std::string reply = co_await client.call(queue, body, std::chrono::seconds(10));
        if (reply.size() != body.size()) throw std::runtime_error("a reply has the wrong size");
        ++run.completed;
    }
}

squall::Task<void> bench_main(squall::IOLoop& loop, const std::string& url, long in_flight, std::size_t size,
                              Run& run) {
    using namespace squall::amqp;
    auto server_conn = co_await Connection::open(loop, url);
    auto client_conn = co_await Connection::open(loop, url);
    std::string queue = "bench-rpc-squall-" + std::to_string(::getpid());
    RpcServerOptions server_options;
    server_options.prefetch_count = static_cast<std::uint16_t>(in_flight);
    server_options.queue.auto_delete = true;
    RpcHandler echo = [](const Message& request) -> squall::Task<std::string> { co_return request.body; };
    auto server = co_await RpcServer::start(co_await server_conn->channel(), queue, echo, server_options);
    auto client = co_await RpcClient::create(co_await client_conn->channel());
    std::string body(size, 'x');
    std::vector<squall::Task<void>> callers;
    for (long i = 0; i < in_flight; ++i) callers.push_back(caller(run, *client, queue, body));
    co_await squall::gather(std::move(callers));
    co_await server->stop();
    co_await client_conn->close();
    co_await server_conn->close();
}

}  // namespace

int main(int argc, char** argv) {
    std::string backend = "epoll", url;
    long in_flight = 1, size = 100;
    double duration = 5, warmup = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i], v = argv[i + 1];
        if (a == "--backend")
            backend = v;
        else if (a == "--url")
            url = v;
        else if (a == "--in-flight")
            in_flight = std::atol(v.c_str());
        else if (a == "--duration")
            duration = std::atof(v.c_str());
        else if (a == "--warmup")
            warmup = std::atof(v.c_str());
        else if (a == "--size")
            size = std::atol(v.c_str());
        else
            bench::die("unknown option " + a);
    }
    if (url.empty() || in_flight < 1 || in_flight > 65535 || duration <= 0 || size < 0)
        bench::die("usage: bench_rpc_squall --backend epoll|uring --url U --in-flight K --duration S");
    try {
        squall::IOLoop loop(bench::parse_backend(backend));
        double start = bench::now_s(CLOCK_MONOTONIC);
        Run run;
        run.warm_end = start + warmup;
        run.end = start + warmup + duration;
        loop.run_sync(bench_main(loop, url, in_flight, static_cast<std::size_t>(size), run));
        double n = static_cast<double>(run.done1 - run.done0);
        if (!run.finished || n <= 0) bench::die("no call completed in the measured interval");
        double elapsed = run.t1 - run.t0, cpu = run.cpu1 - run.cpu0;
        std::string impl = bench::impl_name(loop);
        auto line = [&](const char* metric, double value, const char* unit) {
            std::printf(
                "{\"bench\": \"rpc\", \"impl\": \"%s\", \"params\": {\"in_flight\": %ld}, \"metric\": "
                "\"%s\", \"value\": %.3f, \"unit\": \"%s\"}\n",
                impl.c_str(), in_flight, metric, value, unit);
        };
        line("calls_per_s", n / elapsed, "1/s");
        line("cpu_us_per_op", cpu * 1e6 / n, "us");
        std::fprintf(stderr, "%s in_flight=%ld: %.0f calls in %.2f s, %.0f calls/s, %.2f us CPU/call\n",
                     impl.c_str(), in_flight, n, elapsed, n / elapsed, cpu * 1e6 / n);
    } catch (const std::exception& e) {
        bench::die(std::string("bench_rpc_squall: ") + e.what());
    }
    return 0;
}
