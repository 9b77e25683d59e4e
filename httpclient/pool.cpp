#include "squall/httpclient/pool.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace squall::http {

ConnectionPool::ConnectionPool(IOLoop& loop, PoolOptions options) : loop_(loop), options_(options) {}

ConnectionPool::~ConnectionPool() {
    close_all();
}

std::unique_ptr<Connection> ConnectionPool::take(std::string_view key, bool check_alive) {
    auto it = idle_.find(key);
    if (it == idle_.end()) return nullptr;
    auto& entries = it->second;
    while (!entries.empty()) {
        Entry entry = std::move(entries.back());
        entries.pop_back();
        --idle_count_;
        loop_.remove_timeout(entry.timer);
        if (entry.connection->usable_after_idle(check_alive)) return std::move(entry.connection);
        entry.connection->close();
    }
    return nullptr;
}

void ConnectionPool::put(std::unique_ptr<Connection> connection) {
    if (!connection) return;
    if (!connection->reusable() || options_.max_idle_per_host == 0) {
        connection->close();
        return;
    }
    Connection* raw = connection.get();
    // Watched while idle: when the server sends or closes, the connection closes and leaves the pool.
    if (!connection->on_idle([this, raw] { remove(raw, /*timer_fired=*/false); })) return;
    Duration limit = options_.idle_timeout;
    if (auto server_limit = connection->idle_limit()) limit = std::min(limit, *server_limit);
    const std::string& key = connection->pool_key();
    auto it = idle_.find(key);
    if (it == idle_.end()) {
        prune_empty_keys();
        it = idle_.try_emplace(key).first;
    }
    auto& entries = it->second;
    if (entries.size() >= options_.max_idle_per_host) {
        loop_.remove_timeout(entries.front().timer);
        entries.front().connection->close();
        entries.erase(entries.begin());
        --idle_count_;
    }
    TimeoutHandle timer = loop_.call_later(limit, [this, raw] { remove(raw, /*timer_fired=*/true); });
    entries.push_back(Entry{std::move(connection), timer});
    ++idle_count_;
}

// An idle connection's timer fired or its watch saw the server send or close. Both end when the entry
// leaves the pool (take, eviction, close_all), so `connection` is still idle here.
void ConnectionPool::remove(Connection* connection, bool timer_fired) {
    auto it = idle_.find(connection->pool_key());
    if (it == idle_.end()) return;
    auto& entries = it->second;
    for (auto e = entries.begin(); e != entries.end(); ++e) {
        if (e->connection.get() != connection) continue;
        Entry entry = std::move(*e);
        entries.erase(e);
        --idle_count_;
        if (!timer_fired) loop_.remove_timeout(entry.timer);
        entry.connection->close();
        break;
    }
}

void ConnectionPool::prune_empty_keys() {
    if (idle_.size() < 16 || idle_.size() < 2 * idle_count_) return;
    std::erase_if(idle_, [](const auto& kv) { return kv.second.empty(); });
}

void ConnectionPool::close_all() {
    for (auto& [key, entries] : idle_) {
        for (auto& e : entries) {
            loop_.remove_timeout(e.timer);
            e.connection->close();
        }
    }
    idle_.clear();
    idle_count_ = 0;
}

std::size_t ConnectionPool::idle(const std::string& key) const {
    auto it = idle_.find(key);
    return it == idle_.end() ? 0 : it->second.size();
}

}  // namespace squall::http
