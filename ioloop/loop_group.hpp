// LoopGroup: N IOLoops on N threads, one loop per core, for a service that outgrows one loop.
//
//     squall::LoopGroup group(squall::LoopGroupOptions{.threads = 4});
//     group.submit(0, background_job());                 // start a task on loop 0; errors are logged
//     int n = co_await group.on(1, count_things());      // run a task on loop 1, resume here with its result
//     group.stop();                                      // every loop stops after what was queued before
//     group.join();                                      // (the destructor does both)
//
// Each loop is built on its own thread (an io_uring ring is single-issuer) and runs until stop(). Work
// reaches a loop only through IOLoop::add_callback, the loop's one thread-safe call: a task handed to
// on()/submit() moves there whole, runs there, and everything it creates (streams, clients, timers)
// belongs to that loop. Loops share nothing else: no lock, counter or queue of the group is touched
// while a loop runs its own work. Give each loop its own client (`Client` per loop) and split the work
// between them.
//
// Thread safety: on(), submit(), stop(), size() and loop() may be called from any thread. A task must
// not outlive the group: work still in flight when the group stops is abandoned (as on any stopped
// loop); an on() awaiter of it is not resumed. Stop the group when its work is done.
#pragma once

#include <atomic>
#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "squall/coro/errors.hpp"
#include "squall/coro/function.hpp"
#include "squall/coro/start.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/ioloop.hpp"

namespace squall {

// How many loops a LoopGroup runs, and how.
struct LoopGroupOptions {
    std::size_t threads = 1;               // loops (and threads), at least 1
    Backend backend = Backend::automatic;  // every loop's backend
    bool pin_threads = false;  // pin loop i's thread to CPU i (modulo the CPUs this process may use)
};

// N loops on N threads (see the file comment).
class LoopGroup {
public:
    // Starts the threads and returns once every loop is built. Throws (after joining the threads that
    // started) when a loop cannot be built, e.g. a forced io_uring backend the kernel refuses.
    explicit LoopGroup(LoopGroupOptions options);
    ~LoopGroup();  // stop() and join()
    LoopGroup(const LoopGroup&) = delete;
    LoopGroup& operator=(const LoopGroup&) = delete;

    std::size_t size() const noexcept { return slots_.size(); }  // the number of loops
    // Loop i (UsageError when out of range). Only add_callback and stop may be called on it from
    // another thread; everything else belongs to its own thread.
    IOLoop& loop(std::size_t i) const;

    // Runs fn on loop i's next iteration.
    void submit(std::size_t i, Callback fn);
    // Starts task on loop i (detached: an error it ends with is logged).
    void submit(std::size_t i, Task<void> task);

    template <class T>
    class OnAwaiter;
    // `co_await group.on(i, task)`: runs task on loop i and resumes the awaiting coroutine on its own
    // loop with the task's result (or its error). From a coroutine on a loop of this group, or on any
    // other IOLoop (the awaiter's loop is IOLoop::current() when it suspends).
    template <class T>
    OnAwaiter<T> on(std::size_t i, Task<T> task);

    // Every loop stops after running the callbacks queued before this call (so work submitted before it
    // starts). Idempotent. Later on()/submit() throw UsageError.
    void stop();
    // Waits for every thread to end (their loops are destroyed on their own threads, after all loops
    // stopped). Idempotent; not from a loop thread of this group.
    void join();

private:
    struct Slot {
        std::unique_ptr<IOLoop> loop;
        std::thread thread;
    };
    void thread_main(std::size_t i, LoopGroupOptions options);
    void check_open() const;

    std::vector<Slot> slots_;
    // Start-up and shut-down only (never touched by a running loop's own work).
    std::mutex mutex_;
    std::condition_variable cv_;
    std::size_t built_ = 0;
    std::size_t running_ = 0;
    std::exception_ptr build_error_;
    std::atomic<bool> stopped_{false};
    bool joined_ = false;
};

// What on() returns: await it once, from a coroutine running on an IOLoop.
template <class T>
class LoopGroup::OnAwaiter {
public:
    // The awaiter protocol (made by on(), used by co_await): await_suspend hands task to `target`,
    // await_resume returns its result or rethrows its error.
    OnAwaiter(IOLoop& target, Task<T> task) : target_(&target), task_(std::move(task)) {}
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
        home_ = &IOLoop::current();
        waiter_ = h;
        // The awaiter lives in the suspended coroutine's frame: only `this` crosses the threads, and the
        // two add_callback hand-offs order every access to it.
        target_->add_callback([this] { run_there(this); });
    }
    T await_resume() {
        if (error_) std::rethrow_exception(error_);
        if constexpr (!std::is_void_v<T>) return std::move(*value_);
    }

private:
    static Detached run_there(OnAwaiter* self) {
        try {
            if constexpr (std::is_void_v<T>) {
                co_await std::move(self->task_);
            } else {
                self->value_.emplace(co_await std::move(self->task_));
            }
        } catch (...) {
            self->error_ = std::current_exception();
        }
        std::coroutine_handle<> h = self->waiter_;
        self->home_->add_callback([h] { h.resume(); });
    }

    IOLoop* target_;
    Task<T> task_;
    IOLoop* home_ = nullptr;
    std::coroutine_handle<> waiter_;
    std::optional<std::conditional_t<std::is_void_v<T>, std::monostate, T>> value_;
    std::exception_ptr error_;
};

template <class T>
LoopGroup::OnAwaiter<T> LoopGroup::on(std::size_t i, Task<T> task) {
    check_open();
    return OnAwaiter<T>(loop(i), std::move(task));
}

}  // namespace squall
