// BrokerConnection: kombu's Connection — a connection that survives. It names one or more brokers, fails
// over between them, retries with kombu's policy (ensure_connection, ensure), keeps the per-connection
// declaration cache, and after a lost connection recovers on its own: reconnect (policy + failover),
// redeclare the topology declared through it, then let each registered Recoverable (every
// messaging::Consumer) reopen its channel, restore qos and re-consume with the same consumer tags.
//
//     messaging::BrokerOptions options;
//     options.on_connection_lost = [](const std::exception_ptr& why) { /* ... */ };
//     auto conn = co_await messaging::BrokerConnection::open(loop, "amqp://h1:5672/;amqp://h2/", options);
//     messaging::Producer producer(conn, producer_options);           // its retries survive restarts
//     messaging::Consumer consumer(conn, {video}, consumer_options);  // re-consumes after recovery
//
// Brokers: URLs separated by ';' (or a vector). Failover: round_robin tries them in the given order,
// shuffle in an order shuffled once at creation; after a failure the next broker is tried at once, and
// the policy's sleep comes only after a full pass (DESIGN.md section 9). A successful broker stays current.
//
// Recovery states: connected --lost--> recovering (on_connection_lost runs; the declaration cache is
// reset) --reconnected, topology + consumers restored--> connected (on_connection_recovered runs).
// recovering --recovery_policy gave up--> failed (on_recovery_failed runs; consumers end with the error;
// a later ensure_connection() may try again). close() --> closed (no more recovery; UsageError after).
// Only connection-level errors (is_recoverable_connection_error) trigger recovery; a channel error
// (404, 406, ...) closes that channel only.
//
// Topology recovery redeclares every named entity ever declared through maybe_declare() (a queue deleted
// since is recreated, as in other clients' topology recovery). Unconfirmed publishes are republished by
// the publisher when it asked for retry (Producer, PublishOptions::retry): at-least-once delivery.
//
// Heartbeats default to 60 s (ConnectionOptions); connection.blocked is honoured by Channel::publish.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "squall/amqp/channel.hpp"
#include "squall/amqp/connection.hpp"
#include "squall/amqp/messaging/entity.hpp"
#include "squall/amqp/messaging/retry.hpp"
#include "squall/coro/locks.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/ioloop.hpp"

namespace squall::amqp::messaging {

// The order in which the brokers are tried (see above).
enum class FailoverStrategy { round_robin, shuffle };

// Something that must be restored on each new connection (a consumer). recover() runs during recovery,
// before the connection counts as connected again: open channels on `connection` (not through the
// BrokerConnection, whose ensure_connection is busy recovering) and declare with `cache`.
class Recoverable {
public:
    virtual ~Recoverable() = default;
    // Restores the object on the new connection; an error fails the recovery attempt.
    virtual Task<void> recover(std::shared_ptr<Connection> connection, DeclarationCache& cache) = 0;
    // Recovery gave up (or the BrokerConnection was closed): nothing more will come.
    virtual void recovery_failed(std::exception_ptr error) = 0;
};

// A BrokerConnection's options.
struct BrokerOptions {
    FailoverStrategy failover_strategy = FailoverStrategy::round_robin;  // the order brokers are tried in
    // open() and ensure_connection() without a policy. Default: kombu's intervals, give up after 30 s.
    RetryPolicy connect_policy{.timeout = std::chrono::milliseconds(30000)};
    // Automatic recovery. Default: kombu's ensure_connection defaults (2 s, +2 s, at most 30 s; forever).
    RetryPolicy recovery_policy{};
    bool auto_recover = true;  // false: a lost connection waits for the next ensure_connection()
    // Adjusts each broker's ConnectionOptions (parsed from its URL) before connecting: heartbeat,
    // connection_name, timeouts, TLS...
    std::function<void(ConnectionOptions&)> configure{};
    // The recovery events (see above): connection lost, recovered, recovery gave up.
    std::function<void(const std::exception_ptr& reason)> on_connection_lost{};
    std::function<void()> on_connection_recovered{};
    std::function<void(const std::exception_ptr& error)> on_recovery_failed{};
};

// A connection that recovers (see the top of this header); made by create() or open().
class BrokerConnection : public std::enable_shared_from_this<BrokerConnection> {
public:
    // Not connected yet: call ensure_connection() (or use open()). UsageError for no or malformed URLs.
    static std::shared_ptr<BrokerConnection> create(IOLoop& loop, std::vector<std::string> urls,
                                                    BrokerOptions options);
    static std::shared_ptr<BrokerConnection> create(IOLoop& loop, std::string_view urls,
                                                    BrokerOptions options);
    // create + ensure_connection(options.connect_policy).
    static Task<std::shared_ptr<BrokerConnection>> open(IOLoop& loop, std::string urls,
                                                        BrokerOptions options);
    static Task<std::shared_ptr<BrokerConnection>> open(IOLoop& loop, std::string urls);
    static Task<std::shared_ptr<BrokerConnection>> open(IOLoop& loop, std::vector<std::string> urls,
                                                        BrokerOptions options);
    ~BrokerConnection();
    BrokerConnection(const BrokerConnection&) = delete;
    BrokerConnection& operator=(const BrokerConnection&) = delete;

    // Returns when connected (at once if so): otherwise connects with the policy and failover, and after
    // a lost connection restores topology and consumers first. Gives up by rethrowing the last error.
    // Concurrent callers share one attempt. UsageError after close().
    Task<void> ensure_connection();
    Task<void> ensure_connection(RetryPolicy policy);

    // Runs fn() (returning a Task) and, when it fails with a recoverable connection error, sleeps the
    // policy's interval, waits for the connection (ensure_connection with what is left of the policy) and
    // runs it again: kombu's Connection.ensure, on retry_over_time's loop (every retry waits its interval
    // and yields to the loop, also when the connection is still up). max_retries bounds the re-runs;
    // timeout the whole; errback(error, sleep) runs for each failure that will be retried.
    template <class Fn>
    Task<RetryResult<Fn>> ensure(Fn fn, RetryPolicy policy);

    // A new channel on the current connection (after ensure_connection). The caller owns it.
    Task<std::shared_ptr<Channel>> channel();
    // One shared channel for declarations, re-created after a reconnect or a channel error.
    Task<std::shared_ptr<Channel>> default_channel();

    // Declares on the default channel unless this connection declared it already (see entity.hpp), and
    // records named entities for topology recovery.
    Task<MaybeDeclared> maybe_declare(Entity entity);
    DeclarationCache& declaration_cache() noexcept { return cache_; }  // reset on each lost connection

    // Graceful close; stops recovery; consumers end. Idempotent.
    Task<void> close();

    // Whether the current connection is open and not known lost.
    bool connected() const noexcept;
    bool closed() const noexcept { return closed_; }  // close() was called
    // The current (or last) low-level connection; null before the first connect.
    const std::shared_ptr<Connection>& connection() const noexcept { return conn_; }
    // Incremented on every new connection: a channel from an older generation is gone.
    uint64_t generation() const noexcept { return generation_; }
    // The broker of the current connection ("host:port").
    std::string current_broker() const;
    const std::vector<std::string>& urls() const noexcept { return urls_; }  // the brokers, in failover order
    // Why recovery gave up (null otherwise).
    std::exception_ptr failure() const noexcept { return failure_; }
    // The loop and the options it was made with.
    IOLoop& loop() const noexcept { return loop_; }
    const BrokerOptions& options() const noexcept { return options_; }

    // Registers r for recovery (Consumer does); expired ones are dropped.
    void add_recoverable(std::weak_ptr<Recoverable> r);
    // More listeners for the events of BrokerOptions (run after the options' callbacks).
    void on_connection_lost(std::function<void(const std::exception_ptr&)> cb) {
        lost_listeners_.push_back(std::move(cb));
    }
    void on_connection_recovered(std::function<void()> cb) { recovered_listeners_.push_back(std::move(cb)); }
    void on_recovery_failed(std::function<void(const std::exception_ptr&)> cb) {
        failed_listeners_.push_back(std::move(cb));
    }

private:
    struct Key {};

public:
    // For create() only (Key is private).
    BrokerConnection(Key, IOLoop& loop, std::vector<std::string> urls, BrokerOptions options);

private:
    Task<void> connect_once();
    template <class Fn>
    Task<RetryResult<Fn>> ensure_attempt(Fn& fn, bool reconnect, RetryPolicy reconnect_policy);
    Task<void> restore(std::shared_ptr<Connection> conn);
    static Task<void> watch(std::weak_ptr<BrokerConnection> weak, std::shared_ptr<Connection> conn);
    void note_lost(const std::shared_ptr<Connection>& conn);
    void record_topology(const Entity& entity);

    IOLoop& loop_;
    std::vector<std::string> urls_;
    std::vector<ConnectionOptions> brokers_;
    BrokerOptions options_;
    std::size_t next_index_ = 0;     // broker of the next attempt
    std::size_t current_index_ = 0;  // broker of conn_
    std::shared_ptr<Connection> conn_;
    std::shared_ptr<Channel> default_channel_;
    uint64_t generation_ = 0;
    bool ever_connected_ = false;
    bool closed_ = false;
    const Connection* lost_reported_ = nullptr;
    std::exception_ptr failure_;
    Semaphore connect_lock_{1};
    Semaphore channel_lock_{1};
    DeclarationCache cache_;
    std::vector<Entity> topology_;
    std::vector<std::string> topology_keys_;
    std::vector<std::weak_ptr<Recoverable>> recoverables_;
    std::vector<std::function<void(const std::exception_ptr&)>> lost_listeners_;
    std::vector<std::function<void()>> recovered_listeners_;
    std::vector<std::function<void(const std::exception_ptr&)>> failed_listeners_;
};

template <class Fn>
Task<RetryResult<Fn>> BrokerConnection::ensure_attempt(Fn& fn, bool reconnect, RetryPolicy reconnect_policy) {
    auto self = shared_from_this();
    if (reconnect) {
        auto t = ensure_connection(std::move(reconnect_policy));
        co_await std::move(t);
    }
    auto attempt = fn();
    if constexpr (std::is_void_v<RetryResult<Fn>>)
        co_await std::move(attempt);
    else
        co_return co_await std::move(attempt);
}

template <class Fn>
Task<RetryResult<Fn>> BrokerConnection::ensure(Fn fn, RetryPolicy policy) {
    auto self = shared_from_this();
    std::optional<TimePoint> deadline;
    if (policy.timeout) deadline = loop_.time() + *policy.timeout;
    bool first = true;
    // Attempt n > 0 first waits for the connection (with what is left of the policy), then re-runs fn; the
    // sleeps, the yield between attempts and the limits are retry_over_time's.
    auto attempt = [this, &fn, &first, &policy, deadline] {
        RetryPolicy reconnect = policy;
        if (deadline)
            reconnect.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::max<Duration>(*deadline - loop_.time(), Duration::zero()));
        const bool again = !first;
        first = false;
        return ensure_attempt(fn, again, std::move(reconnect));
    };
    auto recoverable = [this](const std::exception_ptr& e) {
        return !closed_ && is_recoverable_connection_error(e);
    };
    auto t = retry_over_time(loop_, attempt, policy, 1, recoverable);
    if constexpr (std::is_void_v<RetryResult<Fn>>)
        co_await std::move(t);
    else
        co_return co_await std::move(t);
}

}  // namespace squall::amqp::messaging
