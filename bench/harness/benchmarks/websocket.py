"""websocket: echo round trips and 1 MiB throughput against a C echo server on a raw epoll loop (issue 16),
squall's client beside a Boost.Beast 1.74 client, python3-websockets and a no-library floor client (raw-c);
and the masking + UTF-8 speed."""
from spec import Benchmark, Group, Server, Variant

_DIR = "{build}/bench/websocket"
_ARGS = ["--url", "ws://127.0.0.1:{port}/", "--size", "{size}", "--connections", "{connections}",
         "--duration", "{duration}"]

_CLIENTS = [
    Variant("raw-c", [f"{_DIR}/bench_ws_raw", *_ARGS]),
    Variant("beast", [f"{_DIR}/bench_ws_beast", *_ARGS]),
    Variant("squall-epoll", [f"{_DIR}/bench_ws_squall", "--backend", "epoll", *_ARGS]),
    Variant("squall-uring", [f"{_DIR}/bench_ws_squall", "--backend", "uring", *_ARGS]),
    Variant("python-websockets", ["{python}", "{root}/bench/websocket/bench_ws_python.py", *_ARGS],
            requires_files=["bench/websocket/bench_ws_python.py"], requires_python=["websockets"]),
]

BENCHMARK = Benchmark(
    name="websocket",
    description="WebSocket echo round trips of 64 B and 16 KiB binary messages over 1 and 64 connections, "
                "and 1 MiB messages over 1 connection, against a C echo server (raw epoll, CPU 0); masking "
                "and UTF-8 validation GB/s on one core.",
    server=Server(kind="program", cmd=[f"{_DIR}/bench_ws_echo_server", "--port", "{port}"], port=56510),
    groups=[
        Group(title="echo", grid={"size": [64, 16384], "connections": [1, 64]}, variants=_CLIENTS),
        Group(title="throughput", grid={"size": [1 << 20], "connections": [1]}, variants=_CLIENTS),
        Group(title="mask and utf8",
              variants=[Variant("squall", [f"{_DIR}/bench_ws_mask_utf8", "--seconds", "{duration}"], cpus="1")]),
    ],
    ratios=[("squall-epoll", "beast"), ("squall-uring", "beast"), ("python-websockets", "beast"),
            ("squall-epoll", "raw-c"), ("squall-uring", "raw-c"), ("beast", "raw-c")],
    notes=["Client CPU is measured inside each client over the measured interval (CLOCK_PROCESS_CPUTIME_ID, "
           "Python: time.process_time), per round trip. Every client masks with a fresh key per frame; "
           "squall's keys come from getrandom, Beast's from its default PRNG.",
           "The echo server echoes each frame as it came (C, no WebSocket library, bench_ws_echo_server.c).",
           "raw-c (bench_ws_raw.c) is the floor: no WebSocket library, one epoll, one send() per masked frame "
           "(xorshift keys, 8-byte masking) and one recv() per wakeup into a shared buffer whose payload is "
           "counted, not kept. Its CPU per round trip is what the kernel's loopback path, the wakeups and the "
           "masking cost any client here.",
           "Targets (issue 16): client CPU per message <= 0.7x Beast's; throughput >= Beast's; masking + "
           "UTF-8 validation >= 5 GB/s on one core."],
)
