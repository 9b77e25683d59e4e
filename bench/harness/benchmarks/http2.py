"""http2: small GETs from nginx's h2c listener over one connection with 1, 10, 100 streams in flight and
over 4 connections x 100 streams (issue 15), squall against h2load; a 64 MiB download against curl
--http2-prior-knowledge. nginx is the private one of scripts/nginx (its h2c port is the HTTP port + 1)."""
from spec import Benchmark, Group, Server, Target, Variant

_DIR = "{build}/bench/http2"
_STREAMS = ["--url", "{h2c_url}/small.txt", "--streams", "{streams}", "--connections", "{connections}",
            "--duration", "{duration}"]


def _stream_variants():
    """h2load, then bench_http2_squall on each backend, with the grid's streams and connections."""
    return [Variant("h2load", ["/usr/bin/python3", "{root}/bench/http2/h2load_json.py", *_STREAMS],
                    requires_files=["bench/http2/h2load_json.py"])] + [
        Variant(f"squall-{backend}", [f"{_DIR}/bench_http2_squall", "--backend", backend, *_STREAMS])
        for backend in ("epoll", "uring")]


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
            ],
        ),
    ],
    ratios=[("squall-epoll", "h2load"), ("squall-uring", "h2load"), ("squall-epoll", "curl")],
    notes=["h2load's CPU (process_cpu_us_per_op) is its whole process's rusage, start-up included; squall "
           "measures CPU inside its measured loop (cpu_us_per_op).",
           "libcurl multi with CURLPIPE_MULTIPLEX is not in this benchmark yet.",
           "Targets (issue 15): client CPU per request <= 0.8x h2load's at 100 streams; req/s >= h2load's."],
    targets=[Target("http2_streams", "req_per_s", "h2load", 1.0)],
)
