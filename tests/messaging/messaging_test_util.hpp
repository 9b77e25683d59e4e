// Helpers of the messaging tests: unique names, the broker's URL, scripts run off the loop thread (a broker
// restart takes seconds; the client must keep running meanwhile), and a second independent broker.
#pragma once

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "squall/amqp/messaging/messaging.hpp"
#include "squall/coro/future.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/testing.hpp"
#include "tests/support/amqp_channel.hpp"
#include "tests/support/rabbitmq_fixture.hpp"

namespace squall::amqp::messaging::test {

inline std::string unique_name(const std::string& prefix) {
    static std::mt19937_64 rng{std::random_device{}()};
    return "squall-msg-" + prefix + "-" + std::to_string(rng() % 1000000000);
}

// Runs `scripts/rabbitmq ARGS` on a thread; the future resolves on the loop when it exits.
inline Future<testing::CommandResult> rabbitmq_script_async(IOLoop& loop, std::vector<std::string> args) {
    Promise<testing::CommandResult> promise;
    auto future = promise.get_future();
    std::thread([&loop, args = std::move(args), promise = std::move(promise)]() mutable {
        testing::CommandResult r = testing::rabbitmq_script(args);
        loop.add_callback(
            [promise = std::move(promise), r = std::move(r)]() mutable { promise.set_value(std::move(r)); });
    }).detach();
    return future;
}

// The RabbitMQ pid of the connection whose client_properties contain `connection_name`, or "".
inline std::string connection_pid(const std::string& connection_name,
                                  const std::string& broker = testing::rabbitmq_name()) {
    auto out = testing::rabbitmqctl({"list_connections", "pid", "client_properties", "--quiet"}, broker);
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line))
        if (line.find(connection_name) != std::string::npos) return line.substr(0, line.find('\t'));
    return {};
}

// Options that name the connection (to find it with rabbitmqctl) and retry quickly.
inline BrokerOptions quick_options(const std::string& connection_name = {}) {
    BrokerOptions o;
    o.connect_policy = RetryPolicy{.max_retries = 3,
                                   .interval_start = std::chrono::milliseconds(100),
                                   .interval_step = std::chrono::milliseconds(100),
                                   .interval_max = std::chrono::milliseconds(500)};
    o.recovery_policy = RetryPolicy{.interval_start = std::chrono::milliseconds(200),
                                    .interval_step = std::chrono::milliseconds(200),
                                    .interval_max = std::chrono::milliseconds(1000),
                                    .timeout = std::chrono::milliseconds(90000)};
    if (!connection_name.empty())
        o.configure = [connection_name](ConnectionOptions& c) { c.connection_name = connection_name; };
    return o;
}

// quick_options that count the connection's losses and recoveries in lost and recovered (which must
// outlive the connection).
inline BrokerOptions counting_options(int& lost, int& recovered, const std::string& connection_name = {}) {
    BrokerOptions o = quick_options(connection_name);
    o.on_connection_lost = [&lost](const std::exception_ptr&) { ++lost; };
    o.on_connection_recovered = [&recovered] { ++recovered; };
    return o;
}

// A loopback port nothing listens on (bound, then released).
inline int closed_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

// The second independent broker for the failover test: name and URL (SQUALL_AMQP_URL_B /
// SQUALL_RABBITMQ_NAME_B when set, else "<main name>-b" on the main port + 10, started by the test).
struct SecondBroker {
    std::string name;
    std::string url;
    int port = 0;
};
inline SecondBroker second_broker() {
    SecondBroker b;
    b.url = testing::detail::getenv_or("SQUALL_AMQP_URL_B");
    b.name = testing::detail::getenv_or("SQUALL_RABBITMQ_NAME_B");
    if (!b.url.empty() && !b.name.empty()) return b;
    std::string main_port = testing::detail::rabbitmq_var("SQUALL_RABBITMQ_PORT");
    REQUIRE_MESSAGE(!main_port.empty(), "the main broker's port is unknown (start it with scripts/rabbitmq)");
    b.port = std::stoi(main_port) + 10;
    b.name = testing::rabbitmq_name() + "-b";
    b.url = "amqp://guest:guest@127.0.0.1:" + std::to_string(b.port) + "/";
    return b;
}

using squall::testing::error_of;
using squall::testing::holds;

}  // namespace squall::amqp::messaging::test

// A test body (Task<void>(IOLoop&)) run once on the default backend: for tests that restart or stop
// brokers, whose cost would double on both backends (the backends are covered by the other tests).
#define MESSAGING_ONCE_TEST_IMPL_(fn, name, timeout)                            \
    static ::squall::Task<void> fn(::squall::IOLoop& loop);                     \
    TEST_CASE(name) {                                                           \
        ::squall::testing::run_test(::squall::Backend::automatic, fn, timeout); \
    }                                                                           \
    static ::squall::Task<void> fn([[maybe_unused]] ::squall::IOLoop& loop)
#define MESSAGING_ONCE_TEST(name, timeout) \
    MESSAGING_ONCE_TEST_IMPL_(DOCTEST_ANONYMOUS(messaging_once_), name, timeout)
