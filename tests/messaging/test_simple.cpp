// SimpleQueue (put / get with timeout / clear) and the ConsumerMixin run loop.
#include <doctest/doctest.h>

#include <squall/testing.hpp>

#include "squall/coro/queue.hpp"
#include "tests/messaging/messaging_test_util.hpp"

using namespace std::chrono_literals;
using namespace squall::amqp::messaging;
using namespace squall::amqp::messaging::test;

SQUALL_TEST_CASE("SimpleQueue: put, get, get timeout raises QueueEmpty, a late message is not lost", 20s) {
    SQUALL_AMQP_URL_OR_RETURN(url);
    auto options = quick_options();
    auto conn = co_await BrokerConnection::open(loop, url, options);
    SimpleQueueOptions so{.queue_options = {.auto_delete = true}, .exchange_options = {.auto_delete = true}};
    SimpleQueue q(conn, unique_name("simple"), so);
    co_await q.put("one");
    Message m = co_await q.get(2s);
    CHECK(m.body() == "one");
    m.ack();

    auto t0 = loop.time();
    auto e = co_await error_of(q.get(200ms));
    CHECK(holds<squall::QueueEmpty>(e));
    CHECK(loop.time() - t0 >= 200ms);
    CHECK(loop.time() - t0 < 1s);

    co_await q.put("two");  // arrives after the timed-out get: the next get returns it
    Message m2 = co_await q.get(2s);
    CHECK(m2.body() == "two");
    m2.ack();
    co_await q.close();
    co_await conn->close();
}

SQUALL_TEST_CASE("SimpleQueue: clear purges, qsize counts, get_nowait", 20s) {
    SQUALL_AMQP_URL_OR_RETURN(url);
    auto options = quick_options();
    auto conn = co_await BrokerConnection::open(loop, url, options);
    SimpleQueueOptions so{.queue_options = {.auto_delete = true}, .exchange_options = {.auto_delete = true}};
    SimpleQueue q(conn, unique_name("simple"), so);
    auto e0 = co_await error_of(q.get_nowait());
    CHECK(holds<squall::QueueEmpty>(e0));
    for (int i = 0; i < 5; ++i) co_await q.put("m" + std::to_string(i));
    CHECK(co_await q.qsize() == 5);
    Message first = co_await q.get_nowait();
    CHECK(first.body() == "m0");
    first.ack();
    CHECK(co_await q.clear() == 4);
    CHECK(co_await q.qsize() == 0);
    co_await conn->close();
}

namespace {

class Worker : public ConsumerMixin {
public:
    Worker(std::shared_ptr<BrokerConnection> c, Queue q, int stop_after)
        : ConsumerMixin(std::move(c)), queue_(std::move(q)), stop_after_(stop_after) {}

    std::vector<Consumer> get_consumers(std::shared_ptr<BrokerConnection> c) override {
        ConsumerOptions o;
        o.prefetch_count = 10;
        o.callbacks.push_back([this](const std::string& body, Message& m) {
            bodies.push_back(body);
            m.ack();
            if (static_cast<int>(bodies.size()) == stop_after_) stop();
        });
        return {Consumer(c, {queue_}, o)};
    }
    void on_consume_ready(std::vector<Consumer>& consumers) override { ready = consumers.size(); }
    void on_consume_end() override { ended = true; }

    std::vector<std::string> bodies;
    std::size_t ready = 0;
    bool ended = false;

private:
    Queue queue_;
    int stop_after_;
};

}  // namespace

SQUALL_TEST_CASE("ConsumerMixin consumes until stop()", 20s) {
    SQUALL_AMQP_URL_OR_RETURN(url);
    auto options = quick_options();
    auto conn = co_await BrokerConnection::open(loop, url, options);
    Queue q{unique_name("mixin"), {}, "", {.auto_delete = true}};
    Producer producer(conn, ProducerOptions{.routing_key = q.name});
    PublishOptions po{.declare = {q}};
    for (int i = 0; i < 3; ++i) {
        auto t = producer.publish("job" + std::to_string(i), po);
        co_await std::move(t);
    }
    Worker worker(conn, q, 3);
    co_await squall::with_timeout(5s, worker.run());
    CHECK(worker.ready == 1);
    CHECK(worker.ended);
    CHECK(worker.bodies == std::vector<std::string>{"job0", "job1", "job2"});
    co_await conn->close();
}
