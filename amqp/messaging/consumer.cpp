#include "squall/amqp/messaging/consumer.hpp"

#include <algorithm>
#include <random>

#include "squall/amqp/errors.hpp"
#include "squall/amqp/messaging/errors.hpp"
#include "squall/coro/locks.hpp"
#include "squall/coro/log.hpp"

namespace squall::amqp::messaging {

namespace {

using MessageOrEnd = std::variant<Message, std::exception_ptr>;

// Trusted content needs no decoding (kombu's TRUSTED_CONTENT); pickle is refused unless accepted.
bool content_allowed(const std::string& type, const std::optional<std::vector<std::string>>& accept) {
    if (type == "application/data" || type == "application/text") return true;
    if (accept) return std::find(accept->begin(), accept->end(), type) != accept->end();
    return type != "application/x-python-serialize";
}

std::string new_tag_prefix() {
    std::mt19937_64 rng{std::random_device{}()};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
    return std::string("squall.") + buf + ".";
}

}  // namespace

class Consumer::State : public Recoverable, public std::enable_shared_from_this<State> {
public:
    std::shared_ptr<BrokerConnection> connection;
    std::shared_ptr<Channel> channel;
    std::vector<Queue> queues;
    std::vector<std::string> names;
    std::vector<std::string> tags;
    ConsumerOptions options;
    DeclarationCache local_cache;
    squall::Queue<MessageOrEnd> buffer;
    Semaphore start_lock{1};
    bool started = false;
    bool cancelled = false;
    bool ended = false;

    bool has_callbacks() const { return options.on_message || !options.callbacks.empty(); }

    // qos, declarations (when declare_here) and basic.consume of every queue on `ch`.
    Task<void> start_on(std::shared_ptr<Channel> ch, DeclarationCache* cache) {
        auto self = shared_from_this();
        if (options.prefetch_count > 0) {
            QosOptions q;
            q.prefetch_count = options.prefetch_count;
            auto t = ch->basic_qos(q);
            co_await std::move(t);
        }
        if (cache && options.auto_declare) {
            for (std::size_t i = 0; i < queues.size(); ++i) {
                auto t = messaging::maybe_declare(*ch, queues[i], *cache);
                MaybeDeclared d = co_await std::move(t);
                names[i] = d.name;
            }
        }
        static const std::string prefix = new_tag_prefix();
        static uint64_t counter = 0;
        for (std::size_t i = 0; i < queues.size(); ++i) {
            if (tags[i].empty()) tags[i] = prefix + std::to_string(++counter);
            ConsumeOptions co;
            co.consumer_tag = tags[i];
            co.no_ack = options.no_ack;
            co.arguments = queues[i].options.consumer_arguments;
            std::weak_ptr<State> weak = self;
            co.on_cancel = [weak](const std::string& tag) {
                if (auto s = weak.lock()) s->end(std::make_exception_ptr(ConsumerCancelledError(tag, true)));
            };
            std::weak_ptr<Channel> weak_ch = ch;
            DeliveryCallback on_delivery = [weak, weak_ch](amqp::Delivery&& m) {
                if (auto s = weak.lock()) s->deliver(std::move(m), weak_ch);
            };
            auto t = ch->basic_consume(names[i], std::move(on_delivery), std::move(co));
            co_await std::move(t);
        }
        channel = ch;
        watch_channel(ch);
    }

    Task<void> recover(std::shared_ptr<Connection> conn, DeclarationCache& cache) override {
        auto self = shared_from_this();
        if (!started || cancelled || ended) co_return;
        auto ct = conn->channel();
        std::shared_ptr<Channel> ch = co_await std::move(ct);
        auto t = start_on(ch, &cache);
        co_await std::move(t);
    }

    void recovery_failed(std::exception_ptr error) override { end(std::move(error)); }

    void end(std::exception_ptr error) {
        if (ended) return;
        ended = true;
        buffer.put_nowait(MessageOrEnd(std::move(error)));
    }

    void watch_channel(const std::shared_ptr<Channel>& ch) {
        std::weak_ptr<State> weak = shared_from_this();
        std::weak_ptr<Channel> weak_ch = ch;
        ch->wait_closed().add_done_callback([weak, weak_ch](auto&) {
            auto s = weak.lock();
            auto c = weak_ch.lock();
            if (!s || !c || s->channel != c) return;
            std::exception_ptr reason = c->close_reason();
            // A lost connection is recovered by the BrokerConnection (which ends us if it gives up).
            bool recovers = s->connection && s->connection->options().auto_recover &&
                            !s->connection->closed() && is_recoverable_connection_error(reason);
            if (!recovers)
                s->end(reason ? reason
                              : std::make_exception_ptr(UsageError("messaging: the channel was closed")));
        });
    }

    void refuse(Message& msg, std::exception_ptr error) {
        if (!options.no_ack) {
            try {
                msg.reject(false);
            } catch (const std::exception& e) {
                log(LogLevel::warning,
                    std::string("messaging: could not reject a refused message: ") + e.what());
            }
        }
        if (options.on_decode_error) {
            try {
                options.on_decode_error(msg, error);
            } catch (const std::exception& e) {
                log(LogLevel::error, std::string("messaging: on_decode_error threw: ") + e.what());
            }
        } else {
            log(LogLevel::warning, "messaging: message rejected: " + describe(error));
        }
    }

    void deliver(amqp::Delivery&& raw, std::weak_ptr<Channel> ch) {
        Message msg(std::move(raw), std::move(ch), options.no_ack);
        std::string type = msg.content_type();
        if (!content_allowed(type, options.accept)) {
            refuse(msg, std::make_exception_ptr(ContentDisallowedError(type)));
            return;
        }
        if (options.on_message) {
            try {
                options.on_message(msg);
            } catch (const std::exception& e) {
                log(LogLevel::error, std::string("messaging: on_message threw: ") + e.what());
            }
            return;
        }
        if (!options.callbacks.empty()) {
            std::string body;
            try {
                body = msg.decode();
            } catch (...) {
                refuse(msg, std::current_exception());
                return;
            }
            for (auto& cb : options.callbacks) {
                try {
                    cb(body, msg);
                } catch (const std::exception& e) {
                    log(LogLevel::error, std::string("messaging: a consumer callback threw: ") + e.what());
                }
            }
            return;
        }
        buffer.put_nowait(MessageOrEnd(std::move(msg)));
    }
};

namespace {

template <class C>
void init_state(C& state, std::vector<Queue> queues, ConsumerOptions options) {
    if (queues.empty()) throw UsageError("messaging: a Consumer needs at least one queue");
    state.names.reserve(queues.size());
    for (const auto& q : queues) state.names.push_back(q.name);
    state.tags.assign(queues.size(), std::string());
    state.queues = std::move(queues);
    state.options = std::move(options);
}

}  // namespace

Consumer::Consumer(std::shared_ptr<BrokerConnection> connection, std::vector<Queue> queues,
                   ConsumerOptions options)
    : state_(std::make_shared<State>()) {
    if (!connection) throw UsageError("messaging: Consumer needs a connection");
    state_->connection = std::move(connection);
    init_state(*state_, std::move(queues), std::move(options));
}

Consumer::Consumer(std::shared_ptr<BrokerConnection> connection, std::vector<Queue> queues)
    : Consumer(std::move(connection), std::move(queues), ConsumerOptions()) {}

Consumer::Consumer(std::shared_ptr<Channel> channel, std::vector<Queue> queues, ConsumerOptions options)
    : state_(std::make_shared<State>()) {
    if (!channel) throw UsageError("messaging: Consumer needs a channel");
    state_->channel = std::move(channel);
    init_state(*state_, std::move(queues), std::move(options));
}

Consumer::Consumer(std::shared_ptr<Channel> channel, std::vector<Queue> queues)
    : Consumer(std::move(channel), std::move(queues), ConsumerOptions()) {}

Task<void> Consumer::consume() {
    auto s = state_;
    if (s->started) co_return;
    co_await s->start_lock.acquire();
    SemaphoreGuard guard(s->start_lock);
    if (s->started) co_return;
    if (s->cancelled || s->ended) throw UsageError("messaging: the consumer was cancelled or has ended");
    if (s->connection) {
        auto conn = s->connection;
        if (s->options.auto_declare) {
            for (std::size_t i = 0; i < s->queues.size(); ++i) {
                auto t = conn->maybe_declare(s->queues[i]);
                MaybeDeclared d = co_await std::move(t);
                s->names[i] = d.name;
            }
        }
        auto ct = conn->channel();
        std::shared_ptr<Channel> ch = co_await std::move(ct);
        conn->add_recoverable(s);
        auto t = s->start_on(ch, nullptr);
        co_await std::move(t);
    } else {
        auto t = s->start_on(s->channel, &s->local_cache);
        co_await std::move(t);
    }
    s->started = true;
}

Task<Message> Consumer::next() {
    auto s = state_;
    if (s->has_callbacks()) throw UsageError("messaging: next() on a consumer with callbacks");
    if (!s->started) {
        auto t = consume();
        co_await std::move(t);
    }
    for (;;) {
        Future<MessageOrEnd> f = s->buffer.get();
        MessageOrEnd d = co_await std::move(f);
        if (auto* error = std::get_if<std::exception_ptr>(&d)) {
            std::exception_ptr e = *error;
            s->buffer.put_nowait(MessageOrEnd(e));  // every later next() fails the same way
            std::rethrow_exception(e);
        }
        Message msg = std::get<Message>(std::move(d));
        if (!s->options.no_ack && msg.channel_closed()) continue;  // the broker redelivers it
        co_return msg;
    }
}

Task<void> Consumer::cancel() {
    auto s = state_;
    if (s->cancelled) co_return;
    s->cancelled = true;
    auto ch = s->channel;
    if (s->started && ch && ch->is_open()) {
        for (const auto& tag : s->tags) {
            try {
                auto t = ch->basic_cancel(tag);
                co_await std::move(t);
            } catch (const Error& e) {
                log(LogLevel::warning, std::string("messaging: basic.cancel failed: ") + e.what());
            }
        }
    }
    s->end(std::make_exception_ptr(ConsumerCancelledError(s->tags.empty() ? "" : s->tags.front(), false)));
}

void Consumer::add_callback(MessageCallback cb) {
    state_->options.callbacks.push_back(std::move(cb));
}

std::shared_ptr<Channel> Consumer::channel() const {
    return state_->channel;
}
std::vector<std::string> Consumer::queue_names() const {
    return state_->names;
}
std::vector<std::string> Consumer::consumer_tags() const {
    return state_->tags;
}
uint16_t Consumer::prefetch_count() const {
    return state_->options.prefetch_count;
}
std::size_t Consumer::buffered() const {
    return state_->buffer.size();
}

Task<void> Consumer::qos(uint16_t prefetch_count) {
    auto s = state_;
    s->options.prefetch_count = prefetch_count;
    if (s->channel && s->channel->is_open()) {
        QosOptions q;
        q.prefetch_count = prefetch_count;
        auto t = s->channel->basic_qos(q);
        co_await std::move(t);
    }
}

}  // namespace squall::amqp::messaging
