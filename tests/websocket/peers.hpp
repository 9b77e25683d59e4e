// The real WebSocket peers of the tests: tests/support/websocket_peers.py (python3-websockets 10.4 and
// Tornado's WebSocketHandler), started once per test process on free loopback ports and stopped at exit.
//
//     auto url = squall::websocket::test::peers().url("websockets", "/echo");   // ws://127.0.0.1:P/echo
//
// Starting it needs Debian's /usr/bin/python3 with python3-websockets and python3-tornado (scripts/
// install-deps installs them); a failure to start fails the test (no silent skips).
#pragma once

#include <map>
#include <string>

namespace squall::websocket::test {

class Peers {
public:
    Peers();
    ~Peers();
    Peers(const Peers&) = delete;
    Peers& operator=(const Peers&) = delete;

    int port(const std::string& name) const;
    // "ws://127.0.0.1:P<path>" (wss:// for "wss").
    std::string url(const std::string& name, const std::string& path = "/echo") const;

private:
    int pid_ = -1;
    int stdin_fd_ = -1;
    std::map<std::string, int> ports_;
};

// The process-wide instance (started on first use).
const Peers& peers();

}  // namespace squall::websocket::test
