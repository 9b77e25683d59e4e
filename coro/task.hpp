// Task<T>: the return type of squall coroutines.
//
// A Task is lazy: the coroutine body starts when the Task is awaited (or handed to spawn / run_sync /
// gather). When it finishes, its awaiter resumes by symmetric transfer, so long chains of tasks do not
// grow the stack. Exceptions propagate to the awaiter. A Task is move-only and owns its frame; awaiting
// an empty one (default-constructed or moved from) throws EmptyTaskError.
//
//     squall::Task<int> answer() { co_return 42; }
//     squall::Task<void> caller() { int x = co_await answer(); }
//
// The co_await temporaries rule (a GCC 12 bug; squall's one statement of it, the README repeats it):
//
// Inside a co_await expression, do not create a temporary aggregate whose members have destructors: an
// options struct built with braces (`Opts{...}`, `{.field = x}`, or a parameter defaulted with `= {}`)
// holding a std::string, vector, FieldTable, std::function or shared_ptr, or a lambda capturing such a
// thing by value. Name it first and pass the name:
//
//     squall::http::HTTPRequest req{.url = url, .method = "POST", .body = "x=1"};
//     auto resp = co_await client.fetch(req);
//
// g++ 12.2 copies such a temporary into the coroutine frame bitwise and destroys it twice: AddressSanitizer
// reports a double free or a free of a pointer into the frame (a short std::string's inline buffer), and
// without it the heap is corrupted. Named objects, std::move of a named object, and temporaries made by a
// constructor (`std::string(s)`, `Opts(o)`) are not affected, nor is clang.
// tests/coro/test_await_temporaries.cpp runs the documented form under AddressSanitizer. In squall's API, a
// function meant to be awaited never defaults an options struct that owns heap memory (overloads instead),
// and fetch(HTTPRequest&&) and TCPClient::connect(..., ConnectOptions&&) are deleted on affected compilers
// (SQUALL_AWAIT_TEMPORARIES_BUG below), so the hazardous form does not compile there.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "squall/coro/errors.hpp"
#include "squall/coro/frame_allocator.hpp"

// 1 on compilers that mishandle temporaries in co_await expressions (the rule above): GCC before 13 (GCC 13
// and later were not tested here and are treated as fixed), 0 elsewhere.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#define SQUALL_AWAIT_TEMPORARIES_BUG 1
#else
#define SQUALL_AWAIT_TEMPORARIES_BUG 0
#endif

namespace squall {

template <class T = void>
class Task;

namespace detail {

struct TaskPromiseBase : FrameAllocated {
    std::coroutine_handle<> continuation;
    std::exception_ptr exception;

    std::suspend_always initial_suspend() noexcept { return {}; }

    struct FinalAwaiter {
        bool await_ready() noexcept { return false; }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
            auto c = h.promise().continuation;
            return c ? c : std::noop_coroutine();
        }
        void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { exception = std::current_exception(); }
};

template <class T>
struct TaskPromise : TaskPromiseBase {
    std::optional<T> value;
    Task<T> get_return_object() noexcept;
    template <class U = T>
    void return_value(U&& v) {
        value.emplace(std::forward<U>(v));
    }
    T take() {
        if (exception) std::rethrow_exception(exception);
        return std::move(*value);
    }
};

template <>
struct TaskPromise<void> : TaskPromiseBase {
    Task<void> get_return_object() noexcept;
    void return_void() noexcept {}
    void take() {
        if (exception) std::rethrow_exception(exception);
    }
};

}  // namespace detail

// The return type of a coroutine producing T (see the file comment). Move-only; owns its frame.
template <class T>
class [[nodiscard]] Task {
public:
    // The coroutine protocol types; value_type is T.
    using promise_type = detail::TaskPromise<T>;
    using value_type = T;
    using Handle = std::coroutine_handle<promise_type>;

    // An empty Task: awaiting it throws EmptyTaskError.
    Task() noexcept = default;
    // Owns h (what the promise's get_return_object uses).
    explicit Task(Handle h) noexcept : handle_(h) {}
    // Moving transfers the frame; the moved-from Task is empty. Assigning destroys the frame held before.
    Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    Task& operator=(Task&& other) noexcept {
        if (this != &other) {
            if (handle_) handle_.destroy();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }
    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;
    ~Task() {
        if (handle_) handle_.destroy();
    }

    bool valid() const noexcept { return static_cast<bool>(handle_); }  // holds a coroutine frame
    bool done() const noexcept { return handle_ && handle_.done(); }    // its body has finished

    // What `co_await task` uses (the C++ awaiter protocol); not called directly. Starts the body, resumes
    // the awaiter when it ends; the result is the body's value or its exception rethrown.
    struct Awaiter {
        // The awaiter protocol: the frame awaited and the three calls.
        Handle handle;
        bool await_ready() noexcept { return !handle || handle.done(); }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
            handle.promise().continuation = awaiting;
            return handle;
        }
        T await_resume() {
            if (!handle) throw EmptyTaskError();
            return handle.promise().take();
        }
    };
    // `co_await task` on a temporary or a named Task; the Task keeps owning the frame.
    Awaiter operator co_await() && noexcept { return Awaiter{handle_}; }
    Awaiter operator co_await() & noexcept { return Awaiter{handle_}; }

    // For drivers (spawn, gather, run_sync): release the frame to a new owner.
    Handle release() noexcept { return std::exchange(handle_, {}); }

private:
    Handle handle_;
};

namespace detail {
template <class T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
    return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
    return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}
}  // namespace detail

// The result type of awaiting an awaitable A (Task, Future, or any type with operator co_await /
// await_resume).
namespace detail {
template <class A>
decltype(auto) get_awaiter(A&& a) {
    if constexpr (requires { std::forward<A>(a).operator co_await(); }) {
        return std::forward<A>(a).operator co_await();
    } else if constexpr (requires { operator co_await(std::forward<A>(a)); }) {
        return operator co_await(std::forward<A>(a));
    } else {
        return std::forward<A>(a);
    }
}
}  // namespace detail

// The type `co_await a` yields for an awaitable of type A.
template <class A>
using await_result_t = decltype(detail::get_awaiter(std::declval<A>()).await_resume());

}  // namespace squall
