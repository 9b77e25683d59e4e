// The backend helpers of squall's benchmark programs, beside bench/support/bench.hpp.
#pragma once

#include <string>
#include <string_view>

#include "bench/support/bench.hpp"
#include "squall/ioloop/ioloop.hpp"

namespace bench {

// "epoll" | "uring" -> Backend; the loop must really run on it (no silent fallback).
inline squall::Backend parse_backend(std::string_view s) {
    if (s == "epoll") return squall::Backend::epoll;
    if (s == "uring") return squall::Backend::uring;
    die("--backend must be epoll or uring");
}

inline std::string impl_name(const squall::IOLoop& loop) {
    return loop.backend() == squall::Backend::uring ? "squall-uring" : "squall-epoll";
}

}  // namespace bench
