/* bench_http_libcurl: the libcurl-multi peer of bench_http_squall (bench/README.md, "http").
 *
 *   bench_http_libcurl --url URL --connections N --duration S [--warmup S]
 *       keep-alive GETs of URL, N transfers in flight on one multi handle (each easy handle is re-added
 *       when its transfer ends, so it reuses its connection from the multi's cache): req_per_s and
 *       cpu_us_per_op (CLOCK_PROCESS_CPUTIME_ID over the measured interval), bench "http_keepalive".
 *   bench_http_libcurl --body --url URL [--buffer-size B] [--repeat N]
 *       N GETs (default 1) of a large body over a warmed-up connection, measured together: mb_per_s (10^6 B/s), cpu_ms_per_gb and
 *       recv_buffer_bytes (CURLOPT_BUFFERSIZE, default 512 KiB: libcurl's 16 KiB default caps it near
 *       1.65 GB/s on loopback), bench "http_body", params {"path": PATH}.
 *
 * Only libcurl's public API. Any transfer error or a status other than 200 fails the run (exit 1).
 */
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_PROGRAM "bench_http_libcurl"
#include "bench/support/bench.h"
#include "bench/support/curl_easy.h"

struct Options {
    const char* url;
    long connections;
    double duration;
    double warmup;
    int body;
    long buffer_size;
    long repeat;
};

static CURL* make_easy(const struct Options* o, uint64_t* bytes) {
    CURL* e = bench_curl_easy(o->url, bytes);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, o->buffer_size);
    return e;
}

static void check_done(CURLM* multi, long* completed) {
    CURLMsg* msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL* e = msg->easy_handle;
        if (msg->data.result != CURLE_OK) die("transfer failed", curl_easy_strerror(msg->data.result));
        long code = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
        if (code != 200) {
            char buf[32];
            snprintf(buf, sizeof buf, "%ld", code);
            die("unexpected HTTP status", buf);
        }
        ++*completed;
        curl_multi_remove_handle(multi, e);
        curl_multi_add_handle(multi, e); /* next request; the connection comes from the multi's cache */
    }
}

static void run_keepalive(const struct Options* o) {
    CURLM* multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, o->connections + 8);
    uint64_t bytes = 0;
    CURL** handles = calloc((size_t)o->connections, sizeof(CURL*));
    for (long i = 0; i < o->connections; ++i) {
        handles[i] = make_easy(o, &bytes);
        curl_multi_add_handle(multi, handles[i]);
    }
    long completed = 0;
    int running = 0;
    struct BenchWindow w = bench_window(o->warmup, o->duration);
    for (;;) {
        CURLMcode mc = curl_multi_perform(multi, &running);
        if (mc != CURLM_OK) die("curl_multi_perform", curl_multi_strerror(mc));
        check_done(multi, &completed);
        if (bench_window_tick(&w, (uint64_t)completed)) break;
        mc = curl_multi_poll(multi, NULL, 0, 100, NULL);
        if (mc != CURLM_OK) die("curl_multi_poll", curl_multi_strerror(mc));
    }
    const double n = (double)w.ops;
    char params[64];
    snprintf(params, sizeof params, "{\"connections\": %ld}", o->connections);
    bench_result("http_keepalive", "libcurl", params, "req_per_s", n / w.elapsed, "1/s");
    bench_result("http_keepalive", "libcurl", params, "cpu_us_per_op", w.cpu * 1e6 / n, "us");
    fprintf(stderr, "libcurl c=%ld: %.0f requests in %.2f s, %.0f req/s, %.2f us CPU/request\n",
            o->connections, n, w.elapsed, n / w.elapsed, w.cpu * 1e6 / n);
    for (long i = 0; i < o->connections; ++i) {
        curl_multi_remove_handle(multi, handles[i]);
        curl_easy_cleanup(handles[i]);
    }
    free(handles);
    curl_multi_cleanup(multi);
}

static const char* url_path(const char* url) {
    const char* p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    return p ? p : "/";
}

static void run_body(const struct Options* o) {
    uint64_t bytes = 0;
    CURL* e = make_easy(o, &bytes);
    /* Warm-up: open the connection with a HEAD of the same URL (not measured). */
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    CURLcode rc = curl_easy_perform(e);
    if (rc != CURLE_OK) die("warm-up request failed", curl_easy_strerror(rc));
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    bytes = 0;
    double t0 = now_s(CLOCK_MONOTONIC), cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; i < o->repeat; ++i) {
        rc = curl_easy_perform(e);
        if (rc != CURLE_OK) die("transfer failed", curl_easy_strerror(rc));
        long code = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
        if (code != 200) die("unexpected HTTP status", NULL);
    }
    double elapsed = now_s(CLOCK_MONOTONIC) - t0, cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    if (bytes == 0) die("empty body", NULL);
    const char* path = url_path(o->url);
    printf(
        "{\"bench\": \"http_body\", \"impl\": \"libcurl\", \"params\": {\"path\": \"%s\"}, \"metric\": "
        "\"mb_per_s\", \"value\": %.1f, \"unit\": \"MB/s\"}\n",
        path, (double)bytes / elapsed / 1e6);
    printf(
        "{\"bench\": \"http_body\", \"impl\": \"libcurl\", \"params\": {\"path\": \"%s\"}, \"metric\": "
        "\"cpu_ms_per_gb\", \"value\": %.2f, \"unit\": \"ms\"}\n",
        path, cpu * 1e3 / ((double)bytes / 1e9));
    printf(
        "{\"bench\": \"http_body\", \"impl\": \"libcurl\", \"params\": {\"path\": \"%s\"}, \"metric\": "
        "\"recv_buffer_bytes\", \"value\": %ld, \"unit\": \"B\"}\n",
        path, o->buffer_size);
    fprintf(stderr, "libcurl %s: %llu bytes in %.3f s, %.0f MB/s (CURLOPT_BUFFERSIZE %ld)\n", path,
            (unsigned long long)bytes, elapsed, (double)bytes / elapsed / 1e6, o->buffer_size);
    curl_easy_cleanup(e);
}

static void usage(void) {
    fprintf(stderr,
            "usage: bench_http_libcurl --url URL [--connections N] [--duration S] [--warmup S]\n"
            "       bench_http_libcurl --body --url URL [--buffer-size BYTES] [--repeat N]\n");
    exit(1);
}

int main(int argc, char** argv) {
    struct Options o = {NULL, 1, 5.0, 1.0, 0, 512 * 1024, 1};
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--body")) {
            o.body = 1;
            continue;
        }
        if (!v) usage();
        ++i;
        if (!strcmp(a, "--url"))
            o.url = v;
        else if (!strcmp(a, "--connections"))
            o.connections = atol(v);
        else if (!strcmp(a, "--duration"))
            o.duration = atof(v);
        else if (!strcmp(a, "--warmup"))
            o.warmup = atof(v);
        else if (!strcmp(a, "--buffer-size"))
            o.buffer_size = atol(v);
        else if (!strcmp(a, "--repeat"))
            o.repeat = atol(v);
        else
            usage();
    }
    if (!o.url || o.connections < 1 || o.duration <= 0 || o.warmup < 0 || o.buffer_size < 1024 ||
        o.repeat < 1)
        usage();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) die("curl_global_init failed", NULL);
    if (o.body)
        run_body(&o);
    else
        run_keepalive(&o);
    curl_global_cleanup();
    return 0;
}
