// Shared by squall's ioloop benchmark programs: option parsing, clocks and the JSON result line of
// DESIGN section 8 / bench/README.md.
#pragma once

#include <time.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "squall/ioloop/ioloop.hpp"

namespace squall::bench {

// Parses `text` as a number in [lo, hi] or throws naming the option.
inline double parse_number(std::string_view option, const char* text, double lo, double hi) {
    char* end = nullptr;
    double v = std::strtod(text, &end);
    if (end == text || *end != '\0' || !std::isfinite(v) || v < lo || v > hi)
        throw std::invalid_argument("bad value for " + std::string(option) + ": " + text);
    return v;
}

inline Backend parse_backend(const char* text) {
    std::string_view v(text);
    if (v == "epoll") return Backend::epoll;
    if (v == "uring" || v == "io_uring") return Backend::uring;
    if (v == "automatic") return Backend::automatic;
    throw std::invalid_argument("--backend must be epoll or uring, not " + std::string(v));
}

// The impl name of the backend actually in use.
inline const char* impl_name(const IOLoop& loop) {
    return loop.backend() == Backend::uring ? "squall-uring" : "squall-epoll";
}

inline std::uint64_t process_cpu_ns() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Snapshot of wall time, process CPU and an operation counter at the start and end of the measured
// interval.
struct Interval {
    TimePoint t0, t1;
    std::uint64_t cpu0 = 0, cpu1 = 0;
    std::uint64_t ops0 = 0, ops1 = 0;

    void begin(TimePoint now, std::uint64_t ops) {
        t0 = now;
        cpu0 = process_cpu_ns();
        ops0 = ops;
    }
    void end(TimePoint now, std::uint64_t ops) {
        t1 = now;
        cpu1 = process_cpu_ns();
        ops1 = ops;
    }
    double ops_per_s() const {
        double secs = std::chrono::duration<double>(t1 - t0).count();
        return secs > 0 ? static_cast<double>(ops1 - ops0) / secs : 0.0;
    }
    double cpu_us_per_op() const {
        return ops1 > ops0 ? static_cast<double>(cpu1 - cpu0) / 1e3 / static_cast<double>(ops1 - ops0) : 0.0;
    }
};

// One result line. params_json is the inside of the params object, e.g. "\"c\": 64, \"size\": 64".
inline void print_result(const char* bench, const char* impl, const std::string& params_json,
                         const char* metric, double value, const char* unit) {
    std::printf(
        "{\"bench\": \"%s\", \"impl\": \"%s\", \"params\": {%s}, \"metric\": \"%s\", \"value\": %.3f, "
        "\"unit\": \"%s\"}\n",
        bench, impl, params_json.c_str(), metric, value, unit);
    std::fflush(stdout);
}

}  // namespace squall::bench
