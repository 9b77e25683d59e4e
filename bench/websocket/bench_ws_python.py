#!/usr/bin/python3
"""The Python peer of the websocket benchmark: python3-websockets 10.4's asyncio client, N connections each
doing echo round trips of one binary message size. Same measurement (warm-up, then a measured interval,
CPU by time.process_time) and JSON lines as bench_ws_squall (impl "python-websockets")."""
import argparse
import asyncio
import json
import sys
import time

import websockets


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="ws://127.0.0.1:56510/")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--warmup", type=float, default=0.5)
    a = ap.parse_args()
    state = {"done": 0, "stop": False}
    payload = b"w" * a.size

    async def conn():
        async with websockets.connect(a.url, max_size=None, compression=None, ping_interval=None) as ws:
            while not state["stop"]:
                await ws.send(payload)
                got = await ws.recv()
                if len(got) != a.size:
                    sys.exit("echo of the wrong size")
                state["done"] += 1

    tasks = [asyncio.create_task(conn()) for _ in range(a.connections)]
    await asyncio.sleep(a.warmup)
    t0, cpu0, d0 = time.monotonic(), time.process_time(), state["done"]
    await asyncio.sleep(a.duration)
    t1, cpu1, d1 = time.monotonic(), time.process_time(), state["done"]
    state["stop"] = True
    await asyncio.gather(*tasks)
    n = d1 - d0
    bench = "websocket_throughput" if a.size >= 1 << 20 else "websocket_echo"
    for metric, value, unit in (("msg_per_s", n / (t1 - t0), "1/s"),
                                ("mb_per_s", n * a.size / (t1 - t0) / 1e6, "MB/s"),
                                ("cpu_us_per_op", (cpu1 - cpu0) * 1e6 / n, "us")):
        print(json.dumps({"bench": bench, "impl": "python-websockets",
                          "params": {"size": a.size, "connections": a.connections},
                          "metric": metric, "value": round(value, 3), "unit": unit}))


asyncio.run(main())
