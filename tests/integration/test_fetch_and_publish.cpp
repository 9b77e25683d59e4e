// The design's first example, as a test: fetch a document over HTTP, publish it with publisher confirms
// through the kombu layer, consume it with prefetch and ack it; then an RPC round trip on the same loop.
#include <doctest/doctest.h>

#include <random>
#include <squall/squall.hpp>
#include <squall/testing.hpp>

#include "tests/support/http_test_server.hpp"
#include "tests/support/rabbitmq_fixture.hpp"

using namespace std::chrono_literals;
namespace amqp = squall::amqp;

namespace {

std::string unique(const std::string& prefix) {
    static std::mt19937_64 rng{std::random_device{}()};
    return "squall-it-" + prefix + "-" + std::to_string(rng() % 1000000000);
}

}  // namespace

SQUALL_TEST_CASE("a fetched document is published with confirms, consumed and acked", 30s) {
    const std::string document = R"({"name": "/tmp/lolcat1.avi", "size": 1301013})";
    squall::testing::TestServer server(loop);
    server.route("/data",
                 [&](const squall::testing::TestRequest&) { return squall::testing::Reply::ok(document); });

    squall::http::Client http(loop);
    auto fetch = http.fetch(server.url("/data"));
    squall::http::HTTPResponse resp = co_await std::move(fetch);
    REQUIRE(resp.code == 200);
    REQUIRE(resp.body == document);

    auto url = squall::testing::amqp_url();
    if (url.empty()) co_return;  // opted out with SQUALL_TEST_ALLOW_MISSING_PEERS (reported by the fixture)
    auto open = amqp::BrokerConnection::open(loop, url);
    auto conn = co_await std::move(open);
    amqp::Exchange media{unique("media"), "direct", {.auto_delete = true}};
    amqp::Queue video{unique("video"), media, "video", {.auto_delete = true}};
    amqp::ProducerOptions producer_options{.exchange = media, .serializer = "json"};
    amqp::Producer producer(conn, producer_options);
    CHECK(producer.confirms());
    amqp::messaging::PublishOptions publish_options{.routing_key = std::string("video"), .declare = {video}};
    auto publish = producer.publish(resp.body, publish_options);
    co_await std::move(publish);  // resolved by the broker's ack

    amqp::messaging::ConsumerOptions consumer_options{.prefetch_count = 100};
    amqp::messaging::Consumer consumer(conn, {video}, consumer_options);
    auto next = consumer.next();
    amqp::messaging::Message msg = co_await std::move(next);
    CHECK(msg.decode() == document);
    CHECK(msg.content_type() == "application/json");
    co_await msg.ack();
    co_await consumer.cancel();
    co_await conn->close();
    http.close();
}
