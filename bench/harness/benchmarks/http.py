"""http: keep-alive GETs of nginx's /small.txt and large bodies (issue 4), against wrk, libcurl, Tornado
and curl. nginx is the private one of scripts/nginx, on CPU 0."""
from spec import Benchmark, Group, Server, Target, Variant

_DIR = "{build}/bench/http"
_KEEPALIVE = ["--url", "{url}/small.txt", "--connections", "{connections}", "--duration", "{duration}"]
_FETCH_BENCH = ["{build}/examples/fetch/squall-fetch", "--bench", "--json", "--duration", "{duration:g}", "-c",
                "{connections}", "--threads", "{threads}", "{url}/small.txt"]
_IDLE = ["--url", "{url}/small.txt", "--connections", "{connections}"]
_CURL_W = ["-s", "-o", "/dev/null", "-w", "%{{size_download}} %{{time_total}} %{{http_code}}\\n"]

BENCHMARK = Benchmark(
    name="http",
    description="Keep-alive GET of a 100-byte file from nginx (1 worker) at concurrency 1, 64, 256; "
                "64 MiB Content-Length and 256 MiB chunked bodies.",
    server=Server(kind="nginx", options=["--huge"]),
    groups=[
        Group(
            title="keepalive",
            grid={"connections": [1, 64, 256]},
            quick_grid={"connections": [1, 64]},
            variants=[
                Variant("wrk", ["wrk", "-t1", "-c{connections}", "-d{duration:g}s", "--latency", "{url}/small.txt"],
                        parser="wrk", bench="http_keepalive"),
                Variant("libcurl", [f"{_DIR}/bench_http_libcurl", *_KEEPALIVE]),
                Variant("raw-epoll", [f"{_DIR}/bench_http_raw", *_KEEPALIVE]),
                Variant("tornado", ["{python}", "{root}/bench/http/bench_http_tornado.py", *_KEEPALIVE],
                        requires_files=["bench/http/bench_http_tornado.py"], requires_python=["tornado"]),
                Variant("squall-epoll", [f"{_DIR}/bench_http_squall", "--backend", "epoll", *_KEEPALIVE]),
                Variant("squall-uring", [f"{_DIR}/bench_http_squall", "--backend", "uring", *_KEEPALIVE]),
            ],
        ),
        # The load generator: squall-fetch --bench (a LoopGroup, one Client per loop) against wrk with the
        # same threads and connections; both on the client CPU, both judged by their process's CPU.
        Group(
            title="load generator",
            grid={"connections": [64], "threads": [1, 2]},
            variants=[
                Variant("wrk", ["wrk", "-t{threads}", "-c{connections}", "-d{duration:g}s", "--latency",
                                "{url}/small.txt"], parser="wrk", bench="http_loadgen"),
                Variant("squall-epoll", [*_FETCH_BENCH, "--backend", "epoll"], process_cpu=True),
                Variant("squall-uring", [*_FETCH_BENCH, "--backend", "uring"], process_cpu=True),
            ],
        ),
        Group(
            title="large bodies",
            grid={"path": ["/big.bin", "/chunked/huge.bin"]},
            variants=[
                Variant("curl", ["curl", *_CURL_W, "{url}{path}"], parser="curl", bench="http_body"),
                # The library clients fetch the body 8 times on one connection, timed together (one 64 MiB
                # body takes 20-40 ms here: alone it swung 1.5-4.3 GB/s within one run); curl fetches it once.
                Variant("libcurl", [f"{_DIR}/bench_http_libcurl", "--body", "--repeat", "8", "--url",
                                    "{url}{path}"]),
                Variant("squall-epoll", [f"{_DIR}/bench_http_body_squall", "--backend", "epoll", "--repeat", "8",
                                         "--url", "{url}{path}"]),
                Variant("squall-uring", [f"{_DIR}/bench_http_body_squall", "--backend", "uring", "--repeat", "8",
                                         "--url", "{url}{path}"]),
            ],
        ),
        # Memory per idle pooled connection (issue 18): N keep-alive connections opened at once, then idle
        # in the client's pool (squall) or connection cache (libcurl); RssAnon growth / N after malloc_trim.
        Group(
            title="idle memory",
            grid={"connections": [10000]},
            variants=[
                Variant("libcurl", [f"{_DIR}/bench_http_idle_libcurl", *_IDLE]),
                Variant("squall-epoll", [f"{_DIR}/bench_http_idle_squall", "--backend", "epoll", *_IDLE]),
                Variant("squall-uring", [f"{_DIR}/bench_http_idle_squall", "--backend", "uring", *_IDLE]),
            ],
        ),
    ],
    ratios=[("squall-epoll", "wrk"), ("squall-epoll", "libcurl"), ("squall-uring", "libcurl"),
            ("raw-epoll", "libcurl"), ("squall-epoll", "raw-epoll"),
            ("squall-epoll", "curl"), ("squall-uring", "curl"), ("squall-uring", "wrk")],
    notes=["wrk does not report client CPU: its process_cpu_us_per_op (and curl's process_cpu_ms_per_gb) "
           "come from the whole process's rusage, start-up included; the other clients measure CPU inside "
           "their measured loop (cpu_us_per_op).",
           "http_loadgen: squall-fetch --bench --threads N (a LoopGroup of N loops, one http::Client each) "
           "and wrk -tN with the same connections, both on the client CPU; process_cpu_us_per_op is each "
           "whole process's CPU per request (start-up included) for both, cpu_us_per_op squall's own over "
           "the load interval.",
           "One nginx worker saturates near 80k small requests/s: at c=64/256 compare clients by CPU per request.",
           "Tornado 6.2's simple AsyncHTTPClient has no keep-alive pool: it opens a connection per request.",
           "Receive buffers for large bodies (recv_buffer_bytes rows): libcurl CURLOPT_BUFFERSIZE 512 KiB "
           "(its 16 KiB default caps it near 1.65 GB/s); squall reads 64 KiB per recv (IOStreamOptions); "
           "the curl CLI uses its own default.",
           "Every client fetches the same plain bytes: squall and Tornado run with decompress_response off "
           "(no Accept-Encoding, like wrk and libcurl), since nginx gzips text files for clients that ask.",
           "raw-epoll (bench_http_raw.c) is the floor: one epoll, a fixed request sent with send(), responses "
           "read with recv() and framed by Content-Length, no HTTP library, no allocation, no timers. Its CPU "
           "per request is what the kernel's loopback TCP path and the wakeups cost any client here.",
           "http_idle_memory: RssAnon (/proc/self/status) growth per connection with N idle keep-alive "
           "connections to nginx (/small.txt fetched once on each, all N at once), after malloc_trim(0) in both "
           "programs; nginx's stub_status must count N active connections. Reference: Go's net/http keeps a "
           "4 KiB bufio.Reader and a 4 KiB bufio.Writer per connection (8 KiB). Target (issue 18): <= 8 KiB "
           "per idle connection.",
           "Targets (issue 18): client CPU per request <= 1.10x raw-epoll's at c=1 and c=64; req/s >= 1.0x "
           "wrk's; large bodies >= 1.0x libcurl's MB/s and CPU per GB <= 0.8x libcurl's."],
    targets=[Target("http_keepalive", "cpu_us_per_op", "raw-epoll", 1.10),
             Target("http_keepalive", "req_per_s", "wrk", 1.0),
             Target("http_body", "mb_per_s", "libcurl", 1.0),
             Target("http_body", "cpu_ms_per_gb", "libcurl", 0.8),
             Target("http_loadgen", "req_per_s", "wrk", 1.0),
             Target("http_loadgen", "process_cpu_us_per_op", "wrk", 1.0),
             Target("http_keepalive", "cpu_us_per_op", "squall-epoll", 1.0, num="squall-uring"),
             Target("http_keepalive", "req_per_s", "squall-epoll", 1.0, num="squall-uring")],
)
