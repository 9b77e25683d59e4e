#!/usr/bin/python3
"""bench_rpc_pika: pika's RPC client and server (Debian's python3-pika, BlockingConnection) as the peer of
bench_rpc_squall (bench/README.md, "rpc").

  /usr/bin/python3 bench/rpc/bench_rpc_pika.py --url U --in-flight K --duration S [--warmup 1] [--size 100]

The server (pika's RPC tutorial server: basic_qos(prefetch_count=K), reply to reply_to with the request's
correlation_id, then ack) runs on its own BlockingConnection in a thread; the client (direct reply-to,
amq.rabbitmq.reply-to, auto_ack) keeps K calls in flight on the main thread, publishing a new call from
each reply's callback. calls_per_s and cpu_us_per_op cover the interval after the warm-up; the CPU is the
whole process's (client and server), as for bench_rpc_squall.
"""

import argparse
import json
import os
import sys
import threading
import time
import uuid

import pika

REPLY_TO = "amq.rabbitmq.reply-to"


def cpu_now():
    return time.clock_gettime(time.CLOCK_PROCESS_CPUTIME_ID)


def serve(url, queue, prefetch, ready, stop):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.queue_declare(queue, auto_delete=True)
    ch.basic_qos(prefetch_count=prefetch)

    def on_request(channel, method, props, body):
        channel.basic_publish(exchange="", routing_key=props.reply_to, body=body,
                              properties=pika.BasicProperties(correlation_id=props.correlation_id))
        channel.basic_ack(method.delivery_tag)

    ch.basic_consume(queue, on_request)
    ready.set()
    while not stop.is_set():
        conn.process_data_events(time_limit=0.05)
    conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--in-flight", type=int, required=True)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--size", type=int, default=100)
    args = ap.parse_args()
    k = args.in_flight
    queue = f"bench-rpc-pika-{os.getpid()}"

    ready, stop = threading.Event(), threading.Event()
    server = threading.Thread(target=serve, args=(args.url, queue, k, ready, stop), daemon=True)
    server.start()
    if not ready.wait(30):
        sys.exit("bench_rpc_pika: the server did not start")

    conn = pika.BlockingConnection(pika.URLParameters(args.url))
    ch = conn.channel()
    body = b"x" * args.size
    pending = set()
    state = {"completed": 0, "measuring": False, "done": False}
    start = time.monotonic()
    warm_end, end = start + args.warmup, start + args.warmup + args.duration

    def call():
        corr = uuid.uuid4().hex
        pending.add(corr)
        ch.basic_publish(exchange="", routing_key=queue, body=body,
                         properties=pika.BasicProperties(reply_to=REPLY_TO, correlation_id=corr))

    def on_reply(channel, method, props, reply):
        if props.correlation_id not in pending or len(reply) != len(body):
            sys.exit("bench_rpc_pika: an unexpected reply")
        pending.discard(props.correlation_id)
        state["completed"] += 1
        t = time.monotonic()
        if not state["measuring"] and t >= warm_end:
            state.update(measuring=True, t0=t, cpu0=cpu_now(), done0=state["completed"])
        if t >= end:
            if not state["done"]:
                state.update(done=True, t1=t, cpu1=cpu_now(), done1=state["completed"])
            return
        call()

    ch.basic_consume(REPLY_TO, on_reply, auto_ack=True)
    for _ in range(k):
        call()
    while not state["done"]:
        conn.process_data_events(time_limit=1)
    stop.set()
    server.join(10)
    conn.close()

    n = state["done1"] - state["done0"]
    if not state["measuring"] or n <= 0:
        sys.exit("bench_rpc_pika: no call completed in the measured interval")
    elapsed, cpu = state["t1"] - state["t0"], state["cpu1"] - state["cpu0"]
    for metric, value, unit in (("calls_per_s", n / elapsed, "1/s"), ("cpu_us_per_op", cpu * 1e6 / n, "us")):
        print(json.dumps({"bench": "rpc", "impl": "pika", "params": {"in_flight": k}, "metric": metric,
                          "value": round(value, 3), "unit": unit}))
    print(f"pika in_flight={k}: {n} calls in {elapsed:.2f} s, {n / elapsed:.0f} calls/s, "
          f"{cpu * 1e6 / n:.2f} us CPU/call", file=sys.stderr)


if __name__ == "__main__":
    main()
