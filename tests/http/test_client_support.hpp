// Helpers shared by the http::Client tests (tests/http/test_client_*.cpp, test_http2_*.cpp): awaiting an
// expected error inside a coroutine test body, and a listener whose accept queue is full (connects to it
// hang). `using namespace squall::http::test;` gives a test file these, the client's names (squall::http)
// and the loopback test server's (TestServer, TestProxy, TestRequest, Reply) in one line.
#pragma once

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

#include "squall/coro/task.hpp"
#include "squall/httpclient/http.hpp"
#include "squall/ioloop/async.hpp"
#include "tests/support/http_test_proxy.hpp"
#include "tests/support/http_test_server.hpp"

namespace squall::http::test {

using namespace squall::http;
using squall::testing::Reply;
using squall::testing::TestProxy;
using squall::testing::TestRequest;
using squall::testing::TestServer;

// Awaits `task` (a Task or a Future) and returns the message of the E it threw; fails the test (and returns
// nullopt) when it completed or threw something else.
template <class E, class A>
Task<std::optional<std::string>> error_of(A task) {
    std::string other;
    try {
        co_await std::move(task);
    } catch (const E& e) {
        co_return std::string(e.what());
    } catch (const std::exception& e) {
        other = std::string(typeid(e).name()) + ": " + e.what();
    }
    if (other.empty()) other = "no exception";
    FAIL_CHECK("expected " << typeid(E).name() << ", got " << other);
    co_return std::nullopt;
}

inline bool contains(const std::optional<std::string>& s, std::string_view part) {
    return s && s->find(part) != std::string::npos;
}

// A listener on 127.0.0.1 whose accept queue is full (backlog 0, three connects already queued): a
// further SYN gets no answer, so a connect to it hangs until its timeout.
class FullBacklogListener {
public:
    FullBacklogListener() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(fd_, 0) < 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) < 0)
            throw std::runtime_error("full-backlog listener: bind/listen failed");
        port_ = ntohs(a.sin_port);
        for (int i = 0; i < 3; ++i) {
            int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            (void)::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
            fillers_.push_back(fd);
        }
    }
    ~FullBacklogListener() {
        for (int fd : fillers_) ::close(fd);
        ::close(fd_);
    }
    FullBacklogListener(const FullBacklogListener&) = delete;
    FullBacklogListener& operator=(const FullBacklogListener&) = delete;

    std::uint16_t port() const noexcept { return port_; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::vector<int> fillers_;
};

}  // namespace squall::http::test
