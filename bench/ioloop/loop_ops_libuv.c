/* bench_loop_ops_libuv: libuv's figures for the loop micro-benchmarks squall also runs. Each run uses a
 * fresh uv_loop_t; the phase clock (warmup, then the measured interval) is the one of common.h.
 *
 * callbacks_per_s, params {"chains": K}
 *   K callbacks, each of which re-schedules itself for the next loop iteration, run for the interval;
 *   the value is callback invocations per second. In libuv a callback "for the next iteration" is a
 *   uv_idle_t: each callback stops and restarts its own idle handle (re-arming it, as an add_callback
 *   chain re-adds itself) and counts. The loop also holds one uv_async_t that is never sent: it makes
 *   the poll phase a real epoll_wait(timeout 0) per iteration, as in squall, whose loop always watches
 *   its wake-up eventfd (without any watched fd libuv 1.44 skips the syscall). The clock is read once
 *   per iteration from a uv_check_t. So K = 1 measures one loop iteration per callback and K = 64 the
 *   per-callback dispatch cost. (A uv_timer restarted with timeout 0 from its own callback is no
 *   substitute: libuv 1.44 runs it again in the same uv__run_timers pass and never polls.)
 *   The squall twin: K coroutine-free callbacks, each calling loop.add_callback(itself).
 *
 * timer_add_cancel_per_s, params {"pending": P}
 *   Rounds of P uv_timer_start calls followed by P uv_timer_stop calls, in start order. Timeouts come
 *   from a fixed pseudo-random sequence in [1000, 60999] ms, so no timer fires and the heap holds up to
 *   P timers. The value is start+stop pairs per second. The uv_timer_t handles are initialised once,
 *   before the clock starts (libuv users reuse handles). After every 1024 pairs the loop runs one
 *   uv_run(UV_RUN_NOWAIT) iteration, so an implementation that reclaims cancelled timers lazily in its
 *   loop pays for that inside the measurement. The squall twin: call_later(timeout) then
 *   remove_timeout(handle), same sequence, same rounds, one loop iteration per 1024 pairs.
 *
 *   bench_loop_ops_libuv [--duration 2] [--warmup 0.5] [--chains K] [--pending P]
 *   (without --chains/--pending it runs chains 1 and 64, then pending 1 and 1024)
 */
#include <uv.h>

#include "common.h"

enum { kMaxChains = 4096, kMaxPending = 1 << 20, kPairsPerLoopTurn = 1024 };

static uint64_t g_callbacks;
static struct phase_clock g_clock;

static void on_idle(uv_idle_t* idle) {
    ++g_callbacks;
    uv_idle_stop(idle);
    uv_idle_start(idle, on_idle);
}

static void on_check(uv_check_t* check) {
    if (phase_clock_tick(&g_clock, g_callbacks) != PHASE_DONE) return;
    uv_idle_t* idles = check->data;
    for (int i = 0; i < kMaxChains && idles[i].data != NULL; ++i) uv_idle_stop(&idles[i]);
    uv_check_stop(check);
}

static void on_async(uv_async_t* async) {
    (void)async;
}

static void close_handle(uv_handle_t* h, void* arg) {
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

static void close_loop(uv_loop_t* loop) {
    uv_walk(loop, close_handle, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    if (uv_loop_close(loop) != 0) fprintf(stderr, "uv_loop_close: handles left open\n");
}

static double run_callbacks(int chains, double warmup_s, double duration_s) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_async_t wakeup;
    uv_async_init(&loop, &wakeup, on_async);
    uv_unref((uv_handle_t*)&wakeup); /* the loop ends when the chains stop */

    /* data != NULL marks a used slot; the slot after the last stays zeroed. */
    uv_idle_t* idles = calloc(kMaxChains + 1, sizeof *idles);
    if (idles == NULL) exit(1);
    for (int i = 0; i < chains; ++i) {
        uv_idle_init(&loop, &idles[i]);
        idles[i].data = &idles[i];
        uv_idle_start(&idles[i], on_idle);
    }
    uv_check_t check;
    uv_check_init(&loop, &check);
    check.data = idles;
    uv_check_start(&check, on_check);

    g_callbacks = 0;
    phase_clock_start(&g_clock, warmup_s, duration_s);
    uv_run(&loop, UV_RUN_DEFAULT);
    close_loop(&loop);
    free(idles);
    return phase_clock_ops_per_s(&g_clock);
}

static void on_timer(uv_timer_t* t) {
    (void)t;
    fprintf(stderr, "a timer fired: the timer benchmark's timeouts are too short\n");
    exit(1);
}

static double run_timers(int pending, double warmup_s, double duration_s) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_async_t wakeup; /* same loop shape as the callbacks run */
    uv_async_init(&loop, &wakeup, on_async);
    uv_unref((uv_handle_t*)&wakeup);

    uv_timer_t* timers = malloc((size_t)pending * sizeof *timers);
    uint64_t* timeouts = malloc((size_t)pending * sizeof *timeouts);
    if (timers == NULL || timeouts == NULL) exit(1);
    uint32_t lcg = 12345;
    for (int i = 0; i < pending; ++i) {
        uv_timer_init(&loop, &timers[i]);
        lcg = lcg * 1664525u + 1013904223u;
        timeouts[i] = 1000 + (lcg >> 8) % 60000;
    }

    uint64_t pairs = 0, since_loop_turn = 0;
    phase_clock_start(&g_clock, warmup_s, duration_s);
    while (phase_clock_tick(&g_clock, pairs) != PHASE_DONE) {
        /* Check the clock about once per 1024 pairs whatever P is. */
        do {
            for (int i = 0; i < pending; ++i) uv_timer_start(&timers[i], on_timer, timeouts[i], 0);
            for (int i = 0; i < pending; ++i) uv_timer_stop(&timers[i]);
            pairs += (uint64_t)pending;
            since_loop_turn += (uint64_t)pending;
        } while (since_loop_turn < kPairsPerLoopTurn);
        since_loop_turn = 0;
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    close_loop(&loop);
    free(timers);
    free(timeouts);
    return phase_clock_ops_per_s(&g_clock);
}

int main(int argc, char** argv) {
    double duration_s = 2.0, warmup_s = 0.5;
    long chains = 0, pending = 0;
    for (int i = 1; i < argc; i += 2) {
        const char* opt = argv[i];
        const char* val = i + 1 < argc ? argv[i + 1] : "";
        int bad;
        if (strcmp(opt, "--duration") == 0)
            bad = parse_seconds_in(val, 0.01, 3600, &duration_s);
        else if (strcmp(opt, "--warmup") == 0)
            bad = parse_seconds_in(val, 0, 3600, &warmup_s);
        else if (strcmp(opt, "--chains") == 0)
            bad = parse_long_in(val, 1, kMaxChains, &chains);
        else if (strcmp(opt, "--pending") == 0)
            bad = parse_long_in(val, 1, kMaxPending, &pending);
        else
            bad = 1;
        if (bad) {
            fprintf(stderr, "usage: %s [--duration 2] [--warmup 0.5] [--chains K] [--pending P]\n", argv[0]);
            return 2;
        }
    }
    /* Without --chains/--pending every default case runs; with either, only what was asked for. */
    long chain_cases[2] = {1, 64}, pending_cases[2] = {1, 1024};
    int n_chain_cases = 2, n_pending_cases = 2;
    if (chains != 0 || pending != 0) {
        chain_cases[0] = chains;
        pending_cases[0] = pending;
        n_chain_cases = chains != 0;
        n_pending_cases = pending != 0;
    }
    char params[64];
    for (int k = 0; k < n_chain_cases; ++k) {
        snprintf(params, sizeof params, "\"chains\": %ld", chain_cases[k]);
        print_result_line("ioloop_callbacks", "libuv", params, "callbacks_per_s",
                          run_callbacks((int)chain_cases[k], warmup_s, duration_s), "1/s");
    }
    for (int k = 0; k < n_pending_cases; ++k) {
        snprintf(params, sizeof params, "\"pending\": %ld", pending_cases[k]);
        print_result_line("ioloop_timers", "libuv", params, "timer_add_cancel_per_s",
                          run_timers((int)pending_cases[k], warmup_s, duration_s), "1/s");
    }
    return 0;
}
