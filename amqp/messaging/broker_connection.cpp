#include "squall/amqp/messaging/broker_connection.hpp"

#include <algorithm>
#include <random>

#include "squall/amqp/errors.hpp"
#include "squall/coro/log.hpp"
#include "squall/ioloop/async.hpp"

namespace squall::amqp::messaging {

namespace {

std::vector<std::string> split_urls(std::string_view joined) {
    std::vector<std::string> urls;
    std::size_t start = 0;
    while (start <= joined.size()) {
        std::size_t end = joined.find(';', start);
        if (end == std::string_view::npos) end = joined.size();
        std::string_view part = joined.substr(start, end - start);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
        if (!part.empty()) urls.emplace_back(part);
        start = end + 1;
    }
    return urls;
}

}  // namespace

BrokerConnection::BrokerConnection(Key, IOLoop& loop, std::vector<std::string> urls, BrokerOptions options)
    : loop_(loop), urls_(std::move(urls)), options_(std::move(options)) {
    if (urls_.empty()) throw UsageError("messaging: BrokerConnection needs at least one broker URL");
    if (options_.failover_strategy == FailoverStrategy::shuffle) {
        std::mt19937 rng{std::random_device{}()};
        std::shuffle(urls_.begin(), urls_.end(), rng);
    }
    for (const auto& url : urls_) {
        ConnectionOptions o = ConnectionOptions::from_url(url);
        if (options_.configure) options_.configure(o);
        brokers_.push_back(std::move(o));
    }
}

BrokerConnection::~BrokerConnection() {
    // Dropped without close(): still close the broker connection (it would otherwise keep itself alive).
    if (conn_ && !conn_->is_closed()) spawn(loop_, conn_->close());
}

std::shared_ptr<BrokerConnection> BrokerConnection::create(IOLoop& loop, std::vector<std::string> urls,
                                                           BrokerOptions options) {
    return std::make_shared<BrokerConnection>(Key{}, loop, std::move(urls), std::move(options));
}

std::shared_ptr<BrokerConnection> BrokerConnection::create(IOLoop& loop, std::string_view urls,
                                                           BrokerOptions options) {
    return create(loop, split_urls(urls), std::move(options));
}

Task<std::shared_ptr<BrokerConnection>> BrokerConnection::open(IOLoop& loop, std::vector<std::string> urls,
                                                               BrokerOptions options) {
    auto conn = create(loop, std::move(urls), std::move(options));
    auto t = conn->ensure_connection(conn->options_.connect_policy);
    co_await std::move(t);
    co_return conn;
}

Task<std::shared_ptr<BrokerConnection>> BrokerConnection::open(IOLoop& loop, std::string urls,
                                                               BrokerOptions options) {
    return open(loop, split_urls(urls), std::move(options));
}

Task<std::shared_ptr<BrokerConnection>> BrokerConnection::open(IOLoop& loop, std::string urls) {
    return open(loop, split_urls(urls), BrokerOptions());
}

bool BrokerConnection::connected() const noexcept {
    return !closed_ && conn_ && conn_->is_open() && lost_reported_ != conn_.get();
}

std::string BrokerConnection::current_broker() const {
    const auto& o = brokers_[current_index_];
    return o.host + ":" + std::to_string(o.port);
}

void BrokerConnection::add_recoverable(std::weak_ptr<Recoverable> r) {
    std::erase_if(recoverables_, [](const auto& w) { return w.expired(); });
    recoverables_.push_back(std::move(r));
}

Task<void> BrokerConnection::ensure_connection() {
    return ensure_connection(options_.connect_policy);
}

Task<void> BrokerConnection::ensure_connection(RetryPolicy policy) {
    auto self = shared_from_this();
    if (closed_) throw UsageError("messaging: the BrokerConnection is closed");
    if (connected()) co_return;
    // One attempt at a time; the others wait for it (bounded by their own timeout) and then re-check.
    Future<void> turn = connect_lock_.acquire();
    if (policy.timeout && !turn.done()) {
        bool expired = false;
        try {
            co_await with_timeout(*policy.timeout, turn);
        } catch (const TimeoutError&) {
            expired = true;
        }
        if (expired) {
            turn.cancel();
            if (failure_) std::rethrow_exception(failure_);
            throw TimeoutError("messaging: no connection to " + current_broker() +
                               " within the retry timeout");
        }
    } else {
        co_await turn;
    }
    SemaphoreGuard guard(connect_lock_);
    if (closed_) throw UsageError("messaging: the BrokerConnection is closed");
    if (connected()) co_return;
    if (conn_) note_lost(conn_);
    auto attempt = [this] { return connect_once(); };
    auto t = retry_over_time(loop_, attempt, std::move(policy), brokers_.size());
    co_await std::move(t);
    failure_ = nullptr;
}

Task<void> BrokerConnection::connect_once() {
    const std::size_t index = next_index_;
    std::shared_ptr<Connection> c;
    try {
        auto t = Connection::open(loop_, brokers_[index]);
        c = co_await std::move(t);
    } catch (...) {
        next_index_ = (index + 1) % brokers_.size();
        throw;
    }
    const bool recovering = ever_connected_;
    conn_ = c;
    current_index_ = index;
    ++generation_;
    cache_.clear();
    default_channel_.reset();
    lost_reported_ = c.get();  // not connected() until restored
    if (recovering) {
        std::exception_ptr error;
        try {
            auto t = restore(c);
            co_await std::move(t);
        } catch (...) {
            error = std::current_exception();
        }
        if (error) {
            next_index_ = (index + 1) % brokers_.size();
            if (!c->is_closed()) {
                auto t = c->close();
                co_await std::move(t);
            }
            std::rethrow_exception(error);
        }
    }
    ever_connected_ = true;
    lost_reported_ = nullptr;
    spawn(loop_, watch(weak_from_this(), c));
    if (recovering) {
        if (options_.on_connection_recovered) options_.on_connection_recovered();
        auto listeners = recovered_listeners_;
        for (auto& cb : listeners) cb();
    }
}

Task<void> BrokerConnection::restore(std::shared_ptr<Connection> conn) {
    // Topology first (on one channel; a channel error is logged and a fresh channel taken), then consumers.
    if (!topology_.empty()) {
        auto t = conn->channel();
        std::shared_ptr<Channel> ch = co_await std::move(t);
        for (const Entity& entity : topology_) {
            std::exception_ptr error;
            try {
                auto d = messaging::maybe_declare(*ch, entity, cache_);
                co_await std::move(d);
            } catch (...) {
                error = std::current_exception();
            }
            if (!error) continue;
            if (is_recoverable_connection_error(error) || conn->is_closed()) std::rethrow_exception(error);
            log(LogLevel::error, "messaging: recovery could not redeclare an entity: " + describe(error));
            if (!ch->is_open()) {
                auto t2 = conn->channel();
                ch = co_await std::move(t2);
            }
        }
        default_channel_ = ch;
    }
    std::erase_if(recoverables_, [](const auto& w) { return w.expired(); });
    auto recoverables = recoverables_;
    for (const auto& weak : recoverables) {
        auto r = weak.lock();
        if (!r) continue;
        std::exception_ptr error;
        try {
            auto t = r->recover(conn, cache_);
            co_await std::move(t);
        } catch (...) {
            error = std::current_exception();
        }
        if (!error) continue;
        if (is_recoverable_connection_error(error) || conn->is_closed()) std::rethrow_exception(error);
        log(LogLevel::error, "messaging: recovery could not restore a consumer: " + describe(error));
        r->recovery_failed(error);
    }
}

Task<void> BrokerConnection::watch(std::weak_ptr<BrokerConnection> weak, std::shared_ptr<Connection> conn) {
    co_await conn->wait_closed();
    auto self = weak.lock();
    if (!self || self->closed_ || self->conn_ != conn) co_return;
    self->note_lost(conn);
    if (!self->options_.auto_recover) co_return;
    std::exception_ptr error;
    try {
        auto t = self->ensure_connection(self->options_.recovery_policy);
        co_await std::move(t);
    } catch (...) {
        error = std::current_exception();
    }
    if (!error || self->closed_) co_return;
    self->failure_ = error;
    log(LogLevel::error, "messaging: connection recovery gave up: " + describe(error));
    for (const auto& weak_r : self->recoverables_)
        if (auto r = weak_r.lock()) r->recovery_failed(error);
    if (self->options_.on_recovery_failed) self->options_.on_recovery_failed(error);
    auto listeners = self->failed_listeners_;
    for (auto& cb : listeners) cb(error);
}

void BrokerConnection::note_lost(const std::shared_ptr<Connection>& conn) {
    if (lost_reported_ == conn.get() || conn->is_open()) return;
    lost_reported_ = conn.get();
    cache_.clear();
    default_channel_.reset();
    if (options_.on_connection_lost) options_.on_connection_lost(conn->close_reason());
    auto listeners = lost_listeners_;
    for (auto& cb : listeners) cb(conn->close_reason());
}

Task<std::shared_ptr<Channel>> BrokerConnection::channel() {
    auto self = shared_from_this();
    auto t = ensure_connection(options_.connect_policy);
    co_await std::move(t);
    auto c = conn_;
    auto ct = c->channel();
    co_return co_await std::move(ct);
}

Task<std::shared_ptr<Channel>> BrokerConnection::default_channel() {
    auto self = shared_from_this();
    auto t = ensure_connection(options_.connect_policy);
    co_await std::move(t);
    co_await channel_lock_.acquire();
    SemaphoreGuard guard(channel_lock_);
    if (!default_channel_ || !default_channel_->is_open() || &default_channel_->connection() != conn_.get()) {
        auto c = conn_;
        auto ct = c->channel();
        default_channel_ = co_await std::move(ct);
    }
    co_return default_channel_;
}

void BrokerConnection::record_topology(const Entity& entity) {
    std::string key;
    if (const auto* ex = std::get_if<Exchange>(&entity)) {
        if (!ex->can_declare()) return;
        key = ex->cache_key();
    } else {
        const auto& q = std::get<Queue>(entity);
        if (q.name.empty()) return;  // server-named: its consumer declares a new one
        key = q.cache_key();
    }
    if (std::find(topology_keys_.begin(), topology_keys_.end(), key) != topology_keys_.end()) return;
    topology_keys_.push_back(std::move(key));
    topology_.push_back(entity);
}

Task<MaybeDeclared> BrokerConnection::maybe_declare(Entity entity) {
    auto self = shared_from_this();
    auto ct = default_channel();
    std::shared_ptr<Channel> ch = co_await std::move(ct);
    auto t = messaging::maybe_declare(*ch, entity, cache_);
    MaybeDeclared result = co_await std::move(t);
    record_topology(entity);
    co_return result;
}

Task<void> BrokerConnection::close() {
    auto self = shared_from_this();
    if (closed_) co_return;
    closed_ = true;
    std::exception_ptr reason =
        std::make_exception_ptr(UsageError("messaging: the BrokerConnection was closed"));
    for (const auto& weak : recoverables_)
        if (auto r = weak.lock()) r->recovery_failed(reason);
    if (conn_ && !conn_->is_closed()) {
        auto c = conn_;
        auto t = c->close();
        co_await std::move(t);
    }
}

}  // namespace squall::amqp::messaging
