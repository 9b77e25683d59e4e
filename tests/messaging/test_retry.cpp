// ensure_connection against brokers that are not there (closed loopback ports): giving up after max_retries
// or the timeout with the last error, failover order, and sleeping only after a full pass.
#include <doctest/doctest.h>

#include <squall/testing.hpp>

#include "squall/ioloop/periodic_callback.hpp"
#include "squall/iostream/tcp_client.hpp"
#include "tests/messaging/messaging_test_util.hpp"

using namespace std::chrono_literals;
using namespace squall::amqp::messaging;
using namespace squall::amqp::messaging::test;

namespace {
std::string dead_url() {
    return "amqp://guest:guest@127.0.0.1:" + std::to_string(closed_port()) + "/";
}
}  // namespace

SQUALL_TEST_CASE("ensure_connection gives up after max_retries with the last error", 10s) {
    std::vector<std::string> urls{dead_url(), dead_url()};
    int errbacks = 0;
    std::vector<std::chrono::milliseconds> sleeps;
    BrokerOptions options;
    auto conn = BrokerConnection::create(loop, urls, options);
    RetryPolicy p{.max_retries = 4, .interval_start = 20ms, .interval_step = 20ms, .interval_max = 100ms};
    p.errback = [&](const std::exception_ptr& e, std::chrono::milliseconds s) {
        ++errbacks;
        sleeps.push_back(s);
        CHECK(holds<squall::ConnectionRefusedError>(e));
    };
    auto t0 = loop.time();
    auto t = conn->ensure_connection(p);
    auto e = co_await error_of(std::move(t));
    REQUIRE(e != nullptr);
    CHECK(holds<squall::ConnectionRefusedError>(e));  // the last error itself, not a wrapper
    CHECK(errbacks == 4);                             // 5 attempts: 4 retried failures, then give up
    // Two brokers: sleep after each full pass only.
    CHECK(sleeps == std::vector<std::chrono::milliseconds>{0ms, 20ms, 0ms, 40ms});
    CHECK(loop.time() - t0 >= 60ms);
    CHECK_FALSE(conn->connected());
}

SQUALL_TEST_CASE("ensure_connection gives up at the timeout with the last error", 10s) {
    BrokerOptions options;
    auto conn = BrokerConnection::create(loop, dead_url(), options);
    RetryPolicy p{.interval_start = 50ms, .interval_step = 50ms, .interval_max = 50ms, .timeout = 300ms};
    auto t0 = loop.time();
    auto t = conn->ensure_connection(p);
    auto e = co_await error_of(std::move(t));
    auto took = loop.time() - t0;
    CHECK(holds<squall::ConnectionRefusedError>(e));
    CHECK(took >= 300ms);
    CHECK(took < 1s);
}

SQUALL_TEST_CASE("open() fails over past dead brokers to a live one, in order", 20s) {
    SQUALL_AMQP_URL_OR_RETURN(url);
    std::string joined = dead_url() + ";" + dead_url() + ";" + url;
    int failures = 0;
    auto options = quick_options();
    options.connect_policy.errback = [&](const std::exception_ptr&, std::chrono::milliseconds s) {
        ++failures;
        CHECK(s == 0ms);  // still inside the first pass: no sleep
    };
    auto t0 = loop.time();
    auto conn = co_await BrokerConnection::open(loop, joined, options);
    CHECK(loop.time() - t0 < 2s);
    CHECK(failures == 2);
    CHECK(conn->connected());
    CHECK(conn->current_broker() ==
          "127.0.0.1:" + squall::testing::detail::rabbitmq_var("SQUALL_RABBITMQ_PORT"));
    co_await conn->close();
    CHECK(conn->closed());
    auto e = co_await error_of(conn->ensure_connection());
    CHECK(holds<squall::UsageError>(e));
}

SQUALL_TEST_CASE("wrong credentials are not retried", 20s) {
    SQUALL_AMQP_URL_OR_RETURN(url);
    auto port = squall::testing::detail::rabbitmq_var("SQUALL_RABBITMQ_PORT");
    auto options = quick_options();
    options.connect_policy.max_retries = 10;
    int errbacks = 0;
    options.connect_policy.errback = [&](const std::exception_ptr&, std::chrono::milliseconds) {
        ++errbacks;
    };
    auto t = BrokerConnection::open(loop, "amqp://guest:wrong@127.0.0.1:" + port + "/", options);
    auto e = co_await error_of(std::move(t));
    CHECK(holds<squall::amqp::AccessRefusedError>(e));
    CHECK(errbacks == 0);
}

SQUALL_TEST_CASE(
    "ensure re-runs a failing operation after its interval, yielding to the loop while connected", 30s) {
    SQUALL_AMQP_URL_OR_RETURN(url);
    auto conn = co_await BrokerConnection::open(loop, url, quick_options());
    // The operation fails at once with a recoverable error while the connection stays up: a retry storm
    // under a policy without limits. The loop keeps running (the timer fires) and ensure waits its
    // interval between attempts.
    int ticks = 0, calls = 0;
    squall::PeriodicCallback timer(
        loop, [&] { ++ticks; }, 100ms);
    timer.start();
    auto operation = [&]() -> squall::Task<void> {
        ++calls;
        if (ticks >= 3 || calls >= 200000) throw squall::UsageError("storm over");
        throw squall::amqp::ConnectionLostError("a recoverable failure, the connection still up");
        co_return;
    };
    RetryPolicy policy{.interval_start = 0ms, .interval_step = 0ms, .interval_max = 0ms};
    auto t = conn->ensure(operation, policy);
    auto e = co_await error_of(std::move(t));
    timer.stop();
    CHECK(holds<squall::UsageError>(e));
    CHECK_MESSAGE(ticks >= 3, calls << " attempts ran while the timer fired " << ticks << " times");
    CHECK(calls < 200000);
    CHECK(conn->connected());

    // With an interval, ensure sleeps it between attempts (was: re-ran at once while connected).
    calls = 0;
    auto twice = [&]() -> squall::Task<void> {
        if (++calls == 1) throw squall::amqp::ConnectionLostError("once");
        co_return;
    };
    std::vector<std::chrono::milliseconds> sleeps;
    RetryPolicy spaced{.max_retries = 2, .interval_start = 150ms};
    spaced.errback = [&](const std::exception_ptr&, std::chrono::milliseconds s) { sleeps.push_back(s); };
    auto t0 = loop.time();
    auto t2 = conn->ensure(twice, spaced);
    co_await std::move(t2);
    CHECK(calls == 2);
    CHECK(sleeps == std::vector<std::chrono::milliseconds>{150ms});
    CHECK(loop.time() - t0 >= 150ms);
    co_await conn->close();
}

SQUALL_TEST_CASE("a publish whose header table exceeds frame_max is MessageTooLargeError, never retried",
                 30s) {
    SQUALL_AMQP_URL_OR_RETURN(url);
    auto conn = co_await BrokerConnection::open(loop, url, quick_options());
    Queue q{unique_name("too-large"), {}, "", {.auto_delete = true}};
    Producer producer(conn, ProducerOptions{.routing_key = q.name, .retry = true});
    int errbacks = 0;
    RetryPolicy policy{.max_retries = 3, .interval_start = 0ms, .interval_step = 0ms};
    policy.errback = [&](const std::exception_ptr&, std::chrono::milliseconds) { ++errbacks; };
    PublishOptions big{.declare = {q}};
    big.headers.set("big", std::string(200 * 1024, 'h'));  // frame_max is 131072
    big.retry_policy = policy;
    auto t = producer.publish("body", big);
    auto e = co_await error_of(std::move(t));
    REQUIRE_MESSAGE(holds<squall::amqp::MessageTooLargeError>(e), describe(e));
    CHECK(holds<squall::UsageError>(e));
    CHECK_FALSE(is_recoverable_connection_error(e));
    CHECK(errbacks == 0);  // not retried
    // Nothing was written: the connection and the producer's channel go on.
    CHECK(conn->connected());
    PublishOptions ok{.declare = {q}};
    auto t2 = producer.publish("fits", ok);
    co_await std::move(t2);
    auto ch = co_await conn->default_channel();
    auto got = co_await ch->basic_get(q.name, true);
    REQUIRE(got);
    CHECK(got->body == "fits");
    co_await conn->close();
}
