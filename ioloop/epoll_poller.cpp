// EpollPoller: the epoll backend.
//
// Ops try their syscall at once and only wait on EAGAIN. A socket used with ops is registered once,
// edge-triggered (no epoll_ctl per op); an edge retries the queued ops of that direction in FIFO order
// until one would block. The write edge (EPOLLOUT) is added to the registration only when a write op has
// to wait, and dropped again by the first write edge that finds no write op waiting: a socket that only
// ever writes inline (a consumer sending acks, a client sending requests) is not woken each time the
// peer's ACK frees room in its send buffer. Readiness handlers (add_handler) use separate
// level-triggered registrations; one fd cannot be used both ways. Their records live in a HandlerTable
// (detail/handler_table.hpp), as on io_uring. An idle watch (watch_readable) is a callback in the fd's
// state that a read-side edge runs while no read op is queued: the registration serves it as it is.
#include <sys/epoll.h>
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

constexpr std::uint64_t kWakeTag = ~std::uint64_t{0};

struct FdState {
    OpList readers;  // recv, accept
    OpList writers;  // send, sendmsg, connect
    // The epoll_wait count when an op of that direction last failed its inline attempt (EAGAIN), or, for
    // reads on a stream socket, last emptied the receive queue (a short recv).
    std::uint64_t read_blocked_at = 0;
    std::uint64_t write_blocked_at = 0;
    int sock_type = -1;        // SO_TYPE, asked once at the first short recv; 0 when not a socket
    bool hangup_seen = false;  // an event reported EPOLLRDHUP, EPOLLHUP or EPOLLERR (no edge follows it)
    bool ops_registered = false;
    bool out_armed = false;  // the registration includes EPOLLOUT
    Callback watch;          // watch_readable: run once by the next read-side edge while `readers` is empty
};

bool is_read_kind(IoKind k) {
    return k == IoKind::recv || k == IoKind::accept;
}

}  // namespace

bool try_op_syscall(IoOp& op) noexcept {
    long r = 0;
    switch (op.kind) {
        case IoKind::recv:
            r = ::recv(op.fd, op.buf, op.len, 0);
            break;
        case IoKind::send:
            r = ::send(op.fd, op.buf, op.len, MSG_NOSIGNAL);
            break;
        case IoKind::sendmsg:
            r = ::sendmsg(op.fd, &op.msg, MSG_NOSIGNAL);
            break;
        case IoKind::accept:
            op.addrlen = sizeof(op.addr);
            r = ::accept4(op.fd, reinterpret_cast<sockaddr*>(&op.addr), &op.addrlen,
                          SOCK_NONBLOCK | SOCK_CLOEXEC);
            break;
        case IoKind::connect: {
            // Called again after writability: the outcome is in SO_ERROR.
            int err = 0;
            socklen_t len = sizeof(err);
            if (::getsockopt(op.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
            if (err == EINPROGRESS || err == EALREADY) return false;
            op.result = -err;
            return true;
        }
    }
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
        if (errno == EINTR) return false;
        op.result = -errno;
        return true;
    }
    op.result = static_cast<int>(r);
    return true;
}

class EpollPoller final : public Poller {
public:
    explicit EpollPoller(IOLoop& loop) : Poller(loop) {
        epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (epfd_ < 0) throw Error(std::string("epoll_create1 failed: ") + std::strerror(errno));
        wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (wakefd_ < 0) throw Error(std::string("eventfd failed: ") + std::strerror(errno));
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = kWakeTag;
        ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev);
    }
    ~EpollPoller() override {
        ::close(wakefd_);
        ::close(epfd_);
    }

    bool start(IoOp& op) override {
        FdState& st = state(op.fd);
        if (handlers_.find(op.fd)) {
            op.result = -EBUSY;  // the fd is in readiness mode
            return true;
        }
        OpList& list = is_read_kind(op.kind) ? st.readers : st.writers;
        if (op.kind == IoKind::connect) {
            if (::connect(op.fd, reinterpret_cast<const sockaddr*>(&op.addr), op.addrlen) == 0) {
                op.result = 0;
                return true;
            }
            if (errno != EINPROGRESS) {
                op.result = -errno;
                return true;
            }
        } else if (list.empty()) {  // FIFO: only try inline when nothing is queued ahead
            std::uint64_t& blocked_at = is_read_kind(op.kind) ? st.read_blocked_at : st.write_blocked_at;
            // Known to be empty (or full) since the last epoll_wait: the attempt would fail, and what makes
            // the op possible raises a new edge. A request/response client saves the EAGAIN recv it would
            // make right after each request.
            if (blocked_at != waits_) {
                if (try_op_syscall(op)) {
                    note_short_read(st, op);
                    return true;
                }
                blocked_at = waits_;
            }
        }
        if (int err = register_ops(op.fd, st, st.out_armed || !is_read_kind(op.kind))) {
            op.result = -err;
            return true;
        }
        // No edge can be missed: data (or room) arriving after the failed attempt raises a new edge, and
        // a fresh EPOLL_CTL_ADD or _MOD reports readiness that already exists.
        list.push_back(&op);
        return false;
    }

    void cancel(IoOp& op) override {
        if (!op.pending || op.fd < 0 || static_cast<std::size_t>(op.fd) >= fds_.size()) return;
        FdState& st = fds_[op.fd];
        OpList& list = is_read_kind(op.kind) ? st.readers : st.writers;
        if (!list.contains(&op)) return;
        list.remove(&op);
        op.result = -ECANCELED;
        cancelled_.push_back(&op);  // never complete inside the caller: the next poll() does
    }

    void forget_fd(int fd) override {
        if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size()) return;
        FdState& st = fds_[fd];
        for (OpList* list : {&st.readers, &st.writers}) {
            while (IoOp* op = list->head) {
                list->remove(op);
                op->result = -ECANCELED;
                cancelled_.push_back(op);
            }
        }
        if (st.ops_registered) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
        st = FdState{};
        remove_handler(fd);
    }

    bool watch_readable(int fd, Callback cb) override {
        FdState& st = state(fd);
        if (handlers_.find(fd))
            throw UsageError("watch_readable: fd " + std::to_string(fd) + " is in readiness mode");
        if (!st.readers.empty())
            throw UsageError("watch_readable: a read op is pending on fd " + std::to_string(fd));
        // After a hangup or error no edge would announce anything: it is readable (EOF or the error).
        if (st.hangup_seen) return false;
        // Edge-triggered: bytes that arrived before the watch raise no further edge. Either the socket is
        // known empty since the last epoll_wait (a short recv or an EAGAIN: anything later raises an edge),
        // or one peek says so.
        if (st.read_blocked_at != waits_) {
            char byte;
            ssize_t n;
            do {
                n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
            } while (n < 0 && errno == EINTR);
            if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return false;
            st.read_blocked_at = waits_;
        }
        if (register_ops(fd, st, st.out_armed) != 0) return false;
        st.watch = std::move(cb);
        return true;
    }

    void unwatch_readable(int fd) noexcept override {
        if (fd >= 0 && static_cast<std::size_t>(fd) < fds_.size()) fds_[fd].watch = nullptr;
    }

    void add_handler(int fd, std::uint32_t events, HandlerCallback cb) override {
        FdState& st = state(fd);
        if (st.ops_registered || handlers_.find(fd))
            throw UsageError("add_handler: fd " + std::to_string(fd) +
                             " is already registered with this loop");
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = static_cast<std::uint64_t>(fd);
        if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0)
            throw Error("add_handler: epoll_ctl failed for fd " + std::to_string(fd) + ": " +
                        std::strerror(errno));
        handlers_.add(fd, events, std::move(cb));
    }

    void update_handler(int fd, std::uint32_t events) override {
        if (!handlers_.find(fd))
            throw UsageError("update_handler: fd " + std::to_string(fd) + " has no handler");
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = static_cast<std::uint64_t>(fd);
        if (::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) < 0)
            throw Error("update_handler: epoll_ctl failed: " + std::string(std::strerror(errno)));
    }

    void remove_handler(int fd) override {
        if (!handlers_.retire(fd)) return;
        ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
        // The callback may be the one running now: free the record on a later iteration.
        if (!sweep_scheduled_) {
            sweep_scheduled_ = true;
            loop_.add_callback([this] {
                sweep_scheduled_ = false;
                handlers_.sweep();
            });
        }
    }

    void poll(std::int64_t timeout_ns) override {
        // Cancelled ops complete here, as an I/O completion would (on io_uring their -ECANCELED comes
        // from the ring in poll() too); what they resume may queue callbacks, so do not wait after them.
        if (!cancelled_.empty()) {
            complete_cancelled();
            timeout_ns = 0;
        }
        int timeout_ms = timeout_ns < 0 ? -1 : static_cast<int>((timeout_ns + 999'999) / 1'000'000);
        int n = ::epoll_wait(epfd_, events_, kMaxEvents, timeout_ms);
        ++waits_;
        count_kernel_poll();
        if (n < 0) {
            if (errno == EINTR) return;
            throw Error(std::string("epoll_wait failed: ") + std::strerror(errno));
        }
        for (int i = 0; i < n; ++i) {
            std::uint64_t tag = events_[i].data.u64;
            std::uint32_t ev = events_[i].events;
            if (tag == kWakeTag) {
                std::uint64_t v;
                [[maybe_unused]] auto r = ::read(wakefd_, &v, sizeof v);
                continue;
            }
            int fd = static_cast<int>(tag);
            if (HandlerRec* rec = handlers_.find(fd)) {
                rec->cb(fd, ev);
                continue;
            }
            if (static_cast<std::size_t>(fd) >= fds_.size()) continue;
            FdState& st = fds_[fd];
            if (ev & (EPOLLRDHUP | EPOLLERR | EPOLLHUP)) st.hangup_seen = true;
            if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) {
                // A watch armed while this event's reads complete (drain) waits for the next edge.
                if (st.watch && st.readers.empty()) {
                    Callback cb = std::move(st.watch);
                    st.watch = nullptr;
                    cb();  // may close fd, open others (fds_ may grow): nothing of `st` is used after
                } else {
                    drain(fd, /*read_side=*/true);
                }
            }
            if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
                if (static_cast<std::size_t>(fd) >= fds_.size()) continue;  // the read side closed it
                if (fds_[fd].writers.empty()) {
                    // A write edge with no write waiting: stop asking for write edges until one waits.
                    if (ev & EPOLLOUT) register_ops(fd, fds_[fd], /*with_out=*/false);
                } else {
                    drain(fd, /*read_side=*/false);
                }
            }
        }
    }

    void wake() override {
        std::uint64_t one = 1;
        [[maybe_unused]] auto r = ::write(wakefd_, &one, sizeof one);
    }

private:
    void complete_cancelled() {
        // A completion may cancel further ops (a close): those join the next batch.
        while (!cancelled_.empty()) {
            completing_.swap(cancelled_);
            for (IoOp* op : completing_) op->on_complete(op);
            completing_.clear();
        }
    }

    // Registers fd for ops, or changes its registration, so that it has the read edge and, when
    // with_out, the write edge. Returns 0 or an errno.
    int register_ops(int fd, FdState& st, bool with_out) {
        if (st.ops_registered && st.out_armed == with_out) return 0;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (with_out ? EPOLLOUT : 0u);
        ev.data.u64 = static_cast<std::uint64_t>(fd);
        if (::epoll_ctl(epfd_, st.ops_registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0 &&
            errno != EEXIST)
            return errno;
        st.ops_registered = true;
        st.out_armed = with_out;
        return 0;
    }

    FdState& state(int fd) {
        if (fd < 0) throw UsageError("invalid file descriptor");
        if (static_cast<std::size_t>(fd) >= fds_.size()) fds_.resize(static_cast<std::size_t>(fd) * 2 + 16);
        return fds_[fd];
    }

    // Completes queued ops of one direction until one would block. Completion resumes coroutines that
    // may queue, cancel or close: re-read the state after each. An op whose inline attempt failed since
    // the last epoll_wait is not retried: only new data (or room) can complete it, and that raises a new
    // edge (this saves a recv per message when a completion starts the next recv).
    void drain(int fd, bool read_side) {
        for (;;) {
            if (static_cast<std::size_t>(fd) >= fds_.size()) return;
            FdState& st = fds_[fd];
            OpList& list = read_side ? st.readers : st.writers;
            IoOp* op = list.head;
            if (!op || (read_side ? st.read_blocked_at : st.write_blocked_at) == waits_) return;
            if (!try_op_syscall(*op)) return;
            note_short_read(st, *op);
            list.remove(op);
            op->on_complete(op);
        }
    }

    // A recv that returned less than it asked for on a stream socket emptied the receive queue: bytes
    // arriving after it raise a new edge, so the next recv need not be tried before the next epoll_wait.
    // Not for datagram sockets (a short recv is one datagram among others), and not once the peer's FIN
    // or an error was reported: the next recv returns it at once, and no further edge would announce it.
    void note_short_read(FdState& st, const IoOp& op) {
        if (op.kind != IoKind::recv || op.result <= 0 || static_cast<std::size_t>(op.result) >= op.len)
            return;
        if (st.hangup_seen) return;
        if (st.sock_type < 0) {
            int type = 0;
            socklen_t len = sizeof type;
            st.sock_type = ::getsockopt(op.fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 ? type : 0;
        }
        if (st.sock_type == SOCK_STREAM) st.read_blocked_at = waits_;
    }

    static constexpr int kMaxEvents = 256;
    int epfd_ = -1;
    int wakefd_ = -1;
    std::vector<FdState> fds_;
    std::vector<IoOp*> cancelled_;   // cancelled ops (result -ECANCELED) to complete in the next poll()
    std::vector<IoOp*> completing_;  // the batch being completed
    HandlerTable handlers_;
    bool sweep_scheduled_ = false;
    std::uint64_t waits_ = 1;  // epoll_wait calls (+1: 0 means "never blocked" in FdState)
    epoll_event events_[kMaxEvents];
};

std::unique_ptr<Poller> make_epoll_poller(IOLoop& loop) {
    return std::make_unique<EpollPoller>(loop);
}

}  // namespace squall::detail
