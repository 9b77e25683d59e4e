#include "squall/ioloop/ioloop.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "squall/coro/log.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/ioloop/detail/poller.hpp"

namespace squall {
namespace {
thread_local IOLoop* t_current = nullptr;
}

std::string_view to_string(Backend b) noexcept {
    switch (b) {
        case Backend::automatic:
            return "automatic";
        case Backend::epoll:
            return "epoll";
        case Backend::uring:
            return "io_uring";
    }
    return "?";
}

namespace detail {
bool loop_start_op(IOLoop& loop, IoOp& op) {
    return loop.start(op);
}
}  // namespace detail

IOLoop::IOLoop(Backend backend) : thread_id_(std::this_thread::get_id()) {
    if (backend == Backend::automatic) {
        if (const char* env = std::getenv("SQUALL_IOLOOP")) {
            std::string_view v(env);
            if (v == "epoll")
                backend = Backend::epoll;
            else if (v == "uring" || v == "io_uring")
                backend = Backend::uring;
            else if (!v.empty() && v != "automatic")
                throw UsageError("SQUALL_IOLOOP must be epoll, uring or automatic, not '" + std::string(v) +
                                 "'");
        }
    }
    if (backend == Backend::uring || backend == Backend::automatic) {
        int err = 0;
        poller_ = detail::make_uring_poller(*this, err);
        if (poller_) {
            backend_ = Backend::uring;
        } else if (backend == Backend::uring) {
            throw BackendUnavailableError(std::string("io_uring backend unavailable (io_uring_setup: ") +
                                          std::strerror(err) +
                                          "); use epoll instead: SQUALL_IOLOOP=epoll, or Backend::epoll / "
                                          "Backend::automatic");
        } else {
            log(LogLevel::info,
                std::string("io_uring unavailable (") + std::strerror(err) + "), using epoll");
        }
    }
    if (!poller_) {
        poller_ = detail::make_epoll_poller(*this);
        backend_ = Backend::epoll;
    }
    if (!t_current) t_current = this;
}

IOLoop::~IOLoop() {
    // Callbacks and timers may own coroutine frames' handles; they are dropped, not run.
    callbacks_.clear();
    end_of_iteration_.clear();
    poller_.reset();
    if (t_current == this) t_current = nullptr;
}

IOLoop& IOLoop::current() {
    if (!t_current) throw UsageError("no IOLoop on this thread: construct one (or call make_current)");
    return *t_current;
}
IOLoop* IOLoop::current_or_null() noexcept {
    return t_current;
}
void IOLoop::make_current() noexcept {
    t_current = this;
}

void IOLoop::add_callback(Callback cb) {
    if (std::this_thread::get_id() == thread_id_) {
        callbacks_.push_back(std::move(cb));
        return;
    }
    {
        std::lock_guard lock(remote_mutex_);
        remote_.push_back(std::move(cb));
    }
    // seq_cst pair with run(): either we see polling_ and wake, or the loop sees remote_pending_.
    remote_pending_.store(true);
    if (polling_.load()) poller_->wake();
}

void IOLoop::stop() {
    stop_requested_.store(true);
    if (std::this_thread::get_id() != thread_id_ && polling_.load()) poller_->wake();
}

void IOLoop::run_callbacks() {
    if (remote_pending_.exchange(false)) {
        std::lock_guard lock(remote_mutex_);
        for (auto& cb : remote_) callbacks_.push_back(std::move(cb));
        remote_.clear();
    }
    running_.swap(callbacks_);
    for (auto& cb : running_) cb();  // callbacks added meanwhile go to callbacks_: next iteration
    running_.clear();
}

void IOLoop::run_end_of_iteration() {
    while (!end_of_iteration_.empty()) {
        end_running_.swap(end_of_iteration_);
        for (auto& cb : end_running_) cb();
        end_running_.clear();
    }
}

void IOLoop::run() {
    if (running_loop_) throw UsageError("IOLoop::run is not re-entrant");
    // Written only when it changes: other threads read it in add_callback / stop.
    if (thread_id_ != std::this_thread::get_id()) thread_id_ = std::this_thread::get_id();
    IOLoop* previous = t_current;
    t_current = this;
    running_loop_ = true;
    struct Reset {
        IOLoop* self;
        IOLoop* previous;
        ~Reset() {
            self->running_loop_ = false;
            self->stop_requested_.store(false);
            t_current = previous ? previous : self;
        }
    } reset{this, previous};

    while (!stop_requested_.load(std::memory_order_relaxed)) {
        ++stats_.iterations;
        run_callbacks();
        if (!timers_.empty()) timers_.run_due(time());
        run_end_of_iteration();
        if (stop_requested_.load(std::memory_order_relaxed)) break;

        std::int64_t timeout_ns = -1;
        if (!callbacks_.empty() || !end_of_iteration_.empty()) {
            timeout_ns = 0;
        } else if (!timers_.empty()) {
            TimePoint now = time();
            if (auto next = timers_.next_deadline(now)) {
                auto delta = std::chrono::duration_cast<std::chrono::nanoseconds>(*next - now).count();
                timeout_ns = delta > 0 ? delta : 0;
            }
        }
        if (timeout_ns != 0) {
            polling_.store(true);
            if (remote_pending_.load() || stop_requested_.load()) timeout_ns = 0;
            ++stats_.waits;
        }
        poller_->poll(timeout_ns);
        polling_.store(false, std::memory_order_relaxed);
    }
}

void IOLoop::run_sync_impl(Callback starter, bool& finished, std::optional<Duration> timeout) {
    add_callback(std::move(starter));
    bool timed_out = false;
    TimeoutHandle th;
    if (timeout)
        th = call_later(*timeout, [this, &timed_out] {
            timed_out = true;
            stop();
        });
    run();
    if (th) remove_timeout(th);
    if (finished) settle();
    if (!finished) {
        if (timed_out) {
            throw TimeoutError("run_sync: operation timed out after " + format_duration(*timeout));
        }
        throw Error("run_sync: the loop was stopped before the task finished");
    }
}

// Closing a stream cancels the ops of coroutines still waiting on it; each cancellation completes in the
// next poll step (on either backend), which the finished run_sync would otherwise never reach. Like
// asyncio.run, which runs the loop until the tasks it cancelled are done, poll without waiting a few
// times: those coroutines see the close and unwind. Callbacks are not run (the task's state they may
// point to is gone); a completion that closes further streams is covered by the next round.
void IOLoop::settle() {
    constexpr int kRounds = 3;
    IOLoop* previous = t_current;
    t_current = this;
    for (int round = 0; round < kRounds; ++round) poller_->poll(0);
    t_current = previous ? previous : this;
}

void IOLoop::add_handler(int fd, std::uint32_t ev, HandlerCallback cb) {
    poller_->add_handler(fd, ev, std::move(cb));
}
void IOLoop::update_handler(int fd, std::uint32_t ev) {
    poller_->update_handler(fd, ev);
}
void IOLoop::remove_handler(int fd) {
    poller_->remove_handler(fd);
}

bool IOLoop::start(IoOp& op) {
    return poller_->start(op);
}
void IOLoop::cancel(IoOp& op) {
    poller_->cancel(op);
}
void IOLoop::close_fd(int fd) {
    poller_->forget_fd(fd);
    ::close(fd);
}
bool IOLoop::watch_readable(int fd, Callback cb) {
    return poller_->watch_readable(fd, std::move(cb));
}
void IOLoop::unwatch_readable(int fd) noexcept {
    poller_->unwatch_readable(fd);
}

namespace {
// An op of `kind` on `fd`, to be started by the loop when awaited.
IoAwaitable make_op(IOLoop* loop, IoKind kind, int fd) {
    IoAwaitable a{loop, {}};
    a.op.kind = kind;
    a.op.fd = fd;
    return a;
}
}  // namespace

IoAwaitable IOLoop::recv(int fd, void* buf, std::size_t len) {
    IoAwaitable a = make_op(this, IoKind::recv, fd);
    a.op.buf = buf;
    a.op.len = len;
    return a;
}

IoAwaitable IOLoop::send(int fd, const void* buf, std::size_t len) {
    IoAwaitable a = make_op(this, IoKind::send, fd);
    a.op.buf = const_cast<void*>(buf);
    a.op.len = len;
    return a;
}

IoAwaitable IOLoop::sendmsg(int fd, const iovec* iov, std::size_t iovcnt) {
    IoAwaitable a = make_op(this, IoKind::sendmsg, fd);
    a.op.msg.msg_iov = const_cast<iovec*>(iov);
    a.op.msg.msg_iovlen = iovcnt;
    return a;
}

IoAwaitable IOLoop::connect(int fd, const sockaddr* addr, socklen_t addrlen) {
    IoAwaitable a = make_op(this, IoKind::connect, fd);
    std::memcpy(&a.op.addr, addr, addrlen);
    a.op.addrlen = addrlen;
    return a;
}

IoAwaitable IOLoop::accept(int fd) {
    IoAwaitable a = make_op(this, IoKind::accept, fd);
    a.op.addrlen = sizeof(a.op.addr);
    return a;
}

}  // namespace squall
