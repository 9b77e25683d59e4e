// Twisted-style adapters: the echo pair, lose_connection flushing, write after close, connection_lost
// reasons, ReconnectingClientFactory's back-off and reconnection.
#include <doctest/doctest.h>

#include <cmath>
#include <squall/testing.hpp>

#include "squall/iostream/protocol.hpp"
#include "tests/iostream/net/net_support.hpp"

using namespace std::chrono_literals;
using namespace squall;

namespace {

struct Echo : Protocol {
    void data_received(std::string_view data) override { transport()->write(data); }
};

// The client half of Twisted's echo example: says hello, collects the echo, hangs up.
struct EchoClient : Protocol {
    std::string received;
    void connection_made(Transport& t) override { t.write("hello, world"); }
    void data_received(std::string_view data) override {
        received += data;
        if (received.size() >= 12) transport()->lose_connection();
    }
    void connection_lost(std::exception_ptr reason) override;
};

struct EchoClientFactory : ClientFactory {
    Promise<std::string> done;
    std::string received;
    std::exception_ptr lost_reason;
    std::unique_ptr<Protocol> build_protocol(const SocketAddress&) override {
        return std::make_unique<EchoClient>();
    }
    void client_connection_failed(Connector&, std::exception_ptr reason) override {
        done.set_exception(reason);
    }
    void client_connection_lost(Connector&, std::exception_ptr reason) override {
        lost_reason = reason;
        done.set_value(received);
    }
};

void EchoClient::connection_lost(std::exception_ptr) {
    static_cast<EchoClientFactory*>(factory())->received = received;
}

using squall::testing::holds;

}  // namespace

SQUALL_TEST_CASE("the Twisted echo pair: the server echoes, the client prints the echo and closes", 10s) {
    auto port = listen_tcp(loop, 0, Factory::of<Echo>(), "127.0.0.1");
    auto factory = std::make_shared<EchoClientFactory>();
    auto connector = connect_tcp(loop, "127.0.0.1", port->port(), factory, 5s);
    std::string echoed = co_await factory->done.get_future();
    CHECK(echoed == "hello, world");
    CHECK(holds<ConnectionDone>(factory->lost_reason));
    CHECK(connector->state() == Connector::State::disconnected);
    co_await port->stop_listening();
    co_await squall::sleep(loop, 10ms);
}

namespace {

// Sends a large reply and hangs up at once: lose_connection must flush it first.
struct BigSender : Protocol {
    void connection_made(Transport& t) override {
        t.write(test::pattern_bytes(4 << 20, 3));
        t.write_sequence({"tail", "-end"});
        t.lose_connection();
        t.write("ignored after lose_connection");
    }
};

struct Collector : Protocol {
    std::string data;
    Promise<std::pair<std::string, std::exception_ptr>>* out = nullptr;
    void data_received(std::string_view d) override { data += d; }
    void connection_lost(std::exception_ptr reason) override {
        transport()->write("no-op: the transport is closed");
        out->set_value(std::make_pair(data, reason));
    }
};

struct CollectorFactory : ClientFactory {
    Promise<std::pair<std::string, std::exception_ptr>> result;
    std::unique_ptr<Protocol> build_protocol(const SocketAddress&) override {
        auto p = std::make_unique<Collector>();
        p->out = &result;
        return p;
    }
};

}  // namespace

SQUALL_TEST_CASE("lose_connection flushes pending writes first; writes on a closed transport are no-ops",
                 20s) {
    auto port = listen_tcp(loop, 0, Factory::of<BigSender>(), "127.0.0.1");
    auto factory = std::make_shared<CollectorFactory>();
    auto connector = connect_tcp(loop, "127.0.0.1", port->port(), factory, 5s);
    auto [data, reason] = co_await factory->result.get_future();
    CHECK(data.size() == (4u << 20) + 8);
    CHECK(data == test::pattern_bytes(4 << 20, 3) + "tail-end");
    CHECK(holds<ConnectionDone>(reason));
    co_await port->stop_listening();
    co_await squall::sleep(loop, 10ms);
}

namespace {

struct AborterFactory : Factory {
    Promise<std::exception_ptr> lost;
};
struct Aborter : Protocol {
    void data_received(std::string_view) override { transport()->abort_connection(); }
    void connection_lost(std::exception_ptr reason) override {
        static_cast<AborterFactory*>(factory())->lost.set_value(reason);
    }
};
struct ReasonFactory : ClientFactory {
    Promise<std::exception_ptr> lost;
    void client_connection_lost(Connector&, std::exception_ptr reason) override { lost.set_value(reason); }
};
struct Talker : Protocol {
    void connection_made(Transport& t) override { t.write("provoke"); }
};
struct Thrower : Protocol {
    void data_received(std::string_view) override { throw std::runtime_error("bad input"); }
};

}  // namespace

SQUALL_TEST_CASE(
    "connection_lost reasons: ConnectionAborted for abort_connection, a clean close for the peer", 10s) {
    auto server_factory = std::make_shared<AborterFactory>();
    server_factory->protocol = [] { return std::make_unique<Aborter>(); };
    auto port = listen_tcp(loop, 0, server_factory, "127.0.0.1");
    auto factory = std::make_shared<ReasonFactory>();
    factory->protocol = [] { return std::make_unique<Talker>(); };
    auto connector = connect_tcp(loop, "127.0.0.1", port->port(), factory, 5s);
    std::exception_ptr server_reason = co_await server_factory->lost.get_future();
    CHECK(holds<ConnectionAborted>(server_reason));
    std::exception_ptr client_reason = co_await factory->lost.get_future();
    // The server's close reaches the client as EOF, or as a reset when "provoke" was still unread.
    CHECK((holds<ConnectionDone>(client_reason) || holds<ConnectionLost>(client_reason)));
    co_await port->stop_listening();
    co_await squall::sleep(loop, 10ms);
}

SQUALL_TEST_CASE("an exception escaping data_received aborts the connection with the reason", 10s) {
    auto port = listen_tcp(loop, 0, Factory::of<Thrower>(), "127.0.0.1");
    auto factory = std::make_shared<ReasonFactory>();
    factory->protocol = [] { return std::make_unique<Talker>(); };
    auto connector = connect_tcp(loop, "127.0.0.1", port->port(), factory, 5s);
    std::exception_ptr client_reason = co_await factory->lost.get_future();
    CHECK(client_reason);
    CHECK(connector->state() == Connector::State::disconnected);
    co_await port->stop_listening();
    co_await squall::sleep(loop, 10ms);
}

namespace {

// Records the delay chosen after each failure.
struct RecordingFactory : ReconnectingClientFactory {
    std::vector<double> delays;
    std::vector<int> retry_counts;
    Promise<void> finished;
    int stop_after = 0;
    void client_connection_failed(Connector& c, std::exception_ptr reason) override {
        ReconnectingClientFactory::client_connection_failed(c, reason);
        delays.push_back(delay);
        retry_counts.push_back(retries);
        if (static_cast<int>(delays.size()) == stop_after) {
            stop_trying();
            finished.set_value();
        }
    }
};

std::uint16_t closed_port() {
    test::Listener l;
    return l.port;
}

}  // namespace

SQUALL_TEST_CASE("ReconnectingClientFactory backs off by factor up to max_delay (no jitter)", 10s) {
    auto f = std::make_shared<RecordingFactory>();
    f->protocol = [] { return std::make_unique<Echo>(); };
    f->initial_delay = f->delay = 0.001;
    f->factor = 2.0;
    f->max_delay = 0.006;
    f->jitter = 0;
    f->stop_after = 5;
    auto connector = connect_tcp(loop, "127.0.0.1", closed_port(), f, 2s);
    co_await f->finished.get_future();
    REQUIRE(f->delays.size() == 5);
    const double expected[] = {0.002, 0.004, 0.006, 0.006, 0.006};
    for (int i = 0; i < 5; ++i) CHECK(f->delays[i] == doctest::Approx(expected[i]));
    CHECK(f->retry_counts == std::vector<int>{1, 2, 3, 4, 5});
    CHECK(!f->continue_trying);
    co_await squall::sleep(loop, 20ms);
    CHECK(f->delays.size() == 5);  // stop_trying cancelled the scheduled retry
}

SQUALL_TEST_CASE("ReconnectingClientFactory: Twisted's defaults, seeded jitter is reproducible", 10s) {
    ReconnectingClientFactory defaults;
    CHECK(defaults.initial_delay == 1.0);
    CHECK(defaults.max_delay == 3600);
    CHECK(defaults.factor == doctest::Approx(std::exp(1.0)));
    CHECK(defaults.jitter == doctest::Approx(0.11962656472));
    std::vector<double> runs[2];
    for (auto& run : runs) {
        auto f = std::make_shared<RecordingFactory>();
        f->protocol = [] { return std::make_unique<Echo>(); };
        f->initial_delay = f->delay = 0.001;
        f->seed(12345);
        f->stop_after = 4;
        auto connector = connect_tcp(loop, "127.0.0.1", closed_port(), f, 2s);
        co_await f->finished.get_future();
        run = f->delays;
    }
    CHECK(runs[0] == runs[1]);
    // Each delay is the previous times e, perturbed by a Gaussian of 12% standard deviation.
    double prev = 0.001;
    for (double d : runs[0]) {
        CHECK(d > prev * std::exp(1.0) * 0.4);
        CHECK(d < prev * std::exp(1.0) * 1.6);
        prev = d;
    }
}

namespace {

struct HelloAgain : Protocol {
    void connection_made(Transport& t) override { t.write("hello again"); }
    void data_received(std::string_view data) override;
};

struct ComebackFactory : ReconnectingClientFactory {
    int failures = 0;
    Promise<std::string> echoed;
    void client_connection_failed(Connector& c, std::exception_ptr reason) override {
        ++failures;
        ReconnectingClientFactory::client_connection_failed(c, reason);
    }
};

void HelloAgain::data_received(std::string_view data) {
    auto* f = static_cast<ComebackFactory*>(factory());
    f->echoed.set_value(std::string(data));
}

}  // namespace

SQUALL_TEST_CASE("ReconnectingClientFactory reconnects once the server is back, then resets its delay", 10s) {
    const std::uint16_t p = closed_port();
    auto f = std::make_shared<ComebackFactory>();
    f->protocol = [] { return std::make_unique<HelloAgain>(); };
    f->initial_delay = f->delay = 0.01;
    f->factor = 1.5;
    f->jitter = 0;
    auto connector = connect_tcp(loop, "127.0.0.1", p, f, 2s);
    co_await squall::sleep(loop, 100ms);  // a few refused attempts
    CHECK(f->failures >= 2);
    auto port = listen_tcp(loop, p, Factory::of<Echo>(), "127.0.0.1");
    std::string echoed = co_await f->echoed.get_future();
    CHECK(echoed == "hello again");
    CHECK(f->retries == 0);  // reset by the successful connection
    CHECK(f->delay == doctest::Approx(0.01));
    f->stop_trying();
    connector->disconnect();
    co_await port->stop_listening();
    co_await squall::sleep(loop, 20ms);
    CHECK(connector->state() == Connector::State::disconnected);
}
