#include "squall/iostream/tcp_client.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "squall/coro/start.hpp"
#include "squall/ioloop/async.hpp"

namespace squall {

std::exception_ptr make_connect_error(int err, const SocketAddress& address) {
    std::string msg = "connect to " + address.to_string() + " failed: " + std::strerror(err);
    if (err == ECONNREFUSED) return std::make_exception_ptr(ConnectionRefusedError(msg, err, address));
    if (err == EHOSTUNREACH || err == ENETUNREACH)
        return std::make_exception_ptr(HostUnreachableError(msg, err, address));
    return std::make_exception_ptr(ConnectError(msg, err, address));
}

namespace {

struct Connected {
    int fd = -1;
    SocketAddress address;
};

// One connect() call's race over the resolved addresses (Tornado's _Connector).
//
// States: resolving -> racing (attempts in flight; the secondary family joins after secondary_delay or
// when the primary list is exhausted) -> finished. finished is reached by the first success (the other
// attempts are cancelled and close their own sockets), by every address failing (the last error), or
// by fail() (timeout, resolve error): then the result is delivered only once no attempt is in flight,
// so no socket outlives the error.
class AddressRace : public std::enable_shared_from_this<AddressRace> {
public:
    AddressRace(IOLoop& loop, const ConnectOptions& options) : loop_(loop), options_(options) {}

    Promise<Connected> promise;
    std::shared_ptr<IOStream> tls_stream;  // during the TLS handshake, for the timeout to close
    bool timed_out = false;

    bool finished() const noexcept { return finished_; }

    void start(const std::vector<SocketAddress>& addrs) {
        for (const auto& a : addrs)
            (a.family() == addrs.front().family() ? lists_[0] : lists_[1]).push_back(a);
        if (!lists_[1].empty())
            secondary_timer_ = loop_.call_later(options_.secondary_delay, [self = shared_from_this()] {
                self->secondary_timer_ = {};
                self->start_secondary();
            });
        try_next(0);
    }

    void fail(std::exception_ptr e) {
        if (finished_) return;
        finished_ = true;
        pending_error_ = std::move(e);
        stop_timer();
        for (IoOp* op : ops_) loop_.cancel(*op);
        deliver_failure_when_idle();
    }

private:
    void stop_timer() {
        if (secondary_timer_) loop_.remove_timeout(secondary_timer_);
        secondary_timer_ = {};
    }

    void start_secondary() {
        if (finished_ || secondary_started_) return;
        secondary_started_ = true;
        try_next(1);
    }

    void try_next(int list) {
        if (finished_) return;
        if (next_[list] < lists_[list].size()) {
            SocketAddress addr = lists_[list][next_[list]++];
            ::squall::start(attempt(shared_from_this(), addr, list));
            return;
        }
        if (list == 0 && !secondary_started_ && !lists_[1].empty()) {
            stop_timer();
            start_secondary();
            return;
        }
        bool exhausted = next_[0] == lists_[0].size() && (lists_[1].empty() || next_[1] == lists_[1].size());
        if (exhausted && in_flight_ == 0) {
            finished_ = true;
            stop_timer();
            promise.set_exception(last_error_);
        }
    }

    void deliver_failure_when_idle() {
        if (in_flight_ == 0 && pending_error_) promise.set_exception(std::exchange(pending_error_, nullptr));
    }

    void attempt_failed(int list, std::exception_ptr e) {
        last_error_ = std::move(e);
        try_next(list);
    }

    static Task<void> attempt(std::shared_ptr<AddressRace> self, SocketAddress addr, int list) {
        IOLoop& loop = self->loop_;
        int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            self->attempt_failed(list, make_connect_error(errno, addr));
            co_return;
        }
        if (!self->options_.source_address.empty() || self->options_.source_port != 0) {
            std::string src = self->options_.source_address;
            if (src.empty()) src = addr.family() == AF_INET6 ? "::" : "0.0.0.0";
            auto local = SocketAddress::parse_numeric(src, self->options_.source_port);
            int err = 0;
            if (!local || local->family() != addr.family())
                err = EAFNOSUPPORT;
            else if (::bind(fd, local->get(), local->length) < 0)
                err = errno;
            if (err) {
                ::close(fd);
                self->attempt_failed(list, make_connect_error(err, addr));
                co_return;
            }
        }
        IoAwaitable op = loop.connect(fd, addr.get(), addr.length);
        self->ops_.push_back(&op.op);
        ++self->in_flight_;
        int r = co_await op;
        --self->in_flight_;
        self->ops_.erase(std::find(self->ops_.begin(), self->ops_.end(), &op.op));
        if (self->finished_) {  // lost the race, or cancelled by a timeout
            loop.close_fd(fd);
            self->deliver_failure_when_idle();
            co_return;
        }
        if (r == 0) {
            self->finished_ = true;
            self->stop_timer();
            for (IoOp* other : self->ops_) loop.cancel(*other);
            self->promise.set_value(Connected{fd, addr});
            co_return;
        }
        loop.close_fd(fd);
        self->attempt_failed(list, make_connect_error(-r, addr));
    }

    IOLoop& loop_;
    ConnectOptions options_;
    std::vector<SocketAddress> lists_[2];  // primary family, secondary family
    std::size_t next_[2] = {0, 0};
    bool secondary_started_ = false;
    bool finished_ = false;
    int in_flight_ = 0;
    std::vector<IoOp*> ops_;
    TimeoutHandle secondary_timer_;
    std::exception_ptr last_error_;
    std::exception_ptr pending_error_;
};

std::string host_port(const std::string& host, std::uint16_t port) {
    if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

}  // namespace

TCPClient::TCPClient(IOLoop& loop, Resolver* resolver) : loop_(loop), resolver_(resolver) {
    if (!resolver_) {
        own_resolver_ = std::make_unique<Resolver>(loop);
        resolver_ = own_resolver_.get();
    }
}

TCPClient::~TCPClient() = default;

Task<std::shared_ptr<IOStream>> TCPClient::connect_impl(std::string host, std::uint16_t port,
                                                        std::shared_ptr<const ConnectOptions> options_ptr) {
    const ConnectOptions& options = *options_ptr;
    auto race = std::make_shared<AddressRace>(loop_, options);
    const std::string target = host_port(host, port);
    TimeoutHandle timer;
    if (options.timeout) {
        std::string msg =
            timeout_message("connect_timeout", *options.timeout, "while connecting to " + target);
        timer = loop_.call_later(*options.timeout, [race, msg] {
            race->timed_out = true;
            auto e = std::make_exception_ptr(TimeoutError(msg));
            race->fail(e);
            if (race->tls_stream) race->tls_stream->close(e);
        });
    }
    struct TimerGuard {
        IOLoop& loop;
        TimeoutHandle& h;
        ~TimerGuard() {
            if (h) loop.remove_timeout(h);
        }
    } guard{loop_, timer};

    auto resolved = ::squall::start(resolver_->resolve(host, port, options.allow_ipv6 ? AF_UNSPEC : AF_INET));
    resolved.add_done_callback([race](const Future<std::vector<SocketAddress>>& f) {
        auto e = f.exception();  // retrieved either way: a late failure after a timeout is not news
        if (race->finished()) return;
        if (e)
            race->fail(e);
        else
            race->start(f.result());
    });
    Connected c = co_await race->promise.get_future();

    IOStreamOptions stream_options;
    stream_options.max_buffer_size = options.max_buffer_size;
    auto stream = IOStream::create(loop_, c.fd, stream_options);
    stream->set_nodelay(true);
    if (options.tls) {
        race->tls_stream = stream;
        std::exception_ptr error;
        try {
            std::string hostname = options.server_hostname;
            if (hostname.empty()) hostname = host;
            co_await stream->start_tls(options.tls, hostname);
        } catch (...) {
            error = std::current_exception();
        }
        race->tls_stream.reset();
        if (error) {
            stream->close(error);
            if (race->timed_out) std::rethrow_exception(stream->close_reason());
            std::rethrow_exception(error);
        }
    }
    co_return stream;
}

}  // namespace squall
