// TCPClient: resolve a host, connect to it (IPv6/IPv4 fallback), optionally start TLS, and return an
// IOStream (Tornado's TCPClient).
//
//     squall::TCPClient client(loop);
//     squall::ConnectOptions bounded{.timeout = std::chrono::seconds(5)};
//     auto stream = co_await client.connect("localhost", 8080, bounded);
//     squall::ConnectOptions tls{.tls = squall::TlsContext::client()};
//     auto secure = co_await client.connect("example.com", 443, tls);
//
// Addresses are tried as Tornado's _Connector does: those of the first address's family ("primary")
// one after the other; the other family starts 0.3 s later, or at once when the primary ones have all
// failed; the first connection wins and the rest are cancelled. Failures are typed: ConnectionRefusedError,
// HostUnreachableError, other ConnectErrors, ResolveError, TlsError, and TimeoutError ("connect_timeout of
// 2 s expired while connecting to HOST:PORT") when options.timeout covers resolve + connect + TLS. When
// it expires, the connects in flight are cancelled and their sockets closed before the error is raised.
//
// Options follow the co_await temporaries rule (squall/coro/task.hpp): name them first. On affected GCC
// versions connect(host, port, ConnectOptions&&) is deleted, so `connect(h, p, {.timeout = t})` does not
// compile.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "squall/coro/errors.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/iostream/address.hpp"
#include "squall/iostream/errors.hpp"
#include "squall/iostream/iostream.hpp"
#include "squall/iostream/resolver.hpp"
#include "squall/iostream/tls.hpp"

namespace squall {

// Builds the ConnectError subclass matching errno `err` (positive).
std::exception_ptr make_connect_error(int err, const SocketAddress& address);

// How TCPClient::connect connects (name it before the co_await: see the file comment).
struct ConnectOptions {
    // Covers resolving, connecting and the TLS handshake. nullopt: no limit.
    std::optional<Duration> timeout = std::nullopt;
    // TLS after connecting when set; server_hostname defaults to the host passed to connect().
    std::shared_ptr<const TlsContext> tls = nullptr;
    std::string server_hostname{};
    // Local address / port to bind before connecting (empty / 0: the kernel chooses).
    std::string source_address{};
    std::uint16_t source_port = 0;
    // false: IPv4 only.
    bool allow_ipv6 = true;
    std::size_t max_buffer_size = 100 * 1024 * 1024;  // the stream's IOStreamOptions::max_buffer_size
    // Delay before the secondary address family is tried (Tornado's _INITIAL_CONNECT_TIMEOUT).
    Duration secondary_delay = std::chrono::milliseconds(300);
};

// Connects to host:port and returns the stream (see the file comment). Belongs to its loop's thread.
class TCPClient {
public:
    // Uses `resolver` when given (it must outlive the client), else one of its own.
    explicit TCPClient(IOLoop& loop, Resolver* resolver = nullptr);
    ~TCPClient();
    TCPClient(const TCPClient&) = delete;
    TCPClient& operator=(const TCPClient&) = delete;

    // A connected stream (TLS-negotiated with options.tls), or the typed errors listed above. `options`
    // is copied: it need not outlive the call.
    Task<std::shared_ptr<IOStream>> connect(std::string host, std::uint16_t port,
                                            const ConnectOptions& options) {
        return connect_impl(std::move(host), port, std::make_shared<const ConnectOptions>(options));
    }
#if SQUALL_AWAIT_TEMPORARIES_BUG
    // Deleted where GCC mishandles temporaries in co_await (the co_await temporaries rule,
    // squall/coro/task.hpp): name the options first.
    Task<std::shared_ptr<IOStream>> connect(std::string host, std::uint16_t port, ConnectOptions&&) = delete;
#endif
    // No default argument on purpose (the co_await temporaries rule).
    Task<std::shared_ptr<IOStream>> connect(std::string host, std::uint16_t port) {
        return connect_impl(std::move(host), port, std::make_shared<const ConnectOptions>());
    }

    // The resolver in use (for add_override).
    Resolver& resolver() noexcept {
        return *resolver_;
    }

private:
    Task<std::shared_ptr<IOStream>> connect_impl(std::string host, std::uint16_t port,
                                                 std::shared_ptr<const ConnectOptions> options);

    IOLoop& loop_;
    std::unique_ptr<Resolver> own_resolver_;
    Resolver* resolver_;
};

}  // namespace squall
