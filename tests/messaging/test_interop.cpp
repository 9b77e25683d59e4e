// Interop with kombu itself (python3-kombu 5.2): kombu publishes and squall consumes, and back, through
// the same exchange; serializers, zlib compression and headers must mean the same on both sides.
#include <doctest/doctest.h>

#include <squall/testing.hpp>

#include "tests/messaging/messaging_test_util.hpp"

using namespace std::chrono_literals;
using namespace squall::amqp::messaging;
using namespace squall::amqp::messaging::test;

namespace {

// Runs kombu_peer.py on a thread; the future resolves on the loop.
squall::Future<squall::testing::CommandResult> kombu_peer(squall::IOLoop& loop,
                                                          std::vector<std::string> args) {
    std::vector<std::string> argv{"/usr/bin/python3",
                                  std::string(SQUALL_SOURCE_DIR) + "/tests/messaging/kombu_peer.py"};
    argv.insert(argv.end(), args.begin(), args.end());
    squall::Promise<squall::testing::CommandResult> promise;
    auto future = promise.get_future();
    std::thread([&loop, argv = std::move(argv), promise = std::move(promise)]() mutable {
        auto r = squall::testing::run_command(argv);
        loop.add_callback(
            [promise = std::move(promise), r = std::move(r)]() mutable { promise.set_value(std::move(r)); });
    }).detach();
    return future;
}

}  // namespace

MESSAGING_ONCE_TEST("kombu publishes, squall consumes; squall publishes, kombu consumes", 60s) {
    SQUALL_AMQP_URL_OR_RETURN(url);
    Exchange ex{unique_name("interop"), "direct"};
    Queue q{unique_name("interop-q"), ex, "media"};

    std::vector<std::string> pub_args{"publish", url, ex.name, q.name, "media"};
    auto publishing = kombu_peer(loop, pub_args);
    auto published = co_await std::move(publishing);
    REQUIRE_MESSAGE(published.exit_code == 0, published.output);

    auto options = quick_options();
    auto conn = co_await BrokerConnection::open(loop, url, options);
    ConsumerOptions co;
    co.accept = std::vector<std::string>{"application/json", "text/plain"};
    Consumer consumer(conn, {q}, co);
    Message m0 = co_await squall::with_timeout(5s, consumer.next());
    CHECK(m0.content_type() == "application/json");
    CHECK(m0.decode() == R"({"i": 0, "from": "kombu"})");
    CHECK(m0.headers().find("x-peer")->as<std::string>() == "kombu");
    CHECK(m0.properties().delivery_mode == uint8_t{2});
    m0.ack();
    Message m1 = co_await squall::with_timeout(5s, consumer.next());
    CHECK(m1.headers().find("compression")->as<std::string>() == "application/x-gzip");
    CHECK(m1.decode() == R"({"i": 1, "from": "kombu", "pad": ")" + std::string(2000, 'x') + R"("})");
    m1.ack();
    Message m2 = co_await squall::with_timeout(5s, consumer.next());
    CHECK(m2.content_type() == "text/plain");
    CHECK(m2.decode() == "plain text from kombu");
    m2.ack();
    co_await consumer.cancel();

    Producer producer(conn, ProducerOptions{.exchange = ex, .routing_key = "media", .serializer = "json"});
    PublishOptions p0{.correlation_id = "squall-0"};
    auto t0 = producer.publish(R"({"i": 0, "from": "squall"})", p0);
    co_await std::move(t0);
    PublishOptions p1{.compression = std::string("zlib")};
    auto t1 = producer.publish(R"({"i": 1, "from": "squall"})", p1);
    co_await std::move(t1);
    PublishOptions p2{.serializer = std::string("text")};
    auto t2 = producer.publish("plain text from squall", p2);
    co_await std::move(t2);

    std::vector<std::string> con_args{"consume", url, ex.name, q.name, "media", "3"};
    auto consuming = kombu_peer(loop, con_args);
    auto consumed = co_await std::move(consuming);
    REQUIRE_MESSAGE(consumed.exit_code == 0, consumed.output);
    std::istringstream lines(consumed.output);
    std::vector<std::string> got;
    std::string line;
    while (std::getline(lines, line))
        if (!line.empty() && line[0] == '{') got.push_back(line);
    REQUIRE(got.size() == 3);
    CHECK(
        got[0] ==
        R"({"body": {"from": "squall", "i": 0}, "compression": null, "content_type": "application/json", "correlation_id": "squall-0", "delivery_mode": 2})");
    CHECK(
        got[1] ==
        R"({"body": {"from": "squall", "i": 1}, "compression": "application/x-gzip", "content_type": "application/json", "correlation_id": null, "delivery_mode": 2})");
    CHECK(
        got[2] ==
        R"({"body": "plain text from squall", "compression": null, "content_type": "text/plain", "correlation_id": null, "delivery_mode": 2})");

    auto ch = co_await conn->default_channel();
    co_await ch->queue_delete(q.name);
    co_await ch->exchange_delete(ex.name);
    co_await conn->close();
}
