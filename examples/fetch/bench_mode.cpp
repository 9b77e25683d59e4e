// squall-fetch --bench (see bench_mode.hpp). Each loop of the group runs its own Client with its share
// of the connections, a histogram and error counters of its own: nothing is shared while the load runs.
// The main thread merges the loops' results once they are done.
#include "examples/fetch/bench_mode.hpp"

#include <time.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "examples/fetch/cli_options.hpp"
#include "squall/coro/gather.hpp"
#include "squall/httpclient/client.hpp"
#include "squall/httpclient/errors.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/ioloop/loop_group.hpp"
#include "squall/iostream/resolver.hpp"
#include "squall/iostream/tcp_client.hpp"

namespace fetch {
namespace {

constexpr const char* kBenchHelp = R"(usage: squall-fetch --bench [options] URL

Keeps N connections busy with GETs of URL for a while (as wrk does), then reports requests/s, latency
percentiles (p50, p90, p99, p99.9 from a histogram of every request's latency), errors by kind and the
client's CPU per request. The connections are split between the loops of a LoopGroup, one thread and one
http::Client per loop.

  --duration S      seconds of load (default 10)
  -c N              connections in total (default 64; at least --threads)
  --threads N       loops, each on its own thread (default 1)
  --warmup S        seconds of load before the measurement starts (default 0)
  --timeout S       per-request timeout in seconds (default 20)
  --backend B       epoll, uring or automatic (default automatic; SQUALL_IOLOOP also applies)
  -H 'Name: v'      add a request header (repeatable)
  --pin             pin loop i's thread to CPU i (of those this process may use)
  --json            also print the figures as JSON lines (bench "http_loadgen", bench/README.md)
  -h, --help        this help

Exit code 0 when every request succeeded, else that of the most frequent error kind (see --help without
--bench: 2 connect, 3 timeout, 4 protocol/read, 5 HTTP status >= 400, 8 other).
)";

double now_s(clockid_t clock) {
    timespec ts;
    clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::uint64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Latencies in nanoseconds, log-linear buckets: exact below 64 ns, then 32 buckets per power of two
// (3% resolution) up to 2^63 ns. 1,920 counters, no allocation per sample.
class Histogram {
public:
    static constexpr int kSub = 32;
    static constexpr int kSubBits = 5;
    static constexpr std::size_t kBuckets = 64 + (64 - kSubBits - 1) * kSub;

    void record(std::uint64_t v) noexcept {
        ++counts_[index(v)];
        ++total_;
        max_ = std::max(max_, v);
    }
    void merge(const Histogram& o) noexcept {
        for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
        total_ += o.total_;
        max_ = std::max(max_, o.max_);
    }
    std::uint64_t total() const noexcept { return total_; }
    std::uint64_t max() const noexcept { return max_; }
    // The value at quantile q (0..1): the middle of the bucket holding it (capped at the maximum seen).
    double quantile(double q) const noexcept {
        if (total_ == 0) return 0;
        auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < kBuckets; ++i) {
            seen += counts_[i];
            if (seen >= rank) {
                auto [lo, hi] = bounds(i);
                return std::min(static_cast<double>(max_),
                                (static_cast<double>(lo) + static_cast<double>(hi)) / 2);
            }
        }
        return static_cast<double>(max_);
    }

private:
    static std::size_t index(std::uint64_t v) noexcept {
        if (v < 64) return static_cast<std::size_t>(v);
        int msb = 63 - std::countl_zero(v);  // >= 6
        int shift = msb - kSubBits;          // >= 1
        return 64 + static_cast<std::size_t>(shift - 1) * kSub + ((v >> shift) & (kSub - 1));
    }
    static std::pair<std::uint64_t, std::uint64_t> bounds(std::size_t i) noexcept {
        if (i < 64) return {i, i};
        std::size_t k = i - 64;
        int shift = static_cast<int>(k / kSub) + 1;
        std::uint64_t lo = (std::uint64_t{kSub} + k % kSub) << shift;
        return {lo, lo + (std::uint64_t{1} << shift) - 1};
    }

    std::array<std::uint64_t, kBuckets> counts_{};
    std::uint64_t total_ = 0;
    std::uint64_t max_ = 0;
};

enum ErrorKind : int { kErrConnect, kErrTimeout, kErrRead, kErrStatus, kErrOther, kErrKinds };
constexpr const char* kErrorNames[kErrKinds] = {"connect", "timeout", "read/protocol", "status >= 400",
                                                "other"};
constexpr int kErrorExit[kErrKinds] = {kConnectFailed, kTimeout, kProtocol, kHttpError, kOther};

struct BenchOptions {
    double duration = 10;
    std::size_t connections = 64;
    std::size_t threads = 1;
    double warmup = 0;
    double timeout = 20;
    squall::Backend backend = squall::Backend::automatic;
    bool pin = false;
    bool json = false;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string url;
};

// One loop's results (built on that loop, read by the main thread after on() returned them).
struct LoopResult {
    Histogram latency;
    std::uint64_t requests = 0;  // completed in the measured interval, errors included
    std::uint64_t bytes = 0;     // response body bytes in the measured interval
    std::array<std::uint64_t, kErrKinds> errors{};
    std::array<std::string, kErrKinds> first_error;
    squall::Backend backend = squall::Backend::epoll;
    std::uint64_t connections_opened = 0;
};

struct LoopRun {
    squall::http::Client& client;
    const squall::http::HTTPRequest& request;
    std::uint64_t warm_end_ns, end_ns;
    LoopResult& result;
};

void count_error(LoopResult& r, ErrorKind k, std::string what, bool measured) {
    if (measured) ++r.errors[k];
    if (r.first_error[k].empty()) r.first_error[k] = std::move(what);
}

squall::Task<void> connection_worker(LoopRun& run) {
    LoopResult& r = run.result;
    // One clock read per request: a request starts when the previous one ended (the clock costs up to
    // 0.4 us on a VM whose TSC reads trap).
    std::uint64_t t0 = now_ns();
    for (;;) {
        if (t0 >= run.end_ns) co_return;
        bool measured = t0 >= run.warm_end_ns;
        try {
            auto resp = co_await run.client.fetch(run.request);
            std::uint64_t t1 = now_ns();
            if (measured) {
                r.latency.record(t1 - t0);
                ++r.requests;
                r.bytes += resp.body.size();
            }
            if (resp.code >= 400)
                count_error(r, kErrStatus, "HTTP " + std::to_string(resp.code) + " " + resp.reason, measured);
            t0 = t1;
            continue;
        } catch (const squall::TimeoutError& e) {
            count_error(r, kErrTimeout, e.what(), measured);
        } catch (const squall::ConnectError& e) {
            count_error(r, kErrConnect, e.what(), measured);
        } catch (const squall::ResolveError& e) {
            count_error(r, kErrConnect, e.what(), measured);
        } catch (const squall::http::ProtocolError& e) {
            count_error(r, kErrRead, e.what(), measured);
        } catch (const squall::StreamClosedError& e) {
            count_error(r, kErrRead, e.what(), measured);
        } catch (const std::exception& e) {
            count_error(r, kErrOther, e.what(), measured);
        }
        if (measured) ++r.requests;
        // A refused connect on loopback fails fast: back off a little before the next attempt.
        co_await squall::sleep(std::chrono::milliseconds(1));
        t0 = now_ns();
    }
}

// Runs on one loop of the group: its own Client, its share of the connections.
squall::Task<LoopResult> run_loop(const BenchOptions& o, std::size_t connections, std::uint64_t warm_end_ns,
                                  std::uint64_t end_ns) {
    squall::IOLoop& loop = squall::IOLoop::current();
    squall::http::HTTPRequest defaults;
    defaults.decompress_response = false;  // plain bytes, as wrk fetches them
    squall::http::ClientOptions copts{
        .max_clients = connections, .defaults = std::move(defaults), .max_idle_per_host = connections};
    squall::http::Client client(loop, std::move(copts));
    squall::http::HTTPRequest req{.url = o.url};
    for (const auto& [n, v] : o.headers) req.headers.add(n, v);
    auto ms = std::chrono::milliseconds(static_cast<long long>(o.timeout * 1000));
    req.connect_timeout = ms;
    req.request_timeout = ms;
    req.raise_error = false;
    req.decompress_response = false;
    LoopResult result;
    result.backend = loop.backend();
    LoopRun run{client, req, warm_end_ns, end_ns, result};
    std::vector<squall::Task<void>> workers;
    for (std::size_t i = 0; i < connections; ++i) workers.push_back(connection_worker(run));
    co_await squall::gather(std::move(workers));
    result.connections_opened = client.stats().connections_opened;
    co_return result;
}

squall::Task<std::vector<LoopResult>> run_group(squall::LoopGroup& group, const BenchOptions& o,
                                                std::uint64_t warm_end_ns, std::uint64_t end_ns) {
    std::vector<squall::Task<LoopResult>> loops;
    for (std::size_t i = 0; i < group.size(); ++i) {
        std::size_t share = o.connections / group.size() + (i < o.connections % group.size() ? 1 : 0);
        loops.push_back([](squall::LoopGroup& g, std::size_t i, const BenchOptions& o, std::size_t share,
                           std::uint64_t w, std::uint64_t e) -> squall::Task<LoopResult> {
            auto there = g.on(i, run_loop(o, share, w, e));
            co_return co_await there;
        }(group, i, o, share, warm_end_ns, end_ns));
    }
    co_return co_await squall::gather(std::move(loops));
}

std::string fmt_duration_us(double us) {
    char buf[32];
    if (us < 1000)
        std::snprintf(buf, sizeof buf, "%.2fus", us);
    else if (us < 1e6)
        std::snprintf(buf, sizeof buf, "%.2fms", us / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%.2fs", us / 1e6);
    return buf;
}

bool bench_usage_error(const std::string& msg, int* code) {
    std::fprintf(stderr, "squall-fetch --bench: %s (try --bench --help)\n", msg.c_str());
    *code = kUsage;
    return false;
}

bool parse_number(const char* s, double lo, double hi, double& out) {
    char* end = nullptr;
    double v = std::strtod(s, &end);
    if (end == s || *end || !(v >= lo) || !(v <= hi)) return false;
    out = v;
    return true;
}

// Returns false with *code set on a usage error or --help.
bool parse_bench_cli(int argc, char** argv, BenchOptions& o, int* code) {
    *code = kOk;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&](double lo, double hi, double& out) {
            if (i + 1 >= argc) return bench_usage_error(std::string(a) + " needs a value", code);
            if (!parse_number(argv[++i], lo, hi, out))
                return bench_usage_error(std::string(a) + " wants a number from " + std::to_string(lo) +
                                             " to " + std::to_string(hi),
                                         code);
            return true;
        };
        double v = 0;
        if (a == "--bench") {
        } else if (a == "-h" || a == "--help") {
            std::fputs(kBenchHelp, stdout);
            return false;
        } else if (a == "--duration") {
            if (!value(0.001, 86400, o.duration)) return false;
        } else if (a == "--warmup") {
            if (!value(0, 86400, o.warmup)) return false;
        } else if (a == "--timeout") {
            if (!value(0.001, 86400, o.timeout)) return false;
        } else if (a == "-c") {
            if (!value(1, 100000, v)) return false;
            o.connections = static_cast<std::size_t>(v);
        } else if (a == "--threads") {
            if (!value(1, 1024, v)) return false;
            o.threads = static_cast<std::size_t>(v);
        } else if (a == "--backend") {
            if (i + 1 >= argc) return bench_usage_error("--backend needs a value", code);
            std::string_view b = argv[++i];
            if (b == "epoll")
                o.backend = squall::Backend::epoll;
            else if (b == "uring" || b == "io_uring")
                o.backend = squall::Backend::uring;
            else if (b == "automatic")
                o.backend = squall::Backend::automatic;
            else
                return bench_usage_error("--backend wants epoll, uring or automatic", code);
        } else if (a == "-H") {
            if (i + 1 >= argc) return bench_usage_error("-H needs a value", code);
            std::string h = argv[++i];
            auto colon = h.find(':');
            if (colon == std::string::npos || colon == 0)
                return bench_usage_error("-H wants 'Name: value', got '" + h + "'", code);
            std::string val = h.substr(colon + 1);
            val.erase(0, std::min(val.size(), val.find_first_not_of(" \t")));
            o.headers.emplace_back(h.substr(0, colon), val);
        } else if (a == "--pin") {
            o.pin = true;
        } else if (a == "--json") {
            o.json = true;
        } else if (a.starts_with("-") && a.size() > 1) {
            return bench_usage_error("unknown option " + std::string(a), code);
        } else if (!o.url.empty()) {
            return bench_usage_error("one URL only", code);
        } else {
            o.url = std::string(a);
        }
    }
    if (o.url.empty()) return bench_usage_error("no URL given", code);
    if (o.connections < o.threads) return bench_usage_error("-c must be at least --threads", code);
    return true;
}

}  // namespace

bool wants_bench_mode(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]) == "--bench") return true;
    return false;
}

// long: option handling, the run and the report are one straight sequence.
int bench_main(int argc, char** argv) {
    BenchOptions o;
    int code = kOk;
    if (!parse_bench_cli(argc, argv, o, &code)) return code;
    std::vector<LoopResult> results;
    double elapsed = 0, cpu = 0;
    try {
        squall::LoopGroup group({.threads = o.threads, .backend = o.backend, .pin_threads = o.pin});
        squall::IOLoop home(o.backend);  // the main thread's loop only waits for the group
        std::printf("Running %gs test @ %s\n  %zu threads and %zu connections\n", o.duration, o.url.c_str(),
                    o.threads, o.connections);
        std::fflush(stdout);
        std::uint64_t start = now_ns();
        auto warm_end = start + static_cast<std::uint64_t>(o.warmup * 1e9);
        auto end = warm_end + static_cast<std::uint64_t>(o.duration * 1e9);
        // CPU is read at the warm-up's end by a timer on the home loop, wall time from the deadlines.
        double cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
        if (o.warmup > 0)
            home.call_later(std::chrono::nanoseconds(warm_end - start),
                            [&cpu0] { cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID); });
        results = home.run_sync(run_group(group, o, warm_end, end));
        cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
        elapsed = static_cast<double>(now_ns() - warm_end) / 1e9;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "squall-fetch --bench: %s\n", e.what());
        return kOther;
    }

    LoopResult all;
    all.backend = results.empty() ? squall::Backend::epoll : results[0].backend;
    std::uint64_t opened = 0;
    for (const LoopResult& r : results) {
        all.latency.merge(r.latency);
        all.requests += r.requests;
        all.bytes += r.bytes;
        opened += r.connections_opened;
        for (int k = 0; k < kErrKinds; ++k) {
            all.errors[k] += r.errors[k];
            if (all.first_error[k].empty()) all.first_error[k] = r.first_error[k];
        }
    }
    const Histogram& h = all.latency;
    double mean_rps = static_cast<double>(all.requests) / elapsed;
    std::printf("  Latency Distribution (%llu samples, max %s)\n", static_cast<unsigned long long>(h.total()),
                fmt_duration_us(static_cast<double>(h.max()) / 1e3).c_str());
    const std::pair<const char*, double> quantiles[] = {
        {"50%", 0.5}, {"90%", 0.9}, {"99%", 0.99}, {"99.9%", 0.999}};
    for (auto [name, q] : quantiles)
        std::printf("  %7s  %s\n", name, fmt_duration_us(h.quantile(q) / 1e3).c_str());
    std::printf("  %llu requests in %.2fs, %.2fMB read, %llu connections opened\n",
                static_cast<unsigned long long>(all.requests), elapsed, static_cast<double>(all.bytes) / 1e6,
                static_cast<unsigned long long>(opened));
    std::uint64_t errors = 0;
    int worst = -1;
    for (int k = 0; k < kErrKinds; ++k) {
        errors += all.errors[k];
        if (all.errors[k] > 0 && (worst < 0 || all.errors[k] > all.errors[worst])) worst = k;
    }
    if (errors > 0) {
        std::printf("  Errors:");
        for (int k = 0; k < kErrKinds; ++k)
            std::printf("%s %s %llu", k ? "," : "", kErrorNames[k],
                        static_cast<unsigned long long>(all.errors[k]));
        std::printf("\n");
        for (int k = 0; k < kErrKinds; ++k)
            if (all.errors[k] > 0)
                std::printf("    first %s error: %s\n", kErrorNames[k], all.first_error[k].c_str());
    }
    std::uint64_t ok = all.requests - errors;
    std::printf("Requests/sec: %.2f\n", mean_rps);
    if (ok > 0)
        std::printf("CPU/request:  %.2fus (process CPU over the measured interval)\n",
                    cpu * 1e6 / static_cast<double>(all.requests));
    if (o.json && all.requests > 0) {
        const char* impl = all.backend == squall::Backend::uring ? "squall-uring" : "squall-epoll";
        auto line = [&](const char* metric, double value, const char* unit) {
            std::printf(
                "{\"bench\": \"http_loadgen\", \"impl\": \"%s\", \"params\": {\"connections\": %zu, "
                "\"threads\": %zu}, \"metric\": \"%s\", \"value\": %.3f, \"unit\": \"%s\"}\n",
                impl, o.connections, o.threads, metric, value, unit);
        };
        line("req_per_s", mean_rps, "1/s");
        line("cpu_us_per_op", cpu * 1e6 / static_cast<double>(all.requests), "us");
        line("latency_p50_us", h.quantile(0.5) / 1e3, "us");
        line("latency_p90_us", h.quantile(0.9) / 1e3, "us");
        line("latency_p99_us", h.quantile(0.99) / 1e3, "us");
        line("latency_p999_us", h.quantile(0.999) / 1e3, "us");
        line("requests", static_cast<double>(all.requests), "1");
    }
    if (all.requests == 0) {
        std::fprintf(stderr, "squall-fetch --bench: no request completed\n");
        return kOther;
    }
    return worst < 0 ? kOk : kErrorExit[worst];
}

}  // namespace fetch
