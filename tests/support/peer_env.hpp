// Shared plumbing of the real-peer fixtures (rabbitmq_fixture.hpp, nginx_fixture.hpp): reading the
// variables scripts/rabbitmq and scripts/nginx export, the "no silent skips" rule of DESIGN section 7,
// and running a script of the repository with its output captured.
//
// A peer's variables come from the environment (`eval "$(scripts/nginx start)"`, as scripts/test does)
// or, when unset, from the env file the script wrote for a peer that is still running. When neither has
// them the test fails, unless the run opted out with SQUALL_TEST_ALLOW_MISSING_PEERS=1; then the helper
// returns an empty value and the test returns early (`if (url.empty()) co_return;`).
#pragma once

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#ifndef SQUALL_SOURCE_DIR
#error "SQUALL_SOURCE_DIR must be defined (tests/CMakeLists.txt does it for squall_testing)"
#endif

namespace squall::testing {

struct CommandResult {
    int exit_code = -1;  // the exit status, or 128 + signal number
    std::string output;  // stdout and stderr, interleaved
};

namespace detail {

inline std::string getenv_or(const char* name, const std::string& fallback = {}) {
    const char* v = std::getenv(name);
    return (v != nullptr && *v != '\0') ? std::string(v) : fallback;
}

inline bool missing_peers_allowed() {
    return getenv_or("SQUALL_TEST_ALLOW_MISSING_PEERS") == "1";
}

// The directory under which the scripts keep their peers (same default as scripts/rabbitmq|nginx).
inline std::string peers_dir() {
    std::string base = getenv_or("SQUALL_PEERS_DIR");
    if (base.empty()) base = getenv_or("TMPDIR", "/tmp") + "/squall-peers-" + std::to_string(::getuid());
    return base;
}

// True when pid_file names a live process.
inline bool pid_file_alive(const std::string& pid_file) {
    std::ifstream in(pid_file);
    long pid = 0;
    if (!(in >> pid) || pid <= 0) return false;
    return ::kill(static_cast<pid_t>(pid), 0) == 0;
}

// Parses the `export KEY=VALUE` lines of a script's env file (values may be double-quoted).
inline std::map<std::string, std::string> read_env_file(const std::string& path) {
    std::map<std::string, std::string> vars;
    std::ifstream in(path);
    std::string line;
    const std::string prefix = "export ";
    while (std::getline(in, line)) {
        if (line.rfind(prefix, 0) != 0) continue;
        auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        std::string value = line.substr(eq + 1);
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        vars[line.substr(prefix.size(), eq - prefix.size())] = value;
    }
    return vars;
}

// The variable from the environment, else from env_file when pid_file is alive; empty when neither.
inline std::string peer_var(const char* name, const std::string& env_file, const std::string& pid_file) {
    std::string v = getenv_or(name);
    if (!v.empty() || !pid_file_alive(pid_file)) return v;
    auto vars = read_env_file(env_file);
    auto it = vars.find(name);
    return it == vars.end() ? std::string() : it->second;
}

// Fails the current test (no silent skips) unless missing peers are allowed; then logs and returns.
inline void peer_missing(const std::string& what, const std::string& how_to_start) {
    if (missing_peers_allowed()) {
        MESSAGE("SKIPPED (SQUALL_TEST_ALLOW_MISSING_PEERS=1): " << what << " is not available");
        return;
    }
    FAIL(what << " is not available. Start it with `" << how_to_start
              << "` (scripts/test does this), or set SQUALL_TEST_ALLOW_MISSING_PEERS=1 to let tests that "
                 "need it pass without running.");
}

inline std::string shell_quote(const std::string& arg) {
    std::string out = "'";
    for (char c : arg) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    return out + "'";
}

}  // namespace detail

// Runs argv (argv[0] looked up on PATH) through /bin/sh, capturing stdout and stderr.
inline CommandResult run_command(const std::vector<std::string>& argv) {
    std::string line;
    for (const auto& a : argv) line += detail::shell_quote(a) + " ";
    line += "2>&1 </dev/null";
    CommandResult result;
    FILE* pipe = ::popen(line.c_str(), "r");
    if (pipe == nullptr) {
        result.output = "popen failed for: " + line;
        return result;
    }
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) result.output.append(buf, n);
    int status = ::pclose(pipe);
    if (status == -1) {
        result.exit_code = -1;
    } else if (WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.exit_code = 128 + WTERMSIG(status);
    }
    return result;
}

// Runs scripts/<name> of this source tree with args.
inline CommandResult run_script(const std::string& name, const std::vector<std::string>& args) {
    std::vector<std::string> argv{std::string(SQUALL_SOURCE_DIR) + "/scripts/" + name};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
}

}  // namespace squall::testing
