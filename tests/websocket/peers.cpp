#include "tests/websocket/peers.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/certs.hpp"

namespace squall::websocket::test {

Peers::Peers() {
    const auto& certs = squall::testing::test_certs();
    const std::string script = std::string(SQUALL_SOURCE_DIR) + "/tests/support/websocket_peers.py";
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::close(in[0]);
        ::close(in[1]);
        ::close(out[0]);
        ::close(out[1]);
        ::execl("/usr/bin/python3", "python3", script.c_str(), "--cert", certs.server_cert.c_str(), "--key",
                certs.server_key.c_str(), "--ca", certs.ca_file.c_str(), "--watch-stdin",
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_fd_ = in[1];
    // One line: "ports name=P ...". The read blocks until python has bound every port (or died).
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    std::istringstream words(line);
    std::string word;
    words >> word;
    if (word != "ports") {
        throw std::runtime_error(
            "tests/support/websocket_peers.py did not start (needs /usr/bin/python3 with "
            "python3-websockets and python3-tornado); it printed: \"" +
            line + "\"");
    }
    while (words >> word) {
        auto eq = word.find('=');
        ports_[word.substr(0, eq)] = std::stoi(word.substr(eq + 1));
    }
}

Peers::~Peers() {
    if (stdin_fd_ >= 0) ::close(stdin_fd_);  // the script exits at EOF on stdin
    if (pid_ > 0) {
        for (int i = 0; i < 100; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
    }
}

int Peers::port(const std::string& name) const {
    auto it = ports_.find(name);
    if (it == ports_.end()) throw std::runtime_error("no websocket peer named " + name);
    return it->second;
}

std::string Peers::url(const std::string& name, const std::string& path) const {
    return std::string(name.rfind("wss", 0) == 0 ? "wss" : "ws") +
           "://127.0.0.1:" + std::to_string(port(name)) + path;
}

const Peers& peers() {
    static Peers instance;
    return instance;
}

}  // namespace squall::websocket::test
