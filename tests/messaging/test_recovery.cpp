// Connections that survive: a consumer whose connection the broker closes, a broker restart during a
// stream of confirmed persistent publishes, failover to a second broker, ensure() across a reconnect.
#include <doctest/doctest.h>

#include <set>
#include <squall/testing.hpp>

#include "tests/messaging/messaging_test_util.hpp"

using namespace std::chrono_literals;
using namespace squall::amqp::messaging;
using namespace squall::amqp::messaging::test;

namespace {

squall::Task<std::string> wait_for_pid(squall::IOLoop& loop, std::string connection_name,
                                       std::string broker = squall::testing::rabbitmq_name()) {
    for (int i = 0; i < 100; ++i) {
        std::string pid = connection_pid(connection_name, broker);
        if (!pid.empty()) co_return pid;
        co_await squall::sleep(loop, 100ms);
    }
    FAIL("no connection named " << connection_name);
    co_return std::string();
}

// "tag<TAB>prefetch" of the queue's consumers, per rabbitmqctl.
std::vector<std::string> broker_consumers(const std::string& queue) {
    auto out = squall::testing::rabbitmqctl(
        {"list_consumers", "queue_name", "consumer_tag", "prefetch_count", "--quiet"});
    std::istringstream lines(out);
    std::string line;
    std::vector<std::string> found;
    while (std::getline(lines, line)) {
        if (line.rfind(queue + "\t", 0) == 0) found.push_back(line.substr(queue.size() + 1));
    }
    return found;
}

}  // namespace

SQUALL_TEST_CASE("a consumer whose connection is closed recovers with its tag and qos", 40s) {
    SQUALL_AMQP_URL_OR_RETURN(url);
    std::string name = unique_name("consumer-conn");
    auto options = quick_options(name);
    int lost = 0, recovered = 0;
    options.on_connection_lost = [&](const std::exception_ptr& e) {
        ++lost;
        CHECK(holds<squall::amqp::ConnectionClosedError>(e));
    };
    options.on_connection_recovered = [&] { ++recovered; };
    auto conn = co_await BrokerConnection::open(loop, url, options);
    Queue q{unique_name("recover"), Exchange(unique_name("ex"), "direct"), "k"};
    Producer producer(conn, ProducerOptions{.exchange = q.exchange, .routing_key = "k"});
    Consumer consumer(conn, {q}, {.prefetch_count = 7});
    co_await consumer.consume();
    const std::string tag = consumer.consumer_tags().at(0);
    CHECK(broker_consumers(q.name) == std::vector<std::string>{tag + "\t7"});

    PublishOptions po{.declare = {q}};
    auto t1 = producer.publish("before", po);
    co_await std::move(t1);
    Message m1 = co_await consumer.next();
    CHECK(m1.body() == "before");
    m1.ack();
    co_await squall::sleep(loop, 50ms);  // let the ack leave before rabbitmqctl blocks the loop

    std::string pid = co_await wait_for_pid(loop, name);
    squall::testing::rabbitmqctl({"close_connection", pid, "squall test: consumer connection"});
    for (int i = 0; i < 100 && recovered == 0; ++i) co_await squall::sleep(loop, 50ms);
    REQUIRE(recovered == 1);
    CHECK(lost == 1);
    CHECK(consumer.consumer_tags().at(0) == tag);
    CHECK(broker_consumers(q.name) == std::vector<std::string>{tag + "\t7"});

    auto t2 = producer.publish("after", po);  // the producer moves to the new connection by itself
    co_await std::move(t2);
    Message m2 = co_await squall::with_timeout(5s, consumer.next());
    CHECK(m2.body() == "after");
    CHECK(m2.delivery_info().consumer_tag == tag);
    m2.ack();

    auto ch = co_await conn->default_channel();
    co_await ch->queue_delete(q.name);
    co_await ch->exchange_delete(q.exchange.name);
    co_await conn->close();
    auto e = co_await error_of(consumer.next());
    CHECK(e != nullptr);  // the consumer ended with the connection
}

SQUALL_TEST_CASE("ensure() runs an operation again after its connection was closed", 40s) {
    SQUALL_AMQP_URL_OR_RETURN(url);
    std::string name = unique_name("ensure-conn");
    auto options = quick_options(name);
    options.auto_recover = false;  // ensure() itself reconnects
    auto conn = co_await BrokerConnection::open(loop, url, options);
    Queue q{unique_name("ensure"), {}, "", {.auto_delete = false}};
    auto d = conn->maybe_declare(q);
    co_await std::move(d);
    const auto gen = conn->generation();

    int calls = 0, errbacks = 0;
    // The first run loses its connection midway (the broker closes it); the second runs on a new one.
    auto operation = [&]() -> squall::Task<void> {
        ++calls;
        auto ch = co_await conn->channel();
        if (calls == 1) {
            std::string pid = co_await wait_for_pid(loop, name);
            squall::testing::rabbitmqctl({"close_connection", pid, "squall test: ensure"});
            co_await ch->connection().wait_closed();
        }
        co_await ch->confirm_select();
        co_await ch->basic_publish("", q.name, "run " + std::to_string(calls));
    };
    RetryPolicy policy{.max_retries = 2, .interval_start = 100ms};
    policy.errback = [&](const std::exception_ptr& e, std::chrono::milliseconds) {
        ++errbacks;
        CHECK(holds<squall::amqp::ConnectionClosedError>(e));
    };
    auto t = conn->ensure(operation, policy);
    co_await std::move(t);
    CHECK(calls == 2);
    CHECK(errbacks == 1);
    CHECK(conn->generation() == gen + 1);

    auto ch = co_await conn->default_channel();
    auto got = co_await ch->basic_get(q.name, true);
    REQUIRE(got);
    CHECK(got->body == "run 2");
    co_await ch->queue_delete(q.name);
    co_await conn->close();
}

SQUALL_TEST_CASE("ensure() gives up after max_retries when every run fails", 20s) {
    SQUALL_AMQP_URL_OR_RETURN(url);
    auto options = quick_options();
    auto conn = co_await BrokerConnection::open(loop, url, options);
    int calls = 0;
    auto operation = [&]() -> squall::Task<int> {
        ++calls;
        throw squall::amqp::ConnectionLostError("simulated loss " + std::to_string(calls));
        co_return 0;
    };
    RetryPolicy policy{.max_retries = 2, .interval_start = 10ms};
    auto t = conn->ensure(operation, policy);
    auto e = co_await error_of(std::move(t));
    CHECK(calls == 3);
    CHECK(describe(e).find("simulated loss 3") != std::string::npos);
    co_await conn->close();
}

MESSAGING_ONCE_TEST("broker restart during confirmed persistent publishes: no confirmed message is lost",
                    150s) {
    SQUALL_AMQP_URL_OR_RETURN(url);
    const std::string broker = squall::testing::rabbitmq_name();
    int lost = 0, recovered = 0;
    auto options = counting_options(lost, recovered);
    auto conn = co_await BrokerConnection::open(loop, url, options);
    Queue q{unique_name("restart"), {}, "", {.durable = true}};
    Producer producer(conn, ProducerOptions{.routing_key = q.name, .retry = true});
    CHECK(producer.confirms());
    PublishOptions po{.declare = {q}};
    po.retry_policy =
        RetryPolicy{.interval_start = 200ms, .interval_step = 200ms, .interval_max = 1s, .timeout = 90s};

    std::set<int> confirmed;
    std::optional<squall::Future<squall::testing::CommandResult>> restart;
    int after_restart = 0;
    int id = 0;
    // Publish in windows of 20 in flight; the restart starts after 300 confirms; keep going until 300
    // more were confirmed after the broker came back.
    while (!restart || !restart->done() || after_restart < 300) {
        std::vector<squall::Future<void>> window;
        std::vector<int> ids;
        for (int i = 0; i < 20; ++i, ++id) {
            po.message_id = std::to_string(id);
            window.push_back(squall::start(producer.publish(std::to_string(id), po)));
            ids.push_back(id);
        }
        for (std::size_t i = 0; i < window.size(); ++i) {
            co_await window[i];  // retry: only a give-up would throw, failing the test
            confirmed.insert(ids[i]);
            if (restart && restart->done()) ++after_restart;
        }
        if (!restart && confirmed.size() >= 300)
            restart = rabbitmq_script_async(loop, {"restart", "--name", broker});
    }
    auto result = co_await *restart;
    REQUIRE_MESSAGE(result.exit_code == 0, result.output);
    CHECK(lost >= 1);
    CHECK(recovered >= 1);

    // Everything confirmed is in the durable queue (duplicates allowed: at-least-once).
    Consumer consumer(conn, {q}, {.prefetch_count = 200});
    std::set<int> consumed;
    std::size_t total = 0;
    while (consumed.size() < confirmed.size()) {
        std::optional<Message> m;
        try {
            m = co_await squall::with_timeout(10s, consumer.next());
        } catch (const squall::TimeoutError&) {
        }
        if (!m) break;  // nothing more within 10 s: the check below reports what is missing
        consumed.insert(std::stoi(m->body()));
        ++total;
        m->ack();
    }
    std::vector<int> missing;
    for (int c : confirmed)
        if (!consumed.count(c)) missing.push_back(c);
    CHECK_MESSAGE(missing.empty(), missing.size() << " confirmed messages lost, first "
                                                  << (missing.empty() ? -1 : missing[0]));
    CHECK(confirmed.size() == static_cast<std::size_t>(id));
    MESSAGE("published " << id << ", consumed " << total << " (" << total - consumed.size()
                         << " duplicates)");
    auto ch = co_await conn->default_channel();
    co_await ch->queue_delete(q.name);
    co_await conn->close();
}
