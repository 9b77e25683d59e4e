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

// A producer's defaults; PublishOptions overrides most of them per message.
struct ProducerOptions {
    Exchange exchange{};            // "" = the default exchange
    std::string routing_key{};      // used when PublishOptions::routing_key is unset
    std::string serializer{};       // json, text, raw ("" = text, kombu's choice for a string body)
    std::string compression{};      // "" or zlib
    bool auto_declare = true;       // declare `exchange` (cached per connection) before publishing
    std::optional<bool> confirm{};  // default: exchange.options.durable
    bool retry = false;             // default for PublishOptions::retry
    RetryPolicy retry_policy{.max_retries = 3,
                             .interval_start = std::chrono::milliseconds(1000),
                             .interval_step = std::chrono::milliseconds(1000),
                             .interval_max = std::chrono::milliseconds(1000)};  // kombu ensure()'s
    // Receives the returned messages (unroutable and mandatory) on the channels the producer opens on a
    // BrokerConnection; unset: they are logged. A bare Channel keeps its own return handler.
    std::function<void(ReturnedMessage&&)> on_return{};
};

// Options of one Producer::publish(); an unset optional takes the ProducerOptions value.
struct PublishOptions {
    std::optional<std::string> routing_key{};  // nullopt: ProducerOptions::routing_key
    std::optional<Exchange> exchange{};        // must have been declared
    FieldTable headers{};               // application headers (compression adds a "compression" header)
    std::optional<uint8_t> priority{};  // the priority property; nullopt: not sent
    std::optional<std::chrono::milliseconds> expiration{};  // per-message TTL (negative: 0); nullopt: none
    std::optional<uint8_t> delivery_mode{};                 // default persistent (2)
    bool mandatory = false;      // the broker returns the message if no queue takes it (see the Decisions)
    std::string content_type{};  // set: no serializer runs (content_encoding defaults to utf-8)
    std::string content_encoding{};            // set: replaces the serializer's (or utf-8's) content_encoding
    std::optional<std::string> serializer{};   // nullopt: ProducerOptions::serializer
    std::optional<std::string> compression{};  // nullopt: ProducerOptions::compression
    // Message properties; empty: not sent.
    std::string correlation_id{};
    std::string reply_to{};
    std::string message_id{};
    std::string type{};
    std::optional<uint64_t> timestamp{};        // seconds since the Unix epoch; nullopt: not sent
    std::vector<Entity> declare{};              // declared (cached) before publishing, after the exchange
    std::optional<bool> retry{};                // nullopt: ProducerOptions::retry
    std::optional<RetryPolicy> retry_policy{};  // nullopt: ProducerOptions::retry_policy
    // Bounds each attempt's wait while the connection is blocked or has more than
    // ConnectionOptions::write_high_water bytes unsent (backpressure; TimeoutError, which a retry may
    // retry). nullopt: ConnectionOptions::blocked_timeout.
    std::optional<std::chrono::milliseconds> timeout{};
};

// Publishes to its exchange (see the top of this header). Copies share one state.
class Producer {
public:
    // On a BrokerConnection: the producer opens its own channel (again after a recovery) and can retry.
    // UsageError for a null connection, an unknown serializer or an unknown compression.
    Producer(std::shared_ptr<BrokerConnection> connection, ProducerOptions options);
    explicit Producer(std::shared_ptr<BrokerConnection> connection);
    // On a bare Channel (the caller's: a closed one is not replaced, and publish() never retries).
    // UsageError for a null channel, an unknown serializer or an unknown compression.
    Producer(std::shared_ptr<Channel> channel, ProducerOptions options);
    explicit Producer(std::shared_ptr<Channel> channel);

    // Publishes body, serialized and compressed as the options say, after the declarations; completes as
    // the Decisions above say. UsageError for an unknown serializer or compression.
    Task<void> publish(std::string body, PublishOptions options);
    Task<void> publish(std::string body);

    // Declares the producer's exchange (cached).
    Task<void> declare();
    // Whether publish() waits for confirms: ProducerOptions::confirm, else the exchange's durable.
    bool confirms() const noexcept;
    // The options the producer was made with.
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
