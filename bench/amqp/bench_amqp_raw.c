/* bench_amqp_raw: the floor of the amqp consume benchmark (bench/README.md, "amqp"), impl "raw-c".
 *
 *   bench_amqp_raw --url amqp://guest:guest@127.0.0.1:5690/ --workload consume --messages M [--size 100]
 *
 * AMQP 0-9-1 by hand on a plain blocking TCP socket, no library: the handshake, a queue, M messages
 * published first (not measured), then basic.qos(prefetch 1,000) and basic.consume with manual acks.
 * Each wakeup (a recv that returns data, drained with MSG_DONTWAIT until the socket is empty) decodes every
 * complete frame (basic.deliver, its content header and body), writes one basic.ack per delivery into a
 * buffer and sends that buffer once: one ack batch per wakeup, as squall's consumer does. The clock stops
 * when the M-th ack is sent. Prints msgs_per_s and cpu_us_per_op (CLOCK_PROCESS_CPUTIME_ID over the
 * measured interval), bench "amqp_consume". Only the consume workload exists. Any error exits 1. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BENCH_PROGRAM "bench_amqp_raw"
#include "bench/amqp/amqp_args.h"
#include "bench/support/bench.h"

enum { kPrefetch = 1000, kFrameMax = 131072, kInCap = 1 << 20, kOutCap = 1 << 20 };

/* ---- output: frames are built in `out` and sent with flush() ---- */
static unsigned char out[kOutCap];
static size_t out_len;
static int sock = -1;

static void flush_out(void) {
    size_t off = 0;
    while (off < out_len) {
        ssize_t n = send(sock, out + off, out_len - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("send failed", NULL);
        }
        off += (size_t)n;
    }
    out_len = 0;
}

static void need_out(size_t n) {
    if (out_len + n > kOutCap) flush_out();
}
static void put8(unsigned v) {
    out[out_len++] = (unsigned char)v;
}
static void put16(unsigned v) {
    put8(v >> 8);
    put8(v);
}
static void put32(uint32_t v) {
    put16(v >> 16);
    put16(v & 0xffff);
}
static void put64(uint64_t v) {
    put32((uint32_t)(v >> 32));
    put32((uint32_t)v);
}
static void put_short_str(const char* s) {
    size_t n = strlen(s);
    put8((unsigned)n);
    memcpy(out + out_len, s, n);
    out_len += n;
}

/* Starts a frame; returns the offset of its size field (patched by end_frame). */
static size_t begin_frame(unsigned type, unsigned channel) {
    need_out(4096);
    put8(type);
    put16(channel);
    size_t at = out_len;
    put32(0);
    return at;
}
static void end_frame(size_t at) {
    uint32_t size = (uint32_t)(out_len - at - 4);
    out[at] = (unsigned char)(size >> 24);
    out[at + 1] = (unsigned char)(size >> 16);
    out[at + 2] = (unsigned char)(size >> 8);
    out[at + 3] = (unsigned char)size;
    put8(0xCE);
}
static size_t begin_method(unsigned channel, unsigned cls, unsigned method) {
    size_t at = begin_frame(1, channel);
    put16(cls);
    put16(method);
    return at;
}

/* ---- input: a buffer of received bytes, parsed frame by frame ---- */
static unsigned char in[kInCap];
static size_t in_start, in_end;

static uint16_t get16(const unsigned char* p) {
    return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t get32(const unsigned char* p) {
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}
static uint64_t get64(const unsigned char* p) {
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

struct Frame {
    unsigned type, channel;
    const unsigned char* payload;
    uint32_t size;
};

/* The next complete frame in the buffer, or 0 when it holds none. */
static int next_frame(struct Frame* f) {
    size_t have = in_end - in_start;
    if (have < 7) return 0;
    const unsigned char* p = in + in_start;
    uint32_t size = get32(p + 3);
    if (size > kFrameMax) die("frame larger than frame-max", NULL);
    if (have < (size_t)size + 8) return 0;
    if (p[7 + size] != 0xCE) die("frame end octet missing", NULL);
    f->type = p[0];
    f->channel = get16(p + 1);
    f->payload = p + 7;
    f->size = size;
    in_start += (size_t)size + 8;
    return 1;
}

/* Receives once (blocking unless `nonblock`); returns bytes read, 0 when nothing was there (nonblock). */
static size_t fill(int nonblock) {
    if (in_start == in_end) in_start = in_end = 0;
    if (in_end == kInCap) { /* compact: move the partial frame to the front */
        memmove(in, in + in_start, in_end - in_start);
        in_end -= in_start;
        in_start = 0;
    }
    if (in_end == kInCap) return 0; /* full of complete frames: parse them first (nonblock only) */
    for (;;) {
        ssize_t n = recv(sock, in + in_end, kInCap - in_end, nonblock ? MSG_DONTWAIT : 0);
        if (n > 0) {
            in_end += (size_t)n;
            return (size_t)n;
        }
        if (n == 0) die("the broker closed the connection", NULL);
        if (errno == EINTR) continue;
        if (nonblock && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        die("recv failed", NULL);
    }
}

/* Blocks until a method frame arrives and checks it is (cls, method); returns its arguments. */
static const unsigned char* expect_method(unsigned cls, unsigned method) {
    struct Frame f;
    for (;;) {
        while (!next_frame(&f)) fill(0);
        if (f.type == 8) continue; /* heartbeat */
        if (f.type != 1 || f.size < 4) die("expected a method frame", NULL);
        unsigned c = get16(f.payload), m = get16(f.payload + 2);
        if (c == 10 && m == 50) die("the broker closed the connection (connection.close)", NULL);
        if (c == 20 && m == 40) die("the broker closed the channel (channel.close)", NULL);
        if (c != cls || m != method) {
            char msg[96];
            snprintf(msg, sizeof msg, "expected method %u.%u, got %u.%u", cls, method, c, m);
            die(msg, NULL);
        }
        return f.payload + 4;
    }
}

/* ---- the AMQP steps ---- */
struct Url {
    char host[256], port[8], user[128], pass[128], vhost[128];
};

static void parse_url(const char* url, struct Url* u) {
    strcpy(u->user, "guest");
    strcpy(u->pass, "guest");
    strcpy(u->port, "5672");
    strcpy(u->vhost, "/");
    if (strncmp(url, "amqp://", 7) != 0) die("--url must start with amqp://", NULL);
    const char* p = url + 7;
    const char* at = strchr(p, '@');
    if (at) {
        const char* colon = memchr(p, ':', (size_t)(at - p));
        if (!colon || colon - p >= 127 || at - colon - 1 >= 127) die("bad user:password in --url", NULL);
        snprintf(u->user, sizeof u->user, "%.*s", (int)(colon - p), p);
        snprintf(u->pass, sizeof u->pass, "%.*s", (int)(at - colon - 1), colon + 1);
        p = at + 1;
    }
    const char* slash = strchr(p, '/');
    size_t hostport = slash ? (size_t)(slash - p) : strlen(p);
    const char* colon = memchr(p, ':', hostport);
    size_t hostlen = colon ? (size_t)(colon - p) : hostport;
    if (hostlen == 0 || hostlen >= sizeof u->host) die("bad host in --url", NULL);
    snprintf(u->host, sizeof u->host, "%.*s", (int)hostlen, p);
    if (colon) snprintf(u->port, sizeof u->port, "%.*s", (int)(hostport - hostlen - 1), colon + 1);
    if (slash && slash[1]) {
        if (!strcmp(slash + 1, "%2f") || !strcmp(slash + 1, "%2F"))
            strcpy(u->vhost, "/");
        else
            snprintf(u->vhost, sizeof u->vhost, "%s", slash + 1);
    }
}

static void connect_tcp(const struct Url* u) {
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(u->host, u->port, &hints, &res) != 0 || !res) die("cannot resolve the --url host", NULL);
    sock = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0 || connect(sock, res->ai_addr, res->ai_addrlen) != 0) die("connect failed", NULL);
    freeaddrinfo(res);
    int one = 1;
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void handshake(const struct Url* u) {
    memcpy(out, "AMQP\0\0\x09\x01", 8);
    out_len = 8;
    flush_out();
    expect_method(10, 10); /* connection.start */
    size_t at = begin_method(0, 10, 11);
    put32(0); /* client-properties: empty table */
    put_short_str("PLAIN");
    size_t ul = strlen(u->user), pl = strlen(u->pass);
    put32((uint32_t)(ul + pl + 2));
    put8(0);
    memcpy(out + out_len, u->user, ul);
    out_len += ul;
    put8(0);
    memcpy(out + out_len, u->pass, pl);
    out_len += pl;
    put_short_str("en_US");
    end_frame(at);
    flush_out();
    const unsigned char* tune = expect_method(10, 30);
    unsigned channel_max = get16(tune);
    at = begin_method(0, 10, 31); /* tune-ok: no heartbeats */
    put16(channel_max ? (channel_max < 2 ? channel_max : 2) : 2);
    put32(kFrameMax);
    put16(0);
    end_frame(at);
    at = begin_method(0, 10, 40); /* connection.open */
    put_short_str(u->vhost);
    put_short_str("");
    put8(0);
    end_frame(at);
    flush_out();
    expect_method(10, 41);
    at = begin_method(1, 20, 10); /* channel.open */
    put_short_str("");
    end_frame(at);
    flush_out();
    expect_method(20, 11);
}

/* queue.declare (passive or not); returns the message count. */
static uint32_t declare(const char* queue, int passive) {
    size_t at = begin_method(1, 50, 10);
    put16(0);
    put_short_str(queue);
    put8(passive ? 1 : 0);
    put32(0); /* arguments */
    end_frame(at);
    flush_out();
    const unsigned char* ok = expect_method(50, 11);
    return get32(ok + 1 + ok[0]);
}

static void publish_all(const char* queue, long n, long size) {
    static unsigned char body[kFrameMax];
    if (size > kFrameMax - 8) die("--size too large for one body frame", NULL);
    memset(body, 'x', (size_t)size);
    for (long i = 0; i < n; ++i) {
        need_out(512 + (size_t)size);
        size_t at = begin_method(1, 60, 40);
        put16(0);
        put_short_str("");
        put_short_str(queue);
        put8(0);
        end_frame(at);
        at = begin_frame(2, 1); /* content header */
        put16(60);
        put16(0);
        put64((uint64_t)size);
        put16(0); /* no properties */
        end_frame(at);
        at = begin_frame(3, 1);
        memcpy(out + out_len, body, (size_t)size);
        out_len += (size_t)size;
        end_frame(at);
    }
    flush_out();
}

static void put_ack(uint64_t tag) {
    size_t at = begin_method(1, 60, 80);
    put64(tag);
    put8(0); /* multiple = false: one ack per delivery, as squall and librabbitmq */
    end_frame(at);
}

/* Consumes n deliveries of `size` bytes, acking each; one send of acks per wakeup. */
/* noinline: profilers can measure the consume phase alone (valgrind --toggle-collect=consume). */
__attribute__((noinline)) static void consume(long n, long size) {
    struct Frame f;
    long got = 0;
    uint64_t tag = 0, body_left = 0;
    int state = 0; /* 0: want a method, 1: want a content header, 2: want body bytes */
    while (got < n) {
        fill(0);
        while (fill(1) > 0) {
        }
        while (next_frame(&f)) {
            if (f.type == 8) continue;
            if (f.channel != 1) die("frame on an unexpected channel", NULL);
            if (state == 0) {
                if (f.type != 1 || f.size < 4) die("expected a method frame", NULL);
                unsigned c = get16(f.payload), m = get16(f.payload + 2);
                if (c == 60 && m == 21) continue; /* consume-ok */
                if (c != 60 || m != 60) die("unexpected method while consuming", NULL);
                const unsigned char* p = f.payload + 4;
                const unsigned char* end = f.payload + f.size;
                if (p >= end || p + 1 + p[0] + 9 > end) die("basic.deliver cut short", NULL);
                p += 1 + p[0]; /* consumer tag */
                tag = get64(p);
                p += 9; /* delivery tag, redelivered */
                if (p >= end || p + 1 + p[0] > end) die("basic.deliver cut short", NULL);
                p += 1 + p[0]; /* exchange */
                if (p >= end || p + 1 + p[0] != end) die("basic.deliver: bad routing key", NULL);
                state = 1;
            } else if (state == 1) {
                if (f.type != 2 || f.size < 14 || get16(f.payload) != 60)
                    die("expected a content header", NULL);
                body_left = get64(f.payload + 4);
                if (body_left != (uint64_t)size) die("a delivered body has the wrong size", NULL);
                state = body_left ? 2 : 0;
                if (!body_left) ++got, put_ack(tag);
            } else {
                if (f.type != 3 || f.size > body_left) die("expected body bytes", NULL);
                body_left -= f.size;
                if (!body_left) {
                    state = 0;
                    ++got;
                    put_ack(tag);
                }
            }
        }
        flush_out();
    }
}

int main(int argc, char** argv) {
    const struct amqp_bench_args args =
        parse_amqp_bench_args(argc, argv, "usage: --url U --workload consume --messages M --size S");
    const char *url = args.url, *workload = args.workload;
    const long messages = args.messages, size = args.size;
    if (strcmp(workload, "consume") != 0) die("raw-c implements the consume workload only", NULL);

    struct Url u;
    parse_url(url, &u);
    connect_tcp(&u);
    handshake(&u);
    char qname[64];
    snprintf(qname, sizeof qname, "bench-raw-%d", (int)getpid());
    declare(qname, 0);
    publish_all(qname, messages, size);
    while ((long)declare(qname, 1) < messages) usleep(1000);

    size_t at = begin_method(1, 60, 10); /* basic.qos */
    put32(0);
    put16(kPrefetch);
    put8(0);
    end_frame(at);
    flush_out();
    expect_method(60, 11);

    double t0 = now_s(CLOCK_MONOTONIC), cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    at = begin_method(1, 60, 20); /* basic.consume, manual acks */
    put16(0);
    put_short_str(qname);
    put_short_str("");
    put8(0);
    put32(0);
    end_frame(at);
    flush_out();
    consume(messages, size);
    double elapsed = now_s(CLOCK_MONOTONIC) - t0, cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;

    const char* fmt =
        "{\"bench\": \"amqp_consume\", \"impl\": \"raw-c\", \"params\": {\"workload\": \"consume\", "
        "\"messages\": %ld, \"size\": %ld}, \"metric\": \"%s\", \"value\": %.3f, \"unit\": \"%s\"}\n";
    printf(fmt, messages, size, "msgs_per_s", (double)messages / elapsed, "1/s");
    printf(fmt, messages, size, "cpu_us_per_op", cpu * 1e6 / (double)messages, "us");
    fprintf(stderr, "raw-c consume: %ld messages in %.3f s, %.0f msgs/s, %.3f us CPU/msg\n", messages,
            elapsed, (double)messages / elapsed, cpu * 1e6 / (double)messages);

    /* queue.delete, then connection.close; deliveries are all acked, so nothing else arrives. */
    at = begin_method(1, 50, 40);
    put16(0);
    put_short_str(qname);
    put8(0);
    end_frame(at);
    flush_out();
    expect_method(50, 41);
    at = begin_method(0, 10, 50);
    put16(200);
    put_short_str("");
    put16(0);
    put16(0);
    end_frame(at);
    flush_out();
    expect_method(10, 51);
    close(sock);
    return 0;
}
