#include "tests/support/test_fiber.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "squall/coro/errors.hpp"
#include "squall/coro/log.hpp"

namespace squall::testing::detail {

void Fiber::promise_type::unhandled_exception() noexcept {
    try {
        throw;
    } catch (const std::exception& e) {
        log(LogLevel::error, std::string("test server fiber failed: ") + e.what());
    } catch (...) {
        log(LogLevel::error, "test server fiber failed");
    }
}

void FiberSet::start(Fiber fiber) {
    std::erase_if(slots_, [](const auto& s) { return !*s; });
    auto slot = std::make_unique<std::coroutine_handle<>>(fiber.handle);
    fiber.handle.promise().slot = slot.get();
    slots_.push_back(std::move(slot));
    fiber.handle.resume();
}

void FiberSet::destroy_all() noexcept {
    auto slots = std::move(slots_);
    slots_.clear();
    for (auto& s : slots) {
        if (*s) s->destroy();  // the promise's destructor clears *s
    }
}

std::size_t FiberSet::running() const noexcept {
    return static_cast<std::size_t>(
        std::count_if(slots_.begin(), slots_.end(), [](const auto& s) { return bool(*s); }));
}

// ---------------------------------------------------------------- Socket

void Socket::close() noexcept {
    if (fd_ < 0) return;
    if (registered_) loop_->remove_handler(fd_);
    registered_ = false;
    ::close(fd_);
    fd_ = -1;
    // A fiber still waiting on this socket is resumed by nobody: its owner destroys it (the Wait's
    // destructor tolerates the closed socket).
}

void Socket::reset() noexcept {
    if (fd_ < 0) return;
    linger lg{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close();
}

void Socket::shutdown_write() noexcept {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void Socket::update_registration() {
    if (fd_ < 0) return;
    std::uint32_t ev = (reader_ ? events::kRead : 0) | (writer_ ? events::kWrite : 0);
    if (ev == 0) {
        if (registered_) loop_->remove_handler(fd_);
        registered_ = false;
        return;
    }
    if (registered_) {
        loop_->update_handler(fd_, ev);
    } else {
        loop_->add_handler(fd_, ev, [this](int, std::uint32_t e) { on_events(e); });
        registered_ = true;
    }
}

void Socket::on_events(std::uint32_t e) {
    // One resume per event: resuming may end the fiber and destroy this socket. When both sides are
    // ready, the writer stays registered; the handler is level-triggered, so it fires again next poll.
    if (reader_ && (e & (events::kRead | events::kError))) {
        auto r = std::exchange(reader_, nullptr);
        update_registration();
        r.resume();
        return;
    }
    if (writer_ && (e & (events::kWrite | events::kError))) {
        auto w = std::exchange(writer_, nullptr);
        update_registration();
        w.resume();
    }
}

void Socket::Wait::await_suspend(std::coroutine_handle<> h) {
    (for_write ? socket->writer_ : socket->reader_) = h;
    socket->update_registration();
}

Socket::Wait::~Wait() {
    // Destroyed with its frame while suspended: unregister so the handler never resumes a dead frame.
    auto& slot = for_write ? socket->writer_ : socket->reader_;
    if (slot) {
        slot = nullptr;
        socket->update_registration();
    }
}

Task<long> Socket::read_some(std::string& into, std::size_t max) {
    char buf[64 * 1024];
    for (;;) {
        if (fd_ < 0) co_return -EBADF;
        ssize_t n = ::recv(fd_, buf, std::min(max, sizeof buf), 0);
        if (n >= 0) {
            into.append(buf, static_cast<std::size_t>(n));
            co_return static_cast<long>(n);
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) co_return -errno;
        co_await readable();
    }
}

Task<bool> Socket::write_all(std::string_view bytes) {
    while (!bytes.empty()) {
        if (fd_ < 0) co_return false;
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n >= 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) co_return false;
        co_await writable();
    }
    co_return true;
}

namespace {

bool to_sockaddr(const std::string& host, int port, sockaddr_storage& ss, socklen_t& len) {
    std::memset(&ss, 0, sizeof ss);
    std::string h = host == "localhost" ? "127.0.0.1" : host;
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (::inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<std::uint16_t>(port));
        len = sizeof *v4;
        return true;
    }
    if (::inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<std::uint16_t>(port));
        len = sizeof *v6;
        return true;
    }
    return false;
}

}  // namespace

Task<int> Socket::connect(IOLoop& loop, const std::string& host, int port, std::unique_ptr<Socket>& out) {
    sockaddr_storage ss;
    socklen_t len = 0;
    if (port <= 0 || port > 65535 || !to_sockaddr(host, port, ss, len)) co_return -EINVAL;
    int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) co_return -errno;
    auto sock = std::make_unique<Socket>(loop, fd);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
        if (errno != EINPROGRESS) co_return -errno;
        co_await sock->writable();
        int err = 0;
        socklen_t elen = sizeof err;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0) err = errno;
        if (err != 0) co_return -err;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    out = std::move(sock);
    co_return 0;
}

int listen_on(const std::string& host, int port, int& bound_port) {
    sockaddr_storage ss;
    socklen_t len = 0;
    if (!to_sockaddr(host, port, ss, len)) throw Error("test server: not a numeric address: " + host);
    int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw Error(std::string("test server: socket: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0 || ::listen(fd, 1024) < 0) {
        int err = errno;
        ::close(fd);
        throw Error("test server: cannot listen on " + host + ":" + std::to_string(port) + ": " +
                    std::strerror(err));
    }
    socklen_t blen = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &blen);
    bound_port = ss.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                                         : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    return fd;
}

Acceptor::~Acceptor() {
    loop_.remove_handler(fd_);
    ::close(fd_);
}

int Acceptor::accept_one() noexcept {
    for (;;) {
        int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return fd;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return -1;
    }
}

}  // namespace squall::testing::detail
