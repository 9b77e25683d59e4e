/* bench_pingpong_libuv: the ping-pong client on libuv's public API, the peer squall compares itself with.
 *
 * N uv_tcp_t connections (uv_tcp_nodelay); each uv_write()s a `size`-byte message and reads (uv_read_start
 * stays on for the whole run, into a per-connection buffer) until the whole echo is back, then writes the
 * next. The phase clock (warmup, measured interval) is checked once per loop iteration from a uv_check
 * handle, and the loop is stopped with uv_stop when the interval ends. Results as in
 * bench_pingpong_raw_epoll.
 *
 *   bench_pingpong_libuv --host 127.0.0.1 --port 9000 --connections 1 --duration 5 --size 64
 */
#include <uv.h>

#include "common.h"

struct connection {
    uv_tcp_t tcp; /* first member: a uv_stream_t* of this handle is also a struct connection* */
    uv_write_t write_req;
    uv_connect_t connect_req;
    int received;
    int write_in_flight; /* write_req is busy until on_write runs */
    int echo_done_early; /* the echo completed before on_write ran: send from on_write */
    char* recv_buf;
};

static uv_loop_t* g_loop;
static char* g_message;
static int g_size;
static uint64_t g_round_trips;
static int g_connected;
static struct phase_clock g_clock;

static void fail(const char* what, int status) {
    fprintf(stderr, "%s: %s\n", what, uv_strerror(status));
    exit(1);
}

static void send_message(struct connection* c);

static void on_write(uv_write_t* req, int status) {
    if (status < 0) fail("uv_write", status);
    struct connection* c = req->data;
    c->write_in_flight = 0;
    if (c->echo_done_early) {
        c->echo_done_early = 0;
        send_message(c);
    }
}

static void send_message(struct connection* c) {
    /* libuv runs write callbacks in the next iteration's pending phase, so in practice that precedes the
     * echo; but the request may be reused only after its callback. */
    if (c->write_in_flight) {
        c->echo_done_early = 1;
        return;
    }
    c->write_in_flight = 1;
    c->write_req.data = c;
    uv_buf_t buf = uv_buf_init(g_message, (unsigned)g_size);
    int rc = uv_write(&c->write_req, (uv_stream_t*)&c->tcp, &buf, 1, on_write);
    if (rc < 0) fail("uv_write", rc);
}

/* Hands libuv exactly the missing part of the echo, so a read never takes bytes of the next message. */
static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
    (void)suggested;
    struct connection* c = (struct connection*)handle;
    *buf = uv_buf_init(c->recv_buf + c->received, (unsigned)(g_size - c->received));
}

static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    (void)buf;
    struct connection* c = (struct connection*)stream;
    if (nread == 0) return; /* EAGAIN */
    if (nread < 0) fail("read (server closed the connection?)", (int)nread);
    c->received += (int)nread;
    if (c->received < g_size) return;
    ++g_round_trips;
    c->received = 0;
    send_message(c);
}

static void on_connect(uv_connect_t* req, int status) {
    if (status < 0) fail("uv_tcp_connect", status);
    struct connection* c = req->data;
    int rc = uv_read_start((uv_stream_t*)&c->tcp, on_alloc, on_read);
    if (rc < 0) fail("uv_read_start", rc);
    ++g_connected;
}

static void on_check(uv_check_t* check) {
    if (phase_clock_tick(&g_clock, g_round_trips) == PHASE_DONE) {
        uv_check_stop(check);
        uv_stop(g_loop);
    }
}

int main(int argc, char** argv) {
    struct pingpong_args args;
    if (parse_pingpong_args(argc, argv, &args) != 0) return 2;
    g_size = args.size;
    g_message = make_message(args.size);
    struct connection* conns = calloc((size_t)args.connections, sizeof *conns);
    if (g_message == NULL || conns == NULL) {
        perror("setup");
        return 1;
    }
    g_loop = uv_default_loop();

    struct sockaddr_in sa;
    int rc = uv_ip4_addr(args.host, args.port, &sa);
    if (rc < 0) fail("uv_ip4_addr", rc);
    for (int i = 0; i < args.connections; ++i) {
        struct connection* c = &conns[i];
        c->recv_buf = malloc((size_t)args.size);
        if (c->recv_buf == NULL) fail("malloc", UV_ENOMEM);
        uv_tcp_init(g_loop, &c->tcp);
        if ((rc = uv_tcp_nodelay(&c->tcp, 1)) < 0) fail("uv_tcp_nodelay", rc);
        c->connect_req.data = c;
        rc = uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr*)&sa, on_connect);
        if (rc < 0) fail("uv_tcp_connect", rc);
    }
    /* Connecting is set-up: finish it before the clock starts. */
    while (g_connected < args.connections) uv_run(g_loop, UV_RUN_ONCE);

    uv_check_t check;
    uv_check_init(g_loop, &check);
    uv_check_start(&check, on_check);

    pingpong_clock_start(&g_clock, &args);
    for (int i = 0; i < args.connections; ++i) send_message(&conns[i]);
    uv_run(g_loop, UV_RUN_DEFAULT);
    if (g_clock.phase != PHASE_DONE) {
        fprintf(stderr, "loop ended before the measured interval did\n");
        return 1;
    }
    print_pingpong_results("libuv", &args, &g_clock);
    return 0;
}
