/* bench_http_idle_libcurl: the libcurl-multi peer of bench_http_idle_squall (bench/README.md, "http";
 * issue 18, "Memory per connection").
 *
 *   bench_http_idle_libcurl --url URL [--connections N] [--ca-file PEM]
 *
 * N easy handles fetch URL at once on one multi handle (CURLMOPT_MAX_TOTAL_CONNECTIONS and
 * CURLMOPT_MAXCONNECTS N, so each transfer gets its own connection and every connection stays in the
 * multi's connection cache). When all are done the easy handles are removed and cleaned up (the
 * connections stay cached, as squall's stay pooled once its fetches returned), then it reports
 * (RssAnon after - RssAnon before) / N in KiB: bench "http_idle_memory", metric rss_kib_per_conn, params
 * {"connections": N, "tls": 0|1}. Both snapshots follow malloc_trim(0), as in squall's program. Before
 * the first snapshot one transfer on a throwaway handle warms libcurl up. Afterwards nginx's /status is
 * fetched on one cached connection: "Active connections" must be at least N, or the run fails.
 *
 * Only libcurl's public API. Any transfer error or a status other than 200 fails the run (exit 1).
 */
#include <curl/curl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_PROGRAM "bench_http_idle_libcurl"
#include "bench/support/bench.h"

/* A field of /proc/self/status in KiB ("RssAnon", "VmRSS"). */
static long status_kib(const char* field) {
    FILE* f = fopen("/proc/self/status", "r");
    if (f == NULL) die("cannot open /proc/self/status", NULL);
    char line[256];
    size_t len = strlen(field);
    long value = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            value = atol(line + len + 1);
            break;
        }
    }
    fclose(f);
    if (value < 0) die("field missing in /proc/self/status", field);
    return value;
}

struct Body {
    char text[512];
    size_t len;
};

static size_t discard(char* data, size_t size, size_t n, void* user) {
    (void)data;
    (void)user;
    return size * n;
}

static size_t keep_start(char* data, size_t size, size_t n, void* user) {
    struct Body* b = user;
    size_t take = size * n;
    if (take > sizeof b->text - 1 - b->len) take = sizeof b->text - 1 - b->len;
    memcpy(b->text + b->len, data, take);
    b->len += take;
    b->text[b->len] = '\0';
    return size * n;
}

static CURL* make_easy(const char* url, const char* ca_file) {
    CURL* e = curl_easy_init();
    if (e == NULL) die("curl_easy_init failed", NULL);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    if (ca_file != NULL) curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
    /* HTTP/1.1 connections, one per transfer, as squall's program (no HTTP/2 multiplexing over TLS). */
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    return e;
}

/* Runs the multi until every added transfer is done; each must end CURLE_OK with status 200. */
static void run_all(CURLM* multi) {
    int running = 1;
    while (running) {
        CURLMcode mc = curl_multi_perform(multi, &running);
        if (mc != CURLM_OK) die("curl_multi_perform", curl_multi_strerror(mc));
        if (running) curl_multi_poll(multi, NULL, 0, 1000, NULL);
        CURLMsg* m;
        int left;
        while ((m = curl_multi_info_read(multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE) continue;
            if (m->data.result != CURLE_OK) die("transfer failed", curl_easy_strerror(m->data.result));
            long code = 0;
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            if (code != 200) die("unexpected HTTP status", NULL);
        }
    }
}

int main(int argc, char** argv) {
    const char* url = NULL;
    const char* ca_file = NULL;
    long n = 10000;
    for (int i = 1; i < argc; ++i) {
        if (i + 1 >= argc) die("option needs a value", argv[i]);
        if (strcmp(argv[i], "--url") == 0)
            url = argv[++i];
        else if (strcmp(argv[i], "--connections") == 0)
            n = atol(argv[++i]);
        else if (strcmp(argv[i], "--ca-file") == 0)
            ca_file = argv[++i];
        else
            die("unknown option", argv[i]);
    }
    if (url == NULL || n < 1)
        die("usage: bench_http_idle_libcurl --url URL [--connections N] [--ca-file PEM]", NULL);
    if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK) die("curl_global_init failed", NULL);

    CURL* warm = make_easy(url, ca_file);
    CURLcode rc = curl_easy_perform(warm);
    if (rc != CURLE_OK) die("warm-up transfer failed", curl_easy_strerror(rc));
    curl_easy_cleanup(warm);
    malloc_trim(0);
    const long before_anon = status_kib("RssAnon"), before_total = status_kib("VmRSS");

    CURLM* multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, n);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, n);
    CURL** easy = calloc((size_t)n, sizeof *easy);
    if (easy == NULL) die("out of memory", NULL);
    for (long i = 0; i < n; ++i) {
        easy[i] = make_easy(url, ca_file);
        curl_multi_add_handle(multi, easy[i]);
    }
    run_all(multi);
    for (long i = 0; i < n; ++i) {
        curl_multi_remove_handle(multi, easy[i]);
        curl_easy_cleanup(easy[i]);
    }
    free(easy);
    malloc_trim(0);
    const long after_anon = status_kib("RssAnon"), after_total = status_kib("VmRSS");

    /* nginx's count, on one cached connection (the URL's origin, path /status). */
    char status_url[1024];
    const char* origin_end = strchr(strstr(url, "://") ? strstr(url, "://") + 3 : url, '/');
    size_t origin_len = origin_end ? (size_t)(origin_end - url) : strlen(url);
    if (origin_len > sizeof status_url - 16) die("URL too long", url);
    memcpy(status_url, url, origin_len);
    strcpy(status_url + origin_len, "/status");
    struct Body body = {.len = 0};
    CURL* st = make_easy(status_url, ca_file);
    curl_easy_setopt(st, CURLOPT_WRITEFUNCTION, keep_start);
    curl_easy_setopt(st, CURLOPT_WRITEDATA, &body);
    curl_multi_add_handle(multi, st);
    run_all(multi);
    long reused = 0;
    curl_easy_getinfo(st, CURLINFO_NUM_CONNECTS, &reused);
    curl_multi_remove_handle(multi, st);
    curl_easy_cleanup(st);
    const char* at = strstr(body.text, "Active connections:");
    if (at == NULL) die("no stub_status at", status_url);
    long active = atol(at + strlen("Active connections:"));
    if (active < n) die("nginx reports fewer active connections than requested", body.text);

    const double per_conn = (double)(after_anon - before_anon) / (double)n;
    const int tls = strncmp(url, "https:", 6) == 0;
    char params[64];
    snprintf(params, sizeof params, "{\"connections\": %ld, \"tls\": %d}", n, tls);
    bench_result("http_idle_memory", "libcurl", params, "rss_kib_per_conn", per_conn, "KiB");
    fflush(stdout);
    fprintf(stderr,
            "libcurl %s n=%ld: RssAnon %ld -> %ld KiB (%.2f KiB/conn), VmRSS %ld -> %ld KiB (%.2f KiB/conn), "
            "nginx active %ld (status fetch opened %ld new connections)\n",
            tls ? "https" : "http", n, before_anon, after_anon, per_conn, before_total, after_total,
            (double)(after_total - before_total) / (double)n, active, reused);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return 0;
}
