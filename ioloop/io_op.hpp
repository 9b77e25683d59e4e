// IoOp: one asynchronous socket operation (recv, send, sendmsg, connect, accept) and its completion
// record, and the awaitables built on it.
//
// Both backends implement the same ops: epoll tries the syscall at once and waits for readiness only on
// EAGAIN; io_uring submits the op itself (a real completion, not poll + syscall). The record lives in the
// awaiting coroutine's frame, so an op allocates nothing. It must stay put until it completes: cancel()
// makes it complete early (result -ECANCELED unless it already finished), never vanish.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <coroutine>
#include <cstddef>
#include <cstdint>

namespace squall {

class IOLoop;

// The socket operation an IoOp performs.
enum class IoKind : std::uint8_t { recv, send, sendmsg, connect, accept };

// One operation's parameters, result and completion hook. IOLoop's recv / send / ... fill it in.
struct IoOp {
    IoKind kind = IoKind::recv;  // what to do
    int fd = -1;                 // the non-blocking socket
    void* buf = nullptr;         // recv / send
    std::size_t len = 0;         // recv / send
    msghdr msg{};                // sendmsg (msg_iov / msg_iovlen)
    sockaddr_storage addr{};     // connect: the target; accept: the peer
    socklen_t addrlen = 0;       // connect: size of addr; accept: set to the peer's size

    // >= 0 on success (bytes, or the accepted fd), -errno on failure. Valid when completed.
    int result = 0;

    // Called on the loop thread when the op completes asynchronously. Default: resume `waiter`.
    void (*on_complete)(IoOp*) = &resume_waiter;
    std::coroutine_handle<> waiter;  // the coroutine to resume (set by IoAwaitable)
    void* user = nullptr;            // free for a custom on_complete

    // Backend bookkeeping.
    IoOp* next = nullptr;
    IoOp* prev = nullptr;
    bool pending = false;

    static void resume_waiter(IoOp* op) { op->waiter.resume(); }  // the default on_complete
};

namespace detail {
bool loop_start_op(IOLoop& loop, IoOp& op);
}

// `int r = co_await loop.recv(fd, buf, n);` — r is bytes or -errno. The op record is `op`; pass
// &awaitable.op to IOLoop::cancel to abort it.
struct IoAwaitable {
    // The loop that runs the op, the op record, and the awaiter protocol: the op starts in await_suspend
    // (no suspension when it completes inline) and co_await yields op.result.
    IOLoop* loop;
    IoOp op;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
        op.waiter = h;
        return !detail::loop_start_op(*loop, op);  // completed inline: do not suspend
    }
    int await_resume() const noexcept { return op.result; }
};

}  // namespace squall
