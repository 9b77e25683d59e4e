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

struct SimpleQueueOptions {
    bool no_ack = false;
    QueueOptions queue_options{};
    ExchangeOptions exchange_options{};
    std::string serializer{};
    std::string compression{};
    std::optional<std::vector<std::string>> accept{};
    uint16_t prefetch_count = 0;
};

class SimpleQueue {
public:
    SimpleQueue(std::shared_ptr<BrokerConnection> connection, std::string name, SimpleQueueOptions options);
    SimpleQueue(std::shared_ptr<BrokerConnection> connection, std::string name);

    Task<void> put(std::string body, PublishOptions options);
    Task<void> put(std::string body);
    Task<Message> get(std::chrono::milliseconds timeout);
    Task<Message> get_nowait();
    // Purges the queue; returns the number of messages removed (not counting unacked deliveries).
    Task<uint32_t> clear();
    Task<uint32_t> qsize();
    // Cancels the consumer; unacked messages return to the queue when their channel closes.
    Task<void> close();

    const Queue& queue() const { return queue_; }

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
