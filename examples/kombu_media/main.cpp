// kombu's media exchange example with squall: one durable direct exchange "media" and two queues,
// "video" and "image"; publish a few JSON descriptions, consume both queues on one channel, print, ack.
//
//     kombu_media [amqp://guest:guest@127.0.0.1:5672/]      (default: $SQUALL_AMQP_URL, else localhost)
//
// The connection survives broker restarts (BrokerConnection recovers and the consumer re-consumes), and
// publishes are confirmed and retried.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include "squall/amqp/messaging/messaging.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/ioloop/ioloop.hpp"

using namespace std::chrono_literals;
namespace messaging = squall::amqp::messaging;

static squall::Task<void> media(squall::IOLoop& loop, std::string url) {
    auto conn = co_await squall::amqp::BrokerConnection::open(loop, url);

    squall::amqp::Exchange media_exchange{"media", "direct"};  // durable, as in kombu
    squall::amqp::Queue video_queue{"video", media_exchange, "video"};
    squall::amqp::Queue image_queue{"image", media_exchange, "image"};

    squall::amqp::Producer producer(conn, {.exchange = media_exchange, .serializer = "json", .retry = true});
    struct Item {
        const char* routing_key;
        const char* body;
    };
    const Item items[] = {
        {"video", R"({"name": "/tmp/lolcat1.avi", "size": 1301013})"},
        {"image", R"({"name": "/tmp/lolcat1.jpg", "size": 17013})"},
        {"video", R"({"name": "/tmp/lolcat2.avi", "size": 2920312})"},
    };
    for (const Item& item : items) {
        messaging::PublishOptions options{.routing_key = std::string(item.routing_key),
                                          .declare = {video_queue, image_queue}};
        auto publish = producer.publish(item.body, options);
        co_await std::move(publish);
        std::cout << "sent to " << item.routing_key << ": " << item.body << "\n";
    }

    int received = 0;
    squall::Event all_received;
    messaging::ConsumerOptions options;
    options.prefetch_count = 10;
    options.accept = std::vector<std::string>{"application/json"};
    options.callbacks.push_back([&](const std::string& body, messaging::Message& message) {
        std::cout << "received from " << message.delivery_info().routing_key << ": " << body << "\n";
        message.ack();
        if (++received == static_cast<int>(std::size(items))) all_received.set();
    });
    messaging::Consumer consumer(conn, {video_queue, image_queue}, options);
    co_await consumer.consume();
    co_await squall::with_timeout(10s, all_received.wait());
    co_await consumer.cancel();
    co_await conn->close();
}

int main(int argc, char** argv) {
    std::string url = argc > 1 ? argv[1] : "";
    if (url.empty()) {
        const char* env = std::getenv("SQUALL_AMQP_URL");
        url = env ? env : "amqp://guest:guest@127.0.0.1:5672/";
    }
    try {
        squall::IOLoop loop;
        loop.run_sync(media(loop, url), std::chrono::seconds(60));
    } catch (const std::exception& e) {
        std::cerr << "kombu_media: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
