// The backend interface behind IOLoop: EpollPoller (epoll_poller.cpp) and UringPoller
// (uring_poller.cpp). Internal.
#pragma once

#include <cstdint>
#include <memory>

#include "squall/ioloop/ioloop.hpp"

namespace squall::detail {

class Poller {
public:
    explicit Poller(IOLoop& loop) : loop_(loop) {}
    virtual ~Poller() = default;

    // true: completed inline (op.result set); false: op.on_complete(&op) will be called later.
    virtual bool start(IoOp& op) = 0;
    virtual void cancel(IoOp& op) = 0;
    virtual void forget_fd(int fd) = 0;
    // IOLoop::watch_readable / unwatch_readable.
    virtual bool watch_readable(int fd, Callback cb) = 0;
    virtual void unwatch_readable(int fd) noexcept = 0;

    virtual void add_handler(int fd, std::uint32_t events, HandlerCallback cb) = 0;
    virtual void update_handler(int fd, std::uint32_t events) = 0;
    virtual void remove_handler(int fd) = 0;

    // Waits up to timeout_ns (-1: no limit, 0: do not wait) and dispatches what completed.
    virtual void poll(std::int64_t timeout_ns) = 0;
    // Interrupts poll(). Thread-safe.
    virtual void wake() = 0;

protected:
    void count_kernel_poll() noexcept { ++loop_.stats_.kernel_polls; }
    IOLoop& loop_;
};

std::unique_ptr<Poller> make_epoll_poller(IOLoop& loop);
// nullptr with errno-style code in `error` when io_uring cannot be set up.
std::unique_ptr<Poller> make_uring_poller(IOLoop& loop, int& error);

}  // namespace squall::detail
