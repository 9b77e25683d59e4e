#!/usr/bin/env python3
"""Before/after in one run: squall's own benchmark programs from two build trees, alternated.

    bench/harness/ab.py --before /path/to/old/build/release --after build/release [--runs 3] [--duration 2]

For a change that must not make the hot paths slower (a restructuring, say): builds of the two commits'
release presets (only the squall programs below are needed in the before tree), then for each program and
backend the two builds run in turn, `--runs` times, the order swapped each time. Servers: the after tree's
echo server, a private nginx (scripts/nginx, port 18690) and, for the AMQP cases only, a private RabbitMQ
(scripts/rabbitmq, port 5790), on CPU 0; clients on CPU 1 (the stream and TLS programs run both ends on CPUs 0 and 1). Prints one
line per metric: the medians and after / before, and the JSON lines (with "build": "before" | "after") to
--out if given. Drifts of 10-30% between runs are usual on these machines: look at the ratio, not the values.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import _pin_tree, port_accepts  # noqa: E402

NGINX_PORT, AMQP_PORT, ECHO_PORT = 18690, 5790, 18695


def programs(duration: float) -> list[tuple[str, str, list[str], str]]:
    """(label, program under build/, arguments, cpus) for each measured case; {be} is the backend."""
    d = f"{duration:g}"
    url = f"http://127.0.0.1:{NGINX_PORT}"
    amqp = f"amqp://guest:guest@127.0.0.1:{AMQP_PORT}/"
    return [
        ("ioloop pingpong c=64", "bench/ioloop/bench_pingpong_squall",
         ["--backend", "{be}", "--host", "127.0.0.1", "--port", str(ECHO_PORT), "--connections", "64",
          "--duration", d, "--size", "64"], "1"),
        ("ioloop pingpong c=1", "bench/ioloop/bench_pingpong_squall",
         ["--backend", "{be}", "--host", "127.0.0.1", "--port", str(ECHO_PORT), "--connections", "1",
          "--duration", d, "--size", "64"], "1"),
        ("iostream stream 256 MiB", "bench/iostream/bench_stream_squall",
         ["--backend", "{be}", "--bytes", str(256 << 20)], "0,1"),
        ("iostream tls 256 MiB", "bench/iostream/bench_tls_squall",
         ["--backend", "{be}", "--bytes", str(256 << 20)], "0,1"),
        ("http keepalive c=1", "bench/http/bench_http_squall",
         ["--backend", "{be}", "--url", f"{url}/small.txt", "--connections", "1", "--duration", d], "1"),
        ("http keepalive c=64", "bench/http/bench_http_squall",
         ["--backend", "{be}", "--url", f"{url}/small.txt", "--connections", "64", "--duration", d], "1"),
        ("http body 64 MiB", "bench/http/bench_http_body_squall",
         ["--backend", "{be}", "--url", f"{url}/big.bin"], "1"),
        ("amqp publish", "bench/amqp/bench_amqp_squall",
         ["--backend", "{be}", "--url", amqp, "--workload", "publish", "--messages", "100000", "--size", "100"],
         "1"),
        ("amqp consume", "bench/amqp/bench_amqp_squall",
         ["--backend", "{be}", "--url", amqp, "--workload", "consume", "--messages", "100000", "--size", "100"],
         "1"),
    ]


def run_program(build: Path, prog: str, args: list[str], cpus: str) -> list[dict]:
    cmd = ["taskset", "-c", cpus, str(build / prog), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def start_servers(after: Path, tmp: Path) -> list[list[str]]:
    """Starts the echo server and nginx on CPU 0; returns the commands that stop them."""
    stops = []
    echo = subprocess.Popen(["taskset", "-c", "0", str(after / "bench/ioloop/bench_echo_server"), "--port",
                             str(ECHO_PORT)])
    stops.append(["kill", str(echo.pid)])
    for _ in range(100):
        if port_accepts(ECHO_PORT):
            break
        time.sleep(0.05)
    env = dict(os.environ, SQUALL_PEERS_DIR=str(tmp))
    subprocess.run([str(ROOT / "scripts/nginx"), "start", "--dir", str(tmp / "nginx"), "--port", str(NGINX_PORT),
                    "--no-tls", "--no-h2"], check=True, env=env, stdout=subprocess.DEVNULL)
    stops.append([str(ROOT / "scripts/nginx"), "stop", "--dir", str(tmp / "nginx")])
    _pin_tree(int((tmp / "nginx/nginx.pid").read_text().strip()))
    return stops


def start_rabbitmq(tmp: Path) -> list[str]:
    """Starts RabbitMQ on CPU 0 (only for the AMQP cases: a booting broker's CPU would disturb the others);
    returns the command that stops it."""
    env = dict(os.environ, SQUALL_PEERS_DIR=str(tmp))
    subprocess.run([str(ROOT / "scripts/rabbitmq"), "start", "--name", "squall-ab", "--port", str(AMQP_PORT),
                    "--dist-port", str(AMQP_PORT + 20000), "--fresh"], check=True,
                   env=env, stdout=subprocess.DEVNULL, cwd=tmp)  # Erlang may drop crash dumps in its cwd
    # Its directory is $SQUALL_PEERS_DIR/rabbitmq/NAME: the stop command finds it there (env below).
    stop = ["env", f"SQUALL_PEERS_DIR={tmp}", str(ROOT / "scripts/rabbitmq"), "stop", "--name", "squall-ab"]
    _pin_tree(int((tmp / "rabbitmq/squall-ab/rabbitmq.pid").read_text().strip()))
    time.sleep(5)  # the broker's own start-up work settles
    return stop


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", type=Path, required=True, help="the old commit's release build directory")
    ap.add_argument("--after", type=Path, default=ROOT / "build/release", help="the new one (build/release)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--backends", default="epoll,uring")
    ap.add_argument("--out", type=Path, help="append the JSON lines here")
    args = ap.parse_args()
    builds = {"before": args.before.resolve(), "after": args.after.resolve()}
    cases = programs(args.duration)
    for name, build in builds.items():
        missing = [p for _, p, _, _ in cases if not (build / p).exists()]
        if missing:
            ap.error(f"{name} build {build} lacks {', '.join(sorted(set(missing)))}")
    with tempfile.TemporaryDirectory(prefix="squall-ab-") as tmpdir:
        stops = start_servers(builds["after"], Path(tmpdir))
        broker_started = False
        results: dict[tuple[str, str, str, str], list[float]] = {}
        units: dict[str, str] = {}
        try:
            for label, prog, template, cpus in cases:
                if label.startswith("amqp") and not broker_started:
                    stops.append(start_rabbitmq(Path(tmpdir)))
                    broker_started = True
                for be in args.backends.split(","):
                    prog_args = [a.replace("{be}", be) for a in template]
                    for r in range(args.runs):
                        order = ["before", "after"] if r % 2 == 0 else ["after", "before"]
                        for which in order:
                            for rec in run_program(builds[which], prog, prog_args, cpus):
                                key = (label, be, rec["metric"], which)
                                results.setdefault(key, []).append(float(rec["value"]))
                                units[rec["metric"]] = rec.get("unit", "")
                                if args.out:
                                    with args.out.open("a") as f:
                                        f.write(json.dumps({**rec, "build": which, "case": label,
                                                            "backend": be}) + "\n")
                    for metric in sorted({k[2] for k in results if k[0] == label and k[1] == be}):
                        b = results.get((label, be, metric, "before"))
                        a = results.get((label, be, metric, "after"))
                        if not a or not b:
                            continue
                        mb, ma = statistics.median(b), statistics.median(a)
                        ratio = ma / mb if mb else float("nan")
                        print(f"{label:26} {be:5} {metric:18} before {mb:12.4g} after {ma:12.4g} "
                              f"{units[metric]:5} after/before {ratio:5.2f}", flush=True)
        finally:
            for cmd in reversed(stops):
                subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
