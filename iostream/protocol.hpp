// Twisted-style Protocol / Transport / Factory adapters over IOStream, with connect_tcp and listen_tcp.
//
//     struct Echo : squall::Protocol {
//         void data_received(std::string_view data) override { transport()->write(data); }
//     };
//     auto port = squall::listen_tcp(loop, 8000, squall::Factory::of<Echo>());
//
//     struct Greeter : squall::Protocol {
//         void connection_made(squall::Transport& t) override { t.write("hello, world"); }
//         void data_received(std::string_view d) override { std::cout << d; transport()->lose_connection(); }
//     };
//     auto connector = squall::connect_tcp(loop, "127.0.0.1", 8000, squall::ClientFactory::of<Greeter>());
//
// Each connection has one reading coroutine that calls data_received with whatever arrived (at least one
// byte). connection_lost(reason) runs once, when the stream closed: reason holds ConnectionDone for a
// clean close (peer EOF or our lose_connection), ConnectionAborted for abort_connection, and
// ConnectionLost (carrying the stream's cause, e.g. ECONNRESET) otherwise. An exception escaping
// data_received is logged and aborts the connection, as in Twisted.
// The Transport belongs to the connection and lives as long as its Protocol (both go away after
// connection_lost returned). write() on a closed or closing transport is a no-op, as in Twisted.
//
// Deliberate differences from Twisted: connect_tcp resolves both address families; ClientFactory has
// one extra hook, client_connection_made, which ReconnectingClientFactory uses to reset its delay on
// every successful connection (Twisted leaves resetDelay to the user).
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "squall/coro/errors.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/iostream/address.hpp"
#include "squall/iostream/errors.hpp"
#include "squall/iostream/iostream.hpp"
#include "squall/iostream/tcp_client.hpp"
#include "squall/iostream/tcp_server.hpp"

namespace squall {

// A connection as its Protocol sees it (Twisted's ITransport); squall implements it over an IOStream.
class Transport {
public:
    virtual ~Transport() = default;
    // Queues bytes for the peer (all writes of one loop iteration leave together). No-op once closed or
    // closing.
    virtual void write(std::string_view data) = 0;
    // write() for each piece, in order.
    void write_sequence(std::initializer_list<std::string_view> pieces) {
        for (auto p : pieces) write(p);
    }
    template <class Range>
    void write_sequence(const Range& pieces) {
        for (const auto& p : pieces) write(std::string_view(p));
    }
    // Closes after everything written so far was sent; later writes are ignored.
    virtual void lose_connection() = 0;
    // Closes now, dropping unsent data.
    virtual void abort_connection() = 0;
    // The peer's and the local address (empty once the socket is closed).
    virtual SocketAddress get_peer() const = 0;
    virtual SocketAddress get_host() const = 0;
    // Open and not closing.
    virtual bool connected() const = 0;
    // The underlying stream (for TLS details, socket options).
    virtual std::shared_ptr<IOStream> stream() const = 0;
};

class Factory;

// Per-connection event handlers (Twisted's Protocol): subclass and override what you need. Runs on the
// loop thread; see the file comment for the order of events and the reasons passed to connection_lost.
class Protocol {
public:
    virtual ~Protocol() = default;
    // The transport is already set (transport()) when this runs.
    virtual void connection_made(Transport& /*transport*/) {}
    // Bytes that arrived (at least one), in order; what one call gets is arbitrary.
    virtual void data_received(std::string_view /*data*/) {}
    // Once, after the stream closed: ConnectionDone, ConnectionAborted or ConnectionLost.
    virtual void connection_lost(std::exception_ptr /*reason*/) {}

    // Set before connection_made: the connection's transport (valid until connection_lost returns),
    // whether it is still open, and the factory that built this protocol.
    Transport* transport() const noexcept { return transport_; }
    bool connected() const noexcept { return connected_; }
    Factory* factory() const noexcept { return factory_; }

private:
    friend class detail_protocol_access;
    Transport* transport_ = nullptr;
    Factory* factory_ = nullptr;
    bool connected_ = false;
};

// Makes a Protocol per connection (Twisted's Factory), for listen_tcp. Set `protocol`, use of<P>(), or
// override build_protocol.
class Factory {
public:
    virtual ~Factory() = default;
    // A new protocol for a connection with addr (the peer). Null refuses the connection (it is closed).
    // Default: calls `protocol` (UsageError when unset).
    virtual std::unique_ptr<Protocol> build_protocol(const SocketAddress& addr);
    // Called when the first port / connector starts using the factory and when the last one stops.
    virtual void start_factory() {}
    virtual void stop_factory() {}

    std::function<std::unique_ptr<Protocol>()> protocol;  // what the default build_protocol calls

    // A factory whose protocol is a default-constructed P.
    template <class P>
    static std::shared_ptr<Factory> of() {
        auto f = std::make_shared<Factory>();
        f->protocol = [] { return std::make_unique<P>(); };
        return f;
    }

private:
    friend class detail_protocol_access;
    int num_ports_ = 0;
};

class Connector;

// A Factory for connect_tcp (Twisted's ClientFactory), with hooks for each connection attempt.
class ClientFactory : public Factory {
public:
    // Each attempt begins (it may call connector.stop_connecting()).
    virtual void started_connecting(Connector& /*connector*/) {}
    // The attempt failed (resolve, connect, TLS, timeout; CancelledError after stop_connecting).
    virtual void client_connection_failed(Connector& /*connector*/, std::exception_ptr /*reason*/) {}
    virtual void client_connection_made(Connector& /*connector*/) {}  // squall's addition (see above)
    // An established connection ended (after the protocol's connection_lost).
    virtual void client_connection_lost(Connector& /*connector*/, std::exception_ptr /*reason*/) {}

    // A client factory whose protocol is a default-constructed P.
    template <class P>
    static std::shared_ptr<ClientFactory> of() {
        auto f = std::make_shared<ClientFactory>();
        f->protocol = [] { return std::make_unique<P>(); };
        return f;
    }
};

// Reconnects with exponential back-off (Twisted's algorithm): after each failure or lost connection the
// delay becomes min(delay * factor, max_delay), then, with jitter, a Gaussian sample of mean delay and
// standard deviation delay * jitter; the retry runs after that delay. A successful connection resets
// the delay and the retry count. max_retries bounds the retries; stop_trying() ends them.
class ReconnectingClientFactory : public ClientFactory {
public:
    // The back-off parameters (delays in seconds; see above). max_retries unset: retry forever.
    double max_delay = 3600;
    double initial_delay = 1.0;
    double factor = 2.7182818284590451;  // e
    double jitter = 0.11962656472;       // molar Planck constant times c, joule meter/mole (Twisted's)
    std::optional<int> max_retries;

    double delay = initial_delay;  // the delay of the last scheduled retry, in seconds
    int retries = 0;               // retries since the last successful connection
    bool continue_trying = true;   // false after stop_trying()

    ~ReconnectingClientFactory() override;

    // Both retry(connector) while continue_trying; client_connection_made resets the delay.
    void client_connection_failed(Connector& connector, std::exception_ptr reason) override;
    void client_connection_lost(Connector& connector, std::exception_ptr reason) override;
    void client_connection_made(Connector& /*connector*/) override { reset_delay(); }

    // Schedules connector.connect() after the next back-off delay (no-op once stop_trying() ran).
    void retry(Connector& connector);
    // Cancels a scheduled retry and stops an attempt in progress; no more retries.
    void stop_trying();
    // Back to initial_delay and zero retries, and trying again (undoes stop_trying()).
    void reset_delay();
    // Seeds the jitter's random generator (tests; default seeded from std::random_device).
    void seed(std::uint64_t value) { rng_.seed(value); }

private:
    std::mt19937_64 rng_{std::random_device{}()};
    std::weak_ptr<Connector> connector_;
    TimeoutHandle call_;
    IOLoop* loop_ = nullptr;
};

// The handle connect_tcp returns (Twisted's IConnector).
class Connector : public std::enable_shared_from_this<Connector> {
public:
    // Where the connector is: no attempt running, an attempt running, or a connection up.
    enum class State { disconnected, connecting, connected };

    // (Re)starts connecting; UsageError unless disconnected.
    void connect();
    // Abandons the attempt in progress: client_connection_failed gets a CancelledError. UsageError when not
    // connecting (Twisted's NotConnectingError).
    void stop_connecting();
    // Connecting: stop_connecting(); connected: lose_connection().
    void disconnect();

    // Where it connects, with what, and how far it got; transport() is null unless connected.
    State state() const noexcept { return state_; }
    const std::string& host() const noexcept { return host_; }
    std::uint16_t port() const noexcept { return port_; }
    IOLoop& loop() const noexcept { return loop_; }
    ClientFactory& factory() const noexcept { return *factory_; }
    Transport* transport() const noexcept;

    struct Key {};
    // For connect_tcp only (make_shared needs a public constructor; the private Key keeps it internal).
    Connector(Key, IOLoop& loop, std::string host, std::uint16_t port, std::shared_ptr<ClientFactory> factory,
              ConnectOptions options);
    ~Connector();

private:
    class Attempt;
    static Task<void> run(std::shared_ptr<Connector> self, std::uint64_t attempt_id);

    IOLoop& loop_;
    std::string host_;
    std::uint16_t port_;
    std::shared_ptr<ClientFactory> factory_;
    ConnectOptions options_;
    TCPClient client_;
    State state_ = State::disconnected;
    std::uint64_t attempt_id_ = 0;  // bumped by stop_connecting: a stale attempt's outcome is dropped
    std::weak_ptr<Transport> transport_;
};

// Connects to host:port and runs factory's protocol on the connection. timeout covers resolve + connect.
std::shared_ptr<Connector> connect_tcp(IOLoop& loop, std::string host, std::uint16_t port,
                                       std::shared_ptr<ClientFactory> factory,
                                       Duration timeout = std::chrono::seconds(30),
                                       ConnectOptions options = {});

// The handle listen_tcp returns (Twisted's IListeningPort).
class ListeningPort {
public:
    // Stops accepting (live connections go on). The Future resolves once the socket is closed.
    Future<void> stop_listening();
    std::uint16_t port() const noexcept { return server_->port(); }  // the bound port (useful after port 0)
    SocketAddress get_host() const;                                  // the bound address

    struct Key {};
    // For listen_tcp only.
    ListeningPort(Key, IOLoop& loop, std::shared_ptr<Factory> factory, TCPServerOptions options);
    ~ListeningPort();
    TCPServer& server() noexcept { return *server_; }  // the server underneath (connection counts, stop)

private:
    std::shared_ptr<Factory> factory_;
    std::unique_ptr<TCPServer> server_;
    bool listening_ = true;
};

// Listens on interface:port ("" = all interfaces; port 0 = pick one) and runs a protocol from factory
// on each accepted connection.
std::shared_ptr<ListeningPort> listen_tcp(IOLoop& loop, std::uint16_t port, std::shared_ptr<Factory> factory,
                                          const std::string& interface = "", int backlog = 50,
                                          TCPServerOptions options = {});

}  // namespace squall
