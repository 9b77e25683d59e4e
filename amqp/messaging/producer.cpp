#include "squall/amqp/messaging/producer.hpp"

#include <algorithm>

#include "squall/amqp/errors.hpp"
#include "squall/amqp/messaging/compression.hpp"
#include "squall/coro/log.hpp"

namespace squall::amqp::messaging {

namespace {

void log_return(ReturnedMessage&& r) {
    log(LogLevel::warning, "messaging: message to exchange '" + r.message.exchange + "' with routing key '" +
                               r.message.routing_key + "' was returned: " + std::to_string(r.reply_code) +
                               " " + r.reply_text);
}

bool contains_entity(const std::vector<Entity>& list, const Exchange& ex) {
    const std::string key = ex.cache_key();
    return std::any_of(list.begin(), list.end(), [&](const Entity& e) {
        const auto* other = std::get_if<Exchange>(&e);
        return other && other->cache_key() == key;
    });
}

}  // namespace

Producer::Producer(std::shared_ptr<BrokerConnection> connection, ProducerOptions options)
    : state_(std::make_shared<State>()) {
    if (!connection) throw UsageError("messaging: Producer needs a connection");
    state_->connection = std::move(connection);
    state_->options = std::move(options);
    serializer_type(state_->options.serializer);  // validates names early
    if (!state_->options.compression.empty()) compression_content_type(state_->options.compression);
}

Producer::Producer(std::shared_ptr<BrokerConnection> connection)
    : Producer(std::move(connection), ProducerOptions()) {}

Producer::Producer(std::shared_ptr<Channel> channel, ProducerOptions options)
    : state_(std::make_shared<State>()) {
    if (!channel) throw UsageError("messaging: Producer needs a channel");
    state_->channel = std::move(channel);
    state_->options = std::move(options);
    serializer_type(state_->options.serializer);
    if (!state_->options.compression.empty()) compression_content_type(state_->options.compression);
}

Producer::Producer(std::shared_ptr<Channel> channel) : Producer(std::move(channel), ProducerOptions()) {}

bool Producer::confirms() const noexcept {
    const auto& o = state_->options;
    return o.confirm.value_or(o.exchange.options.durable);
}

Producer::Prepared Producer::prepare(std::string body, const PublishOptions& o) const {
    const ProducerOptions& po = state_->options;
    Prepared m;
    m.exchange = o.exchange ? o.exchange->name : po.exchange.name;
    m.routing_key = o.routing_key ? *o.routing_key : po.routing_key;
    m.mandatory = o.mandatory;
    m.timeout = o.timeout;
    BasicProperties& p = m.properties;
    if (!o.content_type.empty()) {
        // The caller's content type: no serializer runs (kombu: a str gets utf-8).
        p.content_type = o.content_type;
        p.content_encoding = o.content_encoding.empty() ? std::string("utf-8") : o.content_encoding;
    } else {
        SerializedType st = serializer_type(o.serializer ? *o.serializer : po.serializer);
        p.content_type = std::move(st.content_type);
        p.content_encoding = o.content_encoding.empty() ? std::move(st.content_encoding) : o.content_encoding;
    }
    FieldTable headers = o.headers;
    const std::string compression = o.compression ? *o.compression : po.compression;
    if (!compression.empty()) {
        headers.set("compression", compression_content_type(compression));
        m.body = compress(body, compression);
    } else {
        m.body = std::move(body);
    }
    if (!headers.empty()) p.headers = std::move(headers);
    p.delivery_mode = o.delivery_mode.value_or(kDeliveryModePersistent);
    if (o.priority) p.priority = o.priority;
    if (o.expiration) p.expiration = std::to_string(std::max<int64_t>(o.expiration->count(), 0));
    if (!o.correlation_id.empty()) p.correlation_id = o.correlation_id;
    if (!o.reply_to.empty()) p.reply_to = o.reply_to;
    if (!o.message_id.empty()) p.message_id = o.message_id;
    if (!o.type.empty()) p.type = o.type;
    if (o.timestamp) p.timestamp = Timestamp{*o.timestamp};
    if (po.auto_declare && po.exchange.can_declare() && !contains_entity(o.declare, po.exchange))
        m.declare.push_back(po.exchange);
    m.declare.insert(m.declare.end(), o.declare.begin(), o.declare.end());
    return m;
}

Task<std::shared_ptr<Channel>> Producer::ensure_channel(std::shared_ptr<State> state) {
    auto usable = [&] {
        if (!state->channel || !state->channel->is_open()) return false;
        return !state->connection || state->generation == state->connection->generation();
    };
    if (usable()) co_return state->channel;
    co_await state->channel_lock.acquire();
    SemaphoreGuard guard(state->channel_lock);
    if (usable()) co_return state->channel;
    const bool confirm = state->options.confirm.value_or(state->options.exchange.options.durable);
    if (!state->connection) {
        // Bare channel: it is the caller's; a closed one stays closed.
        if (!state->channel->is_open()) {
            if (auto reason = state->channel->close_reason()) std::rethrow_exception(reason);
            throw UsageError("messaging: the producer's channel is not open");
        }
        co_return state->channel;
    }
    auto conn = state->connection;
    auto t = conn->channel();
    std::shared_ptr<Channel> ch = co_await std::move(t);
    if (confirm) {
        auto c = ch->confirm_select();
        co_await std::move(c);
    }
    auto on_return = state->options.on_return;
    ch->set_return_handler(on_return ? on_return : std::function<void(ReturnedMessage &&)>(log_return));
    state->channel = ch;
    state->generation = conn->generation();
    co_return ch;
}

Task<void> Producer::maybe_declare(std::shared_ptr<State> state, std::shared_ptr<Channel> ch, Entity entity) {
    if (state->connection) {
        auto t = state->connection->maybe_declare(std::move(entity));
        co_await std::move(t);
    } else {
        auto t = messaging::maybe_declare(*ch, std::move(entity), state->local_cache);
        co_await std::move(t);
    }
}

Task<void> Producer::publish_once(std::shared_ptr<State> state, std::shared_ptr<Prepared> m) {
    auto ct = ensure_channel(state);
    std::shared_ptr<Channel> ch = co_await std::move(ct);
    if (!state->connection && state->options.confirm.value_or(state->options.exchange.options.durable) &&
        !ch->confirm_mode()) {
        auto c = ch->confirm_select();
        co_await std::move(c);
    }
    for (const Entity& e : m->declare) {
        auto t = maybe_declare(state, ch, e);
        co_await std::move(t);
    }
    amqp::BasicPublishOptions po;
    po.mandatory = m->mandatory;
    po.timeout = m->timeout;
    auto t = ch->publish(m->exchange, m->routing_key, m->body, m->properties, po);
    co_await std::move(t);
}

Task<void> Producer::publish(std::string body, PublishOptions options) {
    auto state = state_;
    auto m = std::make_shared<Prepared>(prepare(std::move(body), options));
    const bool retry = options.retry.value_or(state->options.retry);
    if (!retry || !state->connection) {
        auto t = publish_once(state, m);
        co_await std::move(t);
        co_return;
    }
    RetryPolicy policy = options.retry_policy ? *options.retry_policy : state->options.retry_policy;
    auto conn = state->connection;
    auto attempt = [state, m] { return publish_once(state, m); };
    auto t = conn->ensure(attempt, std::move(policy));
    co_await std::move(t);
}

Task<void> Producer::publish(std::string body) {
    return publish(std::move(body), PublishOptions());
}

Task<void> Producer::declare() {
    auto state = state_;
    if (!state->options.exchange.can_declare()) co_return;
    if (state->connection) {
        auto t = state->connection->maybe_declare(state->options.exchange);
        co_await std::move(t);
        co_return;
    }
    auto ct = ensure_channel(state);
    std::shared_ptr<Channel> ch = co_await std::move(ct);
    auto t = messaging::maybe_declare(*ch, state->options.exchange, state->local_cache);
    co_await std::move(t);
}

}  // namespace squall::amqp::messaging
