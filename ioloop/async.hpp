// Loop-aware coroutine helpers: sleep, with_timeout, spawn, and the wording of timeout messages.
//
//     co_await squall::sleep(std::chrono::milliseconds(50));
//     auto resp = co_await squall::with_timeout(loop, std::chrono::seconds(2), client.fetch(url));
//     squall::spawn(loop, background_job());     // fire and forget; errors are logged
#pragma once

#include <chrono>
#include <coroutine>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "squall/coro/future.hpp"
#include "squall/coro/log.hpp"
#include "squall/coro/start.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/ioloop.hpp"

namespace squall {

// Suspends the calling coroutine for `delay` on the current loop (or `loop`).
struct SleepAwaiter {
    // The loop the timer runs on, the delay (zero or less: no suspension), and the awaiter protocol.
    IOLoop& loop;
    Duration delay;
    bool await_ready() const noexcept { return delay <= Duration::zero(); }
    void await_suspend(std::coroutine_handle<> h) {
        loop.call_later(delay, [h] { h.resume(); });
    }
    void await_resume() const noexcept {}
};
// `co_await squall::sleep(100ms)`: resumes after delay (a loop timer, so at the earliest on the
// iteration after it is due), on IOLoop::current() or on `loop`. UsageError without a current loop.
template <class Rep, class Period>
SleepAwaiter sleep(std::chrono::duration<Rep, Period> delay) {
    return SleepAwaiter{IOLoop::current(), std::chrono::duration_cast<Duration>(delay)};
}
template <class Rep, class Period>
SleepAwaiter sleep(IOLoop& loop, std::chrono::duration<Rep, Period> delay) {
    return SleepAwaiter{loop, std::chrono::duration_cast<Duration>(delay)};
}

// Starts `awaitable` on the loop's next iteration and returns its Future. Call it on the loop's thread
// (from elsewhere, use add_callback). A failure nobody retrieves is logged.
template <class A>
auto spawn(IOLoop& loop, A awaitable) -> Future<await_result_t<A>> {
    using R = await_result_t<A>;
    Promise<R> p;
    auto f = p.get_future();
    loop.add_callback([a = std::make_unique<A>(std::move(awaitable)), p = std::move(p)]() mutable {
        detail::drive_into<A, R>(std::move(*a), std::move(p));
    });
    return f;
}

// How squall's messages show a duration: "2 s" for whole seconds, else milliseconds ("150 ms").
std::string format_duration(Duration d);

// The message of a TimeoutError for a named limit, e.g. timeout_message("connect_timeout", 300ms,
// "while connecting to 127.0.0.1:80") is "connect_timeout of 300 ms expired while connecting to
// 127.0.0.1:80".
std::string timeout_message(std::string_view limit_name, Duration limit, std::string_view doing);

namespace detail {

// Logs the failure of an operation that with_timeout already gave up on (not a cancellation).
void log_failure_after_timeout(const std::exception_ptr& e);

// Shared between the timer, the watched future and the suspended coroutine.
struct TimeoutRace {
    std::coroutine_handle<> waiter;
    bool finished = false;
    bool timed_out = false;
};

template <class T>
Task<T> with_timeout_impl(IOLoop& loop, Duration timeout, Future<T> fut) {
    if (!fut.done()) {
        auto race = std::make_shared<TimeoutRace>();
        struct Awaiter {
            IOLoop& loop;
            Duration timeout;
            Future<T>& fut;
            std::shared_ptr<TimeoutRace> race;
            TimeoutHandle timer;
            bool await_ready() const noexcept { return false; }
            void await_suspend(std::coroutine_handle<> h) {
                race->waiter = h;
                timer = loop.call_later(timeout, [r = race] {
                    if (r->finished) return;
                    r->finished = r->timed_out = true;
                    r->waiter.resume();
                });
                fut.add_done_callback([r = race, &loop = loop, t = &timer](const Future<T>& f) {
                    if (r->finished) {
                        // Timed out earlier: the operation goes on and its failure is still reported.
                        if (auto e = f.exception()) log_failure_after_timeout(e);
                        return;
                    }
                    r->finished = true;
                    loop.remove_timeout(*t);
                    r->waiter.resume();
                });
            }
            void await_resume() const noexcept {}
        };
        // A named awaiter, not a temporary: the co_await temporaries rule (squall/coro/task.hpp).
        Awaiter awaiter{loop, timeout, fut, race, {}};
        co_await awaiter;
        if (race->timed_out) throw TimeoutError("with_timeout: timed out after " + format_duration(timeout));
    }
    if constexpr (std::is_void_v<T>) {
        co_await std::move(fut);
    } else {
        co_return co_await std::move(fut);
    }
}

}  // namespace detail

// Awaits `awaitable` (a Task, a Future or any awaitable) for at most `timeout` on `loop`; raises
// TimeoutError when it expires. Like Tornado, the operation itself is not cancelled (cancel a Future
// yourself if it should stop); if it later fails, the error is logged, not lost.
template <class Rep, class Period, class A>
auto with_timeout(IOLoop& loop, std::chrono::duration<Rep, Period> timeout, A awaitable)
    -> Task<await_result_t<A>> {
    using R = await_result_t<A>;
    Future<R> fut;
    if constexpr (std::is_same_v<A, Future<R>>)
        fut = std::move(awaitable);
    else
        fut = start(std::move(awaitable));
    return detail::with_timeout_impl<R>(loop, std::chrono::duration_cast<Duration>(timeout), std::move(fut));
}

// The same on the thread's current loop (IOLoop::current()).
template <class Rep, class Period, class A>
auto with_timeout(std::chrono::duration<Rep, Period> timeout, A awaitable) -> Task<await_result_t<A>> {
    return with_timeout(IOLoop::current(), timeout, std::move(awaitable));
}

}  // namespace squall
