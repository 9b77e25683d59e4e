// Future<T> / Promise<T>: a result that will be set later, by callback-style code or by another coroutine.
//
//     squall::Promise<int> p;
//     squall::Future<int> f = p.get_future();
//     f.add_done_callback([](squall::Future<int>& done) { use(done.result()); });
//     p.set_value(7);                 // runs the callback and resumes every awaiter, inline
//
// Decisions:
// - Several coroutines may await one Future (as in Tornado); `co_await f` copies the value for each of
//   them, `co_await std::move(f)` moves it out and is for a single awaiter.
// - Completion resumes awaiters and runs done-callbacks *inline*, in registration order, before
//   set_value returns. This saves a loop iteration (about one wakeup) per completion on every hot path
//   (a stream read resolving its reader); the price is re-entrancy, which squall's own code handles by
//   completing a future as the last step of a handler. Code that needs a fresh stack defers itself with
//   IOLoop::add_callback.
// - A Future belongs to one thread (its loop's); complete it from another thread through add_callback.
// - cancel() completes a pending Future with CancelledError; a later set_value is ignored (returns false).
// - A Promise destroyed while its Future is pending fails it ("promise abandoned"): an awaiter never hangs.
// - An error nobody retrieved (no awaiter, result() never called) is logged when the last reference goes.
#pragma once

#include <cassert>
#include <coroutine>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "squall/coro/errors.hpp"
#include "squall/coro/frame_allocator.hpp"
#include "squall/coro/function.hpp"
#include "squall/coro/log.hpp"

namespace squall {

template <class T = void>
class Future;
template <class T = void>
class Promise;

namespace detail {

void log_unretrieved_exception(const std::exception_ptr& e) noexcept;

template <class T>
using StoredType = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

// Shared states come from the per-thread recycling allocator of coroutine frames: a steady stream of
// futures (a stream's flush, a ready slot) allocates nothing.
template <class T>
class FutureState : public FrameAllocated {
public:
    enum class Status : unsigned char { pending, value, error };

    void add_ref() noexcept { ++refs_; }
    void release() noexcept {
        if (--refs_ == 0) delete this;
    }

    ~FutureState() {
        if (status_ == Status::error && !retrieved_) log_unretrieved_exception(error_);
    }

    bool done() const noexcept { return status_ != Status::pending; }
    Status status() const noexcept { return status_; }

    template <class... U>
    bool set_value(U&&... v) {
        if (done()) return false;
        value_.emplace(std::forward<U>(v)...);
        status_ = Status::value;
        notify();
        return true;
    }
    bool set_exception(std::exception_ptr e) {
        if (done()) return false;
        error_ = std::move(e);
        status_ = Status::error;
        notify();
        return true;
    }

    const std::exception_ptr& exception() noexcept {
        retrieved_ = true;
        return error_;
    }
    StoredType<T>& value_ref() {
        retrieved_ = true;
        if (status_ == Status::error) std::rethrow_exception(error_);
        if (status_ != Status::value) throw UsageError("Future::result() called before the future is done");
        return *value_;
    }

    void add_waiter(std::coroutine_handle<> h) {
        if (!first_waiter_ && callbacks_.empty())
            first_waiter_ = h;
        else
            callbacks_.emplace_back([h] { h.resume(); });
    }
    void add_callback(Callback cb) {
        if (done()) {
            cb();
            return;
        }
        callbacks_.push_back(std::move(cb));
    }

private:
    void notify() {
        add_ref();  // the state must outlive the notifications even if every Future goes away
        auto first = std::exchange(first_waiter_, {});
        auto callbacks = std::move(callbacks_);
        if (first) first.resume();
        for (auto& cb : callbacks) cb();
        release();
    }

    int refs_ = 0;  // not atomic: a future belongs to one thread
    Status status_ = Status::pending;
    bool retrieved_ = false;
    std::optional<StoredType<T>> value_;
    std::exception_ptr error_;
    std::coroutine_handle<> first_waiter_;
    std::vector<Callback> callbacks_;
};

template <class T>
class StateRef {
public:
    StateRef() noexcept = default;
    explicit StateRef(FutureState<T>* s) noexcept : s_(s) {
        if (s_) s_->add_ref();
    }
    StateRef(const StateRef& o) noexcept : StateRef(o.s_) {}
    StateRef(StateRef&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    StateRef& operator=(StateRef o) noexcept {
        std::swap(s_, o.s_);
        return *this;
    }
    ~StateRef() {
        if (s_) s_->release();
    }
    FutureState<T>* operator->() const noexcept { return s_; }
    FutureState<T>* get() const noexcept { return s_; }
    explicit operator bool() const noexcept { return s_ != nullptr; }

private:
    FutureState<T>* s_ = nullptr;
};

}  // namespace detail

// The consumer side of a Promise<T>: await it, or poll it with done() / result(). Copies share one state.
template <class T>
class Future {
public:
    using value_type = T;  // the result type (void for Future<void>)

    // A default-constructed Future has no state (valid() is false); only assignment makes it usable.
    Future() noexcept = default;
    // For Promise::get_future().
    explicit Future(detail::StateRef<T> s) noexcept : state_(std::move(s)) {}

    // Has a shared state (the other members need one).
    bool valid() const noexcept { return static_cast<bool>(state_); }
    // Holds a value or an error.
    bool done() const noexcept { return state_->done(); }
    // Done with CancelledError (by cancel() or by the producer).
    bool cancelled() const noexcept {
        if (!state_->done() || state_->status() != detail::FutureState<T>::Status::error) return false;
        try {
            std::rethrow_exception(state_->exception());
        } catch (const CancelledError&) {
            return true;
        } catch (...) {
            return false;
        }
    }

    // The value (a reference into the shared state), or the stored exception rethrown.
    // UsageError when not done.
    decltype(auto) result() const {
        if constexpr (std::is_void_v<T>) {
            state_->value_ref();
        } else {
            return static_cast<const T&>(state_->value_ref());
        }
    }
    // The stored exception (null when the future holds a value). Marks the error as retrieved.
    std::exception_ptr exception() const { return state_->exception(); }

    // Runs cb(*this) when the future completes (immediately if it already has). Tornado's add_done_callback.
    template <class F>
    void add_done_callback(F&& cb) const {
        state_->add_callback([f = std::forward<F>(cb), s = state_]() mutable {
            Future<T> self(s);
            f(self);
        });
    }

    // Completes a pending future with CancelledError. Returns false when it was already done.
    bool cancel() const { return state_->set_exception(std::make_exception_ptr(CancelledError())); }

    // What `co_await future` uses (the C++ awaiter protocol); not called directly. Its result is a copy
    // of the value, or the value moved out for `co_await std::move(f)`; an error is rethrown.
    struct Awaiter {
        // The awaiter protocol: the state awaited, whether to move the value out, and the three calls.
        detail::StateRef<T> state;
        bool move_out;
        bool await_ready() const noexcept { return state->done(); }
        void await_suspend(std::coroutine_handle<> h) { state->add_waiter(h); }
        T await_resume() {
            if constexpr (std::is_void_v<T>) {
                state->value_ref();
            } else if constexpr (std::is_copy_constructible_v<T>) {
                if (move_out) return std::move(state->value_ref());
                return state->value_ref();
            } else {
                return std::move(state->value_ref());  // move-only T: only `co_await std::move(f)` compiles
            }
        }
    };
    // `co_await f` (copies the value; several awaiters may wait) and `co_await std::move(f)` (moves it;
    // one awaiter). Only the second compiles for a move-only T.
    Awaiter operator co_await() const& noexcept
        requires(std::is_void_v<T> || std::is_copy_constructible_v<T>) {
        return Awaiter{state_, false};
    }
    Awaiter operator co_await() && noexcept { return Awaiter{std::move(state_), true}; }

private:
    detail::StateRef<T> state_;
};

// The producer side: completes its Future (and every copy of it) once. Move-only; destroying or
// move-assigning over a pending Promise fails its Future with Error("promise abandoned ...").
template <class T>
class Promise {
public:
    // Allocates the shared state (from the frame allocator, see frame_allocator.hpp).
    Promise() : state_(new detail::FutureState<T>()) {}
    // Moving transfers the state; the moved-from Promise may only be destroyed or assigned to.
    Promise(Promise&&) noexcept = default;
    Promise& operator=(Promise&& o) noexcept {
        if (this != &o) {
            abandon();
            state_ = std::move(o.state_);
        }
        return *this;
    }
    ~Promise() { abandon(); }

    // A Future on this promise's state; may be called any number of times.
    Future<T> get_future() const { return Future<T>(state_); }
    // The future is complete (by this promise, or by Future::cancel()).
    bool done() const noexcept { return state_->done(); }

    // Complete the future with a value (constructed from v...), an exception, or an error object (thrown
    // to awaiters as E). Awaiters and done-callbacks run inline before these return. They return false,
    // changing nothing, when the future is already done (e.g. cancelled).
    template <class... U>
    bool set_value(U&&... v) const {
        return state_->set_value(std::forward<U>(v)...);
    }
    bool set_exception(std::exception_ptr e) const { return state_->set_exception(std::move(e)); }
    template <class E>
    bool set_error(E&& e) const {
        return state_->set_exception(std::make_exception_ptr(std::forward<E>(e)));
    }

private:
    void abandon() noexcept {
        if (state_ && !state_->done()) {
            try {
                state_->set_exception(std::make_exception_ptr(
                    Error("promise abandoned: its producer went away without a result")));
            } catch (...) {
            }
        }
    }
    detail::StateRef<T> state_;
};

// A future that is already complete.
template <class T>
Future<std::decay_t<T>> make_ready_future(T&& value) {
    Promise<std::decay_t<T>> p;
    p.set_value(std::forward<T>(value));
    return p.get_future();
}
// The ready Future<void>s of one thread share one state, which allocates nothing per call (a stream's
// flush with nothing pending, a free max_clients slot): a done state never changes again (set_value and
// cancel are ignored, callbacks run at once), and the reference it holds on itself keeps it from ever
// being freed.
inline Future<void> make_ready_future() {
    struct ReadyState : detail::FutureState<void> {
        ReadyState() {
            add_ref();
            set_value();
        }
    };
    static thread_local ReadyState ready;
    return Future<void>(detail::StateRef<void>(&ready));
}

}  // namespace squall
