// UringPoller: the io_uring backend (liburing).
//
// Ops are real io_uring requests (recv, send, sendmsg, connect, accept) whose user_data is the IoOp,
// except that a send or sendmsg is first tried as a plain syscall when no write of its socket is in the
// ring (so bytes never overtake an earlier write): it nearly always completes at once, and as a request
// its completion would end the wait of the io_uring_enter that submitted it, a second enter per round
// trip of a request/response client. Only a send that would block becomes a request.
// SQEs prepared during an iteration are submitted together by the one io_uring_submit_and_wait* call
// that also waits. The ring is set up with the newest flags the kernel accepts (single issuer + deferred
// task running, else cooperative task running, else none), with IORING_SETUP_TASKRUN_FLAG where the
// kernel has it, and its fd is registered (io_uring_enter then skips the fd lookup). An iteration that must not wait (callbacks are pending) and has nothing to submit costs no
// syscall: it reads the completion ring in user space, unless the kernel flags completions it has not
// posted yet (IORING_SQ_TASKRUN: deferred task work; IORING_SQ_CQ_OVERFLOW), which only an
// io_uring_enter delivers.
// Cross-thread wakeups use an eventfd with a read request kept armed. Readiness handlers use one-shot
// poll requests re-armed after each callback, which gives level-triggered semantics like epoll's; their
// records live in a HandlerTable (detail/handler_table.hpp), as on epoll.
// An idle watch (watch_readable) is a one-shot poll request with a record of its own (WatchRec): unwatching
// detaches the record from its fd without touching the kernel, and the record is reused once its poll has
// completed (on data, EOF or cancellation at close), so a watch per request allocates nothing.
#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "squall/ioloop/detail/handler_table.hpp"
#include "squall/ioloop/detail/op_list.hpp"
#include "squall/ioloop/detail/poller.hpp"

namespace squall::detail {
namespace {

constexpr std::uint64_t kIgnore = 0;      // cancel / poll-remove requests
constexpr std::uint64_t kWakeTag = 1;     // the eventfd read
constexpr std::uint64_t kHandlerBit = 2;  // user_data = HandlerRec* | 2 (records are 8-byte aligned)
constexpr std::uint64_t kWatchBit = 4;    // user_data = WatchRec* | 4

// One watch_readable poll. `active` while it is its fd's watch; `armed` while its poll is in the kernel.
struct WatchRec {
    int fd = -1;
    bool active = false;
    bool armed = false;
    Callback cb;
    WatchRec* next_free = nullptr;
};

struct Completion {
    std::uint64_t user_data;
    std::int32_t res;
    std::uint32_t flags;
};

}  // namespace

class UringPoller final : public Poller {
public:
    UringPoller(IOLoop& loop, int& error) : Poller(loop) {
        static constexpr unsigned kFlagSets[] = {
            IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
            IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
            IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
            IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
            IORING_SETUP_COOP_TASKRUN,
            0,
        };
        int ret = -EINVAL;
        for (unsigned flags : kFlagSets) {
            io_uring_params params{};
            params.flags = flags | IORING_SETUP_CQSIZE;
            params.cq_entries = 4 * kEntries;
            ret = io_uring_queue_init_params(kEntries, &ring_, &params);
            if (ret == 0) {
                // Without the task-run flag a cooperative ring may hold completions the CQ does not show
                // yet: then only io_uring_enter may look. With no task-run flags the kernel posts them
                // itself.
                peek_ok_ = (flags & IORING_SETUP_TASKRUN_FLAG) || flags == 0;
                break;
            }
            if (ret != -EINVAL) break;  // refused (EPERM, ENOSYS...): no point trying other flags
        }
        if (ret != 0) {
            error = -ret;
            return;
        }
        ok_ = true;
        // Optional (kernel 5.18): fails harmlessly elsewhere. The registration belongs to this thread,
        // the one that runs the loop.
        (void)io_uring_register_ring_fd(&ring_);
        wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (wakefd_ < 0) {
            error = errno;
            return;
        }
        arm_wake();
    }

    ~UringPoller() override {
        if (!ok_) return;
        if (wakefd_ >= 0) ::close(wakefd_);
        io_uring_queue_exit(&ring_);
    }

    bool ready() const noexcept { return ok_ && wakefd_ >= 0; }

    static bool is_send_kind(IoKind k) noexcept { return k == IoKind::send || k == IoKind::sendmsg; }

    bool start(IoOp& op) override {
        if (is_send_kind(op.kind) && op.fd >= 0) {
            const auto fd = static_cast<std::size_t>(op.fd);
            if (fd >= ring_writes_.size()) ring_writes_.resize(fd * 2 + 16);
            if (ring_writes_[fd] == 0 && try_op_syscall(op)) return true;
            ++ring_writes_[fd];
        }
        io_uring_sqe* sqe = get_sqe();
        switch (op.kind) {
            case IoKind::recv:
                io_uring_prep_recv(sqe, op.fd, op.buf, op.len, 0);
                break;
            case IoKind::send:
                io_uring_prep_send(sqe, op.fd, op.buf, op.len, MSG_NOSIGNAL);
                break;
            case IoKind::sendmsg:
                io_uring_prep_sendmsg(sqe, op.fd, &op.msg, MSG_NOSIGNAL);
                break;
            case IoKind::connect:
                io_uring_prep_connect(sqe, op.fd, reinterpret_cast<sockaddr*>(&op.addr), op.addrlen);
                break;
            case IoKind::accept:
                op.addrlen = sizeof(op.addr);
                io_uring_prep_accept(sqe, op.fd, reinterpret_cast<sockaddr*>(&op.addr), &op.addrlen,
                                     SOCK_NONBLOCK | SOCK_CLOEXEC);
                break;
        }
        io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(&op));
        op.pending = true;
        return false;
    }

    void cancel(IoOp& op) override {
        if (!op.pending) return;
        io_uring_sqe* sqe = get_sqe();
        io_uring_prep_cancel64(sqe, reinterpret_cast<std::uint64_t>(&op), 0);
        io_uring_sqe_set_data64(sqe, kIgnore);
    }

    void forget_fd(int fd) override {
        remove_handler(fd);
        unwatch_readable(fd);  // its poll is cancelled below and completes with -ECANCELED
        // Closing an fd does not end io_uring requests on it (they hold the file): cancel them (they
        // complete with -ECANCELED, as on epoll) and submit now, while the fd number still names the file.
        io_uring_sqe* sqe = get_sqe();
        io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
        io_uring_sqe_set_data64(sqe, kIgnore);
        io_uring_submit(&ring_);
    }

    bool watch_readable(int fd, Callback cb) override {
        if (fd < 0) throw UsageError("invalid file descriptor");
        auto i = static_cast<std::size_t>(fd);
        if (i >= watch_by_fd_.size()) watch_by_fd_.resize(i * 2 + 16, nullptr);
        if (watch_by_fd_[i]) detach(*watch_by_fd_[i]);
        WatchRec* rec = free_watches_;
        if (rec) {
            free_watches_ = rec->next_free;
        } else {
            rec = watches_.emplace_back(std::make_unique<WatchRec>()).get();
        }
        rec->fd = fd;
        rec->cb = std::move(cb);
        rec->active = true;
        rec->armed = true;
        watch_by_fd_[i] = rec;
        // A poll on a socket that is readable already completes at once: nothing that came before is missed.
        io_uring_sqe* sqe = get_sqe();
        io_uring_prep_poll_add(sqe, fd, POLLIN | POLLRDHUP);
        io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(rec) | kWatchBit);
        return true;
    }

    void unwatch_readable(int fd) noexcept override {
        if (fd < 0 || static_cast<std::size_t>(fd) >= watch_by_fd_.size()) return;
        if (WatchRec* rec = watch_by_fd_[static_cast<std::size_t>(fd)]) detach(*rec);
    }

    void add_handler(int fd, std::uint32_t events, HandlerCallback cb) override {
        arm(&handlers_.add(fd, events, std::move(cb)));
    }

    void update_handler(int fd, std::uint32_t events) override {
        HandlerRec* rec = handlers_.find(fd);
        if (!rec) throw UsageError("update_handler: fd " + std::to_string(fd) + " has no handler");
        if (rec->events == events) return;
        rec->events = events;
        // Inside its own callback the record is disarmed and re-arms with the new mask afterwards;
        // otherwise change the armed poll in place (the callback object never moves while it may run).
        if (rec->armed) {
            io_uring_sqe* sqe = get_sqe();
            std::uint64_t ud = reinterpret_cast<std::uint64_t>(rec) | kHandlerBit;
            // Also "update" user_data (to the same value): kernel 6.18 answers -EINVAL to an
            // events-only update, which left the handler waiting for its old events.
            io_uring_prep_poll_update(sqe, ud, ud, events,
                                      IORING_POLL_UPDATE_EVENTS | IORING_POLL_UPDATE_USER_DATA);
            io_uring_sqe_set_data64(sqe, kIgnore);
        }
    }

    void remove_handler(int fd) override {
        HandlerRec* rec = handlers_.retire(fd);
        if (!rec) return;
        if (rec->armed) {  // its record is freed after the poll's completion (-ECANCELED) arrives
            io_uring_sqe* sqe = get_sqe();
            io_uring_prep_poll_remove(sqe, reinterpret_cast<std::uint64_t>(rec) | kHandlerBit);
            io_uring_sqe_set_data64(sqe, kIgnore);
        }
        schedule_sweep();
    }

    void poll(std::int64_t timeout_ns) override {
        if (timeout_ns == 0 && peek_ok_ && io_uring_sq_ready(&ring_) == 0 &&
            !(IO_URING_READ_ONCE(*ring_.sq.kflags) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW))) {
            reap();  // nothing to submit, nothing held back by the kernel: no syscall
            return;
        }
        count_kernel_poll();
        int ret;
        if (timeout_ns == 0) {
            ret = io_uring_submit_and_get_events(&ring_);
        } else if (timeout_ns < 0) {
            ret = io_uring_submit_and_wait(&ring_, 1);
        } else {
            __kernel_timespec ts{};
            ts.tv_sec = timeout_ns / 1'000'000'000;
            ts.tv_nsec = timeout_ns % 1'000'000'000;
            io_uring_cqe* cqe = nullptr;
            ret = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
        }
        if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
            throw Error(std::string("io_uring_enter failed: ") + std::strerror(-ret));
        reap();
    }

    void wake() override {
        std::uint64_t one = 1;
        [[maybe_unused]] auto r = ::write(wakefd_, &one, sizeof one);
    }

private:
    io_uring_sqe* get_sqe() {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        while (!sqe) {  // the submission queue is full: hand it to the kernel
            io_uring_submit(&ring_);
            sqe = io_uring_get_sqe(&ring_);
        }
        return sqe;
    }

    void arm_wake() {
        io_uring_sqe* sqe = get_sqe();
        io_uring_prep_read(sqe, wakefd_, &wake_buf_, sizeof wake_buf_, 0);
        io_uring_sqe_set_data64(sqe, kWakeTag);
    }

    void arm(HandlerRec* rec) {
        io_uring_sqe* sqe = get_sqe();
        io_uring_prep_poll_add(sqe, rec->fd, rec->events);
        io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(rec) | kHandlerBit);
        rec->armed = true;
    }

    // The record stops being its fd's watch; it is reused once its poll is out of the kernel.
    void detach(WatchRec& rec) noexcept {
        rec.active = false;
        rec.cb = nullptr;
        watch_by_fd_[static_cast<std::size_t>(rec.fd)] = nullptr;
        if (!rec.armed) release(rec);
    }
    void release(WatchRec& rec) noexcept {
        rec.next_free = free_watches_;
        free_watches_ = &rec;
    }

    void schedule_sweep() {
        // A record may be running its callback right now: free retired records on a later iteration.
        if (sweep_scheduled_) return;
        sweep_scheduled_ = true;
        loop_.add_callback([this] {
            sweep_scheduled_ = false;
            handlers_.sweep();
        });
    }

    void reap() {
        // Copy the batch out first: dispatching resumes coroutines that prepare new SQEs.
        batch_.clear();
        unsigned head;
        io_uring_cqe* cqe;
        unsigned count = 0;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            batch_.push_back(Completion{cqe->user_data, cqe->res, cqe->flags});
            ++count;
        }
        io_uring_cq_advance(&ring_, count);
        for (const Completion& c : batch_) dispatch(c);
    }

    void dispatch(const Completion& c) {
        if (c.user_data == kIgnore) return;
        if (c.user_data == kWakeTag) {
            arm_wake();
            return;
        }
        if (c.user_data & kWatchBit) {
            auto* rec = reinterpret_cast<WatchRec*>(c.user_data & ~kWatchBit);
            rec->armed = false;
            if (!rec->active) {  // unwatched (or its fd closed) while the poll was out
                release(*rec);
                return;
            }
            Callback cb = std::move(rec->cb);
            detach(*rec);
            cb();  // readable, hung up or failed (c.res < 0): the watcher finds out which
            return;
        }
        if (c.user_data & kHandlerBit) {
            auto* rec = reinterpret_cast<HandlerRec*>(c.user_data & ~kHandlerBit);
            rec->armed = false;
            if (!rec->active) {
                schedule_sweep();
                return;
            }
            std::uint32_t ev = c.res < 0 ? events::kError : static_cast<std::uint32_t>(c.res);
            rec->cb(rec->fd, ev);
            if (rec->active && !rec->armed) arm(rec);
            return;
        }
        auto* op = reinterpret_cast<IoOp*>(c.user_data);
        if (is_send_kind(op->kind) && op->fd >= 0 && static_cast<std::size_t>(op->fd) < ring_writes_.size())
            --ring_writes_[static_cast<std::size_t>(op->fd)];
        op->pending = false;
        op->result = c.res;
        op->on_complete(op);
    }

    static constexpr unsigned kEntries = 1024;
    io_uring ring_{};
    bool ok_ = false;
    bool peek_ok_ = false;  // the CQ shows every completion without an io_uring_enter (see the top)
    bool sweep_scheduled_ = false;
    int wakefd_ = -1;
    std::uint64_t wake_buf_ = 0;
    HandlerTable handlers_;
    std::vector<Completion> batch_;
    std::vector<std::uint32_t> ring_writes_;  // per fd: send/sendmsg requests in the ring, not completed
    std::vector<std::unique_ptr<WatchRec>> watches_;  // every watch record, owned here
    std::vector<WatchRec*> watch_by_fd_;              // each fd's current watch, or null
    WatchRec* free_watches_ = nullptr;
};

std::unique_ptr<Poller> make_uring_poller(IOLoop& loop, int& error) {
    error = 0;
    auto p = std::make_unique<UringPoller>(loop, error);
    if (!p->ready()) {
        if (!error) error = ENOSYS;
        return nullptr;
    }
    return p;
}

}  // namespace squall::detail
