// RetryPolicy and retry_over_time: kombu's retry loop (kombu.utils.functional.retry_over_time) as a
// coroutine.
//
//     messaging::RetryPolicy policy{.max_retries = 5, .interval_start = 100ms, .interval_step = 100ms};
//     auto conn = co_await messaging::retry_over_time(loop, [&] { return Connection::open(loop, url); },
//                                                    policy);
//
// Semantics (kombu's, with DESIGN.md section 9's cap): attempt 0 runs at once. After a failure that
// `recoverable` accepts (default is_recoverable_connection_error), the loop gives up and rethrows that
// last error when max_retries failures were already retried (attempts = max_retries + 1) or the timeout
// has passed; otherwise it sleeps and tries again. Sleeps are interval_start, then + interval_step per
// sleep, capped at interval_max (kombu caps at interval_max + interval_start; we use the documented
// value). With cycle > 1 (several brokers) it sleeps only after each full pass of `cycle` attempts; the
// other failures move on at once. errback(error, sleep) runs for every failure that will be retried, with
// the sleep that follows (zero inside a pass). A sleep never runs past the timeout. Errors `recoverable`
// refuses propagate at once.
//
// Every retry yields to the loop before the next attempt, even after a zero sleep and even when the
// attempt failed without suspending: a policy without limits (RetryPolicy{} with zero intervals) keeps
// retrying but never starves the loop's timers, heartbeats and I/O. This is the one retry loop of the
// messaging layer: BrokerConnection::ensure_connection and BrokerConnection::ensure run on it.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>

#include "squall/amqp/messaging/errors.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/ioloop/ioloop.hpp"

namespace squall::amqp::messaging {

// How often and how long to retry (kombu's retry_over_time arguments).
struct RetryPolicy {
    std::optional<unsigned> max_retries{};  // nullopt: no limit (unless timeout)
    // The sleeps: interval_start first, interval_step more each time, at most interval_max.
    std::chrono::milliseconds interval_start{2000};
    std::chrono::milliseconds interval_step{2000};
    std::chrono::milliseconds interval_max{30000};
    std::optional<std::chrono::milliseconds> timeout{};  // overall, from the first attempt
    // Called for each failure that will be retried: the error and the sleep before the next attempt.
    std::function<void(const std::exception_ptr& error, std::chrono::milliseconds sleep)> errback{};
};

// The sleeps of a policy: start, start + step, ... capped at interval_max (and never negative).
class RetryIntervals {
public:
    // The intervals of policy p.
    explicit RetryIntervals(const RetryPolicy& p)
        : next_(p.interval_start), step_(p.interval_step), max_(p.interval_max) {}
    std::chrono::milliseconds next();  // the next sleep

private:
    std::chrono::milliseconds next_, step_, max_;
};

// Whether an attempt's error may be retried.
using RecoverablePredicate = std::function<bool(const std::exception_ptr&)>;

namespace detail {
// Resumes the awaiting coroutine from the loop's next iteration (after its timers and I/O).
struct YieldToLoop {
    IOLoop& loop;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
        loop.add_callback([h] { h.resume(); });
    }
    void await_resume() const noexcept {}
};
}  // namespace detail

// T for an fn() that returns Task<T>.
template <class Fn>
using RetryResult = typename std::invoke_result_t<Fn&>::value_type;

// fn() returns a Task<T>; it is called once per attempt.
template <class Fn>
Task<RetryResult<Fn>> retry_over_time(IOLoop& loop, Fn fn, RetryPolicy policy, std::size_t cycle = 1,
                                      RecoverablePredicate recoverable = is_recoverable_connection_error) {
    using T = RetryResult<Fn>;
    if (cycle == 0) cycle = 1;
    RetryIntervals intervals(policy);
    std::optional<TimePoint> deadline;
    if (policy.timeout) deadline = loop.time() + *policy.timeout;
    for (unsigned retries = 0;; ++retries) {
        std::exception_ptr error;
        try {
            if constexpr (std::is_void_v<T>) {
                auto attempt = fn();
                co_await std::move(attempt);
                co_return;
            } else {
                auto attempt = fn();
                co_return co_await std::move(attempt);
            }
        } catch (...) {
            error = std::current_exception();
        }
        if (!recoverable(error)) std::rethrow_exception(error);
        if (policy.max_retries && retries >= *policy.max_retries) std::rethrow_exception(error);
        if (deadline && loop.time() >= *deadline) std::rethrow_exception(error);
        Duration sleep{0};
        if ((retries + 1) % cycle == 0) sleep = intervals.next();
        // A sleep that would pass the deadline ends at it: one last attempt then, and no more.
        if (deadline && sleep > *deadline - loop.time()) sleep = *deadline - loop.time();
        if (policy.errback) policy.errback(error, std::chrono::ceil<std::chrono::milliseconds>(sleep));
        if (sleep > Duration::zero())
            co_await squall::sleep(loop, sleep);
        else
            co_await detail::YieldToLoop{loop};
    }
}

}  // namespace squall::amqp::messaging
