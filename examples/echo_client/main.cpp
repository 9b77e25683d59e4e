// Twisted's echo client (docs/core/examples/echoclient.py) on squall: sends "hello, world", prints what
// comes back, closes.   echo_client [HOST] [PORT]
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "squall/iostream/protocol.hpp"

struct EchoClient : squall::Protocol {
    void connection_made(squall::Transport& transport) override { transport.write("hello, world"); }
    void data_received(std::string_view data) override {
        std::printf("Server said: %.*s\n", static_cast<int>(data.size()), data.data());
        transport()->lose_connection();
    }
};

struct EchoFactory : squall::ClientFactory {
    int status = 0;
    std::unique_ptr<squall::Protocol> build_protocol(const squall::SocketAddress&) override {
        return std::make_unique<EchoClient>();
    }
    void client_connection_failed(squall::Connector& c, std::exception_ptr reason) override {
        try {
            std::rethrow_exception(reason);
        } catch (const std::exception& e) {
            std::printf("Connection failed: %s\n", e.what());
        }
        status = 1;
        c.loop().stop();
    }
    void client_connection_lost(squall::Connector& c, std::exception_ptr) override {
        std::printf("Connection lost\n");
        c.loop().stop();
    }
};

int main(int argc, char** argv) {
    std::string host = argc > 1 ? argv[1] : "127.0.0.1";
    int port = argc > 2 ? std::atoi(argv[2]) : 8000;
    try {
        squall::IOLoop loop;
        auto factory = std::make_shared<EchoFactory>();
        auto connector = squall::connect_tcp(loop, host, static_cast<std::uint16_t>(port), factory);
        loop.run();
        return factory->status;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "echo_client: %s\n", e.what());
        return 1;
    }
}
