// messaging::ConsumerMixin: kombu's ConsumerMixin — a worker that consumes until stopped, riding out
// connection losses (the BrokerConnection recovers; the consumers re-consume).
//
//     class Worker : public messaging::ConsumerMixin {
//       public:
//         using ConsumerMixin::ConsumerMixin;
//         std::vector<messaging::Consumer> get_consumers(std::shared_ptr<messaging::BrokerConnection> c)
//         override {
//             messaging::ConsumerOptions o;
//             o.callbacks.push_back([](const std::string& body, messaging::Message& m) { m.ack(); });
//             return {messaging::Consumer(c, {tasks_queue}, o)};
//         }
//     };
//     Worker worker(conn);
//     co_await worker.run();          // until worker.stop()
//
// run(): get_consumers(), start each (consume()), on_consume_ready(), then wait until stop() or until the
// connection is given up (recovery failed: run() rethrows that error after on_consume_end); finally the
// consumers are cancelled and on_consume_end() runs. on_connection_error / on_connection_revived run on
// the BrokerConnection's lost / recovered events while run() is active.
#pragma once

#include <exception>
#include <memory>
#include <vector>

#include "squall/amqp/messaging/broker_connection.hpp"
#include "squall/amqp/messaging/consumer.hpp"
#include "squall/coro/locks.hpp"
#include "squall/coro/task.hpp"

namespace squall::amqp::messaging {

// A worker base class: derive, give get_consumers(), override the hooks you need, co_await run().
class ConsumerMixin {
public:
    // Listens to the connection's lost, recovered and recovery-failed events. UsageError for a null one.
    explicit ConsumerMixin(std::shared_ptr<BrokerConnection> connection);
    virtual ~ConsumerMixin();

    // The consumers run() starts; called once per run().
    virtual std::vector<Consumer> get_consumers(std::shared_ptr<BrokerConnection> connection) = 0;
    virtual void on_consume_ready(std::vector<Consumer>& /*consumers*/) {}  // all consuming
    virtual void on_consume_end() {}  // the consumers were cancelled, before run() completes
    virtual void on_connection_error(const std::exception_ptr& /*error*/) {}  // connection lost
    virtual void on_connection_revived() {}  // the BrokerConnection recovered

    // Connects, consumes until stop() or the connection is given up (see above), then cancels the
    // consumers. UsageError when already running; rethrows a failure once the consumers are cancelled.
    Task<void> run();
    // Makes run() finish (from a callback or another task).
    void stop();
    bool should_stop() const noexcept { return should_stop_; }  // stop() was called
    // The connection the worker consumes from.
    const std::shared_ptr<BrokerConnection>& connection() const noexcept { return connection_; }

private:
    struct Events;
    std::shared_ptr<BrokerConnection> connection_;
    std::shared_ptr<Events> events_;
    bool should_stop_ = false;
    Event stopped_;
};

}  // namespace squall::amqp::messaging
