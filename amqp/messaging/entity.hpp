// Exchange, Queue and Binding: kombu's entities, as values that describe what to declare.
//
//     messaging::Exchange media{"media", "direct"};                   // durable, not auto-delete
//     messaging::Queue video{"video", media, "video"};
//     messaging::Queue dlq{"jobs", media, "jobs", {.max_length = 1000, .queue_type = "quorum"}};
//     std::string name = co_await messaging::declare(*channel, video);  // exchange, queue, binding
//
// Defaults follow kombu (DESIGN.md section 9): entities are durable and not auto-delete; an exchange named
// "" (the default exchange) or "amq.*" (predeclared by the broker) is never declared. Declaring is
// idempotent on the broker's side; maybe_declare() skips entities already declared on the same connection
// (the cache lives in BrokerConnection and is reset on reconnect), except auto-delete entities and queues
// with x-expires, which may have vanished since (kombu's can_cache_declaration), and server-named queues.
//
// Queue::name may be empty: the broker names the queue; declare() returns the name it chose.
// The typed QueueOptions fields (message_ttl, max_length, ...) are shorthands for queue_arguments entries
// (x-message-ttl, x-max-length, ...); an entry in queue_arguments wins over its shorthand.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <variant>
#include <vector>

#include "squall/amqp/field_table.hpp"
#include "squall/coro/task.hpp"

namespace squall::amqp {
class Channel;
}

namespace squall::amqp::messaging {

// An exchange's declaration flags (kombu's defaults: durable, not auto-delete).
struct ExchangeOptions {
    bool durable = true;       // survives a broker restart
    bool auto_delete = false;  // deleted when its last binding goes
    bool internal = false;     // no direct publishing: only exchange-to-exchange bindings feed it
    FieldTable arguments{};    // exchange.declare arguments, e.g. alternate-exchange
};

// kombu's Exchange: a name, a type and how to declare it, as a value.
class Exchange {
public:
    // type: direct, fanout, topic, headers (or a plugin's type such as x-delayed-message).
    Exchange(std::string name = {}, std::string type = "direct", ExchangeOptions options = {})
        : name(std::move(name)), type(std::move(type)), options(std::move(options)) {}
    Exchange(const char* name) : Exchange(std::string(name)) {}  // a direct exchange of this name

    std::string name;         // "" is the default exchange
    std::string type;         // direct, fanout, topic, headers, ...
    ExchangeOptions options;  // how it is declared

    // False for "" and "amq.*": those exist on every broker and are never declared.
    bool can_declare() const;
    // An auto-delete exchange may vanish, so its declaration is not cached.
    bool can_cache_declaration() const { return !options.auto_delete; }
    // Identity for the declaration cache: equal keys declare the same thing.
    std::string cache_key() const;
};

// One further binding of a queue (kombu's binding): the exchange, the routing key, the arguments.
struct Binding {
    Exchange exchange{};        // declared with the queue
    std::string routing_key{};  // the binding's routing key
    FieldTable arguments{};     // binding arguments, e.g. x-match for a headers exchange
};

// A queue's declaration flags and arguments (kombu's defaults: durable, not exclusive, not auto-delete).
struct QueueOptions {
    bool durable = true;              // survives a broker restart
    bool exclusive = false;           // used by one connection only, deleted when it closes
    bool auto_delete = false;         // deleted when its last consumer goes
    FieldTable queue_arguments{};     // queue.declare arguments (the shorthands below add to them)
    FieldTable binding_arguments{};   // for the binding to the queue's own exchange
    FieldTable consumer_arguments{};  // basic.consume arguments (e.g. x-priority, x-stream-offset)
    // Further bindings (kombu's `bindings`); their exchanges are declared too.
    std::vector<Binding> bindings{};
    // Shorthands for queue_arguments.
    std::optional<std::chrono::milliseconds> message_ttl{};  // x-message-ttl
    std::optional<std::chrono::milliseconds> expires{};      // x-expires
    std::optional<int64_t> max_length{};                     // x-max-length
    std::optional<int64_t> max_length_bytes{};               // x-max-length-bytes
    std::optional<uint8_t> max_priority{};                   // x-max-priority
    std::optional<std::string> dead_letter_exchange{};       // x-dead-letter-exchange
    std::optional<std::string> dead_letter_routing_key{};    // x-dead-letter-routing-key
    std::optional<std::string> queue_type{};                 // x-queue-type: classic, quorum, stream
};

// kombu's Queue: a name, the exchange and routing key it is bound with, and how to declare it, as a value.
class Queue {
public:
    // An empty name: the broker names the queue when it is declared.
    Queue(std::string name = {}, Exchange exchange = {}, std::string routing_key = {},
          QueueOptions options = {})
        : name(std::move(name)),
          exchange(std::move(exchange)),
          routing_key(std::move(routing_key)),
          options(std::move(options)) {}
    Queue(const char* name) : Queue(std::string(name)) {}  // on the default exchange

    std::string name;         // "" for a server-named queue
    Exchange exchange;        // bound to it with routing_key ("" : the default exchange, no binding)
    std::string routing_key;  // the binding's routing key
    QueueOptions options;     // how it is declared

    // queue_arguments with the shorthands merged in.
    FieldTable arguments() const;
    // False for a queue that may vanish (auto-delete, x-expires) or is server-named.
    bool can_cache_declaration() const;
    // Identity for the declaration cache: equal keys declare the same thing.
    std::string cache_key() const;
};

// What maybe_declare and PublishOptions::declare take: an exchange or a queue.
using Entity = std::variant<Exchange, Queue>;

// The names of entities declared on one connection. maybe_declare() consults and fills it.
class DeclarationCache {
public:
    // By cache_key(): whether it was declared, record a declaration, forget all, how many.
    bool contains(const std::string& key) const { return keys_.count(key) != 0; }
    void insert(std::string key) { keys_.insert(std::move(key)); }
    void clear() { keys_.clear(); }
    std::size_t size() const { return keys_.size(); }

private:
    std::unordered_set<std::string> keys_;
};

// exchange.declare (nothing for "" and amq.*).
Task<void> declare(Channel& channel, Exchange exchange);
// The queue's exchange and the exchanges of its bindings, queue.declare, then the bindings. Returns the
// queue's name (the broker's choice when Queue::name is empty).
Task<std::string> declare(Channel& channel, Queue queue);
// What maybe_declare() did.
struct MaybeDeclared {
    std::string name;       // the queue's name (the exchange's for an exchange)
    bool declared = false;  // declared now (false: the cache had it)
};
// Declares unless `cache` holds the entity; caches it when allowed. Returns the (queue) name and whether
// it declared now.
Task<MaybeDeclared> maybe_declare(Channel& channel, Entity entity, DeclarationCache& cache);

}  // namespace squall::amqp::messaging
