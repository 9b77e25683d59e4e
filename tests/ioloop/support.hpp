// Helpers for the ioloop tests: loopback sockets (and a connection made with the loop's own ops), a task
// that returns a value after a sleep, and the process's allocated-bytes counter.
// (A plain test run on each backend: SQUALL_LOOP_TEST_CASE in squall/testing.hpp; LogCapture there too.)
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "squall/coro/future.hpp"
#include "squall/coro/start.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/testing.hpp"

#if defined(SQUALL_ASAN) || defined(SQUALL_TSAN)
// From the sanitizer runtime (declared here: g++ 12 on Debian ships no <sanitizer/allocator_interface.h>).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#else
#include <malloc.h>
#endif

namespace squall::test {

using squall::testing::LogCapture;

// Bytes currently allocated by the process (the sanitizer's allocator under ASan/TSan, else malloc's).
inline std::size_t allocated_bytes() {
#if defined(SQUALL_ASAN) || defined(SQUALL_TSAN)
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;
#endif
}

inline void check_sys(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

inline sockaddr_in loopback_address(std::uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sa;
}

inline int tcp_socket() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    check_sys(fd >= 0, "socket");
    return fd;
}

inline std::uint16_t local_port(int fd) {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    check_sys(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0, "getsockname");
    return ntohs(sa.sin_port);
}

// A non-blocking listening socket on 127.0.0.1 with a kernel-chosen port.
inline int listen_loopback(std::uint16_t& port) {
    int fd = tcp_socket();
    sockaddr_in sa = loopback_address(0);
    check_sys(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0, "bind");
    check_sys(::listen(fd, 64) == 0, "listen");
    port = local_port(fd);
    return fd;
}

// A loopback port with nothing listening on it (bound once, then released).
inline std::uint16_t unused_port() {
    int fd = tcp_socket();
    sockaddr_in sa = loopback_address(0);
    check_sys(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0, "bind");
    std::uint16_t port = local_port(fd);
    ::close(fd);
    return port;
}

// Both ends of a loopback TCP connection and its listener; the caller closes the three.
struct LoopbackConnection {
    int listener = -1, client = -1, server = -1;
};

// Connects a loopback pair with the loop's own accept and connect ops, the accept submitted first.
inline Task<LoopbackConnection> connect_loopback(IOLoop& loop) {
    LoopbackConnection c;
    std::uint16_t port = 0;
    c.listener = listen_loopback(port);
    c.client = tcp_socket();
    sockaddr_in sa = loopback_address(port);
    auto accepting = loop.accept(c.listener);
    Future<int> accepted = start(std::move(accepting));
    int rc = co_await loop.connect(c.client, reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
    REQUIRE(rc == 0);
    c.server = co_await accepted;
    REQUIRE(c.server >= 0);
    co_return c;
}

// v, after sleeping d on loop.
inline Task<int> value_after(IOLoop& loop, Duration d, int v) {
    co_await sleep(loop, d);
    co_return v;
}

}  // namespace squall::test
