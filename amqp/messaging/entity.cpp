#include "squall/amqp/messaging/entity.hpp"

#include "squall/amqp/channel.hpp"

namespace squall::amqp::messaging {

namespace {

// Length-prefixed parts, so no two different entities share a key.
void add_part(std::string& key, std::string_view part) {
    key += std::to_string(part.size());
    key += ':';
    key += part;
}

void add_table(std::string& key, const FieldTable& table) {
    std::string bytes;
    encode_field_table(bytes, table);
    add_part(key, bytes);
}

std::string flags(std::initializer_list<bool> bits) {
    std::string s;
    for (bool b : bits) s += b ? '1' : '0';
    return s;
}

void set_default(FieldTable& args, const char* key, FieldValue value) {
    if (!args.contains(key)) args.set(key, std::move(value));
}

}  // namespace

bool Exchange::can_declare() const {
    return !name.empty() && name.rfind("amq.", 0) != 0;
}

std::string Exchange::cache_key() const {
    std::string key = "exchange;";
    add_part(key, name);
    add_part(key, type);
    add_part(key, flags({options.durable, options.auto_delete, options.internal}));
    add_table(key, options.arguments);
    return key;
}

FieldTable Queue::arguments() const {
    FieldTable args = options.queue_arguments;
    const QueueOptions& o = options;
    if (o.message_ttl) set_default(args, "x-message-ttl", static_cast<int64_t>(o.message_ttl->count()));
    if (o.expires) set_default(args, "x-expires", static_cast<int64_t>(o.expires->count()));
    if (o.max_length) set_default(args, "x-max-length", *o.max_length);
    if (o.max_length_bytes) set_default(args, "x-max-length-bytes", *o.max_length_bytes);
    if (o.max_priority) set_default(args, "x-max-priority", *o.max_priority);
    if (o.dead_letter_exchange) set_default(args, "x-dead-letter-exchange", *o.dead_letter_exchange);
    if (o.dead_letter_routing_key) set_default(args, "x-dead-letter-routing-key", *o.dead_letter_routing_key);
    if (o.queue_type) set_default(args, "x-queue-type", *o.queue_type);
    return args;
}

bool Queue::can_cache_declaration() const {
    return !name.empty() && !options.auto_delete && !arguments().contains("x-expires");
}

std::string Queue::cache_key() const {
    std::string key = "queue;";
    add_part(key, name);
    add_part(key, exchange.cache_key());
    add_part(key, routing_key);
    add_part(key, flags({options.durable, options.exclusive, options.auto_delete}));
    add_table(key, arguments());
    add_table(key, options.binding_arguments);
    for (const Binding& b : options.bindings) {
        add_part(key, b.exchange.cache_key());
        add_part(key, b.routing_key);
        add_table(key, b.arguments);
    }
    return key;
}

Task<void> declare(Channel& channel, Exchange exchange) {
    if (!exchange.can_declare()) co_return;
    ExchangeDeclareOptions o;
    o.durable = exchange.options.durable;
    o.auto_delete = exchange.options.auto_delete;
    o.internal = exchange.options.internal;
    o.arguments = exchange.options.arguments;
    auto t = channel.exchange_declare(exchange.name, exchange.type, std::move(o));
    co_await std::move(t);
}

Task<std::string> declare(Channel& channel, Queue queue) {
    {
        auto t = declare(channel, queue.exchange);
        co_await std::move(t);
    }
    for (const Binding& b : queue.options.bindings) {
        auto t = declare(channel, b.exchange);
        co_await std::move(t);
    }
    QueueDeclareOptions qo;
    qo.durable = queue.options.durable;
    qo.exclusive = queue.options.exclusive;
    qo.auto_delete = queue.options.auto_delete;
    qo.arguments = queue.arguments();
    auto declared = channel.queue_declare(queue.name, std::move(qo));
    QueueDeclareResult result = co_await std::move(declared);
    // The default exchange binds every queue by name already; kombu binds only to named exchanges.
    if (!queue.exchange.name.empty()) {
        BindOptions bo;
        bo.arguments = queue.options.binding_arguments;
        auto t = channel.queue_bind(result.queue, queue.exchange.name, queue.routing_key, std::move(bo));
        co_await std::move(t);
    }
    for (const Binding& b : queue.options.bindings) {
        if (b.exchange.name.empty()) continue;
        BindOptions bo;
        bo.arguments = b.arguments;
        auto t = channel.queue_bind(result.queue, b.exchange.name, b.routing_key, std::move(bo));
        co_await std::move(t);
    }
    co_return result.queue;
}

Task<MaybeDeclared> maybe_declare(Channel& channel, Entity entity, DeclarationCache& cache) {
    if (auto* ex = std::get_if<Exchange>(&entity)) {
        if (!ex->can_declare()) co_return MaybeDeclared{ex->name, false};
        std::string key = ex->cache_key();
        if (ex->can_cache_declaration() && cache.contains(key)) co_return MaybeDeclared{ex->name, false};
        auto t = declare(channel, *ex);
        co_await std::move(t);
        if (ex->can_cache_declaration()) cache.insert(std::move(key));
        co_return MaybeDeclared{ex->name, true};
    }
    Queue& q = std::get<Queue>(entity);
    std::string key = q.cache_key();
    if (q.can_cache_declaration() && cache.contains(key)) co_return MaybeDeclared{q.name, false};
    auto t = declare(channel, q);
    std::string name = co_await std::move(t);
    if (q.can_cache_declaration()) cache.insert(std::move(key));
    co_return MaybeDeclared{std::move(name), true};
}

}  // namespace squall::amqp::messaging
