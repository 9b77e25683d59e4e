// PeriodicCallback: calls a function every `interval` (Tornado's PeriodicCallback).
//
//     squall::PeriodicCallback heartbeat(loop, [] { send_heartbeat(); }, std::chrono::seconds(1));
//     heartbeat.start();
//
// When the loop falls behind, missed runs are skipped rather than run in a burst. A callback returning
// Task<void> is awaited before the next run is scheduled, so runs never overlap. Errors thrown by a run
// are logged and the schedule continues.
#pragma once

#include <memory>
#include <type_traits>

#include "squall/coro/function.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/ioloop.hpp"

namespace squall {

// Runs a callback every interval on one loop until stop() or destruction.
class PeriodicCallback {
public:
    // callback: void() or Task<void>(); interval > 0 (else UsageError). Not started: call start().
    template <class F>
    PeriodicCallback(IOLoop& loop, F callback, Duration interval)
        : state_(std::make_shared<State>(loop, interval)) {
        if (interval <= Duration::zero()) throw UsageError("PeriodicCallback: interval must be positive");
        if constexpr (std::is_same_v<std::invoke_result_t<F&>, Task<void>>)
            state_->async_cb = std::move(callback);
        else
            state_->sync_cb = std::move(callback);
    }
    ~PeriodicCallback() { stop(); }
    PeriodicCallback(const PeriodicCallback&) = delete;
    PeriodicCallback& operator=(const PeriodicCallback&) = delete;

    // The first run is one interval after start(). Calling start() while running does nothing.
    void start();
    // Cancels the next run (a Task run in progress completes, and nothing follows it).
    void stop();
    bool is_running() const noexcept { return state_->running; }  // between start() and stop()

private:
    struct State : std::enable_shared_from_this<State> {
        State(IOLoop& l, Duration i) : loop(l), interval(i) {}
        IOLoop& loop;
        Duration interval;
        UniqueFunction<void()> sync_cb;
        UniqueFunction<Task<void>()> async_cb;
        bool running = false;
        TimePoint next;
        TimeoutHandle timer;
        void schedule();
        void fire();
    };
    std::shared_ptr<State> state_;
};

}  // namespace squall
