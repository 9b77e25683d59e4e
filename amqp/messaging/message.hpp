// messaging::Message: a delivered message with kombu's Message API: body, decode(), properties, headers,
// delivery_info, and ack / nack / reject / requeue that may each be done once.
//
//     messaging::Message msg = co_await consumer.next();
//     std::string text = msg.decode();        // decompressed ("compression" header), as text
//     co_await msg.ack();                      // or msg.ack(); a second ack throws MessageStateError
//
// Settling: ack(), nack(), reject() and requeue() send at once (AMQP has no reply to them) and return an
// already-completed awaitable, so both `msg.ack();` and `co_await msg.ack();` work. Each throws
// MessageStateError when the message was already settled (saying how) or came from a no_ack consumer, and
// the channel's close reason when its channel is closed (after a reconnect the broker redelivers it).
// reject() and nack() default to requeue = false (kombu; the low-level channel follows the spec's true).
//
// Copies share the settlement state, so a copy cannot be acked again.
#pragma once

#include <coroutine>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "squall/amqp/delivery.hpp"

namespace squall::amqp {
class Channel;
}

namespace squall::amqp::messaging {

// How a message was settled: not yet (received), acked, rejected (reject or nack without requeue), or
// requeued (reject or nack with requeue).
enum class MessageState { received, acked, rejected, requeued };
// "received", "acked", "rejected", "requeued".
std::string_view to_string(MessageState s) noexcept;

// kombu's delivery_info: where the message came from and its delivery facts.
struct DeliveryInfo {
    std::string exchange;       // the exchange it was published to
    std::string routing_key;    // the routing key it was published with
    std::string consumer_tag;   // the consumer it was delivered to (empty for basic.get)
    uint64_t delivery_tag = 0;  // the channel's number for it, for acks
    bool redelivered = false;   // delivered before and not acknowledged
};

// Returned by the settling methods: the work is done; awaiting it completes at once.
struct Settled {
    // The awaitable interface: ready at once, nothing to resume with.
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept {}
};

// A delivered message with kombu's Message API (see the top of this file).
class Message {
public:
    Message() = default;
    // `channel` is where it arrived (acks go there); no_ack: the broker considers it settled already.
    Message(amqp::Delivery raw, std::weak_ptr<Channel> channel, bool no_ack);

    bool valid() const noexcept { return static_cast<bool>(state_); }  // false when default-constructed
    // The body as it arrived (compressed if it was).
    const std::string& body() const { return state_->raw.body; }
    // The body decompressed (per the "compression" header): DecodeError when that fails.
    std::string decode() const;
    const BasicProperties& properties() const { return state_->raw.properties; }
    // The headers table (an empty table when the message has none).
    const FieldTable& headers() const;
    // content_type, "application/data" when unset (kombu's reading).
    std::string content_type() const;
    std::string content_encoding() const;
    DeliveryInfo delivery_info() const;
    uint64_t delivery_tag() const { return state_->raw.delivery_tag; }
    bool redelivered() const { return state_->raw.redelivered; }
    const amqp::Delivery& raw() const { return state_->raw; }

    MessageState state() const { return state_->state; }  // how it was settled, if it was
    bool acknowledged() const { return state_->state != MessageState::received; }  // settled in any way
    // The channel it came on is gone (ack impossible; the broker will redeliver it unless no_ack).
    bool channel_closed() const;

    // basic.ack, basic.nack, basic.reject, and reject with requeue: once per message (see the top of this
    // file); `multiple` settles every earlier unsettled delivery of the channel too.
    Settled ack(bool multiple = false);
    Settled nack(bool requeue = false, bool multiple = false);
    Settled reject(bool requeue = false);
    Settled requeue() { return reject(true); }

private:
    struct State {
        amqp::Delivery raw;
        std::weak_ptr<Channel> channel;
        bool no_ack = false;
        MessageState state = MessageState::received;
    };
    Channel& settle_channel(const char* action) const;

    std::shared_ptr<State> state_;
};

}  // namespace squall::amqp::messaging
