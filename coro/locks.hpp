// Event and Semaphore, as in tornado.locks. Waits return Futures, so they compose with
// with_timeout(); a timed-out or cancelled waiter gives up its place (a Semaphore never hands a permit to
// a waiter that stopped waiting).
//
//     squall::Event ready;
//     co_await ready.wait();          // elsewhere: ready.set();
//
//     squall::Semaphore slots(10);
//     co_await slots.acquire();
//     squall::SemaphoreGuard guard(slots);   // releases on scope exit
#pragma once

#include <cstddef>
#include <deque>

#include "squall/coro/future.hpp"

namespace squall {

// A flag coroutines can wait for (tornado.locks.Event). Starts clear.
class Event {
public:
    bool is_set() const noexcept { return set_; }  // set() was called and clear() was not since
    // Wakes every waiter (inline) and makes later waits complete at once.
    void set() {
        if (set_) return;
        set_ = true;
        auto waiters = std::move(waiters_);
        waiters_.clear();
        for (auto& p : waiters) p.set_value();
    }
    // Later waits block again until the next set().
    void clear() noexcept { set_ = false; }
    // Completes when the event is set (at once if it is).
    Future<void> wait() {
        if (set_) return make_ready_future();
        waiters_.emplace_back();
        return waiters_.back().get_future();
    }

private:
    bool set_ = false;
    std::deque<Promise<void>> waiters_;
};

// A counter of permits (tornado.locks.Semaphore). Not bounded: release() without acquire() adds a permit.
class Semaphore {
public:
    // Starts with `value` free permits.
    explicit Semaphore(std::size_t value = 1) : value_(value) {}

    std::size_t value() const noexcept { return value_; }             // free permits
    std::size_t waiting() const noexcept { return waiters_.size(); }  // queued acquire() calls

    // Takes a permit if one is free without waiting; false otherwise.
    bool try_acquire() noexcept {
        if (value_ == 0) return false;
        --value_;
        return true;
    }
    // Completes when a permit is taken. FIFO among waiters.
    Future<void> acquire() {
        if (value_ > 0 && waiters_.empty()) {
            --value_;
            return make_ready_future();
        }
        waiters_.emplace_back();
        return waiters_.back().get_future();
    }
    // Returns a permit: hands it to the oldest waiter still waiting, else adds it to value().
    void release() {
        while (!waiters_.empty()) {
            Promise<void> p = std::move(waiters_.front());
            waiters_.pop_front();
            if (!p.done()) {  // a cancelled or timed-out waiter is skipped
                p.set_value();
                return;
            }
        }
        ++value_;
    }

private:
    std::size_t value_;
    std::deque<Promise<void>> waiters_;
};

// Releases one permit when it goes out of scope (after a successful acquire).
class SemaphoreGuard {
public:
    // Takes over one permit already acquired from `s` (which must outlive the guard).
    explicit SemaphoreGuard(Semaphore& s) noexcept : s_(&s) {}
    // The moved-from guard releases nothing.
    SemaphoreGuard(SemaphoreGuard&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    SemaphoreGuard(const SemaphoreGuard&) = delete;
    SemaphoreGuard& operator=(const SemaphoreGuard&) = delete;
    ~SemaphoreGuard() {
        if (s_) s_->release();
    }

private:
    Semaphore* s_;
};

}  // namespace squall
