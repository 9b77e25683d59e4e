// Resolver: host name lookup without blocking the loop (Tornado's ThreadedResolver + OverrideResolver).
//
//     squall::Resolver resolver(loop);
//     resolver.add_override("api.example.com:443", "127.0.0.1:8443");   // or "host" -> "host"
//     resolver.add_override("dual.test", "[::1]:8080,127.0.0.1:8080");    // a fixed address list
//     std::vector<squall::SocketAddress> addrs = co_await resolver.resolve("localhost", 80);
//
// getaddrinfo runs on a small pool (2 threads, started on first use, joined by the destructor); results
// come back to the loop through add_callback (the loop's only thread-safe call). IP literals never reach
// the pool. Overrides are looked up as "host:port" first, then "host"; the target keeps the requested
// port when it names none. A target that lists numeric addresses separated by commas (as curl's
// --resolve does) is the answer itself, in that order, filtered by the requested family. A failed lookup
// raises ResolveError with gai_strerror's text. Lifetime: destroy the Resolver before its loop. Lookups still
// queued when it goes fail with ResolveError; one running in a worker finishes first (the destructor waits
// for it).
#pragma once

#include <sys/socket.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "squall/coro/errors.hpp"
#include "squall/coro/future.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/iostream/address.hpp"
#include "squall/iostream/errors.hpp"

namespace squall {

// Non-blocking name lookup with overrides (see the file comment). Belongs to its loop's thread.
class Resolver {
public:
    static constexpr int kThreads = 2;  // getaddrinfo worker threads

    // Results are delivered on `loop`, which must outlive the resolver. No thread starts until a lookup.
    explicit Resolver(IOLoop& loop);
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // Maps "host" or "host:port" ("[v6]:port") to "host" or "host:port", or to a comma-separated list of
    // numeric addresses (each with or without a port). UsageError for a list item that is not numeric.
    void add_override(std::string from, std::string to);

    // The addresses of host:port for stream sockets, in getaddrinfo's order, without duplicates.
    // family: AF_UNSPEC (both), AF_INET or AF_INET6.
    Task<std::vector<SocketAddress>> resolve(std::string host, std::uint16_t port, int family = AF_UNSPEC);

    // Lookups handed to the pool so far (for tests: IP literals must not count).
    std::uint64_t pool_lookups() const noexcept { return pool_lookups_; }

private:
    struct Job;
    Future<std::vector<SocketAddress>> submit(std::string host, std::uint16_t port, int family);
    void worker();

    IOLoop& loop_;
    std::map<std::string, std::string> overrides_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::unique_ptr<Job>> jobs_;
    std::vector<std::thread> threads_;
    bool stopping_ = false;
    std::uint64_t pool_lookups_ = 0;
};

}  // namespace squall
