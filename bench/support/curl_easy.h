/* Shared by the libcurl peers (bench_http_libcurl, bench_http2_libcurl): an easy handle for keep-alive
 * GETs whose body is only counted. Include after bench/support/bench.h (it uses die). */
#ifndef SQUALL_BENCH_SUPPORT_CURL_EASY_H
#define SQUALL_BENCH_SUPPORT_CURL_EASY_H

#include <curl/curl.h>
#include <stdint.h>

/* CURLOPT_WRITEFUNCTION: adds the body's bytes to the uint64_t at `user` and drops them. */
static inline size_t bench_count_bytes(char* data, size_t size, size_t n, void* user) {
    (void)data;
    *(uint64_t*)user += (uint64_t)(size * n);
    return size * n;
}

/* A GET of `url` that counts its body into *bytes, without signals (CURLOPT_NOSIGNAL) and with
 * TCP_NODELAY; the caller adds the options of its own benchmark. */
static inline CURL* bench_curl_easy(const char* url, uint64_t* bytes) {
    CURL* e = curl_easy_init();
    if (!e) die("curl_easy_init failed", NULL);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, bench_count_bytes);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, bytes);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    return e;
}

#endif
