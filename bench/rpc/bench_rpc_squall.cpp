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

#include "bench/support/squall.hpp"
#include "squall/amqp/amqp.hpp"
#include "squall/amqp/rpc.hpp"
#include "squall/coro/gather.hpp"

namespace {

squall::Task<void> caller(bench::Interval& run, squall::amqp::RpcClient& client, const std::string& queue,
                          const std::string& body) {
    while (run.keep_going()) {
        std::string reply = co_await client.call(queue, body, std::chrono::seconds(10));
        if (reply.size() != body.size()) throw std::runtime_error("a reply has the wrong size");
        run.completed_one();
    }
    run.close();  // the first caller past the end closes the interval
}

squall::Task<void> bench_main(squall::IOLoop& loop, const std::string& url, long in_flight, std::size_t size,
                              bench::Interval& run) {
    using namespace squall::amqp;
    auto server_conn = co_await Connection::open(loop, url);
    auto client_conn = co_await Connection::open(loop, url);
    std::string queue = "bench-rpc-squall-" + std::to_string(::getpid());
    RpcServerOptions server_options;
    server_options.prefetch_count = static_cast<std::uint16_t>(in_flight);
    server_options.queue.auto_delete = true;
    RpcHandler echo = [](const Delivery& request) -> squall::Task<std::string> { co_return request.body; };
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
    bench::Options opts(argc, argv,
                        {"--backend", "--url", "--in-flight", "--duration", "--warmup", "--size"});
    const std::string backend = opts.text("--backend", "epoll"), url = opts.text("--url");
    const long in_flight = opts.integer("--in-flight", 1), size = opts.integer("--size", 100);
    const double duration = opts.number("--duration", 5), warmup = opts.number("--warmup", 1);
    if (url.empty() || in_flight < 1 || in_flight > 65535 || duration <= 0 || size < 0)
        bench::die("usage: bench_rpc_squall --backend epoll|uring --url U --in-flight K --duration S");
    try {
        squall::IOLoop loop(bench::parse_backend(backend));
        bench::Interval run(warmup, duration);
        loop.run_sync(bench_main(loop, url, in_flight, static_cast<std::size_t>(size), run));
        if (!run.measured()) bench::die("no call completed in the measured interval");
        const double n = run.ops(), elapsed = run.seconds(), cpu = run.cpu_seconds();
        const std::string impl = bench::impl_name(loop);
        const std::string params = "\"in_flight\": " + std::to_string(in_flight);
        bench::print_result("rpc", impl, params, "calls_per_s", n / elapsed, "1/s");
        bench::print_result("rpc", impl, params, "cpu_us_per_op", cpu * 1e6 / n, "us");
        std::fprintf(stderr, "%s in_flight=%ld: %.0f calls in %.2f s, %.0f calls/s, %.2f us CPU/call\n",
                     impl.c_str(), in_flight, n, elapsed, n / elapsed, cpu * 1e6 / n);
    } catch (const std::exception& e) {
        bench::die(std::string("bench_rpc_squall: ") + e.what());
    }
    return 0;
}
