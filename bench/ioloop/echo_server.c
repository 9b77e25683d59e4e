/* bench_echo_server: the server side of the ioloop ping-pong benchmark.
 *
 * A single-threaded, level-triggered epoll TCP echo server: every byte read is written back on the same
 * connection. Accepted sockets get TCP_NODELAY. When the kernel takes only part of a write, the rest is
 * kept and the connection waits for EPOLLOUT (and stops reading) until it is flushed, so a client that
 * does not read cannot make the server buffer without bound. Prints "listening <port>" once it accepts
 * connections (with --port 0 the port the kernel chose); exits 0 on SIGTERM or SIGINT.
 *
 *   bench_echo_server --port 9000 [--host 127.0.0.1]
 */
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include "common.h"

enum { kReadChunk = 64 * 1024, kMaxEvents = 256 };

struct connection {
    struct connection *prev, *next; /* in g_connections, so exit can free them all */
    int fd;
    char* pending; /* bytes read but not yet written back, NULL when none */
    size_t pending_off, pending_len;
};

static char g_buf[kReadChunk];
static struct connection* g_connections;

static void close_connection(struct connection* c) {
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        g_connections = c->next;
    if (c->next != NULL) c->next->prev = c->prev;
    close(c->fd); /* closing removes it from the epoll set */
    free(c->pending);
    free(c);
}

/* Writes back as much of [data, data+len) as the socket takes; keeps the rest in c->pending.
 * Returns -1 when the connection failed. */
static int echo_write(int epfd, struct connection* c, const char* data, size_t len) {
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(c->fd, data + off, len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            return -1;
        }
    }
    if (off == len) return 0;
    /* Keep the unsent tail and switch from reading to waiting for writability. */
    char* rest = malloc(len - off);
    if (rest == NULL) return -1;
    memcpy(rest, data + off, len - off);
    free(c->pending);
    c->pending = rest;
    c->pending_off = 0;
    c->pending_len = len - off;
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    return epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static int on_writable(int epfd, struct connection* c) {
    while (c->pending_off < c->pending_len) {
        ssize_t n = send(c->fd, c->pending + c->pending_off, c->pending_len - c->pending_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->pending_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        } else {
            return -1;
        }
    }
    free(c->pending);
    c->pending = NULL;
    c->pending_off = c->pending_len = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    return epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* One read per readiness event (level-triggered: more data re-reports the fd). Returns -1 on EOF/error. */
static int on_readable(int epfd, struct connection* c) {
    ssize_t n = recv(c->fd, g_buf, sizeof g_buf, 0);
    if (n > 0) return echo_write(epfd, c, g_buf, (size_t)n);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
    return -1;
}

static void accept_all(int epfd, int listen_fd) {
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                perror("accept4");
            return;
        }
        struct connection* c = calloc(1, sizeof *c);
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->next = g_connections;
        if (g_connections != NULL) g_connections->prev = c;
        g_connections = c;
        set_nodelay(fd);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            perror("epoll_ctl");
            close_connection(c);
        }
    }
}

static int parse_server_args(int argc, char** argv, const char** host, int* port) {
    *host = "127.0.0.1";
    *port = -1;
    for (int i = 1; i + 1 < argc; i += 2) {
        long n = 0;
        if (strcmp(argv[i], "--host") == 0) {
            *host = argv[i + 1];
        } else if (strcmp(argv[i], "--port") == 0 && parse_long_in(argv[i + 1], 0, 65535, &n) == 0) {
            *port = (int)n;
        } else {
            *port = -1;
            break;
        }
    }
    if (*port < 0 || argc % 2 == 0) {
        fprintf(stderr, "usage: %s --port P [--host 127.0.0.1]   (P = 0 picks a free port)\n", argv[0]);
        return -1;
    }
    return 0;
}

int main(int argc, char** argv) {
    const char* host;
    int port;
    if (parse_server_args(argc, argv, &host, &port) != 0) return 2;

    struct sockaddr_in sa;
    if (fill_ipv4(host, port, &sa) != 0) {
        fprintf(stderr, "not an IPv4 address: %s\n", host);
        return 2;
    }
    int listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (listen_fd < 0 || setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(listen_fd, (struct sockaddr*)&sa, sizeof sa) != 0 || listen(listen_fd, 1024) != 0) {
        perror("listen");
        return 1;
    }
    socklen_t sa_len = sizeof sa;
    getsockname(listen_fd, (struct sockaddr*)&sa, &sa_len);

    /* SIGTERM/SIGINT arrive as readable events so the loop ends between events, never inside one. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigprocmask(SIG_BLOCK, &stop_signals, NULL);
    int sig_fd = signalfd(-1, &stop_signals, SFD_NONBLOCK | SFD_CLOEXEC);

    int epfd = epoll_create1(EPOLL_CLOEXEC);
    /* The listening socket and the signalfd are told apart from connections by these two addresses. */
    static char listen_tag, signal_tag;
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &listen_tag};
    struct epoll_event sev = {.events = EPOLLIN, .data.ptr = &signal_tag};
    if (sig_fd < 0 || epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &lev) != 0 ||
        epoll_ctl(epfd, EPOLL_CTL_ADD, sig_fd, &sev) != 0) {
        perror("epoll setup");
        return 1;
    }

    printf("listening %d\n", ntohs(sa.sin_port));
    fflush(stdout);

    struct epoll_event events[kMaxEvents];
    for (;;) {
        int n = epoll_wait(epfd, events, kMaxEvents, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; ++i) {
            void* tag = events[i].data.ptr;
            if (tag == &signal_tag) {
                while (g_connections != NULL) close_connection(g_connections);
                return 0;
            }
            if (tag == &listen_tag) {
                accept_all(epfd, listen_fd);
                continue;
            }
            struct connection* c = tag;
            int rc;
            if (c->pending != NULL)
                rc = (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) ? on_writable(epfd, c) : 0;
            else
                rc = on_readable(epfd, c);
            if (rc != 0) close_connection(c);
        }
    }
}
