// rpc_server: pika's RPC tutorial server. Answers fib(n) requests on the queue "rpc_queue".
//   rpc_server [amqp://guest:guest@localhost:5672/]      then run rpc_client
#include <cstdio>
#include <exception>
#include <string>

#include "squall/amqp/amqp.hpp"
#include "squall/amqp/rpc.hpp"

using namespace squall;

static long fib(long n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static Task<void> serve(IOLoop& loop, std::string url) {
    auto conn = co_await amqp::Connection::open(loop, url);
    amqp::RpcHandler on_request = [](const amqp::Delivery& request) -> Task<std::string> {
        long n = std::stol(request.body);
        std::printf(" [.] fib(%ld)\n", n);
        co_return std::to_string(fib(n));
    };
    amqp::RpcServerOptions options{.prefetch_count = 1};
    auto server = co_await amqp::RpcServer::start(co_await conn->channel(), "rpc_queue", on_request, options);
    std::printf(" [x] Awaiting RPC requests\n");
    std::fflush(stdout);
    co_await conn->wait_closed();  // serve until the connection ends (Ctrl-C to quit)
}

int main(int argc, char** argv) {
    try {
        IOLoop loop;
        loop.run_sync(serve(loop, argc > 1 ? argv[1] : "amqp://guest:guest@localhost:5672/"));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rpc_server: %s\n", e.what());
        return 1;
    }
}
