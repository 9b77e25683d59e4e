// TCPServer: accept and serve, a subclass overriding handle_stream, stop with and without live
// connections.
#include <doctest/doctest.h>

#include <squall/testing.hpp>

#include "squall/iostream/tcp_client.hpp"
#include "squall/iostream/tcp_server.hpp"
#include "tests/iostream/net/net_support.hpp"

using namespace std::chrono_literals;
using namespace squall;

namespace {

Task<void> echo_lines(std::shared_ptr<IOStream> s, SocketAddress) {
    for (;;) co_await s->write(co_await s->read_until("\n"));
}

class UpperServer : public TCPServer {
public:
    using TCPServer::TCPServer;
    int served = 0;

protected:
    Task<void> handle_stream(std::shared_ptr<IOStream> s, SocketAddress peer) override {
        ++served;
        std::string line = co_await s->read_until("\n");
        for (auto& c : line) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        co_await s->write(line + peer.host() + "\n");
        co_await s->close_after_flush();
    }
};

}  // namespace

SQUALL_TEST_CASE("TCPServer and TCPClient echo lines; stop(true) closes live connections", 10s) {
    TCPServer server(loop, echo_lines);
    server.listen(0, "127.0.0.1");
    REQUIRE(server.port() != 0);
    TCPClient client(loop);
    auto s = co_await client.connect("127.0.0.1", server.port());
    for (int i = 0; i < 3; ++i) {
        std::string msg = "line " + std::to_string(i) + "\n";
        co_await s->write(msg);
        std::string back = co_await s->read_until("\n");
        CHECK(back == msg);
    }
    CHECK(server.connection_count() == 1);
    server.stop(true);
    bool closed = false;
    try {
        co_await s->read_until("\n");
    } catch (const StreamClosedError&) {
        closed = true;
    }
    CHECK(closed);
    co_await server.stopped();
    co_await squall::sleep(loop, 20ms);  // the closed connection's handler unwinds on a later iteration
    CHECK(server.connection_count() == 0);
    bool refused = false;
    try {
        co_await client.connect("127.0.0.1", server.port());
    } catch (const ConnectionRefusedError&) {
        refused = true;
    }
    CHECK(refused);
}

SQUALL_TEST_CASE("a TCPServer subclass overrides handle_stream; stop() keeps live connections", 10s) {
    UpperServer server(loop);
    server.listen(0, "127.0.0.1");
    TCPClient client(loop);
    auto a = co_await client.connect("127.0.0.1", server.port());
    co_await test::next_iteration(loop);
    server.stop();  // no more accepts, but a's handler goes on
    co_await server.stopped();
    co_await a->write("shout\n");
    std::string reply = co_await a->read_until_close();
    CHECK(reply == "SHOUT\n127.0.0.1\n");
    CHECK(server.served == 1);
}

SQUALL_TEST_CASE("TCPServer listens on every address of a name, on one port", 10s) {
    TCPServer server(loop, echo_lines);
    server.listen(0, "localhost");
    auto addrs = server.addresses();
    REQUIRE(!addrs.empty());
    for (const auto& a : addrs) CHECK(a.port() == server.port());
    TCPClient client(loop);
    auto s = co_await client.connect("localhost", server.port());
    co_await s->write("x\n");
    std::string back = co_await s->read_until("\n");
    CHECK(back == "x\n");
    server.stop(true);
    co_await server.stopped();
    co_await squall::sleep(loop, 10ms);
}
