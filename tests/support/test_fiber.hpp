// Internals of the loopback test servers (http_test_server.hpp, http_test_proxy.hpp): owned coroutines
// ("fibers") and a non-blocking socket whose waits can be torn down synchronously.
//
// Why not detached coroutines over IOStream: a test's server is destroyed at the end of the test body,
// after which run_sync stops the loop. Completion ops cancelled at that point complete on a later
// iteration that never runs, so detached frames would leak (and an io_uring op may still point into
// them). Here every wait is a readiness handler or a timer that the awaiter's destructor removes, so the
// owner can destroy a suspended fiber at any time: destroying the frame unregisters its wait, closes its
// sockets, and nothing refers to it afterwards.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "squall/coro/task.hpp"
#include "squall/ioloop/ioloop.hpp"

namespace squall::testing::detail {

// A coroutine that starts when FiberSet::start resumes it, frees its own frame when it ends, and can be
// destroyed by its FiberSet while suspended. Exceptions are logged, not propagated.
struct Fiber {
    struct promise_type {
        std::coroutine_handle<>* slot = nullptr;  // the FiberSet entry to clear when the frame goes away

        Fiber get_return_object() noexcept {
            return Fiber{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept;
        ~promise_type() {
            if (slot) *slot = nullptr;
        }
    };
    std::coroutine_handle<promise_type> handle;
};

class FiberSet {
public:
    FiberSet() = default;
    FiberSet(const FiberSet&) = delete;
    FiberSet& operator=(const FiberSet&) = delete;
    ~FiberSet() { destroy_all(); }

    // Runs the fiber inline until its first suspension.
    void start(Fiber fiber);
    // Destroys every suspended fiber (their awaiters unregister their waits).
    void destroy_all() noexcept;
    std::size_t running() const noexcept;

private:
    std::vector<std::unique_ptr<std::coroutine_handle<>>> slots_;
};

// Owns a non-blocking socket. Waits are level-triggered readiness handlers on the loop; one reader and
// one writer may wait at once (a proxy tunnel reads and writes the same socket from two fibers).
class Socket {
public:
    Socket(IOLoop& loop, int fd) : loop_(&loop), fd_(fd) {}
    ~Socket() { close(); }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    IOLoop& loop() const noexcept { return *loop_; }
    int fd() const noexcept { return fd_; }
    bool is_open() const noexcept { return fd_ >= 0; }

    void close() noexcept;
    // Closes with SO_LINGER 0: the peer gets a RST instead of a FIN.
    void reset() noexcept;
    // shutdown(SHUT_WR): the peer reads EOF, we can still read.
    void shutdown_write() noexcept;

    // Some bytes (appended to `into`, at most `max`), 0 at EOF, -errno on error.
    Task<long> read_some(std::string& into, std::size_t max = 64 * 1024);
    // Everything, or false when the peer is gone.
    Task<bool> write_all(std::string_view bytes);
    // Connects to a numeric IPv4/IPv6 address; returns 0 or -errno.
    static Task<int> connect(IOLoop& loop, const std::string& host, int port, std::unique_ptr<Socket>& out);

    struct Wait {
        Socket* socket;
        bool for_write;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h);
        void await_resume() const noexcept {}
        ~Wait();
    };
    Wait readable() noexcept { return Wait{this, false}; }
    Wait writable() noexcept { return Wait{this, true}; }

private:
    void update_registration();
    void on_events(std::uint32_t events);

    IOLoop* loop_;
    int fd_;
    bool registered_ = false;
    std::coroutine_handle<> reader_;
    std::coroutine_handle<> writer_;
};

// co_await Sleep{loop, delay}: a timer removed if the frame is destroyed while it waits.
struct Sleep {
    IOLoop& loop;
    Duration delay;
    TimeoutHandle handle{};
    bool pending = false;
    bool await_ready() const noexcept { return delay <= Duration::zero(); }
    void await_suspend(std::coroutine_handle<> h) {
        pending = true;
        handle = loop.call_later(delay, [this, h] {
            pending = false;
            h.resume();
        });
    }
    void await_resume() const noexcept {}
    ~Sleep() {
        if (pending) loop.remove_timeout(handle);
    }
};

// Binds and listens on host:port (numeric; port 0 picks one). Returns the fd; throws squall::Error.
int listen_on(const std::string& host, int port, int& bound_port);

// Accepts connections from a listening socket through a readiness handler; calls on_accept(fd) for each
// (fd non-blocking). Stops (synchronously) on destruction.
class Acceptor {
public:
    template <class F>
    Acceptor(IOLoop& loop, int listen_fd, F on_accept) : loop_(loop), fd_(listen_fd) {
        loop_.add_handler(fd_, events::kRead, [this, cb = std::move(on_accept)](int, std::uint32_t) mutable {
            accept_ready([&cb](int fd) { cb(fd); });
        });
    }
    ~Acceptor();
    Acceptor(const Acceptor&) = delete;
    Acceptor& operator=(const Acceptor&) = delete;

private:
    template <class F>
    void accept_ready(F&& cb) {
        for (int i = 0; i < 64; ++i) {
            int fd = accept_one();
            if (fd < 0) return;
            cb(fd);
        }
    }
    int accept_one() noexcept;

    IOLoop& loop_;
    int fd_;
};

}  // namespace squall::testing::detail
