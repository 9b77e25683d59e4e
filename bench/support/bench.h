/* Shared by the C peer programs (bench/http, bench/amqp, bench/websocket): the clock, the exit on error,
 * the measured interval and the JSON result line. Define BENCH_PROGRAM (the program's name, which starts
 * every error message) before including it. */
#ifndef SQUALL_BENCH_SUPPORT_BENCH_H
#define SQUALL_BENCH_SUPPORT_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef BENCH_PROGRAM
#error "define BENCH_PROGRAM before including bench/support/bench.h"
#endif

static inline double now_s(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "PROGRAM: what" or "PROGRAM: what: detail" on stderr, then exit status 1. */
static inline void die(const char* what, const char* detail) {
    fprintf(stderr, BENCH_PROGRAM ": %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

/* The measured interval of a run: a warm-up, then `duration` seconds. bench_window_tick, called once per
 * loop iteration with the operations completed so far, records the wall time, the process CPU and the
 * count where the interval starts, and returns 1 once it is over (elapsed, cpu and ops are set then). */
struct BenchWindow {
    double warm_end, end; /* CLOCK_MONOTONIC */
    double t0, cpu0;      /* at the start of the measured interval */
    double elapsed, cpu;  /* seconds of wall time and of process CPU in it */
    uint64_t done0, ops;  /* operations done before it; done in it */
    int measuring;
};

static inline struct BenchWindow bench_window(double warmup, double duration) {
    struct BenchWindow w = {0};
    w.warm_end = now_s(CLOCK_MONOTONIC) + warmup;
    w.end = w.warm_end + duration;
    return w;
}

static inline int bench_window_tick(struct BenchWindow* w, uint64_t completed) {
    const double t = now_s(CLOCK_MONOTONIC);
    if (!w->measuring) {
        if (t < w->warm_end) return 0;
        w->measuring = 1;
        w->t0 = t;
        w->cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
        w->done0 = completed;
        return 0;
    }
    if (t < w->end) return 0;
    w->elapsed = t - w->t0;
    w->cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - w->cpu0;
    w->ops = completed - w->done0;
    if (w->ops == 0) die("no operation completed in the measured interval", NULL);
    return 1;
}

/* One result line (DESIGN section 8); `params` is a JSON object, e.g. {"connections": 64}. */
static inline void bench_result(const char* bench, const char* impl, const char* params, const char* metric,
                                double value, const char* unit) {
    printf(
        "{\"bench\": \"%s\", \"impl\": \"%s\", \"params\": %s, \"metric\": \"%s\", \"value\": %.3f, "
        "\"unit\": \"%s\"}\n",
        bench, impl, params, metric, value, unit);
}

#endif
