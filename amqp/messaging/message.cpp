#include "squall/amqp/messaging/message.hpp"

#include "squall/amqp/channel.hpp"
#include "squall/amqp/errors.hpp"
#include "squall/amqp/messaging/compression.hpp"
#include "squall/amqp/messaging/errors.hpp"

namespace squall::amqp::messaging {

std::string_view to_string(MessageState s) noexcept {
    switch (s) {
        case MessageState::received:
            return "RECEIVED";
        case MessageState::acked:
            return "ACK";
        case MessageState::rejected:
            return "REJECTED";
        case MessageState::requeued:
            return "REQUEUED";
    }
    return "?";
}

Message::Message(amqp::Delivery raw, std::weak_ptr<Channel> channel, bool no_ack)
    : state_(std::make_shared<State>(
          State{std::move(raw), std::move(channel), no_ack, MessageState::received})) {}

std::string Message::decode() const {
    const FieldTable& h = headers();
    if (const FieldValue* c = h.find("compression")) {
        const auto* type = c->get_if<std::string>();
        if (!type) throw DecodeError("messaging: the compression header is not a string");
        return decompress(body(), *type);
    }
    return body();
}

const FieldTable& Message::headers() const {
    static const FieldTable kEmpty;
    const auto& h = state_->raw.properties.headers;
    return h ? *h : kEmpty;
}

std::string Message::content_type() const {
    const auto& ct = state_->raw.properties.content_type;
    return ct && !ct->empty() ? *ct : std::string("application/data");
}

std::string Message::content_encoding() const {
    const auto& ce = state_->raw.properties.content_encoding;
    return ce ? *ce : std::string();
}

DeliveryInfo Message::delivery_info() const {
    const auto& r = state_->raw;
    return {r.exchange, r.routing_key, r.consumer_tag, r.delivery_tag, r.redelivered};
}

bool Message::channel_closed() const {
    auto ch = state_->channel.lock();
    return !ch || !ch->is_open();
}

Channel& Message::settle_channel(const char* action) const {
    if (!state_) throw UsageError(std::string("messaging: ") + action + " on an empty Message");
    if (state_->no_ack)
        throw MessageStateError(std::string("messaging: cannot ") + action +
                                " a message received with no_ack (the broker settled it on delivery)");
    if (state_->state != MessageState::received)
        throw MessageStateError(std::string("messaging: cannot ") + action + " message " +
                                std::to_string(delivery_tag()) + ": already settled with state " +
                                std::string(to_string(state_->state)));
    auto ch = state_->channel.lock();
    if (!ch)
        throw ConnectionLostError(std::string("messaging: cannot ") + action +
                                  ": the channel the message arrived on no longer exists");
    if (!ch->is_open() && ch->close_reason()) std::rethrow_exception(ch->close_reason());
    return *ch;
}

Settled Message::ack(bool multiple) {
    settle_channel("ack").basic_ack(delivery_tag(), multiple);
    state_->state = MessageState::acked;
    return {};
}

Settled Message::nack(bool requeue, bool multiple) {
    NackOptions o;
    o.multiple = multiple;
    o.requeue = requeue;
    settle_channel("nack").basic_nack(delivery_tag(), o);
    state_->state = requeue ? MessageState::requeued : MessageState::rejected;
    return {};
}

Settled Message::reject(bool requeue) {
    settle_channel(requeue ? "requeue" : "reject").basic_reject(delivery_tag(), requeue);
    state_->state = requeue ? MessageState::requeued : MessageState::rejected;
    return {};
}

}  // namespace squall::amqp::messaging
