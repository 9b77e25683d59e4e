// ConnectionPool: idle keep-alive HTTP connections, by pool key (scheme, host, port, proxy and TLS
// settings), for one Client.
//
//     ConnectionPool pool(loop, {.max_idle_per_host = 4, .idle_timeout = std::chrono::seconds(60)});
//     std::unique_ptr<Connection> conn = pool.take(key);   // null: none idle, connect a new one
//     /* ... an exchange on conn ... */
//     if (conn->reusable()) pool.put(std::move(conn));
//
// Idle connections are watched (Connection::on_idle; for HTTP/1.1 IOStream::watch_idle, as Go's Transport
// keeps a read on each): the moment the server sends a byte or closes one, it is closed and leaves the
// pool, so it is never handed out. take() hands out the most recently used connection (its TCP window and
// TLS session are warm), dropping one that is closed (Connection::usable_after_idle). With check_alive it
// also peeks at the socket (one non-blocking recv) for what arrived since the loop last looked. The Client
// asks for that peek only for requests it may not retry: an idempotent request skips the syscall and, if
// the connection turns out dead before any response byte, is retried on a fresh one
// (StaleConnectionError). Idle connections close after idle_timeout, or the server's Keep-Alive timeout
// less a margin when that is shorter (Connection::idle_limit; one timer each), and the oldest of a key
// goes when more than max_idle_per_host are idle.
//
// A connection put back is parked (watched, its buffers given back, its idle timer set) at the end of the
// loop iteration, and only if it is still idle then: a keep-alive loop that takes it again at once (the
// next request, in the same iteration) costs no watch, no timer and no buffer round trip. Until then it
// is not watched, which loses nothing: bytes or EOF that came meanwhile are seen as soon as it is parked
// (an idle watch reports what is there already) or, when it is taken first, by take()'s checks.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "squall/httpclient/connection.hpp"
#include "squall/ioloop/ioloop.hpp"

namespace squall::http {

// Limits of a ConnectionPool.
struct PoolOptions {
    std::size_t max_idle_per_host = 16;                // 0 disables keep-alive reuse
    Duration idle_timeout = std::chrono::seconds(60);  // an idle connection is closed after this
};

// Idle keep-alive connections by pool key (see the file comment). One loop's thread.
class ConnectionPool {
public:
    // Idle timers run on `loop`, which must outlive the pool.
    ConnectionPool(IOLoop& loop, PoolOptions options);
    ~ConnectionPool();  // closes every idle connection
    ConnectionPool(const ConnectionPool&) = delete;
    ConnectionPool& operator=(const ConnectionPool&) = delete;

    // An idle connection for `key` (peeked at when check_alive, see above), or null.
    std::unique_ptr<Connection> take(std::string_view key, bool check_alive = true);
    // Keeps a connection for reuse; closes it instead when it is not reusable or the pool is over its limit.
    void put(std::unique_ptr<Connection> connection);
    // Closes every idle connection.
    void close_all();

    // Idle connections in all / for one key.
    std::size_t idle() const noexcept { return idle_count_; }
    std::size_t idle(const std::string& key) const;

private:
    struct Entry {
        std::unique_ptr<Connection> connection;
        TimeoutHandle timer;
        bool parked = false;  // watched, with its idle timer (see the file comment)
    };
    void remove(Connection* connection, bool timer_fired);
    // Ends what park() started (the timer; the watch ends with take's usable_after_idle or the close).
    void unpark(Entry& entry);
    void park_pending();  // at the end of an iteration: parks what put() left
    void forget_pending(const Connection* connection) noexcept;
    void prune_empty_keys();

    IOLoop& loop_;
    PoolOptions options_;
    // Per key, oldest first. A key's vector stays when it empties (take, put, take... in steady state
    // allocates nothing); empty keys are pruned when they outnumber the live ones.
    std::map<std::string, std::vector<Entry>, std::less<>> idle_;
    std::size_t idle_count_ = 0;
    std::vector<Connection*> pending_;  // put this iteration and not parked yet (each also in idle_)
    bool park_scheduled_ = false;
    // Cleared by the destructor: an end-of-iteration callback outliving the pool does nothing.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace squall::http
