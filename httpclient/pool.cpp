#include "squall/httpclient/pool.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace squall::http {

ConnectionPool::ConnectionPool(IOLoop& loop, PoolOptions options) : loop_(loop), options_(options) {}

ConnectionPool::~ConnectionPool() {
    *alive_ = false;
    close_all();
}

void ConnectionPool::unpark(Entry& entry) {
    if (entry.parked) {
        loop_.remove_timeout(entry.timer);
    } else {
        forget_pending(entry.connection.get());
    }
}

void ConnectionPool::forget_pending(const Connection* connection) noexcept {
    auto it = std::find(pending_.begin(), pending_.end(), connection);
    if (it != pending_.end()) pending_.erase(it);
}

std::unique_ptr<Connection> ConnectionPool::take(std::string_view key, bool check_alive) {
    auto it = idle_.find(key);
    if (it == idle_.end()) return nullptr;
    auto& entries = it->second;
    while (!entries.empty()) {
        Entry entry = std::move(entries.back());
        entries.pop_back();
        --idle_count_;
        unpark(entry);
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
    const std::string& key = connection->pool_key();
    auto it = idle_.find(key);
    if (it == idle_.end()) {
        prune_empty_keys();
        it = idle_.try_emplace(key).first;
    }
    auto& entries = it->second;
    if (entries.size() >= options_.max_idle_per_host) {
        unpark(entries.front());
        entries.front().connection->close();
        entries.erase(entries.begin());
        --idle_count_;
    }
    pending_.push_back(connection.get());
    entries.push_back(Entry{std::move(connection), TimeoutHandle{}, false});
    ++idle_count_;
    if (!park_scheduled_) {
        park_scheduled_ = true;
        loop_.add_end_of_iteration([this, alive = alive_] {
            if (*alive) park_pending();
        });
    }
}

void ConnectionPool::park_pending() {
    park_scheduled_ = false;
    while (!pending_.empty()) {
        Connection* raw = pending_.back();
        pending_.pop_back();
        auto it = idle_.find(raw->pool_key());
        if (it == idle_.end()) continue;
        auto& entries = it->second;
        auto e = std::find_if(entries.begin(), entries.end(),
                              [raw](const Entry& entry) { return entry.connection.get() == raw; });
        if (e == entries.end()) continue;
        // Watched while idle: when the server sends or closes, the connection closes and leaves the pool.
        if (!raw->on_idle([this, raw] { remove(raw, /*timer_fired=*/false); })) {
            entries.erase(e);  // it closed itself (bytes or EOF came, or TLS is not quiet)
            --idle_count_;
            continue;
        }
        Duration limit = options_.idle_timeout;
        if (auto server_limit = raw->idle_limit()) limit = std::min(limit, *server_limit);
        e->timer = loop_.call_later(limit, [this, raw] { remove(raw, /*timer_fired=*/true); });
        e->parked = true;
    }
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
        if (!timer_fired) loop_.remove_timeout(entry.timer);  // (only parked entries are watched or timed)
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
            if (e.parked) loop_.remove_timeout(e.timer);
            e.connection->close();
        }
    }
    pending_.clear();
    idle_.clear();
    idle_count_ = 0;
}

std::size_t ConnectionPool::idle(const std::string& key) const {
    auto it = idle_.find(key);
    return it == idle_.end() ? 0 : it->second.size();
}

}  // namespace squall::http
