// bench_http_body_squall: one large body with squall's http::Client (bench/README.md, "http").
//
//   bench_http_body_squall --backend epoll|uring --url URL [--repeat N]
//
// A HEAD of the URL opens the keep-alive connection (not measured); then N GETs (default 1) one after
// another on it, measured together, whose bodies go to a streaming_callback that counts bytes (not
// buffered, as curl -o /dev/null). One 64 MiB body takes 20-40 ms here, too short to time alone. Prints mb_per_s (10^6 B/s),
// cpu_ms_per_gb (CLOCK_PROCESS_CPUTIME_ID over the GET) and recv_buffer_bytes (IOStream's read_chunk_size
// default, 64 KiB per recv), bench "http_body", params {"path": PATH}.
#include <cstdint>

#include "bench/support/squall.hpp"
#include "squall/httpclient/client.hpp"
#include "squall/iostream/iostream.hpp"

namespace {

squall::Task<void> bench_main(squall::http::Client& client, std::string url, std::string impl, long repeat) {
    squall::http::HTTPRequest head{.url = url, .method = "HEAD"};
    auto h = co_await client.fetch(head);
    if (h.code != 200) bench::die("HEAD returned " + std::to_string(h.code));

    std::uint64_t bytes = 0;
    squall::http::HTTPRequest get{
        .url = url,
        .request_timeout = std::chrono::seconds(300),
        .decompress_response = false,
        .streaming_callback = [&bytes](std::string_view piece) { bytes += piece.size(); },
        .max_body_size = std::size_t{1} << 40};
    double t0 = bench::now_s(CLOCK_MONOTONIC), cpu0 = bench::now_s(CLOCK_PROCESS_CPUTIME_ID);
    auto request = client.prepare(get);
    for (long i = 0; i < repeat; ++i) {
        auto resp = co_await client.fetch(request);
        if (resp.code != 200) bench::die("GET returned " + std::to_string(resp.code));
    }
    double elapsed = bench::now_s(CLOCK_MONOTONIC) - t0, cpu = bench::now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    if (bytes == 0) bench::die("empty body");
    std::string path = bench::url_path(url);
    const std::string params = "\"path\": \"" + path + "\"";
    bench::print_result("http_body", impl, params, "mb_per_s", static_cast<double>(bytes) / elapsed / 1e6,
                        "MB/s");
    bench::print_result("http_body", impl, params, "cpu_ms_per_gb",
                        cpu * 1e3 / (static_cast<double>(bytes) / 1e9), "ms");
    bench::print_result("http_body", impl, params, "recv_buffer_bytes",
                        static_cast<double>(squall::IOStreamOptions{}.read_chunk_size), "B");
    std::fprintf(stderr, "%s %s: %llu bytes in %.3f s, %.0f MB/s\n", impl.c_str(), path.c_str(),
                 static_cast<unsigned long long>(bytes), elapsed, static_cast<double>(bytes) / elapsed / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
    bench::Options opts(argc, argv, {"--backend", "--url", "--repeat"});
    const long repeat = opts.integer("--repeat", 1);
    const std::string backend = opts.text("--backend", "epoll"), url = opts.text("--url");
    if (url.empty() || repeat < 1)
        bench::die("usage: bench_http_body_squall --backend epoll|uring --url URL [--repeat N]");
    try {
        squall::IOLoop loop(bench::parse_backend(backend));
        squall::http::Client client(loop);
        loop.run_sync(bench_main(client, url, bench::impl_name(loop), repeat));
    } catch (const std::exception& e) {
        bench::die(std::string("bench_http_body_squall: ") + e.what());
    }
    return 0;
}
