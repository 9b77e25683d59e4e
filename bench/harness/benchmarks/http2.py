"""http2: small GETs from nginx's h2c listener over one connection with 1, 10, 100 streams in flight and
over 4 connections x 100 streams (issue 15), squall against h2load and libcurl multi (CURLPIPE_MULTIPLEX);
a 64 MiB download against curl --http2-prior-knowledge and squall's own HTTP/1.1 client (the same file
from nginx's plain listener). nginx is the private one of scripts/nginx (its h2c port is the HTTP port + 1)."""
from spec import Benchmark, Group, Server, Target, Variant

_DIR = "{build}/bench/http2"
_STREAMS = ["--url", "{h2c_url}/small.txt", "--streams", "{streams}", "--connections", "{connections}",
            "--duration", "{duration}"]


def _stream_variants():
    """h2load, libcurl, then bench_http2_squall on each backend, with the grid's streams and connections."""
    return [Variant("h2load", ["/usr/bin/python3", "{root}/bench/http2/h2load_json.py", *_STREAMS],
                    requires_files=["bench/http2/h2load_json.py"]),
            Variant("libcurl", [f"{_DIR}/bench_http2_libcurl", *_STREAMS])] + [
        Variant(f"squall-{backend}", [f"{_DIR}/bench_http2_squall", "--backend", backend, *_STREAMS])
        for backend in ("epoll", "uring")]


def _h1_body_variant(backend):
    """squall's HTTP/1.1 body program on the plain listener, its lines relabelled as http2_body."""
    return Variant(f"squall-h1-{backend}",
                   ["/usr/bin/python3", "{root}/bench/http2/relabel.py", "--bench", "http2_body", "--impl",
                    f"squall-h1-{backend}", "--", "{build}/bench/http/bench_http_body_squall", "--backend",
                    backend, "--url", "{url}{path}"],
                   requires_files=["bench/http2/relabel.py", "{build}/bench/http/bench_http_body_squall"])


_CURL_W = ["-s", "-o", "/dev/null", "-w", "%{{size_download}} %{{time_total}} %{{http_code}}\\n"]

BENCHMARK = Benchmark(
    name="http2",
    description="HTTP/2 (h2c) GETs of a 100-byte file from nginx (1 worker): 1 connection with 1, 10, 100 "
                "streams in flight, 4 connections x 100 streams; a 64 MiB body over one stream.",
    server=Server(kind="nginx"),
    groups=[
        Group(
            title="streams",
            grid={"streams": [1, 10, 100], "connections": [1]},
            quick_grid={"streams": [1, 100], "connections": [1]},
            variants=_stream_variants(),
        ),
        Group(
            title="connections",
            grid={"streams": [100], "connections": [4]},
            variants=_stream_variants(),
        ),
        Group(
            title="large body",
            grid={"path": ["/big.bin"]},
            variants=[
                Variant("curl", ["curl", "--http2-prior-knowledge", *_CURL_W, "{h2c_url}{path}"], parser="curl",
                        bench="http2_body"),
                Variant("squall-epoll", [f"{_DIR}/bench_http2_squall", "--backend", "epoll", "--body", "--url",
                                         "{h2c_url}{path}"]),
                Variant("squall-uring", [f"{_DIR}/bench_http2_squall", "--backend", "uring", "--body", "--url",
                                         "{h2c_url}{path}"]),
                _h1_body_variant("epoll"),
                _h1_body_variant("uring"),
            ],
        ),
    ],
    ratios=[("squall-epoll", "h2load"), ("squall-uring", "h2load"), ("squall-epoll", "libcurl"),
            ("squall-uring", "libcurl"), ("squall-epoll", "curl"), ("squall-epoll", "squall-h1-epoll"),
            ("squall-uring", "squall-h1-uring")],
    notes=["h2load's CPU (process_cpu_us_per_op) is its whole process's rusage, start-up included; squall "
           "and libcurl (bench_http2_libcurl) measure CPU inside their measured loop (cpu_us_per_op).",
           "libcurl multi: CURLPIPE_MULTIPLEX, CURLMOPT_MAX_CONCURRENT_STREAMS = streams, "
           "CURLMOPT_MAX_HOST_CONNECTIONS = connections, CURLOPT_PIPEWAIT; libcurl 7.88.1 fails prior-knowledge "
           "requests on a reused connection (curl #10634), so each connection is opened by one prior-knowledge "
           "request and the rest ask for plain HTTP/2 on it (see bench_http2_libcurl.c).",
           "squall-h1-*: squall's HTTP/1.1 body program (bench/http/bench_http_body_squall) on the same file from "
           "nginx's plain listener, which uses sendfile; the h2c listener has sendfile off (scripts/nginx: "
           "nginx 1.22's HTTP/2 sendfile path left each small response waiting ~40 ms for a delayed ACK).",
           "Targets (issue 15): client CPU per request <= 0.8x h2load's and <= 0.5x libcurl's at 100 streams; "
           "req/s >= h2load's; 64 MiB over h2 >= 0.9x squall's own HTTP/1.1 MB/s."],
    targets=[Target("http2_streams", "req_per_s", "h2load", 1.0),
             Target("http2_streams", "cpu_us_per_op", "libcurl", 0.5),
             Target("http2_body", "mb_per_s", "squall-h1-epoll", 0.9, num="squall-epoll"),
             Target("http2_body", "mb_per_s", "squall-h1-uring", 0.9, num="squall-uring")],
)
