// amqp::ChannelConsumer: one basic.consume subscription. Deliveries go to a callback, or are buffered for
// `co_await consumer->next()`.
//
//     amqp::ConsumeOptions acked{.no_ack = false};          // named: the co_await temporaries rule
//     auto consumer = co_await ch->consume("jobs", acked);  // (squall/coro/task.hpp)
//     for (;;) {
//         amqp::Delivery msg = co_await consumer->next();   // ConsumerCancelledError when it ends
//         handle(msg);
//         ch->basic_ack(msg.delivery_tag);
//     }
//
// The buffer is unbounded: bound it with basic_qos(prefetch_count). The consumer ends when it is
// cancelled (by cancel(): ConsumerCancelledError, by_broker false; by the broker's basic.cancel, e.g. its
// queue was deleted: by_broker true) or its channel closes (the channel's close error); next() then
// drains the buffered messages first and fails afterwards.
#pragma once

#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "squall/amqp/delivery.hpp"
#include "squall/coro/future.hpp"
#include "squall/coro/task.hpp"

namespace squall::amqp {

class Channel;

// Receives each delivery of a consumer that has a callback (Channel::basic_consume).
using DeliveryCallback = std::function<void(Delivery&&)>;

// One basic.consume subscription (see the top of this file); made by Channel::basic_consume / consume.
class ChannelConsumer {
public:
    // Made by the channel (before basic.consume); `callback` empty: deliveries are buffered for next().
    ChannelConsumer(std::weak_ptr<Channel> channel, std::string queue, DeliveryCallback callback,
                    std::function<void(const std::string&)> on_cancel);

    const std::string& tag() const noexcept { return tag_; }          // the consumer tag
    const std::string& queue() const noexcept { return queue_; }      // the queue it consumes
    bool active() const noexcept { return !end_; }                    // not cancelled, channel not closed
    std::size_t buffered() const noexcept { return buffer_.size(); }  // deliveries waiting for next()
    // Why it ended (null while active).
    std::exception_ptr end_reason() const noexcept { return end_; }

    // The next delivery. Only for consumers without a callback.
    Future<Delivery> next();
    std::optional<Delivery> try_next();

    // basic.cancel; the broker may still deliver messages sent before the cancel-ok (they are buffered).
    Task<void> cancel();

private:
    friend class Channel;
    void deliver(Delivery&& message);
    void end(std::exception_ptr reason);

    std::weak_ptr<Channel> channel_;
    std::string queue_;
    std::string tag_;
    DeliveryCallback callback_;
    std::function<void(const std::string&)> on_cancel_;
    std::deque<Delivery> buffer_;
    std::deque<Promise<Delivery>> waiters_;
    std::exception_ptr end_;
};

}  // namespace squall::amqp
