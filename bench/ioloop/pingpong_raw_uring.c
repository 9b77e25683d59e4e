/* bench_pingpong_raw_uring: the ping-pong client on a plain liburing loop, the practical limit for squall's
 * io_uring backend.
 *
 * N connections (TCP_NODELAY); each sends a `size`-byte message, waits until the whole echo is back, then
 * sends the next. Each message's send and the recv for its echo are queued together (the recv parks in
 * the kernel until data arrives), so a round trip costs one ring iteration. Every loop iteration is one
 * io_uring_submit_and_wait(ring, 1) followed by a drain of all completions; new requests queued while
 * draining go out with the next iteration's submit. Short sends and short receives re-queue the rest.
 *
 * The ring asks for IORING_SETUP_SINGLE_ISSUER | COOP_TASKRUN | DEFER_TASKRUN and drops flags the kernel
 * refuses; the ring fd is registered when the kernel allows it. When the kernel has IORING_FEAT_CQE_SKIP,
 * sends carry IOSQE_CQE_SKIP_SUCCESS (+ MSG_WAITALL): a successful send posts no completion, so with one
 * connection the ring is entered once per round trip instead of twice (the send's completion would
 * otherwise end the wait before the echo arrives). BENCH_URING_SEND_CQE=1 in the environment posts every
 * send's completion instead, to show what that costs. BENCH_URING_MULTISHOT=1 replaces the per-message
 * recv with one multishot recv per connection into a provided-buffer ring (each echo copied out of its
 * buffer, as a stream's read would): it measured 2-4% less CPU per round trip at c=64 here, while the same
 * scheme inside squall's loop cost 7% more than its plain recvs there (which mostly find the echo already
 * queued when they are submitted). stderr says which of these are in force.
 * Results as in bench_pingpong_raw_epoll.
 *
 *   bench_pingpong_raw_uring --host 127.0.0.1 --port 9000 --connections 64 --duration 5 --size 64
 */
#include <liburing.h>

#include "common.h"

struct connection {
    int fd;
    int sent;     /* bytes of the current message the kernel has taken */
    int received; /* bytes of its echo read */
    char* recv_buf;
};

enum op { OP_SEND = 0, OP_RECV = 1 };

static struct io_uring g_ring;
static struct connection* g_conns;
static const char* g_message;
static int g_size;
static uint64_t g_round_trips;
static int g_skip_send_cqe; /* successful sends post no completion (IORING_FEAT_CQE_SKIP) */

/* BENCH_URING_MULTISHOT=1: one multishot recv per connection, into buffers of a provided-buffer ring. */
enum { kBufGroup = 0, kBufSize = 4096 };
static int g_multishot;
static struct io_uring_buf_ring* g_buf_ring;
static char* g_bufs;
static unsigned g_buf_entries;

/* The ring is sized so the queue never fills in steady state; if it does, flushing it early is correct. */
static struct io_uring_sqe* next_sqe(void) {
    struct io_uring_sqe* sqe = io_uring_get_sqe(&g_ring);
    if (sqe == NULL) {
        io_uring_submit(&g_ring);
        sqe = io_uring_get_sqe(&g_ring);
    }
    return sqe;
}

static void tag(struct io_uring_sqe* sqe, int conn_index, enum op op) {
    io_uring_sqe_set_data64(sqe, ((uint64_t)conn_index << 1) | (uint64_t)op);
}

static int queue_send(int i) {
    struct io_uring_sqe* sqe = next_sqe();
    if (sqe == NULL) return -1;
    struct connection* c = &g_conns[i];
    if (g_skip_send_cqe) {
        /* MSG_WAITALL makes the kernel retry a short send itself; one that still ends short is marked
         * failed, so it posts a completion and on_completion queues the rest. */
        io_uring_prep_send(sqe, c->fd, g_message + c->sent, (size_t)(g_size - c->sent),
                           MSG_NOSIGNAL | MSG_WAITALL);
        io_uring_sqe_set_flags(sqe, IOSQE_CQE_SKIP_SUCCESS);
    } else {
        io_uring_prep_send(sqe, c->fd, g_message + c->sent, (size_t)(g_size - c->sent), MSG_NOSIGNAL);
    }
    tag(sqe, i, OP_SEND);
    return 0;
}

static int queue_recv(int i) {
    struct io_uring_sqe* sqe = next_sqe();
    if (sqe == NULL) return -1;
    struct connection* c = &g_conns[i];
    if (g_multishot) {
        io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = kBufGroup;
    } else {
        io_uring_prep_recv(sqe, c->fd, c->recv_buf + c->received, (size_t)(g_size - c->received), 0);
    }
    tag(sqe, i, OP_RECV);
    return 0;
}

/* Hands buffer `bid` back to the kernel. */
static void recycle_buffer(unsigned bid) {
    io_uring_buf_ring_add(g_buf_ring, g_bufs + (size_t)bid * kBufSize, kBufSize, (unsigned short)bid,
                          io_uring_buf_ring_mask(g_buf_entries), 0);
    io_uring_buf_ring_advance(g_buf_ring, 1);
}

static int setup_buffers(unsigned entries) {
    g_buf_entries = entries;
    size_t ring_bytes = entries * sizeof(struct io_uring_buf);
    if (posix_memalign((void**)&g_buf_ring, 4096, ring_bytes) != 0) return -1;
    g_bufs = malloc((size_t)entries * kBufSize);
    if (g_bufs == NULL) return -1;
    io_uring_buf_ring_init(g_buf_ring);
    struct io_uring_buf_reg reg;
    memset(&reg, 0, sizeof reg);
    reg.ring_addr = (uint64_t)(uintptr_t)g_buf_ring;
    reg.ring_entries = entries;
    reg.bgid = kBufGroup;
    int rc = io_uring_register_buf_ring(&g_ring, &reg, 0);
    if (rc != 0) return rc;
    for (unsigned b = 0; b < entries; ++b)
        io_uring_buf_ring_add(g_buf_ring, g_bufs + (size_t)b * kBufSize, kBufSize, (unsigned short)b,
                              io_uring_buf_ring_mask(entries), (int)b);
    io_uring_buf_ring_advance(g_buf_ring, (int)entries);
    return 0;
}

/* A multishot recv's completion: bytes in a provided buffer (copied out, as a stream would), or its end. */
static int on_multishot_recv(int i, const struct io_uring_cqe* cqe) {
    struct connection* c = &g_conns[i];
    int more = (cqe->flags & IORING_CQE_F_MORE) != 0;
    if (cqe->res == -ENOBUFS) return queue_recv(i);
    if (cqe->res <= 0) {
        fprintf(stderr, "multishot recv failed or connection closed by the server: %s\n",
                cqe->res < 0 ? strerror(-cqe->res) : "EOF");
        return -1;
    }
    unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    memcpy(c->recv_buf + c->received, g_bufs + (size_t)bid * kBufSize, (size_t)cqe->res);
    recycle_buffer(bid);
    c->received += cqe->res;
    if (!more && queue_recv(i) != 0) return -1;
    if (c->received < g_size) return 0;
    ++g_round_trips;
    c->sent = c->received = 0;
    return queue_send(i);
}

static int on_completion(const struct io_uring_cqe* cqe) {
    uint64_t data = io_uring_cqe_get_data64(cqe);
    int i = (int)(data >> 1);
    struct connection* c = &g_conns[i];
    if (g_multishot && (data & 1) == OP_RECV) return on_multishot_recv(i, cqe);
    if (cqe->res <= 0) {
        fprintf(stderr, "%s failed or connection closed by the server: %s\n",
                (data & 1) == OP_SEND ? "send" : "recv", cqe->res < 0 ? strerror(-cqe->res) : "EOF");
        return -1;
    }
    if ((data & 1) == OP_SEND) {
        c->sent += cqe->res;
        return c->sent < g_size ? queue_send(i) : 0;
    }
    c->received += cqe->res;
    if (c->received < g_size) return queue_recv(i);
    /* The echo is complete, so (echo bytes <= sent bytes) the whole message was sent too. */
    ++g_round_trips;
    c->sent = c->received = 0;
    if (queue_send(i) != 0) return -1;
    return queue_recv(i);
}

/* Tries the newest flags first and drops what the kernel refuses (EINVAL). DEFER_TASKRUN needs
 * SINGLE_ISSUER. Returns the accepted flags, or -errno when even a plain ring fails. */
static long setup_ring(unsigned entries, unsigned* features) {
    static const unsigned kCandidates[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
        IORING_SETUP_COOP_TASKRUN,
        0,
    };
    int rc = -EINVAL;
    for (size_t k = 0; k < sizeof kCandidates / sizeof kCandidates[0]; ++k) {
        struct io_uring_params p;
        memset(&p, 0, sizeof p);
        p.flags = kCandidates[k];
        rc = io_uring_queue_init_params(entries, &g_ring, &p);
        if (rc == 0) {
            *features = p.features;
            return (long)kCandidates[k];
        }
        if (rc != -EINVAL) break;
    }
    return rc;
}

static void describe_flags(unsigned flags, int ring_fd_registered) {
    fprintf(stderr, "raw-uring: setup flags%s%s%s%s; ring fd %sregistered; send completions %s; recv %s\n",
            flags & IORING_SETUP_SINGLE_ISSUER ? " SINGLE_ISSUER" : "",
            flags & IORING_SETUP_COOP_TASKRUN ? " COOP_TASKRUN" : "",
            flags & IORING_SETUP_DEFER_TASKRUN ? " DEFER_TASKRUN" : "", flags == 0 ? " (none)" : "",
            ring_fd_registered ? "" : "not ", g_skip_send_cqe ? "skipped on success" : "posted",
            g_multishot ? "multishot into a provided-buffer ring" : "one request per read");
}

int main(int argc, char** argv) {
    struct pingpong_args args;
    if (parse_pingpong_args(argc, argv, &args) != 0) return 2;
    g_size = args.size;
    g_message = make_message(args.size);
    g_conns = calloc((size_t)args.connections, sizeof *g_conns);
    if (g_message == NULL || g_conns == NULL) {
        perror("setup");
        return 1;
    }

    /* At most one send and one recv in flight per connection. */
    unsigned entries = 8;
    while (entries < 2u * (unsigned)args.connections) entries *= 2;
    unsigned features = 0;
    long flags = setup_ring(entries, &features);
    if (flags < 0) {
        fprintf(stderr, "io_uring_queue_init: %s\n", strerror((int)-flags));
        return 1;
    }
    int registered = io_uring_register_ring_fd(&g_ring) == 1;
    const char* post_sends = getenv("BENCH_URING_SEND_CQE");
    g_skip_send_cqe = (features & IORING_FEAT_CQE_SKIP) != 0 && !(post_sends && strcmp(post_sends, "1") == 0);
    const char* multishot = getenv("BENCH_URING_MULTISHOT");
    g_multishot = multishot && strcmp(multishot, "1") == 0;
    if (g_multishot) {
        unsigned buf_entries = 64;
        while (buf_entries < 2u * (unsigned)args.connections) buf_entries *= 2;
        int rc = setup_buffers(buf_entries);
        if (rc != 0) {
            fprintf(stderr, "provided buffer ring: %s\n", strerror(rc < 0 ? -rc : ENOMEM));
            return 1;
        }
    }
    describe_flags((unsigned)flags, registered);

    for (int i = 0; i < args.connections; ++i) {
        g_conns[i].fd = connect_nodelay_nonblocking(args.host, args.port);
        g_conns[i].recv_buf = malloc((size_t)args.size);
        if (g_conns[i].fd < 0 || g_conns[i].recv_buf == NULL) {
            perror("connect");
            return 1;
        }
    }

    struct phase_clock clock;
    pingpong_clock_start(&clock, &args);
    for (int i = 0; i < args.connections; ++i) {
        if (queue_send(i) != 0 || queue_recv(i) != 0) {
            fprintf(stderr, "submission queue full\n");
            return 1;
        }
    }

    while (phase_clock_tick(&clock, g_round_trips) != PHASE_DONE) {
        int rc = io_uring_submit_and_wait(&g_ring, 1);
        if (rc < 0 && rc != -EINTR) {
            fprintf(stderr, "io_uring_submit_and_wait: %s\n", strerror(-rc));
            return 1;
        }
        unsigned head, seen = 0;
        struct io_uring_cqe* cqe;
        io_uring_for_each_cqe(&g_ring, head, cqe) {
            if (on_completion(cqe) != 0) return 1;
            ++seen;
        }
        io_uring_cq_advance(&g_ring, seen);
    }
    print_pingpong_results("raw-uring", &args, &clock);
    io_uring_queue_exit(&g_ring); /* cancels the receives still parked in the kernel */
    for (int i = 0; i < args.connections; ++i) {
        close(g_conns[i].fd);
        free(g_conns[i].recv_buf);
    }
    free(g_conns);
    free((char*)g_message);
    free(g_buf_ring);
    free(g_bufs);
    return 0;
}
