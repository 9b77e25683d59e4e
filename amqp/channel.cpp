#include "squall/amqp/channel.hpp"

#include "squall/amqp/connection.hpp"
#include "squall/amqp/detail/channel_send.hpp"
#include "squall/amqp/detail/wire.hpp"
#include "squall/amqp/errors.hpp"
#include "squall/amqp/frame.hpp"
#include "squall/coro/log.hpp"
#include "squall/coro/start.hpp"
#include "squall/ioloop/async.hpp"

namespace squall::amqp {

using spec::MethodId;

Channel::Channel(Key, std::shared_ptr<Connection> connection, uint16_t id)
    : conn_(std::move(connection)), id_(id) {}

Channel::~Channel() = default;

Future<void> Channel::wait_closed() {
    if (state_ == State::closed) return make_ready_future();
    closed_waiters_.emplace_back();
    return closed_waiters_.back().get_future();
}

void Channel::throw_if_unusable() const {
    if (state_ == State::closed || state_ == State::closing) [[unlikely]]
        throw_unusable();
    conn_->check_writable();
}

void Channel::throw_unusable() const {
    if (state_ == State::closed) std::rethrow_exception(close_reason_);
    throw UsageError("amqp: channel " + std::to_string(id_) + " is closing");
}

template <class M, class Hook>
Task<Channel::Reply> Channel::call(M method, MethodId r1, MethodId r2, bool nowait, Hook before_send) {
    auto self = shared_from_this();
    co_await rpc_lock_.acquire();
    SemaphoreGuard guard(rpc_lock_);
    throw_if_unusable();
    if (nowait) {
        before_send();
        send(method);
        co_return Reply{};
    }
    pending_.emplace(PendingReply{{r1, r2}, Promise<Reply>()});
    Future<Reply> reply = pending_->promise.get_future();
    try {
        before_send();
        send(method);
    } catch (...) {
        pending_.reset();
        throw;
    }
    co_return co_await std::move(reply);
}

// --- channel class

Task<void> Channel::open() {
    spec::ChannelOpen method{};
    co_await call(std::move(method), spec::ChannelOpenOk::kId);
    if (state_ == State::opening) state_ = State::open;
}

Task<void> Channel::close(uint16_t reply_code, std::string reply_text) {
    auto self = shared_from_this();
    if (state_ == State::closed) co_return;
    if (state_ == State::closing) {
        co_await wait_closed();
        co_return;
    }
    state_ = State::closing;
    closing_reason_ = std::make_exception_ptr(ChannelClosedError(id_, reply_code, reply_text));
    close_ok_.emplace();
    Future<void> done = close_ok_->get_future();
    try {
        send(spec::ChannelClose{
            .reply_code = reply_code, .reply_text = std::move(reply_text), .class_id = 0, .method_id = 0});
    } catch (...) {
        finish(closing_reason_);
        co_return;
    }
    co_await done;
}

Task<bool> Channel::flow(bool active) {
    spec::ChannelFlow method{.active = active};
    Reply r = co_await call(std::move(method), spec::ChannelFlowOk::kId);
    co_return std::get<spec::ChannelFlowOk>(r.method).active;
}

// --- exchange class

Task<void> Channel::exchange_declare(std::string exchange, std::string type, ExchangeDeclareOptions o) {
    spec::ExchangeDeclare method{.exchange = std::move(exchange),
                                 .type = std::move(type),
                                 .passive = o.passive,
                                 .durable = o.durable,
                                 .auto_delete = o.auto_delete,
                                 .internal = o.internal,
                                 .no_wait = o.nowait,
                                 .arguments = std::move(o.arguments)};
    co_await call(std::move(method), spec::ExchangeDeclareOk::kId, {}, o.nowait);
}

Task<void> Channel::exchange_delete(std::string exchange, ExchangeDeleteOptions o) {
    spec::ExchangeDelete method{
        .exchange = std::move(exchange), .if_unused = o.if_unused, .no_wait = o.nowait};
    co_await call(std::move(method), spec::ExchangeDeleteOk::kId, {}, o.nowait);
}

Task<void> Channel::exchange_bind(std::string destination, std::string source, std::string routing_key,
                                  BindOptions o) {
    spec::ExchangeBind method{.destination = std::move(destination),
                              .source = std::move(source),
                              .routing_key = std::move(routing_key),
                              .no_wait = o.nowait,
                              .arguments = std::move(o.arguments)};
    co_await call(std::move(method), spec::ExchangeBindOk::kId, {}, o.nowait);
}

Task<void> Channel::exchange_unbind(std::string destination, std::string source, std::string routing_key,
                                    BindOptions o) {
    spec::ExchangeUnbind method{.destination = std::move(destination),
                                .source = std::move(source),
                                .routing_key = std::move(routing_key),
                                .no_wait = o.nowait,
                                .arguments = std::move(o.arguments)};
    co_await call(std::move(method), spec::ExchangeUnbindOk::kId, {}, o.nowait);
}

// --- queue class

Task<QueueDeclareResult> Channel::queue_declare(std::string queue, QueueDeclareOptions o) {
    std::string name = queue;
    spec::QueueDeclare method{.queue = std::move(queue),
                              .passive = o.passive,
                              .durable = o.durable,
                              .exclusive = o.exclusive,
                              .auto_delete = o.auto_delete,
                              .no_wait = o.nowait,
                              .arguments = std::move(o.arguments)};
    Reply r = co_await call(std::move(method), spec::QueueDeclareOk::kId, {}, o.nowait);
    if (o.nowait) co_return QueueDeclareResult{std::move(name), 0, 0};
    auto& ok = std::get<spec::QueueDeclareOk>(r.method);
    co_return QueueDeclareResult{std::move(ok.queue), ok.message_count, ok.consumer_count};
}

Task<void> Channel::queue_bind(std::string queue, std::string exchange, std::string routing_key,
                               BindOptions o) {
    spec::QueueBind method{.queue = std::move(queue),
                           .exchange = std::move(exchange),
                           .routing_key = std::move(routing_key),
                           .no_wait = o.nowait,
                           .arguments = std::move(o.arguments)};
    co_await call(std::move(method), spec::QueueBindOk::kId, {}, o.nowait);
}

Task<void> Channel::queue_unbind(std::string queue, std::string exchange, std::string routing_key,
                                 BindOptions o) {
    spec::QueueUnbind method{.queue = std::move(queue),
                             .exchange = std::move(exchange),
                             .routing_key = std::move(routing_key),
                             .arguments = std::move(o.arguments)};
    co_await call(std::move(method), spec::QueueUnbindOk::kId);
}

Task<uint32_t> Channel::queue_purge(std::string queue, bool nowait) {
    spec::QueuePurge method{.queue = std::move(queue), .no_wait = nowait};
    Reply r = co_await call(std::move(method), spec::QueuePurgeOk::kId, {}, nowait);
    if (nowait) co_return 0;
    co_return std::get<spec::QueuePurgeOk>(r.method).message_count;
}

Task<uint32_t> Channel::queue_delete(std::string queue, QueueDeleteOptions o) {
    spec::QueueDelete method{
        .queue = std::move(queue), .if_unused = o.if_unused, .if_empty = o.if_empty, .no_wait = o.nowait};
    Reply r = co_await call(std::move(method), spec::QueueDeleteOk::kId, {}, o.nowait);
    if (o.nowait) co_return 0;
    co_return std::get<spec::QueueDeleteOk>(r.method).message_count;
}

// --- basic class

Task<void> Channel::basic_qos(QosOptions o) {
    spec::BasicQos method{
        .prefetch_size = o.prefetch_size, .prefetch_count = o.prefetch_count, .global = o.global};
    co_await call(std::move(method), spec::BasicQosOk::kId);
}

Task<std::shared_ptr<ChannelConsumer>> Channel::basic_consume(std::string queue, DeliveryCallback on_message,
                                                              ConsumeOptions options) {
    if (!on_message) throw UsageError("amqp: basic_consume needs a callback (use consume() for next())");
    return start_consumer(std::move(queue), std::move(on_message), std::move(options));
}

Task<std::shared_ptr<ChannelConsumer>> Channel::basic_consume(std::string queue,
                                                              DeliveryCallback on_message) {
    return basic_consume(std::move(queue), std::move(on_message), ConsumeOptions{});
}

Task<std::shared_ptr<ChannelConsumer>> Channel::consume(std::string queue) {
    return start_consumer(std::move(queue), nullptr, ConsumeOptions{});
}

Task<std::shared_ptr<ChannelConsumer>> Channel::consume(std::string queue, ConsumeOptions options) {
    return start_consumer(std::move(queue), nullptr, std::move(options));
}

Task<std::shared_ptr<ChannelConsumer>> Channel::start_consumer(std::string queue, DeliveryCallback callback,
                                                               ConsumeOptions o) {
    auto self = shared_from_this();
    auto consumer = std::make_shared<ChannelConsumer>(weak_from_this(), queue, std::move(callback),
                                                      std::move(o.on_cancel));
    std::string tag = o.consumer_tag;
    if (o.nowait && tag.empty())
        tag = "squall.ctag-" + std::to_string(id_) + "." + std::to_string(next_consumer_tag_++);
    if (!tag.empty() && consumers_.count(tag))
        throw UsageError("amqp: consumer tag '" + tag + "' is already in use on channel " +
                         std::to_string(id_));
    spec::BasicConsume method{.queue = std::move(queue),
                              .consumer_tag = tag,
                              .no_local = o.no_local,
                              .no_ack = o.no_ack,
                              .exclusive = o.exclusive,
                              .no_wait = o.nowait,
                              .arguments = std::move(o.arguments)};
    if (o.nowait) {
        // Registered before the method leaves: deliveries may follow it at once.
        co_await call(std::move(method), {}, {}, true, [&] {
            consumer->tag_ = tag;
            consumers_[tag] = consumer;
            last_consumer_.reset();
        });
        co_return consumer;
    }
    Reply r = co_await call(std::move(method), spec::BasicConsumeOk::kId);
    // Registered inline as the reply is dispatched, so no delivery after consume-ok can miss it.
    consumer->tag_ = std::move(std::get<spec::BasicConsumeOk>(r.method).consumer_tag);
    consumers_[consumer->tag_] = consumer;
    last_consumer_.reset();
    co_return consumer;
}

Task<void> Channel::basic_cancel(std::string consumer_tag, bool nowait) {
    auto self = shared_from_this();
    spec::BasicCancel method{.consumer_tag = consumer_tag, .no_wait = nowait};
    co_await call(std::move(method), spec::BasicCancelOk::kId, {}, nowait);
    auto it = consumers_.find(consumer_tag);
    if (it != consumers_.end()) {
        auto consumer = std::move(it->second);
        consumers_.erase(it);
        last_consumer_.reset();
        consumer->end(std::make_exception_ptr(ConsumerCancelledError(consumer_tag, false)));
    }
}

namespace {

// The slow path of a publish that left the connection over its high-water mark: the drain, then the confirm.
Task<void> drain_then_confirm(std::shared_ptr<Connection> conn,
                              std::optional<std::chrono::milliseconds> timeout, Confirmation confirm) {
    auto drained = conn->wait_writable(timeout);
    co_await std::move(drained);
    co_await confirm;
}

}  // namespace

Confirmation Channel::basic_publish(std::string_view exchange, std::string_view routing_key,
                                    std::string_view body, const BasicProperties& properties,
                                    BasicPublishOptions options) {
    Confirmation confirmation = write_publish(exchange, routing_key, body, properties, options);
    if (conn_->over_high_water()) [[unlikely]]
        return Confirmation(start(drain_then_confirm(conn_, options.timeout, std::move(confirmation))));
    return confirmation;
}

Confirmation Channel::write_publish(std::string_view exchange, std::string_view routing_key,
                                    std::string_view body, const BasicProperties& properties,
                                    const BasicPublishOptions& options) {
    if (options.immediate) {
        throw UsageError(
            "amqp: basic.publish with immediate=true is refused: RabbitMQ does not implement it (it would "
            "close "
            "the connection with 540 NOT_IMPLEMENTED); use mandatory, or a per-message TTL of 0");
    }
    throw_if_unusable();
    append_publish(conn_->out_buffer(), id_, exchange, routing_key, options.mandatory ? 1 : 0, properties,
                   body, conn_->frame_max());
    conn_->flush_out();
    Confirmation confirmation;
    if (confirm_mode_) confirmation = confirms_.track(options.mandatory, exchange, routing_key);
    return confirmation;
}

Task<void> Channel::publish(std::string exchange, std::string routing_key, std::string body,
                            BasicProperties properties, BasicPublishOptions options) {
    auto self = shared_from_this();
    auto conn = conn_;
    const auto bound = options.timeout ? options.timeout : conn->options().blocked_timeout;
    const TimePoint started = conn->loop().time();
    if (conn->blocked()) {
        Future<void> unblocked = conn->wait_unblocked();
        if (bound) {
            bool expired = false;
            try {
                co_await with_timeout(*bound, unblocked);
            } catch (const TimeoutError&) {
                expired = true;
            }
            if (expired) {
                throw TimeoutError("amqp: the broker blocked the connection (" + conn->blocked_reason() +
                                   ") for longer than the publish timeout of " +
                                   std::to_string(bound->count()) + " ms");
            }
        } else {
            co_await unblocked;
        }
    }
    if (conn->over_high_water()) {
        std::optional<std::chrono::milliseconds> left;
        if (bound)
            left = std::chrono::ceil<std::chrono::milliseconds>(
                std::max<Duration>(*bound - (conn->loop().time() - started), Duration::zero()));
        auto drained = conn->wait_writable(left);
        co_await std::move(drained);
    }
    // Waited above: this message may take the buffer over the mark; the next publish waits for it.
    Confirmation confirmation = write_publish(exchange, routing_key, body, properties, options);
    co_await confirmation;
}

Task<std::optional<Delivery>> Channel::basic_get(std::string queue, bool no_ack) {
    spec::BasicGet method{.queue = std::move(queue), .no_ack = no_ack};
    Reply r = co_await call(std::move(method), spec::BasicGetOk::kId, spec::BasicGetEmpty::kId);
    co_return std::move(r.message);
}

void Channel::basic_ack(uint64_t delivery_tag, bool multiple) {
    throw_if_unusable();
    append_tag_method_frame(conn_->out_buffer(), id_, spec::BasicAck::kId, delivery_tag, multiple ? 1 : 0);
    conn_->flush_out_deferrable();
}

void Channel::basic_nack(uint64_t delivery_tag, NackOptions o) {
    throw_if_unusable();
    append_tag_method_frame(conn_->out_buffer(), id_, spec::BasicNack::kId, delivery_tag,
                            static_cast<uint8_t>((o.multiple ? 1 : 0) | (o.requeue ? 2 : 0)));
    conn_->flush_out_deferrable();
}

void Channel::basic_reject(uint64_t delivery_tag, bool requeue) {
    throw_if_unusable();
    append_tag_method_frame(conn_->out_buffer(), id_, spec::BasicReject::kId, delivery_tag, requeue ? 1 : 0);
    conn_->flush_out_deferrable();
}

Task<void> Channel::basic_recover(bool requeue) {
    spec::BasicRecover method{.requeue = requeue};
    co_await call(std::move(method), spec::BasicRecoverOk::kId);
}

// --- confirm and tx classes

Task<void> Channel::confirm_select(bool nowait) {
    // Confirm mode (and delivery-tag counting) starts when the method is sent, not when the reply comes:
    // messages published meanwhile are already counted by the broker.
    spec::ConfirmSelect method{.nowait = nowait};
    co_await call(std::move(method), spec::ConfirmSelectOk::kId, {}, nowait,
                  [this] { confirm_mode_ = true; });
}

Task<void> Channel::tx_select() {
    spec::TxSelect method{};
    co_await call(std::move(method), spec::TxSelectOk::kId);
}

Task<void> Channel::tx_commit() {
    spec::TxCommit method{};
    co_await call(std::move(method), spec::TxCommitOk::kId);
}

Task<void> Channel::tx_rollback() {
    spec::TxRollback method{};
    co_await call(std::move(method), spec::TxRollbackOk::kId);
}

}  // namespace squall::amqp
