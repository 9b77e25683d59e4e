// rpc_client: pika's RPC tutorial client. Calls fib(30) through "rpc_queue" (start rpc_server first).
//   rpc_client [amqp://guest:guest@localhost:5672/] [n]
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

#include "squall/amqp/amqp.hpp"
#include "squall/amqp/rpc.hpp"

using namespace squall;

static Task<void> request(IOLoop& loop, std::string url, std::string n) {
    auto conn = co_await amqp::Connection::open(loop, url);
    auto fibonacci_rpc = co_await amqp::RpcClient::create(co_await conn->channel());  // direct reply-to
    std::printf(" [x] Requesting fib(%s)\n", n.c_str());
    std::string response = co_await fibonacci_rpc->call("rpc_queue", n, std::chrono::seconds(30));
    std::printf(" [.] Got %s\n", response.c_str());
    co_await conn->close();
}

int main(int argc, char** argv) {
    try {
        IOLoop loop;
        loop.run_sync(request(loop, argc > 1 ? argv[1] : "amqp://guest:guest@localhost:5672/",
                              argc > 2 ? argv[2] : "30"));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rpc_client: %s\n", e.what());
        return 1;
    }
}
