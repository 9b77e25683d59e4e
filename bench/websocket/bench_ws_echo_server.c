// The benchmark's WebSocket echo server: C on one raw epoll loop, no WebSocket library. It answers the
// opening handshake (SHA-1 from libcrypto), then sends every client frame back unmasked with the same
// opcode and flags (so fragments and compressed frames echo as they came), answers pings and echoes the
// close frame. Frames of up to 64 MiB are held whole.
//
//   bench_ws_echo_server --port 56510
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/support/ws_frame.h"

#define MAX_FRAME (64u << 20)

struct buf {
    char* data;
    size_t len, cap, off;
};

struct conn {
    int fd;
    int open;  // handshake done
    int closing;
    struct buf in, out;
};

static void buf_reserve(struct buf* b, size_t extra) {
    if (b->off > 0 && b->off == b->len) b->off = b->len = 0;
    if (b->len + extra <= b->cap) return;
    if (b->off > 0) {
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        if (b->len + extra <= b->cap) return;
    }
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->len + extra) cap *= 2;
    b->data = realloc(b->data, cap);
    if (!b->data) abort();
    b->cap = cap;
}

static void buf_append(struct buf* b, const void* p, size_t n) {
    buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static int epfd;

static void conn_free(struct conn* c) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in.data);
    free(c->out.data);
    free(c);
}

// Sends what is queued; returns -1 when the connection died.
static int flush_out(struct conn* c) {
    while (c->out.off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out.off, c->out.len - c->out.off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN) break;
            if (errno == EINTR) continue;
            return -1;
        }
        c->out.off += (size_t)n;
    }
    struct epoll_event ev = {.events = EPOLLIN | (c->out.off < c->out.len ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    if (c->out.off == c->out.len) {
        c->out.off = c->out.len = 0;
        if (c->closing) return -1;
    }
    return 0;
}

static int handshake(struct conn* c) {
    char* start = c->in.data + c->in.off;
    size_t avail = c->in.len - c->in.off;
    char* end = memmem(start, avail, "\r\n\r\n", 4);
    if (!end) return avail > 65536 ? -1 : 0;
    char key[128] = {0};
    for (char* line = start; line < end;) {
        char* eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
        if (!eol) break;
        if ((size_t)(eol - line) > 18 && strncasecmp(line, "Sec-WebSocket-Key:", 18) == 0) {
            char* v = line + 18;
            while (*v == ' ') v++;
            size_t n = (size_t)(eol - v);
            if (n > 64) return -1;  // a key is 24 characters; the GUID is appended below
            memcpy(key, v, n);
        }
        line = eol + 2;
    }
    if (!key[0]) return -1;
    strcat(key, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1((unsigned char*)key, strlen(key), digest);
    unsigned char accept[64];
    EVP_EncodeBlock(accept, digest, SHA_DIGEST_LENGTH);
    char reply[256];
    int n = snprintf(reply, sizeof reply,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n",
                     accept);
    buf_append(&c->out, reply, (size_t)n);
    c->in.off += (size_t)(end + 4 - start);
    c->open = 1;
    return 1;
}

// Echoes every whole frame in the input buffer.
static int frames(struct conn* c) {
    for (;;) {
        unsigned char* p = (unsigned char*)c->in.data + c->in.off;
        size_t avail = c->in.len - c->in.off;
        if (avail < 2) return 0;
        size_t hlen = 2;
        uint64_t len = p[1] & 0x7f;
        if (len == 126) {
            if (avail < 4) return 0;
            len = (uint64_t)p[2] << 8 | p[3];
            hlen = 4;
        } else if (len == 127) {
            if (avail < 10) return 0;
            len = 0;
            for (int i = 2; i < 10; i++) len = len << 8 | p[i];
            hlen = 10;
        }
        if (len > MAX_FRAME) return -1;
        int masked = (p[1] & 0x80) != 0;
        if (!masked) return -1;
        if (avail < hlen + 4 + len) {
            buf_reserve(&c->in, hlen + 4 + len - avail);
            return 0;
        }
        unsigned char* payload = p + hlen + 4;
        ws_mask(payload, payload, len, p + hlen);
        unsigned char head[10];
        int opcode = p[0] & 0x0f;
        head[0] = opcode == 0x9 ? (unsigned char)((p[0] & 0xf0) | 0xa) : p[0];
        size_t out_h = ws_put_length(head, len, 0);
        if (opcode != 0xa) {  // pongs are not answered
            buf_append(&c->out, head, out_h);
            buf_append(&c->out, payload, len);
        }
        c->in.off += hlen + 4 + len;
        if (opcode == 0x8) {
            c->closing = 1;
            return 0;
        }
    }
}

static void on_readable(struct conn* c) {
    for (;;) {
        buf_reserve(&c->in, 256 * 1024);
        ssize_t n = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len, 0);
        if (n == 0) {
            conn_free(c);
            return;
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            conn_free(c);
            return;
        }
        c->in.len += (size_t)n;
        if ((size_t)n < 256 * 1024) break;
    }
    if (!c->open) {
        int r = handshake(c);
        if (r < 0) {
            conn_free(c);
            return;
        }
        if (r == 0) return;
    }
    if (frames(c) < 0 || flush_out(c) < 0) conn_free(c);
}

int main(int argc, char** argv) {
    int port = 56510;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--port") == 0) port = atoi(argv[i + 1]);
    signal(SIGPIPE, SIG_IGN);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(lfd, 1024) != 0) {
        perror("bind/listen");
        return 1;
    }
    epfd = epoll_create1(0);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev);
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(epfd, events, 256, -1);
        for (int i = 0; i < n; i++) {
            struct conn* c = events[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    c = calloc(1, sizeof *c);
                    c->fd = fd;
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }
            if (events[i].events & (EPOLLERR | EPOLLHUP)) {
                conn_free(c);
                continue;
            }
            if (events[i].events & EPOLLOUT) {
                if (flush_out(c) < 0) {
                    conn_free(c);
                    continue;
                }
            }
            if (events[i].events & EPOLLIN) on_readable(c);
        }
    }
}
