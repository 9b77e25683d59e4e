// Loopback stream throughput: a sender thread pushes --bytes (default 1 GiB) through a TCP pair; the
// receiver is either squall (IOStream::read_bytes of 64 KiB pieces, epoll or io_uring) or a plain C recv
// loop of 64 KiB. Reports MB_per_s and the receiver thread's cpu_us_per_op (op = one 64 KiB piece).
//   bench_iostream_throughput [--impl all|raw-c|squall|squall-epoll|squall-uring] [--backend epoll|uring]
//                             [--bytes N] [--runs N]
#include <sys/socket.h>

#include <string>
#include <thread>
#include <vector>

#include "bench/iostream/common.hpp"
#include "squall/iostream/iostream.hpp"

namespace {

constexpr std::size_t kPiece = 64 * 1024;

void send_all(int fd, std::uint64_t total) {
    std::string buf(1 << 20, 'x');
    std::uint64_t sent = 0;
    while (sent < total) {
        ssize_t n = ::send(fd, buf.data(), std::min<std::uint64_t>(buf.size(), total - sent), MSG_NOSIGNAL);
        if (n <= 0) std::abort();
        sent += static_cast<std::uint64_t>(n);
    }
}

struct Timing {
    double wall = 0, cpu = 0;
};

Timing run_raw(std::uint64_t total) {
    auto [s, r] = bench::tcp_pair();
    std::thread sender(send_all, s, total);
    std::vector<char> buf(kPiece);
    double t0 = bench::now_s(), c0 = bench::thread_cpu_s();
    std::uint64_t got = 0;
    while (got < total) {
        ssize_t n = ::recv(r, buf.data(), buf.size(), 0);
        if (n <= 0) std::abort();
        got += static_cast<std::uint64_t>(n);
    }
    Timing t{bench::now_s() - t0, bench::thread_cpu_s() - c0};
    sender.join();
    ::close(s);
    ::close(r);
    return t;
}

squall::Task<void> read_pieces(std::shared_ptr<squall::IOStream> stream, std::uint64_t total) {
    std::uint64_t got = 0;
    while (got < total) {
        std::string piece = co_await stream->read_bytes(std::min<std::uint64_t>(kPiece, total - got));
        got += piece.size();
    }
}

Timing run_squall(squall::Backend backend, std::uint64_t total) {
    squall::IOLoop loop(backend);
    auto [s, r] = bench::tcp_pair();
    bench::set_nonblocking(r);
    auto stream = squall::IOStream::create(loop, r);
    std::thread sender(send_all, s, total);
    double t0 = bench::now_s(), c0 = bench::thread_cpu_s();
    loop.run_sync(read_pieces(stream, total));
    Timing t{bench::now_s() - t0, bench::thread_cpu_s() - c0};
    sender.join();
    ::close(s);
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    const bench::ThroughputArgs args = bench::throughput_args(argc, argv, BENCH_DEFAULT_IMPL, "raw-c");
    const std::uint64_t total = args.total;
    const std::string params =
        "\"bytes\": " + std::to_string(total) + ", \"piece\": " + std::to_string(kPiece);
    for (int run = 0; run < args.runs; ++run) {
        for (const auto& name : args.impls) {  // alternate implementations: drift hits all of them alike
            Timing t;
            if (name == "raw-c")
                t = run_raw(total);
            else if (name == "squall-epoll")
                t = run_squall(squall::Backend::epoll, total);
            else if (name == "squall-uring")
                t = run_squall(squall::Backend::uring, total);
            else
                return std::fprintf(stderr, "unknown --impl %s\n", name.c_str()), 2;
            bench::print_result("iostream_stream", name, params, "MB_per_s", total / 1e6 / t.wall, "MB/s");
            bench::print_result("iostream_stream", name, params, "cpu_us_per_op",
                                t.cpu * 1e6 / (total / kPiece), "us");
        }
    }
}
