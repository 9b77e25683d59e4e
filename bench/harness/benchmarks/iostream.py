"""iostream: loopback stream throughput and TLS bulk throughput against plain C loops (issue 3).

The programs are self-contained (sender and receiver in one process, on CPUs 0 and 1)."""
from spec import Benchmark, Group, Variant

_DIR = "{build}/bench/iostream"

BENCHMARK = Benchmark(
    name="iostream",
    description="Stream throughput (read_bytes of 64 KiB pieces) and TLS bulk throughput over loopback, "
                "each against a plain C loop on the same kind of socket pair; the 1-byte-fed regex line.",
    groups=[
        Group(
            title="stream",
            grid={"bytes": [1 << 30]},
            quick_grid={"bytes": [256 << 20]},
            variants=[
                Variant("raw-c", [f"{_DIR}/bench_stream_raw", "--bytes", "{bytes}"], cpus="0,1"),
                Variant("squall-epoll", [f"{_DIR}/bench_stream_squall", "--backend", "epoll", "--bytes",
                                         "{bytes}"], cpus="0,1"),
                Variant("squall-uring", [f"{_DIR}/bench_stream_squall", "--backend", "uring", "--bytes",
                                         "{bytes}"], cpus="0,1"),
            ],
        ),
        Group(
            title="tls",
            grid={"bytes": [1 << 30]},
            quick_grid={"bytes": [256 << 20]},
            variants=[
                Variant("openssl", [f"{_DIR}/bench_tls_openssl", "--bytes", "{bytes}"], cpus="0,1"),
                Variant("squall-epoll", [f"{_DIR}/bench_tls_squall", "--backend", "epoll", "--bytes",
                                         "{bytes}"], cpus="0,1"),
                Variant("squall-uring", [f"{_DIR}/bench_tls_squall", "--backend", "uring", "--bytes",
                                         "{bytes}"], cpus="0,1"),
            ],
        ),
        Group(
            title="regex",
            variants=[Variant("squall-epoll", [f"{_DIR}/bench_regex_squall"], cpus="0,1")],
        ),
    ],
    scale_params=["bytes"],
    ratios=[("squall-epoll", "raw-c"), ("squall-uring", "raw-c"), ("squall-epoll", "openssl"),
            ("squall-uring", "openssl")],
    notes=["Targets (issue 3): stream >= 0.9x the plain recv loop; TLS >= 0.8x the blocking OpenSSL loop."],
)
