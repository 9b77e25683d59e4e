// IOLoop: squall's event loop (Tornado's IOLoop), one per thread, on io_uring or epoll.
//
//     squall::IOLoop loop;                       // io_uring when the kernel allows it, else epoll
//     loop.call_later(std::chrono::milliseconds(10), [] { std::puts("tick"); });
//     int answer = loop.run_sync(compute(), std::chrono::seconds(5));
//
// One iteration: run the callbacks queued before it began, then the due timers, then the end-of-
// iteration hooks (the streams' corked writes: everything written during the iteration leaves in one
// writev / one SQE batch), then wait for I/O (not at all when callbacks are pending, else until the next
// timer) and dispatch completions, which resume coroutines inline.
//
// Thread safety: add_callback and stop may be called from any thread. Everything else, and every
// Future/Task touched by the loop, belongs to the loop's thread. An io_uring loop must run on the thread
// that created it (the ring is set up single-issuer).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "squall/coro/errors.hpp"
#include "squall/coro/function.hpp"
#include "squall/coro/future.hpp"
#include "squall/coro/start.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/errors.hpp"
#include "squall/ioloop/io_op.hpp"
#include "squall/ioloop/timer_queue.hpp"

namespace squall {

// Which kernel interface a loop uses: automatic (io_uring when the kernel allows it, else epoll), or one
// forced.
enum class Backend { automatic, epoll, uring };
// "automatic", "epoll" or "io_uring".
std::string_view to_string(Backend b) noexcept;

// Readiness events for add_handler; the values are epoll's and poll's (as Tornado's).
namespace events {
inline constexpr std::uint32_t kRead = 0x001;           // readable (EPOLLIN)
inline constexpr std::uint32_t kWrite = 0x004;          // writable (EPOLLOUT)
inline constexpr std::uint32_t kError = 0x008 | 0x010;  // error or hang-up (EPOLLERR | EPOLLHUP)
}  // namespace events

// A readiness handler: called on the loop thread with the fd and the events that occurred.
using HandlerCallback = UniqueFunction<void(int fd, std::uint32_t events)>;

namespace detail {
class Poller;
}

// The event loop: callbacks, timers, readiness handlers and completion-based socket ops on one thread.
// Everything but add_callback and stop belongs to the thread that runs it.
class IOLoop {
public:
    // Backend::automatic honours SQUALL_IOLOOP=epoll|uring, else tries io_uring and falls back to epoll
    // (logging one line) when io_uring_setup is refused. A forced io_uring that cannot start raises
    // BackendUnavailableError (squall/ioloop/errors.hpp), whose message says how to use epoll instead.
    explicit IOLoop(Backend backend = Backend::automatic);
    ~IOLoop();
    IOLoop(const IOLoop&) = delete;
    IOLoop& operator=(const IOLoop&) = delete;

    // The loop of this thread: the one running, else the last constructed on it. UsageError if none.
    static IOLoop& current();
    // The same, or nullptr when there is none.
    static IOLoop* current_or_null() noexcept;
    // Makes this loop the thread's current() one.
    void make_current() noexcept;

    // The backend in use: epoll or uring (automatic is resolved at construction).
    Backend backend() const noexcept { return backend_; }

    // Runs until stop(). Not re-entrant.
    void run();
    // Makes run() return after the current iteration. Safe from any thread.
    void stop();

    // Runs the loop until `task` finishes and returns its result (or rethrows its error). With a
    // timeout, raises TimeoutError when it expires (the task is left suspended, not destroyed).
    // Once the task has finished, run_sync polls a few times without waiting, so that I/O cancelled by the
    // task's clean-up completes: a coroutine waiting on a stream the task closed sees the close and
    // unwinds instead of staying suspended (and leaking) with the loop. Queued callbacks are not run.
    template <class T>
    T run_sync(Task<T> task, std::optional<Duration> timeout = std::nullopt);

    // Monotonic time.
    TimePoint time() const noexcept { return Clock::now(); }

    // Runs cb on the next iteration. Safe from any thread (wakes the loop through its eventfd).
    void add_callback(Callback cb);

    // Runs cb on the first iteration at or after `deadline` (a time() value). Remove it with the handle.
    TimeoutHandle call_at(TimePoint deadline, Callback cb) { return timers_.add(deadline, std::move(cb)); }
    // The delay counts from the loop's next clock reading (this iteration's end at the latest): no clock
    // is read here, and the timer never fires before `delay` has passed (see TimerQueue).
    TimeoutHandle call_later(Duration delay, Callback cb) { return timers_.add_after(delay, std::move(cb)); }
    // Returns false when the timeout already ran or was removed.
    bool remove_timeout(TimeoutHandle h) noexcept { return timers_.cancel(h); }
    // Timeouts added and not yet run or removed.
    std::size_t pending_timeouts() const noexcept { return timers_.size(); }

    // Runs cb after this iteration's callbacks, timers and completions, before the loop waits again.
    void add_end_of_iteration(Callback cb) { end_of_iteration_.push_back(std::move(cb)); }

    // Readiness API (Tornado parity): level-triggered; events from squall::events.
    void add_handler(int fd, std::uint32_t events, HandlerCallback cb);
    void update_handler(int fd, std::uint32_t events);
    void remove_handler(int fd);

    // Completion ops on non-blocking sockets. Each returns an awaitable yielding bytes/fd or -errno.
    IoAwaitable recv(int fd, void* buf, std::size_t len);
    IoAwaitable send(int fd, const void* buf, std::size_t len);
    IoAwaitable sendmsg(int fd, const iovec* iov, std::size_t iovcnt);
    IoAwaitable connect(int fd, const sockaddr* addr, socklen_t addrlen);
    IoAwaitable accept(int fd);

    // Starts an op (for callback-style users who set op.on_complete). Returns true when it completed
    // inline (op.result set, on_complete will not be called).
    bool start(IoOp& op);
    // Aborts a pending op: it completes soon (asynchronously) with -ECANCELED unless it already finished.
    void cancel(IoOp& op);
    // Closes fd after its ops were cancelled; forgets the loop's registrations for it.
    void close_fd(int fd);

    // Idle watch (a keep-alive pool's): runs cb once, on the loop, when fd (a socket used with the ops
    // above, with no read op pending) becomes readable: bytes, EOF or an error. Returns false, arming
    // nothing, when it can tell at once that fd is readable already. One watch per fd; unwatch_readable,
    // close_fd and a new watch end it; start no read op on fd while it is watched. Cost: epoll reuses the
    // fd's edge-triggered registration (no syscall when the last recv emptied the socket, else one
    // MSG_PEEK recv); io_uring queues one poll request, submitted with the iteration's batch (a poll
    // left by unwatch_readable completes when data comes and is then dropped). Unwatching costs nothing.
    bool watch_readable(int fd, Callback cb);
    void unwatch_readable(int fd) noexcept;

    // Statistics for tests and benchmarks.
    struct Stats {
        std::uint64_t iterations = 0;  // loop iterations run
        std::uint64_t waits = 0;       // blocking waits (syscalls that may sleep)
        // Poll steps that entered the kernel (epoll_wait, io_uring_enter). On io_uring an iteration with
        // pending callbacks and nothing to submit reads the completion ring in user space instead.
        std::uint64_t kernel_polls = 0;
    };
    const Stats& stats() const noexcept { return stats_; }  // counters since construction

private:
    friend class detail::Poller;
    void run_callbacks();
    void run_end_of_iteration();
    void run_sync_impl(Callback starter, bool& finished, std::optional<Duration> timeout);
    void settle();

    Backend backend_;
    std::unique_ptr<detail::Poller> poller_;
    TimerQueue timers_;
    std::vector<Callback> callbacks_;  // loop-thread queue
    std::vector<Callback> running_;    // the batch being run
    std::vector<Callback> end_of_iteration_;
    std::vector<Callback> end_running_;
    std::mutex remote_mutex_;
    std::vector<Callback> remote_;  // from other threads
    std::atomic<bool> remote_pending_{false};
    std::atomic<bool> polling_{false};
    std::atomic<bool> stop_requested_{false};
    bool running_loop_ = false;
    std::thread::id thread_id_;
    Stats stats_;
};

template <class T>
T IOLoop::run_sync(Task<T> task, std::optional<Duration> timeout) {
    // After a timeout the task lives on and may finish during a later run: its done-callback reaches
    // this call's state only through a weak_ptr, so it neither touches a dead frame nor stops that run.
    struct State {
        Future<T> result;
        bool finished = false;
    };
    auto state = std::make_shared<State>();
    run_sync_impl(
        [&task, this, weak = std::weak_ptr<State>(state)] {
            auto s = weak.lock();
            s->result = ::squall::start(std::move(task));
            s->result.add_done_callback([this, weak](const Future<T>&) {
                if (auto live = weak.lock()) {
                    live->finished = true;
                    stop();
                }
            });
        },
        state->finished, timeout);
    if constexpr (std::is_void_v<T>) {
        state->result.result();
    } else {
        return std::move(const_cast<T&>(state->result.result()));
    }
}

}  // namespace squall
