#!/usr/bin/python3
"""bench_amqp_pika: the Python pika (Debian's python3-pika, BlockingConnection) peer of the amqp benchmark
(bench/README.md, "amqp"); the same workloads as bench_amqp_librabbitmq.c.

  /usr/bin/python3 bench/amqp/bench_amqp_pika.py --url U --workload publish|confirm|consume --messages M
                                                 [--size 100]   (--count is a synonym of --messages)

publish: M basic_publish calls without confirms; the clock stops when a passive queue_declare on a second
  channel reports M messages (polled every millisecond).
confirm: confirm mode. pika's BlockingChannel waits for each message's confirm inside basic_publish, so its
  window is 1, not 1,000: this is what a BlockingConnection user gets.
consume: M messages are published first (not measured); then basic_qos(prefetch_count=1000), basic_consume
  with manual acks (one basic_ack per message); the clock stops after the M-th ack.
Prints msgs_per_s and cpu_us_per_op (CLOCK_PROCESS_CPUTIME_ID over the measured interval only, so the
interpreter's start-up is not counted).
"""

import argparse
import json
import os
import sys
import time

import pika

PREFETCH = 1000


def cpu_now():
    return time.clock_gettime(time.CLOCK_PROCESS_CPUTIME_ID)


def wait_depth(poll_channel, queue, n):
    while poll_channel.queue_declare(queue, passive=True).method.message_count < n:
        time.sleep(0.001)


def publish_all(channel, queue, body, n):
    for _ in range(n):
        channel.basic_publish(exchange="", routing_key=queue, body=body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--workload", required=True, choices=["publish", "confirm", "consume"])
    ap.add_argument("--messages", "--count", type=int, required=True)
    ap.add_argument("--size", type=int, default=100)
    args = ap.parse_args()
    n = args.messages

    conn = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = conn.channel()
    poll = conn.channel()
    queue = f"bench-pika-{os.getpid()}"
    channel.queue_declare(queue)
    body = b"x" * args.size

    if args.workload == "publish":
        t0, cpu0 = time.monotonic(), cpu_now()
        publish_all(channel, queue, body, n)
        wait_depth(poll, queue, n)
    elif args.workload == "confirm":
        channel.confirm_delivery()
        t0, cpu0 = time.monotonic(), cpu_now()
        publish_all(channel, queue, body, n)  # each call returns after the broker's ack (NackError on nack)
    else:
        publish_all(channel, queue, body, n)
        wait_depth(poll, queue, n)
        channel.basic_qos(prefetch_count=PREFETCH)
        received = 0
        wrong_size = False

        def on_message(ch, method, properties, payload):
            nonlocal received, wrong_size
            if len(payload) != args.size:
                wrong_size = True
            ch.basic_ack(method.delivery_tag)
            received += 1
            if received == n:
                ch.stop_consuming()

        t0, cpu0 = time.monotonic(), cpu_now()
        channel.basic_consume(queue, on_message)
        channel.start_consuming()
        if wrong_size:
            sys.exit("bench_amqp_pika: a delivered body has the wrong size")
    elapsed = time.monotonic() - t0
    cpu = cpu_now() - cpu0

    params = {"workload": args.workload, "messages": n, "size": args.size}
    for metric, value, unit in (("msgs_per_s", n / elapsed, "1/s"), ("cpu_us_per_op", cpu * 1e6 / n, "us")):
        print(json.dumps({"bench": f"amqp_{args.workload}", "impl": "pika", "params": params, "metric": metric,
                          "value": round(value, 3), "unit": unit}))
    print(f"pika {args.workload}: {n} messages in {elapsed:.3f} s, {n / elapsed:.0f} msgs/s, "
          f"{cpu * 1e6 / n:.3f} us CPU/msg", file=sys.stderr)
    poll.queue_delete(queue)
    conn.close()


if __name__ == "__main__":
    main()
