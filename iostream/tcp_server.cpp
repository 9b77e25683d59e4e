#include "squall/iostream/tcp_server.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

#include "squall/coro/log.hpp"
#include "squall/coro/start.hpp"
#include "squall/ioloop/async.hpp"

namespace squall {

// One listening socket. Owned by its accept loop as well as by the server: the socket is closed, and
// the record may go, only after the loop's last accept op completed.
struct TCPServer::Listener {
    int fd = -1;
    SocketAddress address;
    IoOp* accept_op = nullptr;
    bool stopping = false;
};

// State the per-connection coroutines share with the server (they may outlive it).
struct TCPServer::Shared {
    TCPServer* server = nullptr;  // null once the server is destroyed
    std::map<std::uint64_t, std::weak_ptr<IOStream>> connections;
    std::uint64_t next_id = 0;
    int accept_loops = 0;
    std::vector<Promise<void>> stop_waiters;
};

TCPServer::TCPServer(IOLoop& loop, StreamHandler handler, TCPServerOptions options)
    : loop_(loop),
      handler_(std::move(handler)),
      options_(std::move(options)),
      shared_(std::make_shared<Shared>()) {
    shared_->server = this;
}

TCPServer::~TCPServer() {
    stop(false);
    shared_->server = nullptr;
}

void TCPServer::listen(std::uint16_t port, const std::string& host, int backlog) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    std::string service = std::to_string(port);
    const std::string where = (host.empty() ? std::string("*") : host) + ":" + service;
    if (int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res); rc != 0)
        throw Error("TCPServer::listen on " + where + ": " + ::gai_strerror(rc));
    std::vector<SocketAddress> addrs;
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        SocketAddress a(ai->ai_addr, ai->ai_addrlen);
        if (std::find(addrs.begin(), addrs.end(), a) == addrs.end()) addrs.push_back(a);
    }
    ::freeaddrinfo(res);

    std::uint16_t bound_port = port;
    std::size_t started = 0;
    for (auto& addr : addrs) {
        if (bound_port != 0) {  // port 0 with several addresses: reuse the first one picked
            if (addr.family() == AF_INET)
                reinterpret_cast<sockaddr_in*>(&addr.storage)->sin_port = htons(bound_port);
            else
                reinterpret_cast<sockaddr_in6*>(&addr.storage)->sin6_port = htons(bound_port);
        }
        int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int err = fd < 0 ? errno : 0;
        if (!err) {
            int one = 1;
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            // Separate IPv4 and IPv6 sockets on one port, as Tornado's bind_sockets does.
            if (addr.family() == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
            if (::bind(fd, addr.get(), addr.length) < 0 || ::listen(fd, backlog) < 0) err = errno;
        }
        if (err) {
            if (fd >= 0) ::close(fd);
            // A machine without IPv6 still serves IPv4 (and vice versa) when the host has both.
            if ((err == EADDRNOTAVAIL || err == EAFNOSUPPORT) && addrs.size() > 1) continue;
            throw Error("TCPServer::listen: cannot listen on " + addr.to_string() + ": " +
                        std::strerror(err));
        }
        auto listener = std::make_shared<Listener>();
        listener->fd = fd;
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
        listener->address = SocketAddress(reinterpret_cast<sockaddr*>(&ss), len);
        bound_port = listener->address.port();
        listeners_.push_back(listener);
        ++shared_->accept_loops;
        ++started;
        ::squall::start(accept_loop(this, listener, shared_));
    }
    if (started == 0) throw Error("TCPServer::listen: no usable address for " + where);
}

std::uint16_t TCPServer::port() const noexcept {
    return listeners_.empty() ? 0 : listeners_.front()->address.port();
}

std::vector<SocketAddress> TCPServer::addresses() const {
    std::vector<SocketAddress> out;
    for (const auto& l : listeners_) out.push_back(l->address);
    return out;
}

std::size_t TCPServer::connection_count() const {
    return shared_->connections.size();
}

void TCPServer::stop(bool close_connections) {
    for (auto& l : listeners_) {
        if (l->stopping) continue;
        l->stopping = true;
        if (l->accept_op) loop_.cancel(*l->accept_op);
    }
    listeners_.clear();
    if (close_connections) {
        auto connections = shared_->connections;  // closing resumes handlers, which unregister
        for (auto& [id, weak] : connections)
            if (auto s = weak.lock()) s->close();
    }
}

Future<void> TCPServer::stopped() {
    if (shared_->accept_loops == 0) return make_ready_future();
    shared_->stop_waiters.emplace_back();
    return shared_->stop_waiters.back().get_future();
}

Task<void> TCPServer::handle_stream(std::shared_ptr<IOStream> stream, SocketAddress peer) {
    if (!handler_) throw UsageError("TCPServer: no stream handler given and handle_stream not overridden");
    return handler_(std::move(stream), peer);
}

Task<void> TCPServer::accept_loop(TCPServer* server, std::shared_ptr<Listener> l,
                                  std::shared_ptr<Shared> shared) {
    IOLoop& loop = server->loop_;
    const IOStreamOptions stream_options{.max_buffer_size = server->options_.max_buffer_size};
    while (!l->stopping) {
        IoAwaitable op = loop.accept(l->fd);
        l->accept_op = &op.op;
        int r = co_await op;
        l->accept_op = nullptr;
        if (l->stopping) {
            if (r >= 0) ::close(r);
            break;
        }
        if (r < 0) {
            if (r == -EAGAIN || r == -EINTR || r == -ECONNABORTED || r == -EPROTO) continue;
            std::string why = std::strerror(-r);
            if (r == -EMFILE || r == -ENFILE || r == -ENOBUFS || r == -ENOMEM) {
                // Out of descriptors or memory: back off instead of spinning on the same error.
                log(LogLevel::warning, "TCPServer: accept on " + l->address.to_string() + " failed: " + why +
                                           " (retrying in 100 ms)");
                co_await sleep(loop, std::chrono::milliseconds(100));
                continue;
            }
            log(LogLevel::error, "TCPServer: accept on " + l->address.to_string() + " failed: " + why +
                                     "; no longer accepting on it");
            break;
        }
        SocketAddress peer(reinterpret_cast<const sockaddr*>(&op.op.addr), op.op.addrlen);
        auto stream = IOStream::create(loop, r, stream_options);
        stream->set_nodelay(true);
        ::squall::start(serve(shared->server, shared, std::move(stream), peer));
    }
    loop.close_fd(l->fd);
    l->fd = -1;
    if (--shared->accept_loops == 0) {
        auto waiters = std::move(shared->stop_waiters);
        for (auto& w : waiters) w.set_value();
    }
}

Task<void> TCPServer::serve(TCPServer* server, std::shared_ptr<Shared> shared,
                            std::shared_ptr<IOStream> stream, SocketAddress peer) {
    const std::uint64_t id = shared->next_id++;
    shared->connections.emplace(id, stream);
    struct Unregister {
        Shared& shared;
        std::uint64_t id;
        ~Unregister() { shared.connections.erase(id); }
    } unregister{*shared, id};

    if (server->options_.tls) {
        std::string failure;
        try {
            co_await stream->start_tls(server->options_.tls);
        } catch (const std::exception& e) {
            failure = e.what();
        }
        if (!failure.empty()) {
            log(LogLevel::warning,
                "TCPServer: TLS handshake with " + peer.to_string() + " failed: " + failure);
            stream->close();
            co_return;
        }
        server = shared->server;  // the handshake took time: the server may be gone
        if (!server) {
            stream->close();
            co_return;
        }
    }
    try {
        co_await server->handle_stream(stream, peer);
    } catch (const StreamClosedError& e) {
        log(LogLevel::debug, "TCPServer: connection from " + peer.to_string() + " ended: " + e.what());
    } catch (const std::exception& e) {
        log(LogLevel::error, "TCPServer: handler for " + peer.to_string() + " failed: " + e.what());
    }
}

}  // namespace squall
