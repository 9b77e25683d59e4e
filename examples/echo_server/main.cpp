// Twisted's echo server (docs/core/examples/echoserv.py) on squall: every byte received is sent back.
//   echo_server [--host 127.0.0.1] [--port 8000] [--max-connections N]
// Prints "echo server listening on HOST, port PORT" (the real port when given 0); with --max-connections it
// exits after N connections have ended.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "squall/iostream/protocol.hpp"

struct Echo : squall::Protocol {
    void data_received(std::string_view data) override { transport()->write(data); }
    void connection_lost(std::exception_ptr) override;
};

struct EchoFactory : squall::Factory {
    squall::IOLoop* loop = nullptr;
    int remaining = -1;  // connections left before exiting; -1: serve forever
    std::unique_ptr<squall::Protocol> build_protocol(const squall::SocketAddress&) override {
        return std::make_unique<Echo>();
    }
};

void Echo::connection_lost(std::exception_ptr) {
    auto* f = static_cast<EchoFactory*>(factory());
    if (f->remaining > 0 && --f->remaining == 0) f->loop->stop();
}

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    int port = 8000;
    auto factory = std::make_shared<EchoFactory>();
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string arg = argv[i];
        if (arg == "--host")
            host = argv[i + 1];
        else if (arg == "--port")
            port = std::atoi(argv[i + 1]);
        else if (arg == "--max-connections")
            factory->remaining = std::atoi(argv[i + 1]);
        else
            return std::fprintf(stderr, "usage: echo_server [--host H] [--port P] [--max-connections N]\n"),
                   2;
    }
    try {
        squall::IOLoop loop;
        factory->loop = &loop;
        auto listening = squall::listen_tcp(loop, static_cast<std::uint16_t>(port), factory, host);
        std::printf("echo server listening on %s, port %u\n", host.c_str(), listening->port());
        std::fflush(stdout);
        loop.run();
        listening->stop_listening();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "echo_server: %s\n", e.what());
        return 1;
    }
}
