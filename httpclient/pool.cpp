#include "httpclient/pool.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <utility>

namespace squall::http {

ConnectionPool::ConnectionPool(IOLoop& loop, PoolOptions options) : loop_(loop), options_(options) {}

ConnectionPool::~ConnectionPool() {
    close_all();
}

bool ConnectionPool::looks_alive(Connection& connection) {
    IOStream& stream = connection.stream();
    if (stream.closed() || stream.fd() < 0) return false;
    // Plaintext nobody asked for: the connection is out of step.
    if (!stream.read_buffer().empty()) return false;
    char byte;
    ssize_t n = ::recv(stream.fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return false;           // the server closed it while idle
    if (n > 0) return stream.is_tls();  // TLS: may be a session ticket or close_notify, found out on use
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

std::unique_ptr<Connection> ConnectionPool::take(const std::string& key) {
    auto it = idle_.find(key);
    if (it == idle_.end()) return nullptr;
    auto& entries = it->second;
    std::unique_ptr<Connection> found;
    while (!entries.empty() && !found) {
        Entry entry = std::move(entries.back());
        entries.pop_back();
        --idle_count_;
        loop_.remove_timeout(entry.timer);
        if (looks_alive(*entry.connection)) {
            found = std::move(entry.connection);
        } else {
            entry.connection->close();
        }
    }
    if (entries.empty()) idle_.erase(it);
    return found;
}

void ConnectionPool::put(std::unique_ptr<Connection> connection) {
    if (!connection) return;
    if (!connection->reusable() || options_.max_idle_per_host == 0) {
        connection->close();
        return;
    }
    connection->stream().read_buffer().shrink();  // an idle connection keeps a small buffer
    const std::string& key = connection->pool_key();
    auto& entries = idle_[key];
    if (entries.size() >= options_.max_idle_per_host) {
        loop_.remove_timeout(entries.front().timer);
        entries.front().connection->close();
        entries.pop_front();
        --idle_count_;
    }
    std::uint64_t id = ++next_id_;
    TimeoutHandle timer = loop_.call_later(options_.idle_timeout, [this, key, id] { expire(key, id); });
    entries.push_back(Entry{std::move(connection), timer, id});
    ++idle_count_;
}

void ConnectionPool::expire(const std::string& key, std::uint64_t id) {
    auto it = idle_.find(key);
    if (it == idle_.end()) return;
    auto& entries = it->second;
    for (auto e = entries.begin(); e != entries.end(); ++e) {
        if (e->id != id) continue;
        e->connection->close();
        entries.erase(e);
        --idle_count_;
        break;
    }
    if (entries.empty()) idle_.erase(it);
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
