// Shared bits of the iostream benchmarks: argument parsing, CPU clocks and loopback socket pairs (the JSON
// line is bench::print_result, bench/support/bench.hpp).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bench/support/bench.hpp"

namespace bench {

inline double now_s() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}
// CPU time of the calling thread: the receiver's own cost, not the sender's.
inline double thread_cpu_s() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

inline std::string arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (argv[i] == name) return argv[i + 1];
    return fallback;
}

// A connected loopback TCP pair (blocking); the receiver side gets a 4 MiB receive buffer request.
inline std::pair<int, int> tcp_pair() {
    int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(l, 1) < 0)
        throw std::runtime_error("bind/listen failed");
    socklen_t len = sizeof a;
    ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len);
    int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
        throw std::runtime_error("connect failed");
    int s = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
    ::close(l);
    return {c, s};  // {sender, receiver}
}

inline void set_nonblocking(int fd) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// The command line of the throughput programs: --impl (one implementation, "squall" with --backend, or
// "all" to alternate `peer` and squall's two backends in one process), --bytes and --runs (3 for "all").
struct ThroughputArgs {
    std::vector<std::string> impls;
    std::uint64_t total = 0;
    int runs = 1;
};

inline ThroughputArgs throughput_args(int argc, char** argv, const char* default_impl, const char* peer) {
    std::string impl = arg(argc, argv, "--impl", default_impl);
    std::string backend = arg(argc, argv, "--backend", "");
    if (impl == "squall") impl = backend == "epoll" ? "squall-epoll" : "squall-uring";
    ThroughputArgs a;
    a.total = std::stoull(arg(argc, argv, "--bytes", std::to_string(1ull << 30)));
    a.runs = std::stoi(arg(argc, argv, "--runs", impl == "all" ? "3" : "1"));
    a.impls = {impl};
    if (impl == "all") a.impls = {peer, "squall-epoll", "squall-uring"};
    return a;
}

}  // namespace bench
