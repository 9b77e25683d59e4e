// bench_loop_ops_squall: squall's figures for the loop micro-benchmarks (the twin of
// bench/ioloop/loop_ops_libuv.c; bench/README.md, ioloop).
//
// callbacks_per_s, params {"chains": K}: K callbacks, each re-adding itself with add_callback (so it
//   runs on the next iteration), for the measured interval; the value is invocations per second.
// timer_add_cancel_per_s, params {"pending": P}: rounds of P call_later followed by P remove_timeout in
//   the same order, timeouts from the libuv twin's pseudo-random sequence in [1000, 60999] ms (none
//   fires); after every 1024 pairs the loop runs one iteration (squall has no run-once call: a callback
//   that stops the loop gives one iteration, without the poll syscall libuv's UV_RUN_NOWAIT makes).
//
//   bench_loop_ops_squall [--backend epoll|uring] [--duration 2] [--warmup 0.5] [--chains K] [--pending P]
//   (without --chains/--pending it runs chains 1 and 64, then pending 1 and 1024)
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "squall/ioloop/ioloop.hpp"

namespace {

using squall::IOLoop;
constexpr int kPairsPerLoopTurn = 1024;

squall::Duration seconds(double s) {
    return std::chrono::duration_cast<squall::Duration>(std::chrono::duration<double>(s));
}

struct ChainState {
    IOLoop* loop;
    std::uint64_t count = 0;
    bool stopping = false;
};

struct Chain {
    ChainState* st;
    void operator()() const {
        ++st->count;
        if (!st->stopping) st->loop->add_callback(Chain{st});
    }
};

double run_callbacks(squall::Backend backend, int chains, double warmup_s, double duration_s) {
    IOLoop loop(backend);
    ChainState st{&loop};
    squall::bench::Interval iv;
    for (int i = 0; i < chains; ++i) loop.add_callback(Chain{&st});
    loop.call_later(seconds(warmup_s), [&] {
        iv.begin(loop.time(), st.count);
        loop.call_later(seconds(duration_s), [&] {
            iv.end(loop.time(), st.count);
            st.stopping = true;
            loop.stop();
        });
    });
    loop.run();
    return iv.ops_per_s();
}

void run_one_iteration(IOLoop& loop) {
    loop.add_callback([&loop] { loop.stop(); });
    loop.run();
}

double run_timers(squall::Backend backend, int pending, double warmup_s, double duration_s) {
    IOLoop loop(backend);
    std::vector<squall::Duration> timeouts(static_cast<std::size_t>(pending));
    std::vector<squall::TimeoutHandle> handles(timeouts.size());
    std::uint32_t lcg = 12345;
    for (auto& t : timeouts) {
        lcg = lcg * 1664525u + 1013904223u;
        t = std::chrono::milliseconds(1000 + (lcg >> 8) % 60000);
    }
    std::uint64_t pairs = 0;
    squall::bench::Interval iv;
    const auto start = loop.time();
    const auto measure_at = start + seconds(warmup_s);
    bool measuring = false;
    for (;;) {
        int since_turn = 0;
        do {
            for (int i = 0; i < pending; ++i)
                handles[i] = loop.call_later(timeouts[i], [] {
                    std::fprintf(stderr, "a timer fired: the timer benchmark's timeouts are too short\n");
                    std::exit(1);
                });
            for (int i = 0; i < pending; ++i) loop.remove_timeout(handles[i]);
            pairs += static_cast<std::uint64_t>(pending);
            since_turn += pending;
        } while (since_turn < kPairsPerLoopTurn);
        run_one_iteration(loop);
        auto now = loop.time();
        if (!measuring && now >= measure_at) {
            measuring = true;
            iv.begin(now, pairs);
        } else if (measuring && now - iv.t0 >= seconds(duration_s)) {
            iv.end(now, pairs);
            break;
        }
    }
    return iv.ops_per_s();
}

}  // namespace

int main(int argc, char** argv) {
    namespace b = squall::bench;
    try {
        double duration_s = 2.0, warmup_s = 0.5;
        int chains = 0, pending = 0;
        squall::Backend backend = squall::Backend::automatic;
        for (int i = 1; i < argc; i += 2) {
            std::string opt = argv[i];
            if (i + 1 >= argc) throw std::invalid_argument("option " + opt + " needs a value");
            const char* v = argv[i + 1];
            if (opt == "--duration")
                duration_s = b::parse_number(opt, v, 0.01, 3600);
            else if (opt == "--warmup")
                warmup_s = b::parse_number(opt, v, 0, 3600);
            else if (opt == "--chains")
                chains = static_cast<int>(b::parse_number(opt, v, 1, 4096));
            else if (opt == "--pending")
                pending = static_cast<int>(b::parse_number(opt, v, 1, 1 << 20));
            else if (opt == "--backend")
                backend = b::parse_backend(v);
            else
                throw std::invalid_argument("unknown option " + opt);
        }
        std::string impl;
        {
            IOLoop probe(backend);  // the backend in use names the impl; a refused uring throws here
            impl = b::impl_name(probe);
            backend = probe.backend();
        }
        const bool only_chains = chains != 0 && pending == 0;
        const bool only_pending = pending != 0 && chains == 0;
        if (!only_pending) {
            std::vector<int> ks = chains != 0 ? std::vector<int>{chains} : std::vector<int>{1, 64};
            for (int k : ks)
                b::print_result("ioloop_callbacks", impl.c_str(), "\"chains\": " + std::to_string(k),
                                "callbacks_per_s", run_callbacks(backend, k, warmup_s, duration_s), "1/s");
        }
        if (!only_chains) {
            std::vector<int> ps = pending != 0 ? std::vector<int>{pending} : std::vector<int>{1, 1024};
            for (int p : ps)
                b::print_result("ioloop_timers", impl.c_str(), "\"pending\": " + std::to_string(p),
                                "timer_add_cancel_per_s", run_timers(backend, p, warmup_s, duration_s),
                                "1/s");
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_loop_ops_squall: %s\n", e.what());
        return 1;
    }
}
