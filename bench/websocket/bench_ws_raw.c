/* bench_ws_raw: the floor of the websocket benchmark (bench/README.md, "websocket").
 *
 *   bench_ws_raw --url ws://HOST:PORT/PATH --size BYTES --connections N --duration S [--warmup S]
 *
 * N non-blocking TCP connections on one level-triggered epoll, each with one binary message in flight:
 * after a fixed upgrade request (only the 101 status is checked), every round trip builds one frame
 * (header, a fresh mask key from a xorshift generator, the payload masked 8 bytes at a time) and writes it
 * with one send() (EPOLLOUT only when the socket buffer is full), then reads the unmasked echo with recv()
 * into one shared buffer, walking frame headers and counting payload bytes without keeping them. No
 * WebSocket library, no allocation in the loop, no UTF-8 check (binary messages), no timers: what is
 * left is the kernel's loopback TCP path, the wakeups and the masking, the part any client pays here.
 * It understands only what bench_ws_echo_server sends back (unfragmented binary frames); anything else
 * fails the run.
 *
 * Prints msg_per_s, mb_per_s and cpu_us_per_op (CLOCK_PROCESS_CPUTIME_ID over the measured interval, per
 * round trip) as bench "websocket_echo" (or "websocket_throughput" from 1 MiB), impl "raw-c", params
 * {"size": S, "connections": N}.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
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

#define BENCH_PROGRAM "bench_ws_raw"
#include "bench/support/bench.h"
#include "bench/support/ws_frame.h"

enum { kRecvSize = 256 * 1024, kMaxEvents = 256 };

struct Conn {
    int fd;
    size_t sent;        /* bytes of the current frame written */
    size_t frame_len;   /* header + payload of the current frame */
    uint8_t hdr[14];    /* the echo's frame header while it is incomplete */
    size_t hdr_have;    /* header bytes gathered */
    uint64_t body_left; /* payload bytes of the echo still to come; 0 while in a header */
    int want_out;       /* EPOLLOUT is armed */
    uint8_t* frame;     /* this connection's outgoing frame (allocated once) */
};

static size_t g_size;
static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint64_t g_completed;
static const uint8_t* g_payload;

static uint32_t next_key(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)g_rng;
}

/* Builds the next frame in c->frame: FIN + binary, mask bit, length, key, masked payload. */
static void build_frame(struct Conn* c) {
    uint8_t* f = c->frame;
    f[0] = 0x82;
    size_t h = ws_put_length(f, g_size, 0x80);
    uint32_t key = next_key();
    memcpy(f + h, &key, 4);
    ws_mask(f + h + 4, g_payload, g_size, f + h);
    h += 4;
    c->frame_len = h + g_size;
    c->sent = 0;
}

static void set_out(int ep, struct Conn* c, int on) {
    if (c->want_out == on) return;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl", strerror(errno));
    c->want_out = on;
}

/* Writes what is left of the frame; arms EPOLLOUT if the socket buffer fills. */
static void push(int ep, struct Conn* c) {
    while (c->sent < c->frame_len) {
        ssize_t n = send(c->fd, c->frame + c->sent, c->frame_len - c->sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN) {
                set_out(ep, c, 1);
                return;
            }
            die("send", strerror(errno));
        }
        c->sent += (size_t)n;
    }
    set_out(ep, c, 0);
}

/* Walks received bytes: frame headers, then payload counted and dropped. One echo done: next frame. */
static void consume(int ep, struct Conn* c, const uint8_t* p, size_t n) {
    while (n > 0) {
        if (c->body_left > 0) {
            size_t take = n < c->body_left ? n : (size_t)c->body_left;
            c->body_left -= take;
            p += take;
            n -= take;
        } else {
            c->hdr[c->hdr_have++] = *p++;
            --n;
            if (c->hdr_have < 2) continue;
            if (c->hdr[0] != 0x82 || (c->hdr[1] & 0x80)) die("unexpected frame from the echo server", NULL);
            size_t need = (c->hdr[1] & 0x7f) == 126 ? 4 : (c->hdr[1] & 0x7f) == 127 ? 10 : 2;
            if (c->hdr_have < need) continue;
            uint64_t len = c->hdr[1] & 0x7f;
            if (len == 126) len = (uint64_t)c->hdr[2] << 8 | c->hdr[3];
            if (len == 127) {
                len = 0;
                for (int i = 0; i < 8; ++i) len = len << 8 | c->hdr[2 + i];
            }
            if (len != g_size) die("echo of the wrong size", NULL);
            c->hdr_have = 0;
            c->body_left = len;
        }
        if (c->body_left == 0 && c->hdr_have == 0) {
            ++g_completed;
            if (c->sent < c->frame_len) die("echo before the frame was written", NULL);
            build_frame(c);
            push(ep, c);
        }
    }
}

static int connect_upgraded(const struct addrinfo* ai, const char* host, const char* path) {
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) die("connect", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char req[512];
    int len = snprintf(req, sizeof req,
                       "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                       path, host);
    if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len) die("send upgrade", strerror(errno));
    char head[2048];
    size_t have = 0;
    while (!memmem(head, have, "\r\n\r\n", 4)) {
        /* Byte by byte (once per connection): nothing after the head may be swallowed. */
        if (have == sizeof head) die("upgrade response head too long", NULL);
        ssize_t n = recv(fd, head + have, 1, 0);
        if (n <= 0) die("upgrade response", n < 0 ? strerror(errno) : "connection closed");
        have += (size_t)n;
    }
    if (have < 12 || memcmp(head, "HTTP/1.1 101", 12) != 0) die("upgrade refused", NULL);
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) die("non-blocking", strerror(errno));
    return fd;
}

int main(int argc, char** argv) {
    const char* url = "ws://127.0.0.1:56510/";
    int connections = 1;
    double duration = 5, warmup = 0.5;
    g_size = 64;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--url"))
            url = argv[i + 1];
        else if (!strcmp(argv[i], "--size"))
            g_size = (size_t)strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--connections"))
            connections = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--duration"))
            duration = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup"))
            warmup = atof(argv[i + 1]);
        else
            die("unknown option", argv[i]);
    }
    if (argc % 2 == 0) die("options come in pairs", argv[argc - 1]);
    if (connections < 1) die("--connections must be at least 1", NULL);

    char host[256], port[16] = "80";
    const char* path = "/";
    if (strncmp(url, "ws://", 5) != 0) die("--url must start with ws://", url);
    const char* h = url + 5;
    const char* slash = strchr(h, '/');
    size_t hostport = slash ? (size_t)(slash - h) : strlen(h);
    if (slash) path = slash;
    if (hostport >= sizeof host) die("host too long", url);
    memcpy(host, h, hostport);
    host[hostport] = 0;
    char* colon = strrchr(host, ':');
    if (colon) {
        snprintf(port, sizeof port, "%s", colon + 1);
        *colon = 0;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai) die("cannot resolve", host);

    uint8_t* payload = malloc(g_size + 8);
    uint8_t* recv_buf = malloc(kRecvSize);
    struct Conn* conns = calloc((size_t)connections, sizeof *conns);
    if (!payload || !recv_buf || !conns) die("out of memory", NULL);
    memset(payload, 'w', g_size);
    g_payload = payload;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1", strerror(errno));
    for (int i = 0; i < connections; ++i) {
        struct Conn* c = &conns[i];
        c->fd = connect_upgraded(ai, host, path);
        c->frame = malloc(g_size + 14);
        if (!c->frame) die("out of memory", NULL);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl", strerror(errno));
    }
    freeaddrinfo(ai);
    for (int i = 0; i < connections; ++i) {
        build_frame(&conns[i]);
        push(ep, &conns[i]);
    }

    struct BenchWindow w = bench_window(warmup, duration);
    struct epoll_event events[kMaxEvents];
    while (!bench_window_tick(&w, g_completed)) {
        int n = epoll_wait(ep, events, kMaxEvents, 100);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait", strerror(errno));
        }
        for (int i = 0; i < n; ++i) {
            struct Conn* c = events[i].data.ptr;
            if (events[i].events & EPOLLOUT) push(ep, c);
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t got = recv(c->fd, recv_buf, kRecvSize, 0);
                if (got == 0) die("the echo server closed a connection", NULL);
                if (got < 0) {
                    if (errno == EAGAIN) continue;
                    die("recv", strerror(errno));
                }
                consume(ep, c, recv_buf, (size_t)got);
            }
        }
    }
    const double rounds = (double)w.ops;
    const char* bench = g_size >= (1u << 20) ? "websocket_throughput" : "websocket_echo";
    char params[96];
    snprintf(params, sizeof params, "{\"size\": %zu, \"connections\": %d}", g_size, connections);
    bench_result(bench, "raw-c", params, "msg_per_s", rounds / w.elapsed, "1/s");
    bench_result(bench, "raw-c", params, "mb_per_s", rounds * (double)g_size / w.elapsed / 1e6, "MB/s");
    bench_result(bench, "raw-c", params, "cpu_us_per_op", w.cpu * 1e6 / rounds, "us");
    fprintf(stderr, "raw-c size=%zu c=%d: %.0f round trips/s, %.2f us CPU per round trip\n", g_size,
            connections, rounds / w.elapsed, w.cpu * 1e6 / rounds);
    return 0;
}
