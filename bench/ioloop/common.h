/* Shared helpers for the ioloop benchmark's C peer programs (raw epoll, raw liburing, libuv):
 * command-line parsing, clocks, the warmup/measure phase clock, connecting, and the JSON result line of
 * DESIGN section 8. Header-only so each peer stays one translation unit plus this file.
 *
 *   struct pingpong_args args;
 *   if (parse_pingpong_args(argc, argv, &args) != 0) return 2;
 *   ...
 *   print_result("ioloop_pingpong", "raw-epoll", args.connections, args.size, "round_trips_per_s",
 *                rate, "1/s");
 */
#ifndef SQUALL_BENCH_IOLOOP_COMMON_H
#define SQUALL_BENCH_IOLOOP_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- command line ---------------------------------------------------------------------------------- */

struct pingpong_args {
    const char* host;
    int port;
    int connections;
    double duration_s; /* measured interval */
    double warmup_s;   /* run before the measured interval starts; not counted */
    int size;          /* bytes per message */
};

static inline void pingpong_usage(const char* prog) {
    fprintf(stderr,
            "usage: %s --port P [--host 127.0.0.1] [--connections 1] [--duration 5] [--size 64] "
            "[--warmup 1]\n",
            prog);
}

/* Parses a whole decimal number in [lo, hi]; returns 0 on success. */
static inline int parse_long_in(const char* text, long lo, long hi, long* out) {
    char* end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* Parses a finite number of seconds in [lo, hi]; returns 0 on success. */
static inline int parse_seconds_in(const char* text, double lo, double hi, double* out) {
    char* end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v >= lo && v <= hi)) return -1;
    *out = v;
    return 0;
}

/* Returns 0 when every option was understood and --port was given; prints why otherwise. */
static inline int parse_pingpong_args(int argc, char** argv, struct pingpong_args* a) {
    a->host = "127.0.0.1";
    a->port = -1;
    a->connections = 1;
    a->duration_s = 5.0;
    a->warmup_s = 1.0;
    a->size = 64;
    for (int i = 1; i < argc; ++i) {
        const char* opt = argv[i];
        if (i + 1 >= argc) {
            fprintf(stderr, "%s: option %s needs a value\n", argv[0], opt);
            pingpong_usage(argv[0]);
            return -1;
        }
        const char* val = argv[++i];
        long n = 0;
        int bad = 0;
        if (strcmp(opt, "--host") == 0) {
            a->host = val;
        } else if (strcmp(opt, "--port") == 0) {
            bad = parse_long_in(val, 1, 65535, &n);
            a->port = (int)n;
        } else if (strcmp(opt, "--connections") == 0) {
            bad = parse_long_in(val, 1, 10000, &n);
            a->connections = (int)n;
        } else if (strcmp(opt, "--size") == 0) {
            bad = parse_long_in(val, 1, 1 << 20, &n);
            a->size = (int)n;
        } else if (strcmp(opt, "--duration") == 0) {
            bad = parse_seconds_in(val, 0.01, 3600.0, &a->duration_s);
        } else if (strcmp(opt, "--warmup") == 0) {
            bad = parse_seconds_in(val, 0.0, 3600.0, &a->warmup_s);
        } else {
            fprintf(stderr, "%s: unknown option %s\n", argv[0], opt);
            pingpong_usage(argv[0]);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "%s: bad value for %s: %s\n", argv[0], opt, val);
            return -1;
        }
    }
    if (a->port < 0) {
        fprintf(stderr, "%s: --port is required\n", argv[0]);
        pingpong_usage(argv[0]);
        return -1;
    }
    return 0;
}

/* ---- clocks ---------------------------------------------------------------------------------------- */

static inline uint64_t monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time (user + system, all threads) this process has used. */
static inline uint64_t process_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The warmup -> measure -> done phases of a run. The caller passes its running operation count; the clock
 * snapshots count, wall time and process CPU time at the start and at the end of the measured interval,
 * so the result covers exactly the operations completed between two clock readings. */
enum phase { PHASE_WARMUP, PHASE_MEASURE, PHASE_DONE };

struct phase_clock {
    enum phase phase;
    uint64_t measure_start_ns; /* planned */
    uint64_t measure_end_ns;   /* planned */
    uint64_t t0_ns, t1_ns;     /* actual wall-clock readings */
    uint64_t cpu0_ns, cpu1_ns; /* process CPU at t0 and t1 */
    uint64_t ops0, ops1;       /* caller's counter at t0 and t1 */
};

static inline void phase_clock_start(struct phase_clock* c, double warmup_s, double duration_s) {
    memset(c, 0, sizeof *c);
    uint64_t now = monotonic_ns();
    c->phase = PHASE_WARMUP;
    c->measure_start_ns = now + (uint64_t)(warmup_s * 1e9);
    c->measure_end_ns = c->measure_start_ns + (uint64_t)(duration_s * 1e9);
}

/* Advances the phase if its time has come; returns the phase now in force. */
static inline enum phase phase_clock_tick(struct phase_clock* c, uint64_t ops) {
    if (c->phase == PHASE_DONE) return PHASE_DONE;
    uint64_t now = monotonic_ns();
    if (c->phase == PHASE_WARMUP && now >= c->measure_start_ns) {
        c->phase = PHASE_MEASURE;
        c->t0_ns = now;
        c->cpu0_ns = process_cpu_ns();
        c->ops0 = ops;
        /* A warmup that overran its end (e.g. --warmup 0) still measures the full duration. */
        c->measure_end_ns = now + (c->measure_end_ns - c->measure_start_ns);
    }
    if (c->phase == PHASE_MEASURE && now >= c->measure_end_ns) {
        c->phase = PHASE_DONE;
        c->cpu1_ns = process_cpu_ns();
        c->t1_ns = now;
        c->ops1 = ops;
    }
    return c->phase;
}

static inline double phase_clock_ops_per_s(const struct phase_clock* c) {
    double secs = (double)(c->t1_ns - c->t0_ns) / 1e9;
    return secs > 0 ? (double)(c->ops1 - c->ops0) / secs : 0.0;
}

static inline double phase_clock_cpu_us_per_op(const struct phase_clock* c) {
    uint64_t ops = c->ops1 - c->ops0;
    return ops > 0 ? (double)(c->cpu1_ns - c->cpu0_ns) / 1e3 / (double)ops : 0.0;
}

/* ---- output ---------------------------------------------------------------------------------------- */

/* One result line in the format of DESIGN section 8. params_json is the inside of the params object,
 * e.g. "\"c\": 64, \"size\": 64". */
static inline void print_result_line(const char* bench, const char* impl, const char* params_json,
                                     const char* metric, double value, const char* unit) {
    printf(
        "{\"bench\": \"%s\", \"impl\": \"%s\", \"params\": {%s}, \"metric\": \"%s\", \"value\": %.3f, "
        "\"unit\": \"%s\"}\n",
        bench, impl, params_json, metric, value, unit);
    fflush(stdout);
}

/* Prints the two ping-pong results (round trips/s and client CPU µs per round trip). */
static inline void print_pingpong_results(const char* impl, const struct pingpong_args* a,
                                          const struct phase_clock* c) {
    char params[64];
    snprintf(params, sizeof params, "\"c\": %d, \"size\": %d", a->connections, a->size);
    print_result_line("ioloop_pingpong", impl, params, "round_trips_per_s", phase_clock_ops_per_s(c), "1/s");
    print_result_line("ioloop_pingpong", impl, params, "cpu_us_per_op", phase_clock_cpu_us_per_op(c), "us");
}

/* ---- sockets --------------------------------------------------------------------------------------- */

static inline int set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static inline int set_nodelay(int fd) {
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static inline int fill_ipv4(const char* host, int port, struct sockaddr_in* sa) {
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

/* Blocking connect to an IPv4 address with TCP_NODELAY set, then made non-blocking. Connecting is set-up,
 * outside every measured interval, so it need not go through the loop under test. Returns the fd or -1. */
static inline int connect_nodelay_nonblocking(const char* host, int port) {
    struct sockaddr_in sa;
    if (fill_ipv4(host, port, &sa) != 0) {
        fprintf(stderr, "not an IPv4 address: %s\n", host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (set_nodelay(fd) != 0 || connect(fd, (struct sockaddr*)&sa, sizeof sa) != 0 ||
        set_nonblocking(fd) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* A message of `size` bytes with a recognisable pattern (its content is not checked on return). */
static inline char* make_message(int size) {
    char* msg = malloc((size_t)size);
    if (msg == NULL) return NULL;
    for (int i = 0; i < size; ++i) msg[i] = (char)('a' + i % 26);
    return msg;
}

/* A watchdog: the process dies with SIGALRM if a stalled peer would otherwise hang the run forever. */
static inline void arm_watchdog(double warmup_s, double duration_s) {
    alarm((unsigned)(warmup_s + duration_s) + 30u);
}

/* Where a ping-pong client's timed part begins: the watchdog armed, the phase clock started. */
static inline void pingpong_clock_start(struct phase_clock* c, const struct pingpong_args* a) {
    arm_watchdog(a->warmup_s, a->duration_s);
    phase_clock_start(c, a->warmup_s, a->duration_s);
}

#endif
