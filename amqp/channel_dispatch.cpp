// Channel: what the connection's reader hands to a channel (methods, content frames) and the end of a
// channel (finish).
#include "squall/amqp/channel.hpp"
#include "squall/amqp/connection.hpp"
#include "squall/amqp/detail/channel_send.hpp"
#include "squall/amqp/detail/deliver.hpp"
#include "squall/amqp/detail/wire.hpp"
#include "squall/amqp/errors.hpp"
#include "squall/coro/log.hpp"

namespace squall::amqp {

using spec::MethodId;

namespace {

// Overwrites `dst` only when it differs: a recycled Delivery mostly gets the same consumer tag, exchange
// and routing key as the one before.
inline void assign_if_changed(std::string& dst, std::string_view src) {
    if (std::string_view(dst) != src) dst.assign(src);
}

}  // namespace

void Channel::begin_content(Incoming::Kind kind, std::unique_ptr<Delivery> message) {
    incoming_.kind = kind;
    incoming_.message = std::move(message);
    incoming_.body_size = 0;
    incoming_.have_header = false;
    receiving_ = true;
}

void Channel::handle_deliver(std::string_view payload) {
    detail::DeliverView d;
    if (detail::decode_deliver(payload, d)) [[likely]] {
        std::unique_ptr<Delivery> m = take_message();
        assign_if_changed(m->consumer_tag, d.consumer_tag);
        m->delivery_tag = d.delivery_tag;
        m->redelivered = d.redelivered;
        assign_if_changed(m->exchange, d.exchange);
        assign_if_changed(m->routing_key, d.routing_key);
        m->channel = id_;
        begin_content(Incoming::Kind::deliver, std::move(m));
        return;
    }
    // Malformed: the Reader names what is wrong and where (a FrameError).
    detail::Reader in(payload, spec::BasicDeliver::kName);
    in.bytes(4, "method id");
    in.shortstr_view("basic.deliver consumer-tag");
    in.u64("basic.deliver delivery-tag");
    in.u8("basic.deliver flags");
    in.shortstr_view("basic.deliver exchange");
    in.shortstr_view("basic.deliver routing-key");
    in.expect_end();
    throw FrameError("malformed basic.deliver");  // not reached: the Reader threw
}

void Channel::handle_method(MethodId id, std::string_view payload) {
    switch (id.key()) {
        case spec::BasicDeliver::kId.key():
            handle_deliver(payload);
            return;
        case spec::BasicGetOk::kId.key():
            on_get_ok(id, spec::decode_method_as<spec::BasicGetOk>(payload));
            return;
        case spec::BasicReturn::kId.key():
            on_return_method(spec::decode_method_as<spec::BasicReturn>(payload));
            return;
        case spec::BasicAck::kId.key(): {
            auto m = spec::decode_method_as<spec::BasicAck>(payload);
            on_confirm(m.delivery_tag, m.multiple, true);
            return;
        }
        case spec::BasicNack::kId.key(): {
            auto m = spec::decode_method_as<spec::BasicNack>(payload);
            on_confirm(m.delivery_tag, m.multiple, false);
            return;
        }
        case spec::BasicCancel::kId.key():
            on_broker_cancel(spec::decode_method_as<spec::BasicCancel>(payload));
            return;
        case spec::ChannelClose::kId.key():
            on_server_close(spec::decode_method_as<spec::ChannelClose>(payload));
            return;
        case spec::ChannelCloseOk::kId.key():
            spec::decode_method_as<spec::ChannelCloseOk>(payload);
            on_close_ok();
            return;
        case spec::ChannelFlow::kId.key(): {
            auto m = spec::decode_method_as<spec::ChannelFlow>(payload);
            if (state_ == State::open) send(spec::ChannelFlowOk{.active = m.active});
            return;
        }
        default:
            // Everything else must be the reply to the outstanding synchronous request.
            on_reply(id, spec::decode_method(payload));
            return;
    }
}

void Channel::on_get_ok(MethodId id, spec::BasicGetOk&& m) {
    if (!pending_ || (pending_->expected[0] != id && pending_->expected[1] != id))
        conn_->protocol_error(spec::kUnexpectedFrame,
                              "basic.get-ok on channel " + std::to_string(id_) + " without a basic.get");
    std::unique_ptr<Delivery> msg = take_message();
    msg->consumer_tag.clear();
    msg->delivery_tag = m.delivery_tag;
    msg->redelivered = m.redelivered;
    msg->exchange = std::move(m.exchange);
    msg->routing_key = std::move(m.routing_key);
    msg->message_count = m.message_count;
    msg->channel = id_;
    begin_content(Incoming::Kind::get_ok, std::move(msg));
}

void Channel::on_return_method(spec::BasicReturn&& m) {
    std::unique_ptr<Delivery> msg = take_message();
    msg->consumer_tag.clear();
    msg->exchange = std::move(m.exchange);
    msg->routing_key = std::move(m.routing_key);
    msg->channel = id_;
    incoming_.reply_code = m.reply_code;
    incoming_.reply_text = std::move(m.reply_text);
    begin_content(Incoming::Kind::ret, std::move(msg));
}

// The broker cancelled a consumer (consumer_cancel_notify): its queue went away.
void Channel::on_broker_cancel(const spec::BasicCancel& m) {
    if (!m.no_wait && state_ == State::open) send(spec::BasicCancelOk{.consumer_tag = m.consumer_tag});
    auto it = consumers_.find(m.consumer_tag);
    if (it == consumers_.end()) return;
    auto consumer = std::move(it->second);
    consumers_.erase(it);
    last_consumer_.reset();
    if (consumer->on_cancel_) {
        try {
            consumer->on_cancel_(consumer->tag_);
        } catch (const std::exception& e) {
            log(LogLevel::error, std::string("amqp: on_cancel callback threw: ") + e.what());
        }
    }
    consumer->end(std::make_exception_ptr(ConsumerCancelledError(m.consumer_tag, true)));
}

void Channel::on_close_ok() {
    if (state_ != State::closing)
        conn_->protocol_error(spec::kCommandInvalid, "channel.close-ok on channel " + std::to_string(id_) +
                                                         ", which was not closing");
    finish(closing_reason_);
}

void Channel::on_reply(MethodId id, spec::Method&& m) {
    if (!pending_ || (pending_->expected[0] != id && pending_->expected[1] != id)) {
        if (state_ == State::closing) return;  // a reply to a request that close() overtook
        conn_->protocol_error(spec::kCommandInvalid,
                              "unexpected " + spec::to_string(id) + " on channel " + std::to_string(id_));
    }
    Promise<Reply> p = std::move(pending_->promise);
    pending_.reset();
    p.set_value(Reply{std::move(m), std::nullopt});
}

void Channel::handle_header(std::string_view payload) {
    if (incoming_.have_header)
        conn_->protocol_error(spec::kUnexpectedFrame,
                              "second content header on channel " + std::to_string(id_) + " for one message");
    Delivery& message = *incoming_.message;
    uint64_t body_size = detail::decode_content_header_into(payload, message.properties);
    if (body_size > conn_->options().max_body_size) {
        conn_->protocol_error(spec::kFrameError, "content body of " + std::to_string(body_size) +
                                                     " bytes on channel " + std::to_string(id_) +
                                                     " exceeds max_body_size " +
                                                     std::to_string(conn_->options().max_body_size));
    }
    incoming_.have_header = true;
    incoming_.body_size = body_size;
    // One copy of the body: reserved to its announced size, filled from the read buffer frame by frame.
    message.body.reserve(static_cast<size_t>(body_size));
    if (body_size == 0) complete_content();
}

void Channel::handle_body(std::string_view payload) {
    if (!incoming_.have_header)
        conn_->protocol_error(
            spec::kUnexpectedFrame,
            "content body frame before the content header on channel " + std::to_string(id_));
    std::string& body = incoming_.message->body;
    if (body.size() + payload.size() > incoming_.body_size) {
        conn_->protocol_error(spec::kFrameError,
                              "content body on channel " + std::to_string(id_) + " longer than the " +
                                  std::to_string(incoming_.body_size) + " bytes its header announced");
    }
    body.append(payload);
    if (body.size() == incoming_.body_size) complete_content();
}

std::unique_ptr<Delivery> Channel::take_message() {
    if (spare_message_) return std::move(spare_message_);
    return std::make_unique<Delivery>();
}

void Channel::recycle_message(std::unique_ptr<Delivery> m) noexcept {
    if (spare_message_ || !m) return;
    // A large body's storage is not kept: the next message is most likely small.
    constexpr size_t kKeepBody = 64 * 1024;
    if (m->body.capacity() > kKeepBody)
        std::string().swap(m->body);
    else
        m->body.clear();
    m->properties.visit_fields([](std::string_view, auto& field) { field.reset(); });
    // exchange, routing_key and consumer_tag keep their values: the next content overwrites them (only
    // when they differ, see handle_deliver).
    m->delivery_tag = 0;
    m->redelivered = false;
    m->message_count.reset();
    m->channel = 0;
    spare_message_ = std::move(m);
}

void Channel::complete_content() {
    receiving_ = false;
    std::unique_ptr<Delivery> message = std::move(incoming_.message);
    switch (incoming_.kind) {
        case Incoming::Kind::deliver:
            on_deliver(std::move(message));
            return;
        case Incoming::Kind::ret:
            on_return(
                ReturnedMessage{incoming_.reply_code, std::move(incoming_.reply_text), std::move(*message)});
            return;
        case Incoming::Kind::get_ok: {
            if (!pending_) return;  // the channel failed meanwhile
            Promise<Reply> p = std::move(pending_->promise);
            pending_.reset();
            Delivery& m = *message;
            spec::BasicGetOk ok{.delivery_tag = m.delivery_tag,
                                .redelivered = m.redelivered,
                                .exchange = m.exchange,
                                .routing_key = m.routing_key,
                                .message_count = m.message_count.value_or(0)};
            p.set_value(Reply{std::move(ok), std::move(m)});
            return;
        }
    }
}

void Channel::on_deliver(std::unique_ptr<Delivery> message) {
    if (state_ != State::open) return;  // closing: the broker requeues what it delivered unacked
    if (!last_consumer_ || last_consumer_->tag_ != message->consumer_tag) {
        auto it = consumers_.find(message->consumer_tag);
        if (it != consumers_.end())
            last_consumer_ = it->second;
        else
            last_consumer_.reset();
    }
    if (!last_consumer_) {
        // No such consumer (cancelled, or never ours): give the message back (py-amqp does the same).
        log(LogLevel::debug, "amqp: rejecting a delivery for unknown consumer tag '" + message->consumer_tag +
                                 "' on channel " + std::to_string(id_));
        send(spec::BasicReject{.delivery_tag = message->delivery_tag, .requeue = true});
        recycle_message(std::move(message));
        return;
    }
    // Kept alive through its callback, which may cancel it.
    std::shared_ptr<ChannelConsumer> consumer = last_consumer_;
    // The Delivery stays ours: whatever the receiver did not move out of it is reused for the next one.
    consumer->deliver(std::move(*message));
    recycle_message(std::move(message));
}

void Channel::on_return(ReturnedMessage&& returned) {
    if (confirm_mode_ && confirms_.expects_returns()) {
        confirms_.returned(returned.message.exchange, returned.message.routing_key,
                           std::make_exception_ptr(MessageReturnedError(
                               returned.reply_code, returned.reply_text, returned.message.exchange,
                               returned.message.routing_key)));
    }
    if (on_return_) {
        try {
            on_return_(std::move(returned));
        } catch (const std::exception& e) {
            log(LogLevel::error, std::string("amqp: the return handler threw: ") + e.what());
        }
        return;
    }
    if (!confirm_mode_) {
        log(LogLevel::warning, "amqp: message returned on channel " + std::to_string(id_) + " (" +
                                   std::to_string(returned.reply_code) + " " + returned.reply_text +
                                   ", exchange '" + returned.message.exchange + "', routing key '" +
                                   returned.message.routing_key + "') and no return handler is set");
    }
}

void Channel::on_confirm(uint64_t delivery_tag, bool multiple, bool ack) {
    if (!confirm_mode_)
        conn_->protocol_error(spec::kCommandInvalid,
                              std::string(ack ? "basic.ack" : "basic.nack") + " from the broker on channel " +
                                  std::to_string(id_) + ", which is not in confirm mode");
    if (!confirms_.settle(delivery_tag, multiple, ack)) {
        log(LogLevel::warning, "amqp: confirm for unknown delivery tag " + std::to_string(delivery_tag) +
                                   " on channel " + std::to_string(id_) + " ignored");
    }
}

void Channel::on_server_close(const spec::ChannelClose& close) {
    try {
        if (!conn_->is_closed()) send(spec::ChannelCloseOk{});
    } catch (...) {
    }
    finish(make_close_error(CloseScope::channel, close.reply_code, close.reply_text, close.class_id,
                            close.method_id, id_));
}

void Channel::finish(std::exception_ptr reason) {
    if (state_ == State::closed) return;
    auto self = shared_from_this();
    state_ = State::closed;
    close_reason_ = reason;
    receiving_ = false;
    incoming_.message.reset();
    // The id is free again before anyone is resumed (a waiter may open a new channel at once).
    conn_->release_channel(id_);

    std::optional<PendingReply> pending = std::move(pending_);
    pending_.reset();
    if (pending) pending->promise.set_exception(reason);
    confirms_.fail_all(reason);
    auto consumers = std::move(consumers_);
    consumers_.clear();
    last_consumer_.reset();
    for (auto& [tag, consumer] : consumers) consumer->end(reason);
    if (close_ok_) {
        Promise<void> p = std::move(*close_ok_);
        close_ok_.reset();
        p.set_value();
    }
    auto waiters = std::move(closed_waiters_);
    closed_waiters_.clear();
    for (auto& w : waiters) w.set_value();
}

}  // namespace squall::amqp
