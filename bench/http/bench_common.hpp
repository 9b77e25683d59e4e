// Shared by bench_http_squall and bench_http_body_squall: option parsing, the backend check, CPU time,
// and an allocation counter (operator new is replaced in the programs that include alloc_counter).
#pragma once

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "squall/ioloop/ioloop.hpp"

namespace bench {

inline double now_s(clockid_t clock) {
    timespec ts;
    clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

[[noreturn]] inline void die(const std::string& msg) {
    std::fprintf(stderr, "%s\n", msg.c_str());
    std::exit(1);
}

// "epoll" | "uring" -> Backend; the loop must really run on it (no silent fallback).
inline squall::Backend parse_backend(std::string_view s) {
    if (s == "epoll") return squall::Backend::epoll;
    if (s == "uring") return squall::Backend::uring;
    die("--backend must be epoll or uring");
}

inline std::string impl_name(const squall::IOLoop& loop) {
    return loop.backend() == squall::Backend::uring ? "squall-uring" : "squall-epoll";
}

inline std::string url_path(const std::string& url) {
    auto p = url.find("://");
    p = p == std::string::npos ? p : url.find('/', p + 3);
    return p == std::string::npos ? "/" : url.substr(p);
}

}  // namespace bench
