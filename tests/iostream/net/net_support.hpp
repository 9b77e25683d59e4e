// Helpers for the iostream suite: loopback socket pairs, a TLS server and client over loopback, a hash for
// large transfers, trickling writers.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "squall/coro/task.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/iostream/iostream.hpp"
#include "squall/iostream/tcp_client.hpp"
#include "squall/iostream/tcp_server.hpp"
#include "tests/support/certs.hpp"

namespace squall::test {

// A listening socket on 127.0.0.1 with a kernel-chosen port (blocking, closed by the destructor).
struct Listener {
    int fd = -1;
    std::uint16_t port = 0;
    explicit Listener(int backlog = 16) {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(fd, backlog) < 0)
            throw std::runtime_error("test listener: bind/listen failed");
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~Listener() {
        if (fd >= 0) ::close(fd);
    }
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
};

// A connected pair of non-blocking loopback TCP sockets.
inline std::pair<int, int> tcp_socket_pair() {
    Listener l(4);
    int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(l.port);
    if (::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
        throw std::runtime_error("connect failed");
    int s = ::accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (s < 0) throw std::runtime_error("accept failed");
    int flags = 1;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &flags, sizeof flags);
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &flags, sizeof flags);
    ::fcntl(c, F_SETFL, ::fcntl(c, F_GETFL) | O_NONBLOCK);
    return {c, s};
}

// Two IOStreams connected to each other.
inline std::pair<std::shared_ptr<IOStream>, std::shared_ptr<IOStream>> stream_pair(IOLoop& loop,
                                                                                   IOStreamOptions a = {},
                                                                                   IOStreamOptions b = {}) {
    auto [x, y] = tcp_socket_pair();
    return {IOStream::create(loop, x, a), IOStream::create(loop, y, b)};
}

// 64-bit FNV-1a, incremental.
struct Fnv1a {
    std::uint64_t h = 14695981039346656037ull;
    void update(std::string_view s) {
        for (unsigned char c : s) {
            h ^= c;
            h *= 1099511628211ull;
        }
    }
};

// Deterministic pseudo-random bytes.
inline std::string pattern_bytes(std::size_t n, std::uint32_t seed) {
    std::string out(n, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& c : out) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x);
    }
    return out;
}

// A TLS TCPServer on 127.0.0.1 (kernel-chosen port) serving the test certificate for localhost with
// `handler`; connect() opens a client stream to it that verifies the certificate against the test CA.
class TlsLoopbackServer {
public:
    TlsLoopbackServer(IOLoop& loop, TCPServer::StreamHandler handler)
        : server_(loop, std::move(handler), server_options()), client_(loop) {
        server_.listen(0, "127.0.0.1");
    }

    Task<std::shared_ptr<IOStream>> connect() {
        ConnectOptions options{.timeout = std::chrono::seconds(10),
                               .tls = TlsContext::client({.ca_file = testing::test_certs().ca_file})};
        co_return co_await client_.connect("localhost", server_.port(), options);
    }

    void stop(bool close_connections = false) { server_.stop(close_connections); }
    Future<void> stopped() { return server_.stopped(); }

private:
    static TCPServerOptions server_options() {
        const auto& certs = testing::test_certs();
        return {.tls = TlsContext::server({.cert_file = certs.server_cert, .key_file = certs.server_key})};
    }

    TCPServer server_;
    TCPClient client_;
};

// Lets the loop run one iteration (I/O included) before continuing.
struct NextIteration {
    IOLoop& loop;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
        loop.add_callback([h] { h.resume(); });
    }
    void await_resume() const noexcept {}
};
inline NextIteration next_iteration(IOLoop& loop) {
    return NextIteration{loop};
}

enum class Split { byte_by_byte, random, burst };

// Writes data to stream in pieces: one byte per write, random sizes (1..17), or all at once; each piece
// is flushed and the loop turns before the next, so the reader sees separate arrivals.
inline Task<void> write_split(IOLoop& loop, std::shared_ptr<IOStream> stream, std::string data, Split split,
                              std::uint32_t seed = 1) {
    std::mt19937 rng(seed);
    std::size_t pos = 0;
    while (pos < data.size()) {
        std::size_t n = data.size() - pos;
        if (split == Split::byte_by_byte) n = 1;
        if (split == Split::random) n = std::min<std::size_t>(n, 1 + rng() % 17);
        co_await stream->write(std::string_view(data).substr(pos, n));
        pos += n;
        if (split != Split::burst) co_await next_iteration(loop);
    }
}

inline const char* to_string(Split s) {
    switch (s) {
        case Split::byte_by_byte:
            return "byte by byte";
        case Split::random:
            return "random splits";
        case Split::burst:
            return "one burst";
    }
    return "?";
}

}  // namespace squall::test
