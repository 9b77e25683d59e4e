// Producer and Consumer round trips on a real broker: serializers, compression, properties, several
// queues on one channel, callbacks, accept, settling rules, mandatory returns.
#include <doctest/doctest.h>

#include <squall/testing.hpp>

#include "tests/messaging/messaging_test_util.hpp"

using namespace std::chrono_literals;
using namespace squall::amqp::messaging;
using namespace squall::amqp::messaging::test;

namespace {

squall::Task<std::shared_ptr<BrokerConnection>> connect(squall::IOLoop& loop) {
    auto url = squall::testing::amqp_url();
    auto options = quick_options();
    auto t = BrokerConnection::open(loop, url, options);
    co_return co_await std::move(t);
}

}  // namespace

// One name, one meaning: squall::amqp's Consumer, Message and PublishOptions are the kombu layer's; the
// protocol client's own types are ChannelConsumer, Delivery and BasicPublishOptions.
static_assert(std::is_same_v<squall::amqp::Consumer, Consumer>);
static_assert(std::is_same_v<squall::amqp::ConsumerOptions, ConsumerOptions>);
static_assert(std::is_same_v<squall::amqp::Message, Message>);
static_assert(std::is_same_v<squall::amqp::PublishOptions, PublishOptions>);
static_assert(std::is_same_v<decltype(std::declval<const Message&>().raw()), const squall::amqp::Delivery&>);

SQUALL_TEST_CASE("the kombu names in squall::amqp, as in the design's first example", 20s) {
    if (squall::testing::amqp_url().empty()) co_return;
    auto conn = co_await squall::amqp::Connection::open(loop, squall::testing::amqp_url());
    auto ch = co_await conn->channel();
    squall::amqp::Exchange media{unique_name("media"), "direct", {.auto_delete = true}};
    squall::amqp::Queue video{unique_name("video"), media, "video", {.auto_delete = true}};
    squall::amqp::Producer producer(ch, {.exchange = media, .serializer = "json", .confirm = true});
    squall::amqp::PublishOptions po{.routing_key = std::string("video"), .declare = {video}};
    co_await producer.publish(R"({"name": "/tmp/lolcat1.avi", "size": 1301013})", po);
    squall::amqp::Consumer consumer(ch, {video}, {.prefetch_count = 100});
    squall::amqp::Message msg = co_await consumer.next();
    CHECK(msg.decode() == R"({"name": "/tmp/lolcat1.avi", "size": 1301013})");
    CHECK(msg.raw().routing_key == "video");
    co_await msg.ack();
    co_await consumer.cancel();
    co_await conn->close();
}

SQUALL_TEST_CASE("json publish with declare, consumed with next() and acked", 20s) {
    if (squall::testing::amqp_url().empty()) co_return;
    auto conn = co_await connect(loop);
    Exchange media{unique_name("media"), "direct", {.auto_delete = true}};
    Queue video{unique_name("video"), media, "video", {.auto_delete = true}};
    ProducerOptions po{.exchange = media, .serializer = "json"};
    Producer producer(conn, po);
    CHECK(producer.confirms());
    PublishOptions opts{.routing_key = std::string("video"),
                        .priority = uint8_t{3},
                        .correlation_id = "c-1",
                        .reply_to = "replies",
                        .declare = {video}};
    opts.headers.set("x-kind", "avi");
    auto pt = producer.publish(R"({"name": "/tmp/lolcat1.avi", "size": 1301013})", opts);
    co_await std::move(pt);

    Consumer consumer(conn, {video}, {.prefetch_count = 100});
    Message msg = co_await consumer.next();
    CHECK(msg.decode() == R"({"name": "/tmp/lolcat1.avi", "size": 1301013})");
    CHECK(msg.content_type() == "application/json");
    CHECK(msg.content_encoding() == "utf-8");
    CHECK(msg.properties().delivery_mode == uint8_t{2});  // persistent by default
    CHECK(msg.properties().priority == uint8_t{3});
    CHECK(msg.properties().correlation_id == "c-1");
    CHECK(msg.properties().reply_to == "replies");
    CHECK(msg.headers().find("x-kind")->as<std::string>() == "avi");
    auto info = msg.delivery_info();
    CHECK(info.exchange == media.name);
    CHECK(info.routing_key == "video");
    CHECK(info.consumer_tag == consumer.consumer_tags().at(0));
    CHECK(info.consumer_tag.rfind("squall.", 0) == 0);
    co_await msg.ack();
    CHECK(msg.state() == MessageState::acked);
    co_await consumer.cancel();
    co_await conn->close();
}

SQUALL_TEST_CASE("zlib compression sets kombu's header and decode() undoes it", 20s) {
    if (squall::testing::amqp_url().empty()) co_return;
    auto conn = co_await connect(loop);
    Queue q{unique_name("z"), {}, "", {.auto_delete = true}};
    ProducerOptions po{.routing_key = q.name, .compression = "zlib"};
    Producer producer(conn, po);
    std::string body(50000, 'x');
    PublishOptions opts{.declare = {q}};
    auto pt = producer.publish(body, opts);
    co_await std::move(pt);
    Consumer consumer(conn, {q});
    Message msg = co_await consumer.next();
    CHECK(msg.body().size() < 1000);
    CHECK(msg.headers().find("compression")->as<std::string>() == "application/x-gzip");
    CHECK(msg.content_type() == "text/plain");
    CHECK(msg.decode() == body);
    msg.ack();
    co_await conn->close();
}

SQUALL_TEST_CASE("one consumer reads several queues on one channel, with callbacks", 20s) {
    if (squall::testing::amqp_url().empty()) co_return;
    auto conn = co_await connect(loop);
    Exchange media{unique_name("media"), "direct", {.auto_delete = true}};
    Queue video{unique_name("video"), media, "video", {.auto_delete = true}};
    Queue image{unique_name("image"), media, "image", {.auto_delete = true}};
    std::vector<std::string> seen;
    squall::Event done;
    ConsumerOptions co;
    co.callbacks.push_back([&](const std::string& body, Message& m) {
        seen.push_back(m.delivery_info().routing_key + ":" + body);
        m.ack();
        if (seen.size() == 4) done.set();
    });
    Consumer consumer(conn, {video, image}, co);
    co_await consumer.consume();
    CHECK(consumer.consumer_tags().size() == 2);
    Producer producer(conn, ProducerOptions{.exchange = media});
    for (const char* rk : {"video", "image", "video", "image"}) {
        PublishOptions o{.routing_key = std::string(rk)};
        auto t = producer.publish(std::string("m-") + rk, o);
        co_await std::move(t);
    }
    co_await squall::with_timeout(5s, done.wait());
    std::sort(seen.begin(), seen.end());
    CHECK(seen ==
          std::vector<std::string>{"image:m-image", "image:m-image", "video:m-video", "video:m-video"});
    auto e = co_await error_of(consumer.next());
    CHECK(holds<squall::UsageError>(e));  // callbacks and next() do not mix
    co_await conn->close();
}

SQUALL_TEST_CASE("accept rejects other content types without requeue", 20s) {
    if (squall::testing::amqp_url().empty()) co_return;
    auto conn = co_await connect(loop);
    Queue q{unique_name("acc"), {}, "", {.auto_delete = true}};
    Producer producer(conn, ProducerOptions{.routing_key = q.name});
    std::vector<std::string> refused;
    ConsumerOptions co;
    co.accept = std::vector<std::string>{"application/json"};
    co.on_decode_error = [&](Message& m, const std::exception_ptr& e) {
        CHECK(holds<ContentDisallowedError>(e));
        refused.push_back(m.content_type());
        CHECK(m.state() == MessageState::rejected);
    };
    Consumer consumer(conn, {q}, co);
    PublishOptions yaml{.content_type = "application/x-yaml", .declare = {q}};
    auto t1 = producer.publish("a: 1", yaml);
    co_await std::move(t1);
    PublishOptions pickle{.content_type = "application/x-python-serialize"};
    auto t2 = producer.publish("\x80\x04K\x01.", pickle);
    co_await std::move(t2);
    PublishOptions json{.serializer = std::string("json")};
    auto t3 = producer.publish("[1]", json);
    co_await std::move(t3);
    PublishOptions raw{.serializer = std::string("raw")};
    auto t4 = producer.publish("bytes", raw);  // application/data is trusted
    co_await std::move(t4);
    Message m1 = co_await consumer.next();
    Message m2 = co_await consumer.next();
    CHECK(m1.decode() == "[1]");
    CHECK(m2.content_type() == "application/data");
    m1.ack();
    m2.ack();
    CHECK(refused == std::vector<std::string>{"application/x-yaml", "application/x-python-serialize"});
    // Rejected without requeue: gone from the queue.
    SimpleQueue sq(conn, q.name, {.queue_options = q.options});
    CHECK(co_await sq.qsize() == 0);
    co_await conn->close();
}

SQUALL_TEST_CASE("settling a message twice is a MessageStateError that says how it was settled", 20s) {
    if (squall::testing::amqp_url().empty()) co_return;
    auto conn = co_await connect(loop);
    Queue q{unique_name("ack"), {}, "", {.auto_delete = true}};
    Producer producer(conn, ProducerOptions{.routing_key = q.name});
    PublishOptions o{.declare = {q}};
    for (int i = 0; i < 3; ++i) {
        auto t = producer.publish("m" + std::to_string(i), o);
        co_await std::move(t);
    }
    Consumer consumer(conn, {q});
    Message a = co_await consumer.next();
    Message copy = a;
    a.ack();
    try {
        copy.ack();
        FAIL("a second ack must throw");
    } catch (const MessageStateError& e) {
        CHECK(std::string(e.what()).find("already settled with state ACK") != std::string::npos);
    }
    CHECK_THROWS_AS(a.reject(), MessageStateError);
    Message b = co_await consumer.next();
    b.reject();  // requeue = false by default
    CHECK(b.state() == MessageState::rejected);
    CHECK_THROWS_AS(b.requeue(), MessageStateError);
    Message c = co_await consumer.next();
    c.requeue();
    Message again = co_await consumer.next();
    CHECK(again.body() == c.body());
    CHECK(again.redelivered());
    again.ack();
    co_await conn->close();
}

SQUALL_TEST_CASE("no_ack consumers refuse ack", 20s) {
    if (squall::testing::amqp_url().empty()) co_return;
    auto conn = co_await connect(loop);
    Queue q{unique_name("noack"), {}, "", {.auto_delete = true}};
    Producer producer(conn, ProducerOptions{.routing_key = q.name});
    PublishOptions o{.declare = {q}};
    auto t = producer.publish("m", o);
    co_await std::move(t);
    Consumer consumer(conn, {q}, {.no_ack = true});
    Message m = co_await consumer.next();
    CHECK_THROWS_AS(m.ack(), MessageStateError);
    co_await conn->close();
}

SQUALL_TEST_CASE("an unroutable mandatory message fails publish with MessageReturnedError", 20s) {
    if (squall::testing::amqp_url().empty()) co_return;
    auto conn = co_await connect(loop);
    Exchange ex{unique_name("ret"), "direct", {.auto_delete = true}};
    Producer producer(conn, ProducerOptions{.exchange = ex});
    PublishOptions o{.routing_key = std::string("nobody"), .mandatory = true};
    auto t = producer.publish("lost?", o);
    auto e = co_await error_of(std::move(t));
    REQUIRE(holds<squall::amqp::MessageReturnedError>(e));
    // Not mandatory: silently dropped by the broker, publish succeeds.
    PublishOptions plain{.routing_key = std::string("nobody")};
    auto t2 = producer.publish("dropped", plain);
    co_await std::move(t2);
    co_await conn->close();
}

SQUALL_TEST_CASE("Producer and Consumer also work on a bare channel (DESIGN section 1)", 20s) {
    SQUALL_AMQP_URL_OR_RETURN(url);
    auto conn = co_await squall::amqp::Connection::open(loop, url);
    auto ch = co_await conn->channel();
    squall::amqp::Exchange media{unique_name("media"), "direct", {.auto_delete = true}};
    squall::amqp::Queue video{unique_name("video"), media, "video", {.auto_delete = true}};
    squall::amqp::Producer producer(ch, {.exchange = media, .serializer = "json"});
    PublishOptions o{.routing_key = std::string("video"), .declare = {video}};
    auto t = producer.publish(R"({"n": 1})", o);
    co_await std::move(t);
    CHECK(ch->confirm_mode());
    Consumer consumer(ch, {video}, {.prefetch_count = 100});
    auto msg = co_await consumer.next();
    CHECK(msg.decode() == R"({"n": 1})");
    co_await msg.ack();
    co_await conn->close();
}
