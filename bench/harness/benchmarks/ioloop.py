"""ioloop: 64-byte TCP ping-pong through a raw C echo server (issue 2), and the loop micro-benchmarks."""
from spec import Benchmark, Group, Server, Target, Variant

_PINGPONG = ["--host", "127.0.0.1", "--port", "{port}", "--connections", "{connections}",
             "--duration", "{duration}", "--size", "64"]
_DIR = "{build}/bench/ioloop"

BENCHMARK = Benchmark(
    name="ioloop",
    description="64-byte TCP ping-pong round trips over loopback against bench_echo_server, and loop "
                "callbacks/s and timer add+cancel ops/s.",
    server=Server(kind="program", cmd=[f"{_DIR}/bench_echo_server", "--port", "{port}"], port=17301),
    groups=[
        Group(
            title="pingpong",
            grid={"connections": [1, 64]},
            variants=[
                Variant("raw-epoll", [f"{_DIR}/bench_pingpong_raw_epoll", *_PINGPONG]),
                Variant("raw-uring", [f"{_DIR}/bench_pingpong_raw_uring", *_PINGPONG]),
                Variant("libuv", [f"{_DIR}/bench_pingpong_libuv", *_PINGPONG]),
                Variant("squall-epoll", [f"{_DIR}/bench_pingpong_squall", "--backend", "epoll", *_PINGPONG]),
                Variant("squall-uring", [f"{_DIR}/bench_pingpong_squall", "--backend", "uring", *_PINGPONG]),
            ],
        ),
        # Self-contained (no server): each program runs its default parameter sets.
        Group(
            title="loop ops",
            variants=[
                Variant("libuv", [f"{_DIR}/bench_loop_ops_libuv", "--duration", "{duration}"]),
                Variant("squall-epoll", [f"{_DIR}/bench_loop_ops_squall", "--backend", "epoll",
                                         "--duration", "{duration}"]),
                Variant("squall-uring", [f"{_DIR}/bench_loop_ops_squall", "--backend", "uring",
                                         "--duration", "{duration}"]),
            ],
        ),
    ],
    duration=5.0,
    quick_duration=1.0,
    ratios=[("squall-epoll", "raw-epoll"), ("squall-uring", "raw-uring"), ("squall-uring", "squall-epoll"),
            ("squall-epoll", "libuv")],
    notes=["Targets (issue 2): squall >= 0.85x the raw loop of its backend at c=1 and c=64; "
           "squall-uring >= 1.15x squall-epoll at c=64; squall-epoll >= 1.0x libuv at c=1.",
           "The loop-ops programs run on the client CPU only; the echo server is not involved.",
           "Targets (issue 18): squall >= 0.97x its raw loop's round trips/s at c=64; io_uring CPU per round "
           "trip <= 0.90x epoll's at c=64; io_uring callbacks/s >= epoll's; timer add+cancel >= 0.5x libuv's."],
    targets=[Target("ioloop_pingpong", "round_trips_per_s", "raw-epoll", 0.97, num="squall-epoll"),
             Target("ioloop_pingpong", "round_trips_per_s", "raw-uring", 0.97, num="squall-uring"),
             Target("ioloop_pingpong", "cpu_us_per_op", "squall-epoll", 0.90, num="squall-uring"),
             Target("ioloop_callbacks", "callbacks_per_s", "squall-epoll", 1.0, num="squall-uring"),
             Target("ioloop_timers", "timer_add_cancel_per_s", "libuv", 0.5)],
)
