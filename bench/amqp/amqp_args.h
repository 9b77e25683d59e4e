/* The command line of the amqp benchmark's C peers (bench_amqp_librabbitmq.c, bench_amqp_raw.c):
 * --url U --workload W --messages M (--count is a synonym) [--size 100]. Define BENCH_PROGRAM first. */
#ifndef SQUALL_BENCH_AMQP_ARGS_H
#define SQUALL_BENCH_AMQP_ARGS_H

#include <stdlib.h>
#include <string.h>

#include "bench/support/bench.h"

struct amqp_bench_args {
    const char* url;
    const char* workload;
    long messages;
    long size;
};

/* Reads the options or ends the program; `usage` is the option list the program accepts. */
static inline struct amqp_bench_args parse_amqp_bench_args(int argc, char** argv, const char* usage) {
    struct amqp_bench_args a = {NULL, NULL, 0, 100};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--url"))
            a.url = argv[i + 1];
        else if (!strcmp(argv[i], "--workload"))
            a.workload = argv[i + 1];
        else if (!strcmp(argv[i], "--messages") || !strcmp(argv[i], "--count"))
            a.messages = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--size"))
            a.size = atol(argv[i + 1]);
        else
            die("unknown option", usage);
    }
    if (!a.url || !a.workload || a.messages < 1 || a.size < 0)
        die("--url, --workload and --messages are required", NULL);
    return a;
}

#endif
