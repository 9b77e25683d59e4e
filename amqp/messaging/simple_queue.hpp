// messaging::SimpleQueue: kombu's SimpleQueue — a named queue used like a local FIFO.
//
//     messaging::SimpleQueue q(conn, "jobs");
//     co_await q.put("hello");
//     messaging::Message m = co_await q.get(std::chrono::seconds(1));   // squall::QueueEmpty on timeout
//     m.ack();
//     std::size_t dropped = co_await q.clear();                             // queue.purge
//
// As in kombu the queue is bound to a direct exchange of the same name with the queue's name as routing
// key (both durable); the options may change that. get() consumes (the consumer starts on the first get)
// and returns the next message or throws squall::QueueEmpty when none came within the timeout; a message
// that arrives later stays buffered for the next get(), never lost. get_nowait() takes a buffered message
// or does one basic.get. qsize() is the broker's count of ready messages.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "squall/amqp/messaging/broker_connection.hpp"
#include "squall/amqp/messaging/consumer.hpp"
#include "squall/amqp/messaging/producer.hpp"
#include "squall/coro/future.hpp"

namespace squall::amqp::messaging {

// How a SimpleQueue declares, publishes and consumes.
struct SimpleQueueOptions {
    bool no_ack = false;                 // consume without acks (messages count as settled when sent)
    QueueOptions queue_options{};        // the queue's declaration
    ExchangeOptions exchange_options{};  // the declaration of the direct exchange of the same name
    std::string serializer{};            // put()'s serializer (ProducerOptions::serializer)
    std::string compression{};           // put()'s compression ("" or zlib)
    // The content types get() accepts (ConsumerOptions::accept).
    std::optional<std::vector<std::string>> accept{};
    uint16_t prefetch_count = 0;  // the consumer's prefetch; 0: no limit
};

// A named queue used like a local FIFO (see the top of this file).
class SimpleQueue {
public:
    // The queue `name` on `connection` (declared on first use).
    SimpleQueue(std::shared_ptr<BrokerConnection> connection, std::string name, SimpleQueueOptions options);
    SimpleQueue(std::shared_ptr<BrokerConnection> connection, std::string name);

    // Publishes `body` to the queue (through its exchange).
    Task<void> put(std::string body, PublishOptions options);
    Task<void> put(std::string body);
    // The next message, consuming; squall::QueueEmpty when none came within `timeout`.
    Task<Message> get(std::chrono::milliseconds timeout);
    // A message already buffered, else one basic.get; squall::QueueEmpty when the queue is empty.
    Task<Message> get_nowait();
    // Purges the queue; returns the number of messages removed (not counting unacked deliveries).
    Task<uint32_t> clear();
    // The broker's count of ready messages (a passive queue.declare).
    Task<uint32_t> qsize();
    // Cancels the consumer; unacked messages return to the queue when their channel closes.
    Task<void> close();

    const Queue& queue() const { return queue_; }  // the queue as declared

private:
    std::shared_ptr<BrokerConnection> connection_;
    Queue queue_;
    SimpleQueueOptions options_;
    Producer producer_;
    Consumer consumer_;
    // A next() that outlived a get() timeout: the following get() awaits it first.
    std::optional<Future<Message>> pending_;
};

}  // namespace squall::amqp::messaging
