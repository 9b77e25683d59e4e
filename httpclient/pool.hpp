// ConnectionPool: idle keep-alive HTTP connections, by pool key (scheme, host, port, proxy and TLS
// settings), for one Client.
//
//     ConnectionPool pool(loop, {.max_idle_per_host = 4, .idle_timeout = std::chrono::seconds(60)});
//     if (auto conn = pool.take(key)) { ... reuse ... } else { ... connect ... }
//     if (conn->reusable()) pool.put(std::move(conn));
//
// take() hands out the most recently used connection (its TCP window and TLS session are warm) after a
// non-blocking peek at its socket: one the server closed (EOF, reset) or that has stray bytes waiting is
// dropped instead. Idle connections close after idle_timeout (one timer each) and the oldest of a key goes
// when more than max_idle_per_host are idle. A connection can still die between the peek and the
// request: the Client retries that case (StaleConnectionError) for idempotent methods.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "httpclient/connection.hpp"
#include "ioloop/ioloop.hpp"

namespace squall::http {

struct PoolOptions {
    std::size_t max_idle_per_host = 16;  // 0 disables keep-alive reuse
    Duration idle_timeout = std::chrono::seconds(60);
};

class ConnectionPool {
public:
    ConnectionPool(IOLoop& loop, PoolOptions options);
    ~ConnectionPool();  // closes every idle connection
    ConnectionPool(const ConnectionPool&) = delete;
    ConnectionPool& operator=(const ConnectionPool&) = delete;

    // An idle, apparently live connection for `key`, or null.
    std::unique_ptr<Connection> take(const std::string& key);
    // Keeps a connection for reuse; closes it instead when it is not reusable or the pool is over its limit.
    void put(std::unique_ptr<Connection> connection);
    // Closes every idle connection.
    void close_all();

    std::size_t idle() const noexcept { return idle_count_; }
    std::size_t idle(const std::string& key) const;

private:
    struct Entry {
        std::unique_ptr<Connection> connection;
        TimeoutHandle timer;
        std::uint64_t id;
    };
    void expire(const std::string& key, std::uint64_t id);
    static bool looks_alive(Connection& connection);

    IOLoop& loop_;
    PoolOptions options_;
    std::map<std::string, std::deque<Entry>, std::less<>> idle_;  // per key, oldest first
    std::size_t idle_count_ = 0;
    std::uint64_t next_id_ = 0;
};

}  // namespace squall::http
