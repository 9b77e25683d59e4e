// messaging::Consumer: kombu's Consumer — several queues on one channel, callbacks (body, message) and/or
// `co_await next()`, prefetch_count, no_ack, and an accept list of content types.
//
//     messaging::ConsumerOptions options;
//     options.prefetch_count = 100;
//     messaging::Consumer consumer(conn, {video, image}, options);   // conn: a BrokerConnection
//     co_await consumer.consume();              // declares the queues, qos, basic.consume (next() too)
//     messaging::Message msg = co_await consumer.next();
//     std::cout << msg.decode() << "\n";
//     msg.ack();
//
// Built on one amqp::ChannelConsumer (the low-level basic.consume subscription) per queue.
//
// Deliveries: with callbacks or on_message they are handed over as they arrive (on_message replaces the
// callbacks and gets the undecoded message, as in kombu; callbacks get decode() first); otherwise they are
// buffered for next() (bound the buffer with prefetch_count). A callback that throws is logged.
//
// accept: when set, a message whose content type is neither listed nor trusted (application/data,
// application/text) is rejected (requeue = false) and on_decode_error runs (else a warning is logged); when
// unset, pickle (application/x-python-serialize) is refused the same way (kombu's disabled content types).
// A body that fails to decode for a callback (DecodeError) is treated the same.
//
// Consumer tags are chosen here ("squall.<random>.<n>"), so after a reconnect the consumer resumes with the
// same tags: on a BrokerConnection it registers for recovery (new channel, qos, queues declared again,
// basic.consume with the same tags). Messages buffered from the lost channel are dropped by next() (their
// acks could not reach the broker, which redelivers them) unless no_ack. next() fails with the error when
// the consumer ends: cancel(), the broker cancelled it (queue deleted), a channel error, recovery gave up,
// or the BrokerConnection was closed.
//
// A next() abandoned by with_timeout keeps waiting and takes the next message (with_timeout does not
// cancel); to wait with a bound and keep the message for later, use SimpleQueue::get(timeout) or keep the
// started Future and await it again.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "squall/amqp/channel.hpp"
#include "squall/amqp/messaging/broker_connection.hpp"
#include "squall/amqp/messaging/entity.hpp"
#include "squall/amqp/messaging/message.hpp"
#include "squall/coro/queue.hpp"
#include "squall/coro/task.hpp"

namespace squall::amqp::messaging {

// A callback of a Consumer: the decoded body and the message (ack it unless no_ack).
using MessageCallback = std::function<void(const std::string& body, Message& message)>;

// A Consumer's options (see the top of this header).
struct ConsumerOptions {
    uint16_t prefetch_count = 0;                         // 0: no limit
    bool no_ack = false;                                 // basic.consume no_ack: the broker wants no acks
    std::optional<std::vector<std::string>> accept{};    // content types accepted; nullopt: all but pickle
    std::vector<MessageCallback> callbacks{};            // each gets every message, decoded
    std::function<void(Message& message)> on_message{};  // set: gets the messages instead of callbacks
    // A message refused by accept, or whose body failed to decode; unset: a warning is logged.
    std::function<void(Message& message, const std::exception_ptr& error)> on_decode_error{};
    bool auto_declare = true;  // consume() declares the queues (cached) first
};

// Consumes its queues on one channel (see the top of this header). Copies share one state.
class Consumer {
public:
    // On a BrokerConnection: recovered with it. UsageError for a null connection or no queues.
    Consumer(std::shared_ptr<BrokerConnection> connection, std::vector<Queue> queues,
             ConsumerOptions options);
    Consumer(std::shared_ptr<BrokerConnection> connection, std::vector<Queue> queues);
    // On a bare channel: no recovery; declarations cached per consumer.
    Consumer(std::shared_ptr<Channel> channel, std::vector<Queue> queues, ConsumerOptions options);
    Consumer(std::shared_ptr<Channel> channel, std::vector<Queue> queues);

    // Declares (auto_declare), sets qos and starts consuming every queue. Idempotent.
    Task<void> consume();
    // The next buffered message (starts consuming if needed). UsageError with callbacks or on_message.
    Task<Message> next();
    // basic.cancel for every queue; next() then fails with ConsumerCancelledError. Recovery stops too.
    Task<void> cancel();

    // Appends to ConsumerOptions::callbacks.
    void add_callback(MessageCallback cb);
    // The channel in use, the queues' actual names (server-named ones filled in), the consumer tags.
    std::shared_ptr<Channel> channel() const;
    std::vector<std::string> queue_names() const;
    std::vector<std::string> consumer_tags() const;
    uint16_t prefetch_count() const;  // the prefetch_count in use (0: no limit)
    // Change qos now (and after recoveries).
    Task<void> qos(uint16_t prefetch_count);
    std::size_t buffered() const;  // messages waiting for next()

private:
    class State;
    std::shared_ptr<State> state_;
};

}  // namespace squall::amqp::messaging
