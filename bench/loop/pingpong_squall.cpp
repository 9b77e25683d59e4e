// bench_pingpong_squall: 64-byte TCP ping-pong over loopback on squall's IOLoop (bench/README.md, ioloop).
//
//   bench_pingpong_squall --port P [--host 127.0.0.1] [--connections 1] [--duration 5] [--size 64]
//                         [--warmup 1] [--backend epoll|uring]
//
// N coroutines each connect with the loop's connect op (TCP_NODELAY), then keep one message in flight:
// send `size` bytes, recv until the whole echo is back, repeat. Connecting happens before the clock
// starts. Two timers bound the measured interval (after the warm-up), so the hot path reads no clock.
// Prints round_trips_per_s and cpu_us_per_op (CLOCK_PROCESS_CPUTIME_ID over the measured interval).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "squall/coro/gather.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/ioloop.hpp"

namespace {

using squall::IOLoop;
using squall::Task;

struct Options {
    std::string host = "127.0.0.1";
    int port = -1;
    int connections = 1;
    double duration_s = 5.0;
    double warmup_s = 1.0;
    int size = 64;
    squall::Backend backend = squall::Backend::automatic;
};

Options parse(int argc, char** argv) {
    namespace b = squall::bench;
    Options o;
    for (int i = 1; i < argc; i += 2) {
        std::string opt = argv[i];
        if (i + 1 >= argc) throw std::invalid_argument("option " + opt + " needs a value");
        const char* v = argv[i + 1];
        if (opt == "--host")
            o.host = v;
        else if (opt == "--port")
            o.port = static_cast<int>(b::parse_number(opt, v, 1, 65535));
        else if (opt == "--connections")
            o.connections = static_cast<int>(b::parse_number(opt, v, 1, 10000));
        else if (opt == "--duration")
            o.duration_s = b::parse_number(opt, v, 0.01, 3600);
        else if (opt == "--warmup")
            o.warmup_s = b::parse_number(opt, v, 0, 3600);
        else if (opt == "--size")
            o.size = static_cast<int>(b::parse_number(opt, v, 1, 1 << 20));
        else if (opt == "--backend")
            o.backend = b::parse_backend(v);
        else
            throw std::invalid_argument("unknown option " + opt);
    }
    if (o.port < 0) throw std::invalid_argument("--port is required");
    return o;
}

struct Run {
    IOLoop& loop;
    const Options& opt;
    sockaddr_in addr{};
    std::uint64_t round_trips = 0;
    bool stopping = false;
};

Task<int> connect_one(Run& run) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int r = co_await run.loop.connect(fd, reinterpret_cast<const sockaddr*>(&run.addr), sizeof run.addr);
    if (r < 0)
        throw std::runtime_error("connect to " + run.opt.host + ":" + std::to_string(run.opt.port) + ": " +
                                 std::strerror(-r));
    co_return fd;
}

Task<void> ping_pong(Run& run, int fd) {
    std::vector<char> out(static_cast<std::size_t>(run.opt.size)), in(out.size());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>('a' + i % 26);
    while (!run.stopping) {
        for (std::size_t sent = 0; sent < out.size();) {
            int r = co_await run.loop.send(fd, out.data() + sent, out.size() - sent);
            if (r <= 0)
                throw std::runtime_error(std::string("send: ") + (r < 0 ? std::strerror(-r) : "0 bytes"));
            sent += static_cast<std::size_t>(r);
        }
        for (std::size_t got = 0; got < in.size();) {
            int r = co_await run.loop.recv(fd, in.data() + got, in.size() - got);
            if (r <= 0)
                throw std::runtime_error(r == 0 ? "the echo server closed the connection"
                                                : std::string("recv: ") + std::strerror(-r));
            got += static_cast<std::size_t>(r);
        }
        ++run.round_trips;
    }
    run.loop.close_fd(fd);
}

Task<squall::bench::Interval> bench(Run& run) {
    std::vector<Task<int>> connects;
    for (int i = 0; i < run.opt.connections; ++i) connects.push_back(connect_one(run));
    std::vector<int> fds = co_await squall::gather(std::move(connects));

    squall::bench::Interval interval;
    auto warmup =
        std::chrono::duration_cast<squall::Duration>(std::chrono::duration<double>(run.opt.warmup_s));
    auto duration =
        std::chrono::duration_cast<squall::Duration>(std::chrono::duration<double>(run.opt.duration_s));
    run.loop.call_later(warmup, [&] {
        interval.begin(run.loop.time(), run.round_trips);
        run.loop.call_later(duration, [&] {
            interval.end(run.loop.time(), run.round_trips);
            run.stopping = true;
        });
    });
    std::vector<Task<void>> clients;
    for (int fd : fds) clients.push_back(ping_pong(run, fd));
    co_await squall::gather(std::move(clients));
    co_return interval;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        Options opt = parse(argc, argv);
        IOLoop loop(opt.backend);
        Run run{loop, opt};
        run.addr.sin_family = AF_INET;
        run.addr.sin_port = htons(static_cast<std::uint16_t>(opt.port));
        if (::inet_pton(AF_INET, opt.host.c_str(), &run.addr.sin_addr) != 1)
            throw std::invalid_argument("not an IPv4 address: " + opt.host);
        auto limit = std::chrono::seconds(static_cast<long>(opt.warmup_s + opt.duration_s) + 30);
        squall::bench::Interval iv = loop.run_sync(bench(run), limit);
        std::string params =
            "\"c\": " + std::to_string(opt.connections) + ", \"size\": " + std::to_string(opt.size);
        const char* impl = squall::bench::impl_name(loop);
        squall::bench::print_result("ioloop_pingpong", impl, params, "round_trips_per_s", iv.ops_per_s(),
                                    "1/s");
        squall::bench::print_result("ioloop_pingpong", impl, params, "cpu_us_per_op", iv.cpu_us_per_op(),
                                    "us");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_pingpong_squall: %s\n", e.what());
        std::fprintf(
            stderr,
            "usage: bench_pingpong_squall --port P [--host 127.0.0.1] [--connections 1] [--duration 5] "
            "[--size 64] [--warmup 1] [--backend epoll|uring]\n");
        return 1;
    }
}
