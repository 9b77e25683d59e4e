#!/usr/bin/python3
"""Runs h2load (nghttp2-client) and prints its result as JSON lines of DESIGN section 8.

    h2load_json.py --url URL --streams S --connections C --duration D

h2load runs with -c C -m S (streams in flight per connection) for D seconds after a 1 s warm-up (-D,
--warm-up-time). Client CPU is h2load's own rusage (os.wait4 on the child, start-up included) divided by
the requests it finished.
"""
import argparse
import json
import os
import re
import subprocess
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--streams", type=int, default=1)
    p.add_argument("--connections", type=int, default=1)
    p.add_argument("--duration", type=float, default=5)
    a = p.parse_args()
    cmd = ["h2load", "-c", str(a.connections), "-m", str(a.streams), "-t", "1", "-D", str(max(1, int(a.duration))),
           "--warm-up-time", "1", a.url]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        sys.exit("h2load failed: " + out[-500:])
    rate = re.search(r"finished in [0-9.]+\w*, ([0-9.]+) req/s", out)
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded", out)
    if not rate or not done or int(done.group(2)) == 0:
        sys.exit("cannot parse h2load's output: " + out[-500:])
    params = {"streams": a.streams, "connections": a.connections}
    cpu_us = (usage.ru_utime + usage.ru_stime) * 1e6 / int(done.group(2))
    for metric, value, unit in (("req_per_s", float(rate.group(1)), "1/s"), ("process_cpu_us_per_op", cpu_us, "us")):
        print(json.dumps({"bench": "http2_streams", "impl": "h2load", "params": params, "metric": metric,
                          "value": round(value, 3), "unit": unit}))


if __name__ == "__main__":
    main()
