/* bench_http_raw: the floor of the keep-alive benchmark (bench/README.md, "http").
 *
 *   bench_http_raw --url http://HOST:PORT/PATH --connections N --duration S [--warmup S]
 *
 * N non-blocking TCP connections on one epoll (edge-triggered), each with one GET in flight: a fixed
 * request written once per request with send(), the response read with recv() into a per-connection
 * buffer until the head is complete and Content-Length bytes of body have arrived. No HTTP library, no
 * allocation in the loop, no header storage, no timers: what is left is the kernel's loopback TCP path,
 * the wakeups and a few hundred instructions of parsing. It shows how much of a client's CPU per request
 * any HTTP client must pay on this machine. It only understands what nginx sends for a small static
 * file (a 200 with Content-Length, keep-alive); anything else fails the run.
 *
 * Prints req_per_s and cpu_us_per_op (CLOCK_PROCESS_CPUTIME_ID over the measured interval), bench
 * "http_keepalive", impl "raw-epoll", params {"connections": N}.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BENCH_PROGRAM "bench_http_raw"
#include "bench/support/bench.h"

enum { kBufSize = 16384 };

struct Conn {
    int fd;
    size_t have; /* bytes buffered of the current response */
    char buf[kBufSize];
};

static char g_request[512];
static size_t g_request_len;

static void send_request(struct Conn* c) {
    ssize_t n = send(c->fd, g_request, g_request_len, MSG_NOSIGNAL);
    if (n != (ssize_t)g_request_len) die("send failed or short", strerror(errno));
}

/* Returns the length of the complete response at the start of buf, or 0 if more bytes are needed. */
static size_t complete_length(const char* buf, size_t have) {
    const char* end = memmem(buf, have, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t head = (size_t)(end - buf) + 4;
    if (have < 12 || memcmp(buf + 9, "200", 3) != 0) die("unexpected response status", NULL);
    const char* cl = memmem(buf, head, "\r\nContent-Length:", 17);
    if (!cl) die("response without Content-Length", NULL);
    size_t body = (size_t)strtoul(cl + 17, NULL, 10);
    return have >= head + body ? head + body : 0;
}

int main(int argc, char** argv) {
    const char* url = NULL;
    long connections = 1;
    double duration = 5, warmup = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--url") == 0)
            url = argv[i + 1];
        else if (strcmp(argv[i], "--connections") == 0)
            connections = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--duration") == 0)
            duration = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--warmup") == 0)
            warmup = atof(argv[i + 1]);
        else
            die("unknown option", argv[i]);
    }
    char host[256];
    unsigned port = 80;
    const char* path = "/";
    if (!url || strncmp(url, "http://", 7) != 0 || connections < 1 || duration <= 0)
        die("usage: bench_http_raw --url http://HOST:PORT/PATH --connections N --duration S", NULL);
    {
        const char* h = url + 7;
        const char* slash = strchr(h, '/');
        size_t hl = slash ? (size_t)(slash - h) : strlen(h);
        if (hl >= sizeof host) die("host too long", NULL);
        memcpy(host, h, hl);
        host[hl] = 0;
        if (slash) path = slash;
        char* colon = strchr(host, ':');
        if (colon) {
            *colon = 0;
            port = (unsigned)atoi(colon + 1);
        }
        int n =
            snprintf(g_request, sizeof g_request, "GET %s HTTP/1.1\r\nHost: %s:%u\r\n\r\n", path, host, port);
        if (n <= 0 || (size_t)n >= sizeof g_request) die("request too long", NULL);
        g_request_len = (size_t)n;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) die("the host must be an IPv4 literal", host);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct Conn* conns = calloc((size_t)connections, sizeof *conns);
    if (ep < 0 || !conns) die("setup failed", strerror(errno));
    for (long i = 0; i < connections; ++i) {
        struct Conn* c = &conns[i];
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr*)&addr, sizeof addr) != 0)
            die("connect failed", strerror(errno));
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (fcntl(c->fd, F_SETFL, O_NONBLOCK) != 0) die("fcntl failed", strerror(errno));
        struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) die("epoll_ctl failed", strerror(errno));
        send_request(c);
    }

    uint64_t completed = 0;
    struct BenchWindow w = bench_window(warmup, duration);
    struct epoll_event events[256];
    while (!bench_window_tick(&w, completed)) {
        int n = epoll_wait(ep, events, 256, 1000);
        if (n < 0 && errno != EINTR) die("epoll_wait failed", strerror(errno));
        for (int i = 0; i < n; ++i) {
            struct Conn* c = events[i].data.ptr;
            for (;;) { /* edge-triggered: read until EAGAIN or a complete response */
                ssize_t r = recv(c->fd, c->buf + c->have, kBufSize - c->have, 0);
                if (r == 0) die("server closed a connection", NULL);
                if (r < 0) {
                    if (errno == EAGAIN) break;
                    die("recv failed", strerror(errno));
                }
                c->have += (size_t)r;
                size_t len = complete_length(c->buf, c->have);
                if (len == 0) {
                    if (c->have == kBufSize) die("response larger than the buffer", NULL);
                    continue;
                }
                if (len != c->have) die("bytes after the response (pipelining is not expected)", NULL);
                c->have = 0;
                ++completed;
                send_request(c);
                break; /* the next response cannot have arrived yet */
            }
        }
    }
    const double n = (double)w.ops;
    char params[64];
    snprintf(params, sizeof params, "{\"connections\": %ld}", connections);
    bench_result("http_keepalive", "raw-epoll", params, "req_per_s", n / w.elapsed, "1/s");
    bench_result("http_keepalive", "raw-epoll", params, "cpu_us_per_op", w.cpu * 1e6 / n, "us");
    fprintf(stderr, "raw-epoll c=%ld: %.0f requests in %.2f s, %.0f req/s, %.2f us CPU/request\n",
            connections, n, w.elapsed, n / w.elapsed, w.cpu * 1e6 / n);
    for (long i = 0; i < connections; ++i) close(conns[i].fd);
    free(conns);
    close(ep);
    return 0;
}
