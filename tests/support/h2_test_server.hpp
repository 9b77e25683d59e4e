// The scriptable HTTP/2 server of tests/support/h2_test_server.py (python3-h2), run as a child process on
// an ephemeral loopback port for one test; what it does is chosen by each request's path (see the
// script's docstring: /ok, /rst/CODE, /goaway-once, /bad-hpack, /window-overflow/N, ...).
//
//     squall::testing::H2TestServer server;         // starts it, waits for its port (fails the test if not)
//     auto url = server.url("/rst/8");              // http://127.0.0.1:PORT/rst/8 (h2c, prior knowledge)
//
// The server exits when its stdin closes: on destruction, or when the test process dies.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>

namespace squall::testing {

class H2TestServer {
public:
    H2TestServer() {
        int in[2], out[2];
        if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) FAIL("pipe2 failed");
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(in[0], 0);
            ::dup2(out[1], 1);
            const std::string script = std::string(SQUALL_SOURCE_DIR) + "/tests/support/h2_test_server.py";
            ::execl("/usr/bin/python3", "python3", script.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(in[0]);
        ::close(out[1]);
        stdin_ = in[1];
        stdout_ = out[0];
        std::string line;
        while (line.find('\n') == std::string::npos) {
            pollfd p{stdout_, POLLIN, 0};
            if (::poll(&p, 1, 10000) <= 0) break;
            char buf[64];
            ssize_t n = ::read(stdout_, buf, sizeof buf);
            if (n <= 0) break;
            line.append(buf, static_cast<std::size_t>(n));
        }
        if (line.rfind("PORT ", 0) != 0)
            FAIL("tests/support/h2_test_server.py did not start (needs /usr/bin/python3 with python3-h2): "
                 << line);
        port_ = static_cast<std::uint16_t>(std::stoi(line.substr(5)));
    }
    ~H2TestServer() {
        ::close(stdin_);
        ::close(stdout_);
        for (int i = 0; i < 100; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
            ::usleep(20000);
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    H2TestServer(const H2TestServer&) = delete;
    H2TestServer& operator=(const H2TestServer&) = delete;

    std::uint16_t port() const { return port_; }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }

private:
    pid_t pid_ = -1;
    int stdin_ = -1;
    int stdout_ = -1;
    std::uint16_t port_ = 0;
};

}  // namespace squall::testing
