#!/usr/bin/python3
"""Tornado's AsyncHTTPClient peer of bench_http_squall (bench/README.md, "http"); run with Debian's
/usr/bin/python3 (python3-tornado).

    bench_http_tornado.py --url URL --connections N --duration S [--warmup S]

N coroutines fetch URL in a loop through one simple AsyncHTTPClient (max_clients=N). Prints req_per_s and
cpu_us_per_op (time.process_time over the measured interval), bench "http_keepalive", impl "tornado",
params {"connections": N}. Note: Tornado 6.2's simple_httpclient opens a new connection per request (it
has no keep-alive pool), so its figures include a TCP connect per request.
"""
import argparse
import json
import sys
import time

from tornado import gen, ioloop
from tornado.httpclient import AsyncHTTPClient


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    args = ap.parse_args()
    if args.connections < 1 or args.duration <= 0:
        ap.error("--connections >= 1 and --duration > 0")

    AsyncHTTPClient.configure("tornado.simple_httpclient.SimpleAsyncHTTPClient", max_clients=args.connections)
    state = {"completed": 0, "measuring": False, "t0": 0.0, "cpu0": 0.0, "done0": 0}
    start = time.monotonic()
    warm_end, end = start + args.warmup, start + args.warmup + args.duration

    async def worker(client):
        while True:
            t = time.monotonic()
            if not state["measuring"] and t >= warm_end:
                state.update(measuring=True, t0=t, cpu0=time.process_time(), done0=state["completed"])
            if t >= end:
                return
            resp = await client.fetch(args.url, decompress_response=False)  # no gzip, as wrk and libcurl
            if resp.code != 200:
                raise RuntimeError(f"unexpected HTTP status {resp.code}")
            state["completed"] += 1

    async def run():
        client = AsyncHTTPClient()
        await gen.multi([worker(client) for _ in range(args.connections)])

    try:
        ioloop.IOLoop.current().run_sync(run)
    except Exception as e:  # noqa: BLE001 - any failure fails the run, with its message
        print(f"bench_http_tornado: {e}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - state["t0"]
    cpu = time.process_time() - state["cpu0"]
    n = state["completed"] - state["done0"]
    if n <= 0:
        print("bench_http_tornado: no request completed in the measured interval", file=sys.stderr)
        return 1
    params = {"connections": args.connections}
    for metric, value, unit in (("req_per_s", n / elapsed, "1/s"), ("cpu_us_per_op", cpu * 1e6 / n, "us")):
        print(json.dumps({"bench": "http_keepalive", "impl": "tornado", "params": params, "metric": metric,
                          "value": round(value, 3), "unit": unit}))
    print(f"tornado c={args.connections}: {n} requests in {elapsed:.2f} s, {n / elapsed:.0f} req/s, "
          f"{cpu * 1e6 / n:.1f} us CPU/request", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
