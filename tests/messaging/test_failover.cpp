// Two independent brokers: the client connected to the first fails over to the second when the first
// stops, within the retry policy, and its consumer and producer carry on there.
#include <doctest/doctest.h>

#include <squall/testing.hpp>

#include "tests/messaging/messaging_test_util.hpp"

using namespace std::chrono_literals;
using namespace squall::amqp::messaging;
using namespace squall::amqp::messaging::test;

MESSAGING_ONCE_TEST("stopping the first broker fails the client over to the second", 120s) {
    auto main_url = squall::testing::amqp_url();
    if (main_url.empty()) co_return;
    SecondBroker b = second_broker();
    if (b.port != 0) {  // ours to start (and to stop: the test stops it anyway)
        std::vector<std::string> args{"start", "--name", b.name, "--port", std::to_string(b.port), "--fresh"};
        auto starting = rabbitmq_script_async(loop, args);
        auto started = co_await std::move(starting);
        REQUIRE_MESSAGE(started.exit_code == 0, started.output);
    }
    // The second broker first: the client starts there, and "the first broker" below is that one.
    std::string urls = b.url + ";" + main_url;
    int lost = 0, recovered = 0;
    auto options = counting_options(lost, recovered);
    options.recovery_policy =
        RetryPolicy{.interval_start = 200ms, .interval_step = 200ms, .interval_max = 1s, .timeout = 20s};
    auto conn = co_await BrokerConnection::open(loop, urls, options);
    const std::string first = conn->current_broker();
    CHECK(b.url.find(first) != std::string::npos);

    Queue q{unique_name("failover"), Exchange(unique_name("ex"), "direct"), "k"};
    Producer producer(conn, ProducerOptions{.exchange = q.exchange, .routing_key = "k", .retry = true});
    Consumer consumer(conn, {q}, {.prefetch_count = 10});
    co_await consumer.consume();
    PublishOptions po{.declare = {q}};
    po.retry_policy = options.recovery_policy;
    auto t1 = producer.publish("on the first", po);
    co_await std::move(t1);
    Message m1 = co_await squall::with_timeout(5s, consumer.next());
    CHECK(m1.body() == "on the first");
    m1.ack();

    auto t0 = loop.time();
    std::vector<std::string> stop_args{"stop", "--name", b.name};
    auto stopping = rabbitmq_script_async(loop, stop_args);
    auto stopped = co_await std::move(stopping);
    REQUIRE_MESSAGE(stopped.exit_code == 0, stopped.output);
    for (int i = 0; i < 200 && recovered == 0; ++i) co_await squall::sleep(loop, 50ms);
    REQUIRE(recovered == 1);
    CHECK(lost == 1);
    CHECK(loop.time() - t0 < 20s);
    CHECK(conn->current_broker() != first);
    CHECK(main_url.find(conn->current_broker()) != std::string::npos);

    // Topology was declared on the second broker during recovery; consumer and producer work there.
    auto t2 = producer.publish("on the second", po);
    co_await std::move(t2);
    Message m2 = co_await squall::with_timeout(5s, consumer.next());
    CHECK(m2.body() == "on the second");
    m2.ack();
    auto ch = co_await conn->default_channel();
    co_await ch->queue_delete(q.name);
    co_await ch->exchange_delete(q.exchange.name);
    co_await conn->close();
}
