"""iostream: loopback stream throughput and TLS bulk throughput against plain C loops (issue 3).

The programs are self-contained (sender and receiver in one process, on CPUs 0 and 1)."""
from spec import Benchmark, Group, Variant

_DIR = "{build}/bench/iostream"


def _throughput(title, peer, peer_program, squall_program):
    """A throughput group: the plain C loop `peer`, then squall's program on each backend."""
    bytes_ = ["--bytes", "{bytes}"]
    return Group(
        title=title,
        grid={"bytes": [1 << 30]},
        quick_grid={"bytes": [256 << 20]},
        variants=[Variant(peer, [f"{_DIR}/{peer_program}", *bytes_], cpus="0,1")] + [
            Variant(f"squall-{backend}", [f"{_DIR}/{squall_program}", "--backend", backend, *bytes_],
                    cpus="0,1")
            for backend in ("epoll", "uring")],
    )


BENCHMARK = Benchmark(
    name="iostream",
    description="Stream throughput (read_bytes of 64 KiB pieces) and TLS bulk throughput over loopback, "
                "each against a plain C loop on the same kind of socket pair; the 1-byte-fed regex line.",
    groups=[
        _throughput("stream", "raw-c", "bench_stream_raw", "bench_stream_squall"),
        _throughput("tls", "openssl", "bench_tls_openssl", "bench_tls_squall"),
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
