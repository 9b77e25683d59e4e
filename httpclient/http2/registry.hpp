// Http2Sessions: a Client's live HTTP/2 sessions by pool key, and connection coalescing for origins that
// may speak HTTP/2.
//
//     for (;;) {                                         // in the Client, before connecting
//         if (auto s = sessions.find(key)) { /* use s */ }
//         if (!sessions.connecting(key)) break;          // nobody is connecting: connect ourselves
//         co_await sessions.wait_for_connect(key);       // another fetch is: it may bring a session
//     }
//     sessions.connect_started(key);  /* connect, ALPN */  sessions.add(session);  sessions.connect_finished(key);
//
// find() returns the session of the key with the fewest streams in flight among those with room for one
// more (Http2Session::can_open_stream); with none, the caller opens a further connection, so requests
// beyond one connection's SETTINGS_MAX_CONCURRENT_STREAMS spread over more connections (curl and Go's
// net/http do the same). max_clients still bounds the requests of the Client. Closed sessions leave the
// registry by their close callback.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "squall/coro/future.hpp"
#include "squall/httpclient/http2/session.hpp"

namespace squall::http {

// The live HTTP/2 sessions of one Client, by pool key, and the connects in progress (see the file comment).
class Http2Sessions {
public:
    Http2Sessions() = default;
    ~Http2Sessions() { close_all(); }
    Http2Sessions(const Http2Sessions&) = delete;
    Http2Sessions& operator=(const Http2Sessions&) = delete;

    // The session for key that can open a stream and has the fewest active streams, or null.
    std::shared_ptr<Http2Session> find(std::string_view key) const {
        auto it = sessions_.find(key);
        if (it == sessions_.end()) return nullptr;
        std::shared_ptr<Http2Session> best;
        for (const auto& s : it->second)
            if (s->can_open_stream() && (!best || s->active_streams() < best->active_streams())) best = s;
        return best;
    }

    // Registers a session under its pool key; it is removed when it closes.
    void add(const std::shared_ptr<Http2Session>& session) {
        auto& list = sessions_[session->pool_key()];
        list.push_back(session);
        Http2Session* raw = session.get();
        session->set_close_callback([this, raw] { remove(raw); });
    }

    // A connect for key is in progress (connect_started, not yet connect_finished).
    bool connecting(std::string_view key) const { return connecting_.find(key) != connecting_.end(); }
    // Resolves at the next connect_finished(key) (at once when none is in progress).
    Future<void> wait_for_connect(std::string_view key) {
        auto it = connecting_.find(key);
        if (it == connecting_.end()) return make_ready_future();
        return it->second.emplace_back().get_future();
    }
    // Marks a connect for key as in progress: later fetches wait for it instead of connecting too.
    void connect_started(const std::string& key) { connecting_.try_emplace(key); }
    // Wakes every fetch waiting for this key's connect (they look again: a session, or connect themselves).
    void connect_finished(const std::string& key) {
        auto it = connecting_.find(key);
        if (it == connecting_.end()) return;
        auto waiters = std::move(it->second);
        connecting_.erase(it);
        for (auto& w : waiters) w.set_value();
    }

    // Closes every session (their streams fail with StreamClosedError).
    void close_all() {
        auto all = std::move(sessions_);
        sessions_.clear();
        for (auto& [key, list] : all)
            for (auto& s : list) {
                s->set_close_callback(nullptr);
                s->close();
            }
    }

    // Sessions registered, over all keys.
    std::size_t size() const {
        std::size_t n = 0;
        for (const auto& [key, list] : sessions_) n += list.size();
        return n;
    }

private:
    void remove(Http2Session* session) {
        auto it = sessions_.find(session->pool_key());
        if (it == sessions_.end()) return;
        std::erase_if(it->second, [session](const auto& s) { return s.get() == session; });
        if (it->second.empty()) sessions_.erase(it);
    }

    std::map<std::string, std::vector<std::shared_ptr<Http2Session>>, std::less<>> sessions_;
    std::map<std::string, std::vector<Promise<void>>, std::less<>> connecting_;
};

}  // namespace squall::http
