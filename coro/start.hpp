// start(awaitable): run a Task (or any awaitable) now, detached from the caller, and get its result as a
// Future. The body runs inline until its first suspension. Errors land in the Future; if nobody ever
// retrieves them they are logged (never lost). IOLoop's spawn() is the loop-scheduled variant.
#pragma once

#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>

#include "squall/coro/frame_allocator.hpp"
#include "squall/coro/future.hpp"
#include "squall/coro/task.hpp"

namespace squall {

// The return type of a fire-and-forget coroutine that starts at once and frees its own frame when it
// ends, with no Future to report to. Its body must catch everything: an escaping exception terminates.
//
//     squall::Detached close_later(std::shared_ptr<squall::IOStream> s) {
//         try { co_await s->close_after_flush(); } catch (...) { s->close(); }
//     }
struct Detached {
    // The coroutine protocol: starts eagerly, frees its frame at the end, terminates on an escaping
    // exception.
    struct promise_type : FrameAllocated {
        // The promise protocol, called by the compiler.
        Detached get_return_object() noexcept { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }
    };
};

namespace detail {

template <class A, class R>
Detached drive_into(A awaitable, Promise<R> promise) {
    try {
        if constexpr (std::is_void_v<R>) {
            co_await std::move(awaitable);
            promise.set_value();
        } else {
            promise.set_value(co_await std::move(awaitable));
        }
    } catch (...) {
        promise.set_exception(std::current_exception());
    }
}

}  // namespace detail

// Runs `awaitable` now (inline until its first suspension) and returns a Future of its result or error.
// The awaitable is moved into the driver and lives until it finishes.
template <class A>
auto start(A awaitable) -> Future<await_result_t<A>> {
    using R = await_result_t<A>;
    Promise<R> p;
    auto f = p.get_future();
    detail::drive_into<A, R>(std::move(awaitable), std::move(p));
    return f;
}

}  // namespace squall
