// The Boost.Beast 1.74 peer of the websocket benchmark: N connections on one io_context thread, each doing
// echo round trips (async_write, then async_read) of one binary message size, with Beast's public API and
// its defaults (client masking with its own PRNG, no compression, no auto-fragmentation). Same measurement
// and JSON lines as bench_ws_squall (impl "beast").
//
//   bench_ws_beast --url ws://127.0.0.1:56510/ --size 64 --connections 64 --duration 5
#include <time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "bench/support/bench.hpp"

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

using bench::now_s;

[[noreturn]] void die(const std::string& msg) {
    bench::die("bench_ws_beast: " + msg);
}

struct Run {
    std::size_t size = 64;
    bool stop = false;
    std::uint64_t completed = 0;
    int open = 0;
};

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(asio::io_context& io, Run& run) : ws_(io), run_(run), payload_(run.size, 'w') {}

    void start(const tcp::endpoint& ep, const std::string& host, const std::string& target) {
        beast::get_lowest_layer(ws_).socket().connect(ep);
        beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true));
        ws_.handshake(host, target);
        ws_.binary(true);
        ws_.auto_fragment(false);
        ws_.read_message_max(64 * 1024 * 1024);
        ++run_.open;
        write();
    }

private:
    void write() {
        ws_.async_write(asio::buffer(payload_),
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            if (ec) die("write: " + ec.message());
                            self->read();
                        });
    }
    void read() {
        buffer_.clear();
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t n) {
            if (ec) die("read: " + ec.message());
            if (n != self->run_.size) die("echo of the wrong size");
            ++self->run_.completed;
            if (self->run_.stop) {
                self->ws_.async_close(websocket::close_code::normal,
                                      [self](beast::error_code) { --self->run_.open; });
                return;
            }
            self->write();
        });
    }

    websocket::stream<beast::tcp_stream> ws_;
    Run& run_;
    std::string payload_;
    beast::flat_buffer buffer_;
};

}  // namespace

int main(int argc, char** argv) {
    bench::Options opts(argc, argv, {"--url", "--size", "--connections", "--duration", "--warmup"});
    const std::string url = opts.text("--url", "ws://127.0.0.1:56510/");
    const int connections = static_cast<int>(opts.integer("--connections", 1));
    const double duration = opts.number("--duration", 5), warmup = opts.number("--warmup", 0.5);
    Run run;
    run.size = static_cast<std::size_t>(opts.integer("--size", static_cast<long>(run.size)));
    // ws://host:port/path
    auto rest = url.substr(url.find("://") + 3);
    auto slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
    auto colon = hostport.rfind(':');
    std::string host = hostport.substr(0, colon);
    auto port = static_cast<unsigned short>(std::atoi(hostport.substr(colon + 1).c_str()));
    try {
        asio::io_context io(1);
        tcp::endpoint ep(asio::ip::make_address(host), port);
        for (int i = 0; i < connections; ++i) std::make_shared<Session>(io, run)->start(ep, hostport, target);
        double t0 = 0, t1 = 0, cpu0 = 0, cpu1 = 0;
        std::uint64_t done0 = 0, done1 = 0;
        asio::steady_timer warm(
            io, std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(warmup)));
        warm.async_wait([&](beast::error_code) {
            t0 = now_s(CLOCK_MONOTONIC);
            cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
            done0 = run.completed;
        });
        asio::steady_timer end(io, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::duration<double>(warmup + duration)));
        end.async_wait([&](beast::error_code) {
            t1 = now_s(CLOCK_MONOTONIC);
            cpu1 = now_s(CLOCK_PROCESS_CPUTIME_ID);
            done1 = run.completed;
            run.stop = true;
        });
        io.run();
        const double n = static_cast<double>(done1 - done0);
        if (n <= 0) die("no round trip completed in the measured interval");
        const char* bench = run.size >= (1u << 20) ? "websocket_throughput" : "websocket_echo";
        auto line = [&](const char* metric, double value, const char* unit) {
            std::printf(
                "{\"bench\": \"%s\", \"impl\": \"beast\", \"params\": {\"size\": %zu, \"connections\": %d}, "
                "\"metric\": \"%s\", \"value\": %.3f, \"unit\": \"%s\"}\n",
                bench, run.size, connections, metric, value, unit);
        };
        line("msg_per_s", n / (t1 - t0), "1/s");
        line("mb_per_s", n * static_cast<double>(run.size) / (t1 - t0) / 1e6, "MB/s");
        line("cpu_us_per_op", (cpu1 - cpu0) * 1e6 / n, "us");
        std::fprintf(stderr, "beast size=%zu c=%d: %.0f round trips/s, %.2f us CPU per round trip\n",
                     run.size, connections, n / (t1 - t0), (cpu1 - cpu0) * 1e6 / n);
    } catch (const std::exception& e) {
        die(e.what());
    }
}
