/* bench_http2_libcurl: the libcurl-multi peer of bench_http2_squall (issue 15, bench "http2_streams").
 *
 *   bench_http2_libcurl --url URL --streams S --connections C --duration D [--warmup W]
 *
 * GETs of URL over HTTP/2 with prior knowledge (h2c: CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, see below), multiplexed
 * (CURLMOPT_PIPELINING = CURLPIPE_MULTIPLEX): S x C easy handles on one multi handle, at most S streams
 * per connection (CURLMOPT_MAX_CONCURRENT_STREAMS) and at most C connections (CURLMOPT_MAX_HOST_CONNECTIONS),
 * each easy handle re-added when its transfer ends (CURLOPT_PIPEWAIT: it waits for a stream on an open
 * connection rather than opening one).
 * Prints req_per_s and cpu_us_per_op (CLOCK_PROCESS_CPUTIME_ID over the measured interval, after the
 * warm-up) as JSON lines of DESIGN section 8, and the connections libcurl opened on stderr (the sum of
 * CURLINFO_NUM_CONNECTS). Any transfer error, a status other than 200 or a response not over HTTP/2
 * fails the run (exit 1). Only libcurl's public API.
 */
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_PROGRAM "bench_http2_libcurl"
#include "bench/support/bench.h"
#include "bench/support/curl_easy.h"

struct Options {
    const char* url;
    long streams;
    long connections;
    double duration;
    double warmup;
};

static CURL* make_easy(const struct Options* o, uint64_t* bytes) {
    CURL* e = bench_curl_easy(o->url, bytes);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_0);
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    return e;
}

struct Tally {
    long completed;
    long connects;
};

/* Reaps finished transfers; with `again` each is re-added for its next request. */
static void check_done(CURLM* multi, struct Tally* tally, int again) {
    CURLMsg* msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL* e = msg->easy_handle;
        if (msg->data.result != CURLE_OK) die("transfer failed", curl_easy_strerror(msg->data.result));
        long code = 0, version = 0, connects = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version);
        curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
        if (code != 200) {
            char buf[32];
            snprintf(buf, sizeof buf, "%ld", code);
            die("unexpected HTTP status", buf);
        }
        if (version != CURL_HTTP_VERSION_2_0) die("response not over HTTP/2", NULL);
        ++tally->completed;
        tally->connects += connects;
        curl_multi_remove_handle(multi, e);
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_0);
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 0L);
        if (again) curl_multi_add_handle(multi, e);
    }
}

/* One curl_multi_perform, the finished transfers reaped (and re-added with `again`), then a wait for
 * activity. */
static void perform_and_check(CURLM* multi, struct Tally* tally, int again) {
    int running = 0;
    CURLMcode mc = curl_multi_perform(multi, &running);
    if (mc != CURLM_OK) die("curl_multi_perform", curl_multi_strerror(mc));
    check_done(multi, tally, again);
    mc = curl_multi_poll(multi, NULL, 0, 100, NULL);
    if (mc != CURLM_OK) die("curl_multi_poll", curl_multi_strerror(mc));
}

static void run(const struct Options* o) {
    CURLM* multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(multi, CURLMOPT_MAX_CONCURRENT_STREAMS, o->streams);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, o->connections);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, o->connections + 8);
    uint64_t bytes = 0;
    const long total = o->streams * o->connections;
    CURL** handles = calloc((size_t)total, sizeof(CURL*));
    if (!handles) die("out of memory", NULL);
    for (long i = 0; i < total; ++i) handles[i] = make_easy(o, &bytes);

    /* libcurl 7.88.1 fails a prior-knowledge request that reuses a connection ("Error in the HTTP2
     * framing layer", curl issue #10634, fixed in 7.89). So each connection is opened by one request
     * with prior knowledge and CURLOPT_FRESH_CONNECT, run alone; every other request asks for plain
     * HTTP/2 (CURL_HTTP_VERSION_2_0), which multiplexes on those connections. Were libcurl to open a
     * further one for such a request it would try an HTTP/1.1 Upgrade, which nginx's h2c listener
     * refuses, and the run would fail: never silently. The connections opened are counted. */
    struct Tally tally = {0, 0};
    for (long c = 0; c < o->connections; ++c) {
        CURL* opener = handles[c * o->streams];
        curl_easy_setopt(opener, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
        curl_easy_setopt(opener, CURLOPT_FRESH_CONNECT, 1L);
        curl_multi_add_handle(multi, opener);
        while (tally.completed < c + 1) perform_and_check(multi, &tally, 0);
    }
    for (long i = 0; i < total; ++i) curl_multi_add_handle(multi, handles[i]);

    double start = now_s(CLOCK_MONOTONIC);
    double warm_end = start + o->warmup, end = warm_end + o->duration;
    double t0 = 0, cpu0 = 0;
    long done0 = 0;
    int measuring = 0;
    for (;;) {
        perform_and_check(multi, &tally, 1);
        double t = now_s(CLOCK_MONOTONIC);
        if (!measuring && t >= warm_end) {
            measuring = 1;
            t0 = t;
            cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
            done0 = tally.completed;
        }
        if (measuring && t >= end) break;
    }
    double elapsed = now_s(CLOCK_MONOTONIC) - t0;
    double cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    long n = tally.completed - done0;
    if (n <= 0) die("no request completed in the measured interval", NULL);
    const char* fmt =
        "{\"bench\": \"http2_streams\", \"impl\": \"libcurl\", \"params\": {\"streams\": %ld, "
        "\"connections\": %ld}, \"metric\": \"%s\", \"value\": %.3f, \"unit\": \"%s\"}\n";
    printf(fmt, o->streams, o->connections, "req_per_s", (double)n / elapsed, "1/s");
    printf(fmt, o->streams, o->connections, "cpu_us_per_op", cpu * 1e6 / (double)n, "us");
    fprintf(stderr,
            "libcurl streams=%ld connections=%ld: %ld requests in %.2f s, %.0f req/s, %.2f us CPU/req, "
            "%ld connections opened\n",
            o->streams, o->connections, n, elapsed, (double)n / elapsed, cpu * 1e6 / (double)n,
            tally.connects);
    for (long i = 0; i < total; ++i) {
        curl_multi_remove_handle(multi, handles[i]);
        curl_easy_cleanup(handles[i]);
    }
    free(handles);
    curl_multi_cleanup(multi);
}

static void usage(void) {
    fprintf(stderr,
            "usage: bench_http2_libcurl --url URL [--streams S] [--connections C] [--duration D] "
            "[--warmup W]\n");
    exit(1);
}

int main(int argc, char** argv) {
    struct Options o = {NULL, 1, 1, 5.0, 1.0};
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        ++i;
        if (!strcmp(a, "--url"))
            o.url = v;
        else if (!strcmp(a, "--streams"))
            o.streams = atol(v);
        else if (!strcmp(a, "--connections"))
            o.connections = atol(v);
        else if (!strcmp(a, "--duration"))
            o.duration = atof(v);
        else if (!strcmp(a, "--warmup"))
            o.warmup = atof(v);
        else
            usage();
    }
    if (!o.url || o.streams < 1 || o.connections < 1 || o.duration <= 0 || o.warmup < 0) usage();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) die("curl_global_init failed", NULL);
    run(&o);
    curl_global_cleanup();
    return 0;
}
