// Shared by the benchmark programs, squall's and the C++ peers' (it needs no squall header; the backend
// helpers of squall's programs are in bench/support/squall.hpp): clocks, option parsing, the measured
// interval of a run of workers, the JSON result line of bench/README.md, and an allocation counter
// (bench/support/alloc_counter.cpp, linked by the programs that report allocs_per_op).
#pragma once

#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

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

inline std::string url_path(const std::string& url) {
    auto p = url.find("://");
    p = p == std::string::npos ? p : url.find('/', p + 3);
    return p == std::string::npos ? "/" : url.substr(p);
}

// The command line as "--name value" pairs and bare "--flag"s: an option not named in `valued` or
// `flags`, or a valued one without its value, ends the program. Numbers are read as atol/atof read them.
class Options {
public:
    Options(int argc, char** argv, std::initializer_list<std::string_view> valued,
            std::initializer_list<std::string_view> flags = {}) {
        auto named = [](std::initializer_list<std::string_view> names, std::string_view a) {
            for (auto n : names)
                if (n == a) return true;
            return false;
        };
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            if (named(flags, a)) {
                values_[a] = "";
            } else if (!named(valued, a)) {
                die("unknown option " + a);
            } else if (i + 1 >= argc) {
                die("option " + a + " needs a value");
            } else {
                values_[a] = argv[++i];
            }
        }
    }

    std::string text(const std::string& name, std::string fallback = {}) const {
        auto it = values_.find(name);
        return it == values_.end() ? fallback : it->second;
    }
    long integer(const std::string& name, long fallback) const {
        auto it = values_.find(name);
        return it == values_.end() ? fallback : std::atol(it->second.c_str());
    }
    double number(const std::string& name, double fallback) const {
        auto it = values_.find(name);
        return it == values_.end() ? fallback : std::atof(it->second.c_str());
    }
    bool flag(const std::string& name) const { return values_.count(name) != 0; }

private:
    std::map<std::string, std::string> values_;
};

// Operator new calls so far in this program; defined by bench/support/alloc_counter.cpp, which replaces
// operator new (link it only into the programs that report allocs_per_op).
std::uint64_t allocations() noexcept;

// The measured interval of workers that each loop over one operation: it opens when the first worker
// passes warm_end (snapshot of wall clock, process CPU, completed operations and, with a counter,
// allocations) and closes at the first close() (the same snapshot again).
class Interval {
public:
    struct Mark {
        double t = 0, cpu = 0;
        std::uint64_t done = 0, allocs = 0;
    };

    // From now: warmup seconds, then duration measured. count_allocs is bench::allocations (or nothing).
    Interval(double warmup, double duration, std::uint64_t (*count_allocs)() noexcept = nullptr)
        : allocs_(count_allocs) {
        double now = now_s(CLOCK_MONOTONIC);
        warm_end_ = now + warmup;
        end_ = now + warmup + duration;
    }

    // Before each operation: opens the interval once warm_end has passed; false once end has passed.
    bool keep_going() {
        double t = now_s(CLOCK_MONOTONIC);
        if (!open_ && t >= warm_end_) {
            open_ = true;
            start_ = mark(t);
        }
        return t < end_;
    }
    void completed_one() { ++completed_; }
    // The end snapshot; only the first call takes it.
    void close() {
        if (closed_) return;
        closed_ = true;
        stop_ = mark(now_s(CLOCK_MONOTONIC));
    }

    bool measured() const { return open_ && closed_ && stop_.done > start_.done; }
    double ops() const { return static_cast<double>(stop_.done - start_.done); }
    double seconds() const { return stop_.t - start_.t; }
    double cpu_seconds() const { return stop_.cpu - start_.cpu; }
    double allocs() const { return static_cast<double>(stop_.allocs - start_.allocs); }

private:
    Mark mark(double t) const {
        return {t, now_s(CLOCK_PROCESS_CPUTIME_ID), completed_, allocs_ ? allocs_() : 0};
    }

    std::uint64_t (*allocs_)() noexcept;
    double warm_end_ = 0, end_ = 0;
    std::uint64_t completed_ = 0;
    bool open_ = false, closed_ = false;
    Mark start_, stop_;
};

// One result line. params_json is the inside of the params object, e.g. "\"connections\": 64".
inline void print_result(const char* bench, const std::string& impl, const std::string& params_json,
                         const char* metric, double value, const char* unit) {
    std::printf(
        "{\"bench\": \"%s\", \"impl\": \"%s\", \"params\": {%s}, \"metric\": \"%s\", \"value\": %.3f, "
        "\"unit\": \"%s\"}\n",
        bench, impl.c_str(), params_json.c_str(), metric, value, unit);
    std::fflush(stdout);
}

}  // namespace bench
