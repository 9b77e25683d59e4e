// Queue<T>: a FIFO between coroutines, as tornado.queues.Queue. Bounded when maxsize > 0: put() then
// waits for room. get() waits for an item. Both return Futures (compose with with_timeout; a waiter
// that timed out is skipped and, for put, its item is not enqueued).
//
//     squall::Queue<std::string> q(100);
//     co_await q.put("job");
//     std::string job = co_await q.get();
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

#include "squall/coro/errors.hpp"
#include "squall/coro/future.hpp"

namespace squall {

// A FIFO of T between coroutines of one loop (see the file comment).
template <class T>
class Queue {
public:
    // maxsize 0: unbounded.
    explicit Queue(std::size_t maxsize = 0) : maxsize_(maxsize) {}

    // Items queued (not counting putters still waiting for room), the bound, and the state against it.
    std::size_t size() const noexcept { return items_.size(); }
    std::size_t maxsize() const noexcept { return maxsize_; }
    bool empty() const noexcept { return items_.empty(); }
    bool full() const noexcept { return maxsize_ > 0 && items_.size() >= maxsize_; }

    // Hands item to the oldest waiting get(), else queues it; when full, completes once there is room
    // (FIFO among putters).
    Future<void> put(T item) {
        if (try_hand_to_getter(item)) return make_ready_future();
        if (!full()) {
            items_.push_back(std::move(item));
            return make_ready_future();
        }
        putters_.emplace_back(std::move(item), Promise<void>());
        return putters_.back().second.get_future();
    }
    // Raises QueueFull when there is no room.
    void put_nowait(T item) {
        if (try_hand_to_getter(item)) return;
        if (full()) throw QueueFull();
        items_.push_back(std::move(item));
    }

    // The oldest item; waits for one when empty (FIFO among getters).
    Future<T> get() {
        if (auto item = take()) return make_ready_future(std::move(*item));
        getters_.emplace_back();
        return getters_.back().get_future();
    }
    // Raises QueueEmpty when there is nothing to take.
    T get_nowait() {
        if (auto item = take()) return std::move(*item);
        throw QueueEmpty();
    }

private:
    bool try_hand_to_getter(T& item) {
        while (!getters_.empty()) {
            Promise<T> p = std::move(getters_.front());
            getters_.pop_front();
            if (!p.done()) {
                p.set_value(std::move(item));
                return true;
            }
        }
        return false;
    }
    std::optional<T> take() {
        if (items_.empty()) return std::nullopt;
        std::optional<T> out(std::move(items_.front()));
        items_.pop_front();
        // Room was made: admit the oldest putter still waiting.
        while (!putters_.empty()) {
            auto entry = std::move(putters_.front());
            putters_.pop_front();
            if (!entry.second.done()) {
                items_.push_back(std::move(entry.first));
                entry.second.set_value();
                break;
            }
        }
        return out;
    }

    std::size_t maxsize_;
    std::deque<T> items_;
    std::deque<Promise<T>> getters_;
    std::deque<std::pair<T, Promise<void>>> putters_;
};

}  // namespace squall
