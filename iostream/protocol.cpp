#include "squall/iostream/protocol.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "squall/coro/errors.hpp"
#include "squall/coro/log.hpp"
#include "squall/coro/start.hpp"

namespace squall {

// Sets the fields Protocol and Factory keep private from their users.
class detail_protocol_access {
public:
    static void attach(Protocol& p, Transport* t, Factory* f) {
        p.transport_ = t;
        p.factory_ = f;
        p.connected_ = true;
    }
    static void detach(Protocol& p) { p.connected_ = false; }
    static void do_start(Factory& f) {
        if (f.num_ports_++ == 0) f.start_factory();
    }
    static void do_stop(Factory& f) {
        if (f.num_ports_ > 0 && --f.num_ports_ == 0) f.stop_factory();
    }
};

namespace {

// One connection: the Transport a Protocol talks to, and the reading coroutine that feeds it.
class StreamTransport final : public Transport {
public:
    StreamTransport(std::shared_ptr<IOStream> stream, std::unique_ptr<Protocol> protocol, Factory* factory)
        : stream_(std::move(stream)),
          protocol_(std::move(protocol)),
          factory_(factory),
          peer_(stream_->peer_address()),
          host_(stream_->local_address()) {}

    void write(std::string_view data) override {
        if (closing_ || stream_->closed() || data.empty()) return;
        stream_->write_buffered(data);
    }
    void lose_connection() override {
        if (closing_ || stream_->closed()) return;
        closing_ = true;
        ::squall::start(stream_->close_after_flush());
    }
    void abort_connection() override {
        if (stream_->closed()) return;
        aborted_ = true;
        stream_->close();
    }
    SocketAddress get_peer() const override { return peer_; }
    SocketAddress get_host() const override { return host_; }
    bool connected() const override { return !stream_->closed(); }
    std::shared_ptr<IOStream> stream() const override { return stream_; }

    // Runs the protocol until the connection is gone; returns the reason given to connection_lost.
    static Task<std::exception_ptr> run(std::shared_ptr<StreamTransport> self) {
        Protocol& protocol = *self->protocol_;
        IOStream& stream = *self->stream_;
        detail_protocol_access::attach(protocol, self.get(), self->factory_);
        self->call("connection_made", [&] { protocol.connection_made(*self); });
        std::exception_ptr failure;  // why the stream ended, when it was not a clean close
        while (!stream.closed()) {
            try {
                co_await stream.fill();
            } catch (const StreamClosedError&) {
                break;
            } catch (...) {
                failure = std::current_exception();  // e.g. StreamBufferFullError: the stream closed itself
                break;
            }
            Buffer& buffer = stream.read_buffer();
            const std::size_t n = buffer.size();
            if (n == 0) continue;
            self->call("data_received", [&] { protocol.data_received(std::string_view(buffer.data(), n)); });
            buffer.consume(std::min(n, buffer.size()));
        }
        std::exception_ptr reason;
        if (self->aborted_) {
            reason = std::make_exception_ptr(ConnectionAborted(
                "connection aborted" + (self->abort_why_.empty() ? std::string() : ": " + self->abort_why_)));
        } else if (failure || stream.close_reason()) {
            std::exception_ptr cause = failure ? failure : stream.close_reason();
            reason = std::make_exception_ptr(
                ConnectionLost("connection to " + self->peer_.to_string() + " was lost: " + describe(cause)));
        } else {
            reason = std::make_exception_ptr(ConnectionDone("connection was closed cleanly"));
        }
        detail_protocol_access::detach(protocol);
        self->call("connection_lost", [&] { protocol.connection_lost(reason); });
        co_return reason;
    }

private:
    // A protocol callback that throws is logged and aborts the connection (Twisted's behaviour).
    template <class F>
    void call(const char* what, F&& f) {
        try {
            f();
        } catch (const std::exception& e) {
            log(LogLevel::error, std::string("Protocol::") + what + " raised: " + e.what() + "; aborting " +
                                     peer_.to_string());
            abort_why_ = std::string(what) + " raised: " + e.what();
            abort_connection();
        }
    }

    std::shared_ptr<IOStream> stream_;
    std::unique_ptr<Protocol> protocol_;
    Factory* factory_;
    SocketAddress peer_;
    SocketAddress host_;
    bool closing_ = false;
    bool aborted_ = false;
    std::string abort_why_;
};

Task<void> serve_protocol(std::shared_ptr<Factory> factory, std::shared_ptr<IOStream> stream,
                          SocketAddress peer) {
    std::unique_ptr<Protocol> protocol;
    try {
        protocol = factory->build_protocol(peer);
    } catch (const std::exception& e) {
        log(LogLevel::error, "Factory::build_protocol for " + peer.to_string() + " raised: " + e.what());
    }
    if (!protocol) {
        stream->close();
        co_return;
    }
    auto transport = std::make_shared<StreamTransport>(stream, std::move(protocol), factory.get());
    co_await StreamTransport::run(transport);
}

}  // namespace

// ---------------------------------------------------------------- Factory

std::unique_ptr<Protocol> Factory::build_protocol(const SocketAddress&) {
    if (!protocol) throw UsageError("Factory: set `protocol` or override build_protocol");
    return protocol();
}

// ---------------------------------------------------------------- ReconnectingClientFactory

ReconnectingClientFactory::~ReconnectingClientFactory() {
    if (call_ && loop_) loop_->remove_timeout(call_);
}

void ReconnectingClientFactory::client_connection_failed(Connector& connector, std::exception_ptr) {
    if (continue_trying) retry(connector);
}

void ReconnectingClientFactory::client_connection_lost(Connector& connector, std::exception_ptr) {
    if (continue_trying) retry(connector);
}

void ReconnectingClientFactory::retry(Connector& connector) {
    if (!continue_trying) return;
    connector_ = connector.weak_from_this();
    loop_ = &connector.loop();
    ++retries;
    if (max_retries && retries > *max_retries) return;
    delay = std::min(delay * factor, max_delay);
    if (jitter > 0) delay = std::max(0.0, std::normal_distribution<double>(delay, delay * jitter)(rng_));
    if (call_) loop_->remove_timeout(call_);
    call_ =
        loop_->call_later(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(delay)), [this] {
            call_ = {};
            auto c = connector_.lock();
            if (c && c->state() == Connector::State::disconnected) c->connect();
        });
}

void ReconnectingClientFactory::stop_trying() {
    if (call_ && loop_) loop_->remove_timeout(call_);
    call_ = {};
    continue_trying = false;
    if (auto c = connector_.lock(); c && c->state() == Connector::State::connecting) c->stop_connecting();
}

void ReconnectingClientFactory::reset_delay() {
    delay = initial_delay;
    retries = 0;
    continue_trying = true;
}

// ---------------------------------------------------------------- Connector

Connector::Connector(Key, IOLoop& loop, std::string host, std::uint16_t port,
                     std::shared_ptr<ClientFactory> factory, ConnectOptions options)
    : loop_(loop),
      host_(std::move(host)),
      port_(port),
      factory_(std::move(factory)),
      options_(std::move(options)),
      client_(loop) {}

Connector::~Connector() = default;

Transport* Connector::transport() const noexcept {
    return transport_.lock().get();  // kept alive by the connection's reading coroutine
}

void Connector::connect() {
    if (state_ != State::disconnected)
        throw UsageError("Connector::connect: already " +
                         std::string(state_ == State::connecting ? "connecting" : "connected"));
    state_ = State::connecting;
    detail_protocol_access::do_start(*factory_);
    factory_->started_connecting(*this);
    if (state_ != State::connecting) return;  // started_connecting called stop_connecting
    ::squall::start(run(shared_from_this(), attempt_id_));
}

void Connector::stop_connecting() {
    if (state_ != State::connecting) throw UsageError("Connector::stop_connecting: not connecting");
    ++attempt_id_;
    state_ = State::disconnected;
    factory_->client_connection_failed(
        *this,
        std::make_exception_ptr(CancelledError("connection attempt to " + host_ + ":" +
                                               std::to_string(port_) + " stopped by stop_connecting()")));
    if (state_ == State::disconnected) detail_protocol_access::do_stop(*factory_);
}

void Connector::disconnect() {
    if (state_ == State::connecting)
        stop_connecting();
    else if (auto t = transport_.lock())
        t->lose_connection();
}

Task<void> Connector::run(std::shared_ptr<Connector> self, std::uint64_t attempt_id) {
    std::shared_ptr<IOStream> stream;
    std::exception_ptr error;
    try {
        stream = co_await self->client_.connect(self->host_, self->port_, self->options_);
    } catch (...) {
        error = std::current_exception();
    }
    if (attempt_id != self->attempt_id_) {  // stop_connecting() gave up on this attempt
        if (stream) stream->close();
        co_return;
    }
    ClientFactory& factory = *self->factory_;
    std::unique_ptr<Protocol> protocol;
    if (!error) {
        try {
            protocol = factory.build_protocol(SocketAddress(stream->peer_address()));
            if (!protocol) throw Error("ClientFactory::build_protocol returned no protocol");
        } catch (...) {
            error = std::current_exception();
            stream->close();
        }
    }
    if (error) {
        self->state_ = State::disconnected;
        factory.client_connection_failed(*self, error);
        if (self->state_ == State::disconnected) detail_protocol_access::do_stop(factory);
        co_return;
    }
    self->state_ = State::connected;
    auto transport = std::make_shared<StreamTransport>(stream, std::move(protocol), &factory);
    self->transport_ = transport;
    factory.client_connection_made(*self);
    std::exception_ptr reason = co_await StreamTransport::run(transport);
    self->state_ = State::disconnected;
    self->transport_.reset();
    factory.client_connection_lost(*self, reason);
    if (self->state_ == State::disconnected) detail_protocol_access::do_stop(factory);
}

std::shared_ptr<Connector> connect_tcp(IOLoop& loop, std::string host, std::uint16_t port,
                                       std::shared_ptr<ClientFactory> factory, Duration timeout,
                                       ConnectOptions options) {
    options.timeout = timeout;
    auto c = std::make_shared<Connector>(Connector::Key{}, loop, std::move(host), port, std::move(factory),
                                         std::move(options));
    c->connect();
    return c;
}

// ---------------------------------------------------------------- ListeningPort

ListeningPort::ListeningPort(Key, IOLoop& loop, std::shared_ptr<Factory> factory, TCPServerOptions options)
    : factory_(std::move(factory)) {
    server_ = std::make_unique<TCPServer>(
        loop,
        [factory = factory_](std::shared_ptr<IOStream> stream, SocketAddress peer) {
            return serve_protocol(factory, std::move(stream), peer);
        },
        std::move(options));
}

ListeningPort::~ListeningPort() {
    if (listening_) detail_protocol_access::do_stop(*factory_);
}

Future<void> ListeningPort::stop_listening() {
    if (listening_) {
        listening_ = false;
        server_->stop(false);
        detail_protocol_access::do_stop(*factory_);
    }
    return server_->stopped();
}

SocketAddress ListeningPort::get_host() const {
    auto addrs = server_->addresses();
    return addrs.empty() ? SocketAddress() : addrs.front();
}

std::shared_ptr<ListeningPort> listen_tcp(IOLoop& loop, std::uint16_t port, std::shared_ptr<Factory> factory,
                                          const std::string& interface, int backlog,
                                          TCPServerOptions options) {
    auto p = std::make_shared<ListeningPort>(ListeningPort::Key{}, loop, factory, std::move(options));
    p->server().listen(port, interface, backlog);
    detail_protocol_access::do_start(*factory);
    return p;
}

}  // namespace squall
