// TCPServer: accept TCP connections and run a coroutine per connection (Tornado's TCPServer).
//
//     squall::TCPServer server(loop, [](std::shared_ptr<squall::IOStream> s,
//                                       squall::SocketAddress peer) -> squall::Task<void> {
//         for (;;) co_await s->write(co_await s->read_until("\n"));   // echo lines
//     });
//     server.listen(0, "127.0.0.1");      // port 0: the kernel picks one
//     std::uint16_t port = server.port();
//
// Or subclass and override handle_stream, as in Tornado. Each connection runs detached; an error
// escaping the handler is logged, never lost (a StreamClosedError is the normal end of a connection and
// only logged at debug level). With options.tls, the server-side handshake runs before handle_stream; a
// failed one is logged and the connection closed.
// stop() closes the listeners (their pending accepts are cancelled; each socket closes once its accept
// completed) and, with close_connections, every live connection; stopped() resolves when the accept
// loops have ended. The destructor calls stop(); handlers that outlive the server must not use it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "squall/coro/future.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/iostream/address.hpp"
#include "squall/iostream/iostream.hpp"
#include "squall/iostream/tls.hpp"

namespace squall {

// Options for every accepted connection.
struct TCPServerOptions {
    std::shared_ptr<const TlsContext> tls = nullptr;  // a server context: TLS on every connection
    std::size_t max_buffer_size = 100 * 1024 * 1024;  // each stream's IOStreamOptions::max_buffer_size
};

// Accepts connections and runs a coroutine per connection (see the file comment).
class TCPServer {
public:
    // The per-connection coroutine: gets the (TLS-negotiated) stream and the peer's address.
    using StreamHandler = std::function<Task<void>(std::shared_ptr<IOStream> stream, SocketAddress peer)>;

    // Without a handler, override handle_stream. Nothing listens until listen().
    explicit TCPServer(IOLoop& loop, StreamHandler handler = nullptr, TCPServerOptions options = {});
    virtual ~TCPServer();
    TCPServer(const TCPServer&) = delete;
    TCPServer& operator=(const TCPServer&) = delete;

    // Binds and listens on every address of host (numeric or a name; "" = all interfaces, IPv4 and
    // IPv6), SO_REUSEADDR set, and starts accepting. Port 0 picks a free port (the same one for every
    // address). Throws squall::Error naming the address on failure. May be called more than once.
    void listen(std::uint16_t port, const std::string& host = "", int backlog = 128);
    // The port of the first listening socket (0 before listen()).
    std::uint16_t port() const noexcept;
    // The listening sockets' addresses.
    std::vector<SocketAddress> addresses() const;

    // Stops accepting; with close_connections also closes every live connection. Idempotent.
    void stop(bool close_connections = false);
    // Resolves once the accept loops have ended (at once if none runs).
    Future<void> stopped();
    // Connections whose handler is still running.
    std::size_t connection_count() const;

    IOLoop& loop() const noexcept { return loop_; }  // the loop it accepts on

protected:
    // Default: calls the handler given to the constructor (UsageError if there is none).
    virtual Task<void> handle_stream(std::shared_ptr<IOStream> stream, SocketAddress peer);

public:
    struct Listener;
    struct Shared;

private:
    static Task<void> accept_loop(TCPServer* server, std::shared_ptr<Listener> listener,
                                  std::shared_ptr<Shared> shared);
    static Task<void> serve(TCPServer* server, std::shared_ptr<Shared> shared,
                            std::shared_ptr<IOStream> stream, SocketAddress peer);

    IOLoop& loop_;
    StreamHandler handler_;
    TCPServerOptions options_;
    std::vector<std::shared_ptr<Listener>> listeners_;
    std::shared_ptr<Shared> shared_;
};

}  // namespace squall
