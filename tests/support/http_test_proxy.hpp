// TestProxy: a loopback HTTP proxy for client tests, on the test's IOLoop. It forwards absolute-form
// requests ("GET http://host:port/p HTTP/1.1") and tunnels CONNECT, optionally demanding Basic
// Proxy-Authorization, and records what it saw.
//
//     squall::testing::TestServer origin(loop);
//     squall::testing::TestProxy proxy(loop, {.username = "u", .password = "p"});
//     squall::http::HTTPRequest request{.url = origin.url("/x")};
//     proxy.route_with_credentials(request);  // proxy_host, proxy_port, proxy_username u, proxy_password p
//     co_await client.fetch(request);
//     CHECK(proxy.forwarded().size() == 1);
//
// Upstream hosts must be numeric addresses or "localhost" (loopback only; no DNS). Forwarding rewrites
// the request to origin-form, drops Proxy-Authorization, Proxy-Connection, Connection and Expect, sends it
// with "Connection: close", and relays the response with "Connection: close" (the client connection ends
// after it). A CONNECT gets "200 Connection established" and bytes flow both ways until either side
// closes. Refusals: 407 (bad or missing credentials, with Proxy-Authenticate), 403 (CONNECT disallowed),
// 502 (upstream unreachable or not numeric).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "squall/ioloop/ioloop.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/test_fiber.hpp"

namespace squall::testing {

struct TestProxyOptions {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string username{};  // non-empty: require "Proxy-Authorization: Basic base64(username:password)"
    std::string password{};
    bool allow_connect = true;  // false: CONNECT gets 403
};

class TestProxy {
public:
    explicit TestProxy(IOLoop& loop, TestProxyOptions options = {});
    ~TestProxy();
    TestProxy(const TestProxy&) = delete;
    TestProxy& operator=(const TestProxy&) = delete;

    int port() const noexcept { return port_; }
    std::size_t connections_accepted() const noexcept { return connections_; }
    // Absolute-form requests forwarded (as received, headers included).
    const std::vector<TestRequest>& forwarded() const noexcept { return forwarded_; }
    // CONNECT targets ("host:port") tunnelled.
    const std::vector<std::string>& tunnels() const noexcept { return tunnels_; }
    // Requests refused with 407, 403 or 502.
    std::size_t refused() const noexcept { return refused_; }

    // Points `request` (an http::HTTPRequest) at this proxy: proxy_host and proxy_port, no credentials.
    template <class Request>
    void route(Request& request) const {
        request.proxy_host = options_.host;
        request.proxy_port = static_cast<std::uint16_t>(port_);
    }
    // The same, with the credentials this proxy demands (proxy_username, proxy_password).
    template <class Request>
    void route_with_credentials(Request& request) const {
        route(request);
        request.proxy_username = options_.username;
        request.proxy_password = options_.password;
    }

private:
    detail::Fiber serve(int fd);
    Task<void> forward(detail::Socket& client, TestRequest req);
    bool authorized(const TestRequest& req) const;

    IOLoop& loop_;
    TestProxyOptions options_;
    int port_ = 0;
    std::size_t connections_ = 0;
    std::size_t refused_ = 0;
    std::vector<TestRequest> forwarded_;
    std::vector<std::string> tunnels_;
    std::unique_ptr<detail::Acceptor> acceptor_;
    detail::FiberSet fibers_;
};

// "Basic " + base64(user:password).
std::string basic_auth(std::string_view user, std::string_view password);

}  // namespace squall::testing
