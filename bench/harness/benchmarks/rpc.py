"""rpc: RPC round trips/s over the private RabbitMQ (issue 6), squall against pika's RPC client."""
from spec import Benchmark, Group, Server, Variant

_ARGS = ["--url", "{amqp_url}", "--in-flight", "{in_flight}", "--duration", "{duration}"]

BENCHMARK = Benchmark(
    name="rpc",
    description="RPC calls over RabbitMQ (direct reply-to) with 1 and 64 calls in flight; the server side "
                "is each implementation's own RPC server in the same process.",
    server=Server(kind="rabbitmq"),
    groups=[
        Group(
            title="round trips",
            grid={"in_flight": [1, 64]},
            variants=[
                Variant("pika", ["{python}", "{root}/bench/rpc/bench_rpc_pika.py", *_ARGS],
                        requires_files=["bench/rpc/bench_rpc_pika.py"], requires_python=["pika"]),
                Variant("squall-epoll", ["{build}/bench/rpc/bench_rpc_squall", "--backend", "epoll", *_ARGS]),
                Variant("squall-uring", ["{build}/bench/rpc/bench_rpc_squall", "--backend", "uring", *_ARGS]),
            ],
        ),
    ],
    warmup_rounds=1,
    ratios=[("squall-epoll", "pika"), ("squall-uring", "pika")],
    notes=["Recovery time after a broker restart is measured by the messaging tests, not here.",
           "cpu_us_per_op is the whole process's CPU per call over the measured interval: client and server "
           "(squall: one loop, two connections; pika: BlockingConnection client, server in a thread)."],
)
