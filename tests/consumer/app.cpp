// A program that uses squall as an application does, built against an installed prefix (find_package,
// pkg-config) or squall's sources (add_subdirectory): scripts/check-consumers builds and runs it.
// It runs a loop, serves one HTTP response from a TCPServer of its own and fetches it with http::Client,
// and, when SQUALL_AMQP_URL is set, publishes a message to an exclusive queue and gets it back.
//
//   app [EXPECTED_VERSION]   exit 0 when everything worked (and the library's version is the one given)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include <unistd.h>

#include <squall/squall.hpp>

using namespace std::chrono_literals;

namespace {

bool fail(const std::string& what) {
    std::fprintf(stderr, "consumer: FAILED: %s\n", what.c_str());
    return false;
}

squall::Task<void> answer(std::shared_ptr<squall::IOStream> stream, squall::SocketAddress) {
    std::string head = co_await stream->read_until("\r\n\r\n", 64 * 1024);
    std::string body =
        std::string("squall ") + squall::version_string() + " served " + head.substr(0, head.find("\r\n"));
    std::string response =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n" + body;
    co_await stream->write(std::move(response));
    stream->close();
}

squall::Task<bool> run(squall::IOLoop& loop) {
    // The loop: three sleeps at once end after the longest.
    auto start = loop.time();
    co_await squall::gather(squall::sleep(30ms), squall::sleep(10ms), squall::sleep(20ms));
    auto took = loop.time() - start;
    if (took < 30ms) co_return fail("gather of 30 ms sleeps ended early");
    std::string backend(squall::to_string(loop.backend()));
    std::printf("loop ok (%s backend)\n", backend.c_str());

    // HTTP on loopback: a TCPServer answers, http::Client fetches.
    squall::TCPServer server(loop, answer);
    server.listen(0, "127.0.0.1");
    squall::http::Client client(loop);
    std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/consumer?x=1";
    squall::http::HTTPResponse resp = co_await client.fetch(url);
    std::string want =
        std::string("squall ") + squall::version_string() + " served GET /consumer?x=1 HTTP/1.1";
    if (resp.code != 200 || resp.body != want) co_return fail("fetch " + url + " gave '" + resp.body + "'");
    std::printf("http ok: %d %s\n", resp.code, resp.body.c_str());
    server.stop(true);

    // AMQP round trip when a broker is given.
    const char* amqp_url = std::getenv("SQUALL_AMQP_URL");
    if (amqp_url == nullptr || *amqp_url == '\0') {
        std::printf("amqp skipped (SQUALL_AMQP_URL unset)\n");
        co_return true;
    }
    std::string broker = amqp_url;
    auto conn = co_await squall::amqp::Connection::open(loop, broker);
    auto channel = co_await conn->channel();
    squall::amqp::QueueDeclareOptions declare{.exclusive = true};
    auto queue = co_await channel->queue_declare("", declare);
    std::string exchange;
    std::string sent = "consumer round trip " + std::to_string(::getpid());
    co_await channel->publish(exchange, queue.queue, sent);
    std::optional<squall::amqp::Delivery> got;
    for (int attempt = 0; attempt < 100 && !got; ++attempt) {  // the broker routes asynchronously
        got = co_await channel->basic_get(queue.queue, /*no_ack=*/true);
        if (!got) co_await squall::sleep(20ms);
    }
    co_await conn->close();
    if (!got || got->body != sent) co_return fail("AMQP round trip through " + queue.queue);
    std::printf("amqp ok: '%s' through %s\n", got->body.c_str(), queue.queue.c_str());
    co_return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::printf("squall %s (headers %s)\n", squall::version_string(), SQUALL_VERSION_STRING);
    if (std::string(squall::version_string()) != SQUALL_VERSION_STRING)
        return fail("header/library mismatch"), 1;
    if (argc > 1 && std::string(argv[1]) != squall::version_string())
        return fail(std::string("expected version ") + argv[1]), 1;
    try {
        squall::IOLoop loop;
        return loop.run_sync(run(loop), 30s) ? 0 : 1;
    } catch (const std::exception& e) {
        return fail(e.what()), 1;
    }
}
