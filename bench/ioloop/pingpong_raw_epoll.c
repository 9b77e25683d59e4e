/* bench_pingpong_raw_epoll: the ping-pong client on a plain epoll loop, the practical limit for squall's
 * epoll backend.
 *
 * N connections (TCP_NODELAY); each sends a `size`-byte message, waits until the whole echo is back, then
 * sends the next. Level-triggered epoll, one recv per readiness event, the next message sent inline from
 * the read handler (it normally leaves in one send; a short send waits for EPOLLOUT). A round trip counts
 * when its last echoed byte is read. Results: round trips/s over the measured interval after the warmup,
 * and the process's CPU (CLOCK_PROCESS_CPUTIME_ID) per round trip over the same interval.
 *
 *   bench_pingpong_raw_epoll --host 127.0.0.1 --port 9000 --connections 64 --duration 5 --size 64
 */
#include <sys/epoll.h>

#include "common.h"

struct connection {
    int fd;
    int sent;     /* bytes of the current message written */
    int received; /* bytes of its echo read */
};

static const char* g_message;
static int g_size;
static char* g_recv_buf;
static uint64_t g_round_trips;

/* Writes what is left of the current message; waits for EPOLLOUT if the socket is full. */
static int send_rest(int epfd, struct connection* c) {
    while (c->sent < g_size) {
        ssize_t n = send(c->fd, g_message + c->sent, (size_t)(g_size - c->sent), MSG_NOSIGNAL);
        if (n > 0) {
            c->sent += (int)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
            return epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        } else {
            return -1;
        }
    }
    return 0;
}

static int on_event(int epfd, struct connection* c, uint32_t events) {
    if ((events & EPOLLOUT) && c->sent < g_size) {
        if (send_rest(epfd, c) != 0) return -1;
        if (c->sent == g_size) {
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
            if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) return -1;
        }
    }
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP))) return 0;
    /* An echo never exceeds what was sent, so reading at most the missing bytes keeps messages apart. */
    ssize_t n = recv(c->fd, g_recv_buf, (size_t)(g_size - c->received), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
    if (n == 0) errno = ECONNRESET; /* EOF mid-run: the server went away */
    if (n <= 0) return -1;
    c->received += (int)n;
    if (c->received < g_size) return 0;
    ++g_round_trips;
    c->sent = c->received = 0;
    return send_rest(epfd, c);
}

int main(int argc, char** argv) {
    struct pingpong_args args;
    if (parse_pingpong_args(argc, argv, &args) != 0) return 2;
    g_size = args.size;
    g_message = make_message(args.size);
    g_recv_buf = malloc((size_t)args.size);
    struct connection* conns = calloc((size_t)args.connections, sizeof *conns);
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (g_message == NULL || g_recv_buf == NULL || conns == NULL || epfd < 0) {
        perror("setup");
        return 1;
    }
    for (int i = 0; i < args.connections; ++i) {
        conns[i].fd = connect_nodelay_nonblocking(args.host, args.port);
        if (conns[i].fd < 0) {
            perror("connect");
            return 1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, conns[i].fd, &ev) != 0) {
            perror("epoll_ctl");
            return 1;
        }
    }

    struct phase_clock clock;
    pingpong_clock_start(&clock, &args);
    for (int i = 0; i < args.connections; ++i) {
        if (send_rest(epfd, &conns[i]) != 0) {
            perror("send");
            return 1;
        }
    }

    enum { kMaxEvents = 256 };
    struct epoll_event events[kMaxEvents];
    while (phase_clock_tick(&clock, g_round_trips) != PHASE_DONE) {
        int n = epoll_wait(epfd, events, kMaxEvents, -1);
        if (n < 0 && errno != EINTR) {
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; ++i) {
            if (on_event(epfd, events[i].data.ptr, events[i].events) != 0) {
                fprintf(stderr, "connection failed or closed by the server: %s\n", strerror(errno));
                return 1;
            }
        }
    }
    print_pingpong_results("raw-epoll", &args, &clock);
    for (int i = 0; i < args.connections; ++i) close(conns[i].fd);
    free(conns);
    free(g_recv_buf);
    free((char*)g_message);
    close(epfd);
    return 0;
}
