// messaging::Producer: kombu's Producer — publish to an exchange with a serializer, optional compression,
// declarations on demand, publisher confirms, and retry across reconnects.
//
//     messaging::Exchange media{"media", "direct"};
//     messaging::Queue video{"video", media, "video"};
//     messaging::Producer producer(conn, {.exchange = media, .serializer = "json"});  // a BrokerConnection
//     messaging::PublishOptions po{.routing_key = "video", .declare = {video}};
//     co_await producer.publish(R"({"name": "/tmp/lolcat1.avi", "size": 1301013})", po);
//
// The options are named before co_await: the co_await temporaries rule (squall/coro/task.hpp).
//
// Decisions:
// - Confirms: on unless ProducerOptions::confirm says otherwise, when the producer's exchange is durable
//   (the default, and the default exchange "" counts as durable): a durable exchange means the caller wants
//   the message kept, and only a confirm says the broker has it. publish() then completes on the broker's
//   ack; MessageNackedError on a nack. Without confirms it completes once the frames are written.
// - Mandatory: with confirms, an unroutable mandatory message fails publish() with MessageReturnedError;
//   without confirms the return goes to ProducerOptions::on_return (or is logged).
// - Messages are persistent (delivery_mode 2) unless the options say otherwise (kombu).
// - auto_declare: the producer's exchange is declared (cached per connection) before the first publish.
// - retry: on a recoverable connection error the producer waits for the BrokerConnection to recover
//   (retry_policy, kombu's ensure) and publishes again on a fresh channel. A message whose confirm was lost
//   with the connection is therefore published again: at-least-once (duplicates are possible, loss is not).
//   Needs a BrokerConnection; a Producer on a bare Channel never retries.
// - A Producer on a bare Channel has its own declaration cache.
// - Backpressure: publish() waits while the connection has more than ConnectionOptions::write_high_water
//   bytes unsent (a broker that does not read), bounded by PublishOptions::timeout; memory stays bounded.
// - A message whose header table (or any frame) exceeds frame_max fails with MessageTooLargeError before
//   anything is written, and is never retried.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "squall/amqp/channel.hpp"
#include "squall/amqp/delivery.hpp"
#include "squall/amqp/messaging/broker_connection.hpp"
#include "squall/amqp/messaging/entity.hpp"
#include "squall/amqp/messaging/retry.hpp"
#include "squall/coro/locks.hpp"
#include "squall/coro/task.hpp"

namespace squall::amqp::messaging {

struct ProducerOptions {
    Exchange exchange{};  // "" = the default exchange
    std::string routing_key{};
    std::string serializer{};   // json, text, raw ("" = text, kombu's choice for a string body)
    std::string compression{};  // "" or zlib
    bool auto_declare = true;
    std::optional<bool> confirm{};  // default: exchange.options.durable
    bool retry = false;             // default for PublishOptions::retry
    RetryPolicy retry_policy{.max_retries = 3,
                             .interval_start = std::chrono::milliseconds(1000),
                             .interval_step = std::chrono::milliseconds(1000),
                             .interval_max = std::chrono::milliseconds(1000)};  // kombu ensure()'s
    std::function<void(ReturnedMessage&&)> on_return{};
};

struct PublishOptions {
    std::optional<std::string> routing_key{};
    std::optional<Exchange> exchange{};  // must have been declared
    FieldTable headers{};
    std::optional<uint8_t> priority{};
    std::optional<std::chrono::milliseconds> expiration{};
    std::optional<uint8_t> delivery_mode{};  // default persistent (2)
    bool mandatory = false;
    std::string content_type{};  // set: no serializer runs (content_encoding defaults to utf-8)
    std::string content_encoding{};
    std::optional<std::string> serializer{};
    std::optional<std::string> compression{};
    std::string correlation_id{};
    std::string reply_to{};
    std::string message_id{};
    std::string type{};
    std::optional<uint64_t> timestamp{};
    std::vector<Entity> declare{};
    std::optional<bool> retry{};
    std::optional<RetryPolicy> retry_policy{};
    // Bounds each attempt's wait while the connection is blocked or has more than
    // ConnectionOptions::write_high_water bytes unsent (backpressure; TimeoutError, which a retry may
    // retry). nullopt: ConnectionOptions::blocked_timeout.
    std::optional<std::chrono::milliseconds> timeout{};
};

class Producer {
public:
    Producer(std::shared_ptr<BrokerConnection> connection, ProducerOptions options);
    explicit Producer(std::shared_ptr<BrokerConnection> connection);
    Producer(std::shared_ptr<Channel> channel, ProducerOptions options);
    explicit Producer(std::shared_ptr<Channel> channel);

    Task<void> publish(std::string body, PublishOptions options);
    Task<void> publish(std::string body);

    // Declares the producer's exchange (cached).
    Task<void> declare();
    bool confirms() const noexcept;
    const ProducerOptions& options() const noexcept { return state_->options; }
    // The channel in use (null before the first publish on a BrokerConnection).
    std::shared_ptr<Channel> channel() const { return state_->channel; }

private:
    struct Prepared {
        std::string exchange;
        std::string routing_key;
        std::string body;
        BasicProperties properties;
        bool mandatory = false;
        std::vector<Entity> declare;
        std::optional<std::chrono::milliseconds> timeout;
    };
    struct State {
        std::shared_ptr<BrokerConnection> connection;
        std::shared_ptr<Channel> channel;
        uint64_t generation = 0;
        ProducerOptions options;
        DeclarationCache local_cache;  // bare-channel mode only
        Semaphore channel_lock{1};
    };
    Prepared prepare(std::string body, const PublishOptions& o) const;
    static Task<std::shared_ptr<Channel>> ensure_channel(std::shared_ptr<State> state);
    static Task<void> maybe_declare(std::shared_ptr<State> state, std::shared_ptr<Channel> ch, Entity entity);
    static Task<void> publish_once(std::shared_ptr<State> state, std::shared_ptr<Prepared> message);

    std::shared_ptr<State> state_;
};

}  // namespace squall::amqp::messaging
