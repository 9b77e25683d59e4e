/* bench_amqp_librabbitmq: the librabbitmq (rabbitmq-c 0.11, public API) peer of the amqp benchmark
 * (bench/README.md, "amqp").
 *
 *   bench_amqp_librabbitmq --url amqp://guest:guest@127.0.0.1:5690/ --workload publish|confirm|consume
 *                          --messages M [--size 100]      (--count is a synonym of --messages)
 *
 * publish: M basic.publish of `size`-byte bodies to a fresh queue through the default exchange, no
 *   confirms; the clock stops when a passive queue.declare on a second channel reports M messages (polled
 *   every millisecond once everything is written).
 * confirm: the same in confirm mode with at most 1,000 unconfirmed messages in flight; the clock stops at
 *   the last confirm.
 * consume: M messages are published first (not measured); then basic.qos(prefetch 1,000), basic.consume
 *   with manual acks, one basic.ack per message; the clock stops after the M-th ack is sent.
 * Prints msgs_per_s and cpu_us_per_op (CLOCK_PROCESS_CPUTIME_ID over the measured interval), bench
 * "amqp_<workload>", impl "librabbitmq". Any error exits 1 with a message. */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BENCH_PROGRAM "bench_amqp_librabbitmq"
#include "bench/amqp/amqp_args.h"
#include "bench/support/bench.h"

enum { kWindow = 1000, kPrefetch = 1000 };

static void check_rpc(amqp_rpc_reply_t r, const char* doing) {
    char msg[256];
    switch (r.reply_type) {
        case AMQP_RESPONSE_NORMAL:
            return;
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            snprintf(msg, sizeof msg, "%s: %s", doing, amqp_error_string2(r.library_error));
            break;
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            snprintf(msg, sizeof msg, "%s: server closed (method 0x%08x)", doing, r.reply.id);
            break;
        default:
            snprintf(msg, sizeof msg, "%s: no reply", doing);
    }
    die(msg, NULL);
}

static void check_status(int status, const char* doing) {
    char msg[256];
    if (status >= 0) return;
    snprintf(msg, sizeof msg, "%s: %s", doing, amqp_error_string2(status));
    die(msg, NULL);
}

static amqp_connection_state_t connect_to(const char* url) {
    struct amqp_connection_info info;
    char* copy = strdup(url);
    if (amqp_parse_url(copy, &info) != AMQP_STATUS_OK) die("cannot parse --url", NULL);
    /* amqp_parse_url reads "amqp://host:port/" as the empty vhost; the harness (and squall) mean "/". */
    if (info.vhost[0] == '\0') info.vhost = "/";
    amqp_connection_state_t conn = amqp_new_connection();
    amqp_socket_t* sock = amqp_tcp_socket_new(conn);
    if (!sock) die("amqp_tcp_socket_new failed", NULL);
    check_status(amqp_socket_open(sock, info.host, info.port), "connect");
    check_rpc(amqp_login(conn, info.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, info.user, info.password),
              "login");
    amqp_channel_open(conn, 1);
    check_rpc(amqp_get_rpc_reply(conn), "channel.open 1");
    amqp_channel_open(conn, 2);
    check_rpc(amqp_get_rpc_reply(conn), "channel.open 2");
    free(copy);
    return conn;
}

static uint32_t queue_depth(amqp_connection_state_t conn, amqp_bytes_t queue) {
    amqp_queue_declare_ok_t* ok = amqp_queue_declare(conn, 2, queue, 1, 0, 0, 0, amqp_empty_table);
    check_rpc(amqp_get_rpc_reply(conn), "passive queue.declare");
    return ok->message_count;
}

static void publish_all(amqp_connection_state_t conn, amqp_bytes_t queue, amqp_bytes_t body, long n) {
    for (long i = 0; i < n; ++i)
        check_status(amqp_basic_publish(conn, 1, amqp_empty_bytes, queue, 0, 0, NULL, body), "basic.publish");
}

static void wait_depth(amqp_connection_state_t conn, amqp_bytes_t queue, long n) {
    while ((long)queue_depth(conn, queue) < n) usleep(1000);
}

/* Reads one frame on channel 1 and applies a basic.ack (multiple or not) to `confirmed`. */
static void read_confirm(amqp_connection_state_t conn, long* confirmed, char* acked, long n) {
    amqp_frame_t frame;
    check_status(amqp_simple_wait_frame(conn, &frame), "waiting for confirms");
    if (frame.frame_type != AMQP_FRAME_METHOD) die("unexpected frame while waiting for confirms", NULL);
    if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) die("the broker nacked a message", NULL);
    if (frame.payload.method.id != AMQP_BASIC_ACK_METHOD)
        die("unexpected method while waiting for confirms", NULL);
    amqp_basic_ack_t* ack = frame.payload.method.decoded;
    long tag = (long)ack->delivery_tag;
    if (tag < 1 || tag > n) die("confirm for an unknown delivery tag", NULL);
    if (ack->multiple) {
        for (long t = *confirmed + 1; t <= tag; ++t) acked[t] = 1;
    } else {
        acked[tag] = 1;
    }
    while (*confirmed < n && acked[*confirmed + 1]) ++*confirmed;
}

int main(int argc, char** argv) {
    const struct amqp_bench_args args = parse_amqp_bench_args(
        argc, argv, "usage: --url U --workload publish|confirm|consume --messages M --size S");
    const char *url = args.url, *workload = args.workload;
    const long messages = args.messages, size = args.size;
    int publish = !strcmp(workload, "publish"), confirm = !strcmp(workload, "confirm"),
        consume = !strcmp(workload, "consume");
    if (!publish && !confirm && !consume) die("--workload must be publish, confirm or consume", NULL);

    amqp_connection_state_t conn = connect_to(url);
    char qname[64];
    snprintf(qname, sizeof qname, "bench-librabbitmq-%d", (int)getpid());
    amqp_bytes_t queue = amqp_cstring_bytes(qname);
    amqp_queue_declare(conn, 1, queue, 0, 0, 0, 0, amqp_empty_table);
    check_rpc(amqp_get_rpc_reply(conn), "queue.declare");
    char* payload = malloc((size_t)size + 1);
    memset(payload, 'x', (size_t)size);
    amqp_bytes_t body = {(size_t)size, payload};

    double t0 = 0, cpu0 = 0;
    if (publish) {
        t0 = now_s(CLOCK_MONOTONIC);
        cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
        publish_all(conn, queue, body, messages);
        wait_depth(conn, queue, messages);
    } else if (confirm) {
        amqp_confirm_select(conn, 1);
        check_rpc(amqp_get_rpc_reply(conn), "confirm.select");
        char* acked = calloc((size_t)messages + 2, 1);
        long confirmed = 0;
        t0 = now_s(CLOCK_MONOTONIC);
        cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
        for (long i = 1; i <= messages; ++i) {
            while (i - 1 - confirmed >= kWindow) {
                read_confirm(conn, &confirmed, acked, messages);
                /* Take every confirm already received before publishing again. */
                while (amqp_data_in_buffer(conn) || amqp_frames_enqueued(conn))
                    read_confirm(conn, &confirmed, acked, messages);
            }
            check_status(amqp_basic_publish(conn, 1, amqp_empty_bytes, queue, 0, 0, NULL, body),
                         "basic.publish");
        }
        while (confirmed < messages) read_confirm(conn, &confirmed, acked, messages);
        free(acked);
    } else {
        publish_all(conn, queue, body, messages);
        wait_depth(conn, queue, messages);
        amqp_basic_qos(conn, 1, 0, kPrefetch, 0);
        check_rpc(amqp_get_rpc_reply(conn), "basic.qos");
        t0 = now_s(CLOCK_MONOTONIC);
        cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
        amqp_basic_consume(conn, 1, queue, amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
        check_rpc(amqp_get_rpc_reply(conn), "basic.consume");
        for (long got = 0; got < messages; ++got) {
            amqp_envelope_t env;
            amqp_maybe_release_buffers(conn);
            check_rpc(amqp_consume_message(conn, &env, NULL, 0), "consuming");
            if ((long)env.message.body.len != size) die("a delivered body has the wrong size", NULL);
            check_status(amqp_basic_ack(conn, 1, env.delivery_tag, 0), "basic.ack");
            amqp_destroy_envelope(&env);
        }
    }
    double elapsed = now_s(CLOCK_MONOTONIC) - t0;
    double cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;

    const char* fmt =
        "{\"bench\": \"amqp_%s\", \"impl\": \"librabbitmq\", \"params\": {\"workload\": \"%s\", "
        "\"messages\": %ld, \"size\": %ld}, \"metric\": \"%s\", \"value\": %.3f, \"unit\": \"%s\"}\n";
    printf(fmt, workload, workload, messages, size, "msgs_per_s", (double)messages / elapsed, "1/s");
    printf(fmt, workload, workload, messages, size, "cpu_us_per_op", cpu * 1e6 / (double)messages, "us");
    fprintf(stderr, "librabbitmq %s: %ld messages in %.3f s, %.0f msgs/s, %.3f us CPU/msg\n", workload,
            messages, elapsed, (double)messages / elapsed, cpu * 1e6 / (double)messages);

    amqp_queue_delete(conn, 2, queue, 0, 0);
    check_rpc(amqp_get_rpc_reply(conn), "queue.delete");
    amqp_channel_close(conn, 2, AMQP_REPLY_SUCCESS);
    amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
    free(payload);
    return 0;
}
