/* Shared by the C peer programs (bench/http, bench/amqp): the clock and the exit on error. Define
 * BENCH_PROGRAM (the program's name, which starts every error message) before including it. */
#ifndef SQUALL_BENCH_SUPPORT_BENCH_H
#define SQUALL_BENCH_SUPPORT_BENCH_H

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

#endif
