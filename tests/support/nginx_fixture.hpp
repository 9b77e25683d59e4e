// The private nginx of scripts/nginx, for tests: its base URLs, the CA of its test certificate, the
// hashes of its large files, and its stub_status counters (to count connections on the server side).
//
//     SQUALL_TEST_CASE("keep-alive reuses one connection", 10s) {
//         auto base = squall::testing::nginx_url();   // http://127.0.0.1:18080; fails when not started
//         if (base.empty()) co_return;                  // only with SQUALL_TEST_ALLOW_MISSING_PEERS=1
//         auto before = squall::testing::nginx_stub_status();
//         ... fetch base + "/small.txt" three times ...
//         auto after = squall::testing::nginx_stub_status();
//         CHECK(after.accepts - before.accepts == 1 + 1);  // our connection + the status request's own
//     }
//
// Paths served (scripts/nginx help): /small.txt (100 bytes), /big.bin (64 MiB), /text.txt (gzip'd and
// chunked with Accept-Encoding: gzip), /chunked/<file>, /redirect/{301,302,303,307,308},
// /redirect-rel/<code>, /redirect-echo/<code>, /redirect/loop, /redirect/chain/N, /status, /echo,
// /slow?s=SECONDS, /headers.
#pragma once

#include <cstdio>
#include <string>

#include "tests/support/peer_env.hpp"

namespace squall::testing {

namespace detail {

inline std::string nginx_var(const char* name) {
    const std::string dir = getenv_or("SQUALL_NGINX_DIR", peers_dir() + "/nginx");
    return peer_var(name, dir + "/env", dir + "/nginx.pid");
}

inline std::string required_nginx_var(const char* name) {
    std::string v = nginx_var(name);
    if (v.empty()) peer_missing(std::string("nginx (") + name + ")", "eval \"$(scripts/nginx start)\"");
    return v;
}

}  // namespace detail

// http://127.0.0.1:PORT, no trailing slash (SQUALL_NGINX_URL).
inline std::string nginx_url() {
    return detail::required_nginx_var("SQUALL_NGINX_URL");
}

// https://localhost:PORT (SQUALL_NGINX_TLS_URL); its certificate covers localhost, 127.0.0.1 and ::1.
inline std::string nginx_tls_url() {
    return detail::required_nginx_var("SQUALL_NGINX_TLS_URL");
}

// HTTP/2 listeners (scripts/nginx start without --no-h2): http://127.0.0.1:PORT for h2c by prior
// knowledge (SQUALL_NGINX_H2C_URL) and https://localhost:PORT with ALPN h2 (SQUALL_NGINX_H2_URL).
inline std::string nginx_h2c_url() {
    return detail::required_nginx_var("SQUALL_NGINX_H2C_URL");
}
inline std::string nginx_h2_url() {
    return detail::required_nginx_var("SQUALL_NGINX_H2_URL");
}

// The CA that signed the TLS certificate (SQUALL_NGINX_CA_FILE); empty when nginx was started with its
// own --cert/--key.
inline std::string nginx_ca_file() {
    return detail::nginx_var("SQUALL_NGINX_CA_FILE");
}

// SHA-256 (hex) of /big.bin and of the uncompressed /text.txt.
inline std::string nginx_big_sha256() {
    return detail::required_nginx_var("SQUALL_NGINX_BIG_SHA256");
}
inline std::string nginx_text_sha256() {
    return detail::required_nginx_var("SQUALL_NGINX_TEXT_SHA256");
}

// True when nginx serves /echo, /slow and /headers (its echo module is installed).
inline bool nginx_has_echo() {
    return detail::nginx_var("SQUALL_NGINX_HAS_ECHO") == "1";
}

struct NginxStubStatus {
    long active = -1;   // open client connections, the status request's own included
    long accepts = -1;  // connections accepted since start
    long handled = -1;
    long requests = -1;  // requests served since start
};

// Reads /status with the curl CLI (one connection and one request of its own, counted in the result).
// Fails the test when nginx or curl cannot be reached.
inline NginxStubStatus nginx_stub_status() {
    NginxStubStatus s;
    std::string base = nginx_url();
    if (base.empty()) return s;
    CommandResult r = run_command({"curl", "-s", "--max-time", "5", base + "/status"});
    if (r.exit_code != 0 ||
        std::sscanf(r.output.c_str(), "Active connections: %ld server accepts handled requests %ld %ld %ld",
                    &s.active, &s.accepts, &s.handled, &s.requests) != 4) {
        FAIL("cannot read nginx stub_status from " << base << "/status (curl exit " << r.exit_code
                                                   << "): " << r.output);
    }
    return s;
}

}  // namespace squall::testing
