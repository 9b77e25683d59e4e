#!/usr/bin/python3
"""squall's benchmark harness (called by scripts/bench, which builds the release preset first).

  bench/harness/run.py [NAME...] [--runs N] [--quick] [--list] [--build-dir DIR] [--results-dir DIR]

Runs each named benchmark (all when none is named; names are the modules in benchmarks/), then appends
raw results and medians to RESULTS/latest.jsonl and rewrites RESULTS/latest.md and RESULTS/<NAME>.png.
See bench/README.md for the contract a benchmark program follows.
"""
from __future__ import annotations

import argparse
import importlib
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report  # noqa: E402
from runner import Runner  # noqa: E402
from spec import Benchmark  # noqa: E402

ROOT = HERE.parent.parent
ORDER = ["ioloop", "iostream", "http", "http2", "amqp", "rpc", "websocket"]


def load_benchmarks() -> dict[str, Benchmark]:
    names = sorted(p.stem for p in (HERE / "benchmarks").glob("*.py") if not p.stem.startswith("_"))
    names.sort(key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    return {n: importlib.import_module(f"benchmarks.{n}").BENCHMARK for n in names}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_id() -> str:
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True, check=False).stdout.strip() or "nogit"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + f"-{rev}{'-dirty' if dirty else ''}"


def render(results: Path, benches: dict[str, Benchmark], plots: bool) -> str:
    """latest.md and, with plots, <suite>.png (values and ratios) and <suite>_ratios.png (README)."""
    latest = report.load_latest(results / "latest.jsonl")
    md = report.markdown(latest, benches)
    (results / "latest.md").write_text(md)
    if plots:
        for suite, lines in latest.items():
            report.plot(suite, lines, benches.get(suite), results / f"{suite}.png", log)
            report.plot_ratios(suite, lines, benches.get(suite), results / f"{suite}_ratios.png", log)
    return md


def main() -> int:
    ap = argparse.ArgumentParser(description="Run squall's benchmarks side by side with their peers.")
    ap.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    ap.add_argument("--runs", type=int, default=None, help="runs per implementation (default 5, --quick 3)")
    ap.add_argument("--quick", action="store_true", help="short intervals, smaller counts, 3 runs")
    ap.add_argument("--list", action="store_true", help="list benchmarks and their variants, then exit")
    ap.add_argument("--build-dir", default=str(ROOT / "build" / "release"), help="default: build/release")
    ap.add_argument("--results-dir", default=str(ROOT / "bench" / "results"), help="default: bench/results")
    ap.add_argument("--no-plots", action="store_true", help="do not draw PNG plots")
    ap.add_argument("--render", action="store_true",
                    help="run nothing: rewrite latest.md and the plots from the results dir's latest.jsonl")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every command")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds before a program run is killed (default: each benchmark's own, 300)")
    ap.add_argument("--validate", action="store_true", help="check the arguments, run nothing")
    args = ap.parse_args()

    benches = load_benchmarks()
    if args.list:
        for name, b in benches.items():
            print(f"{name}: {b.description}")
            for g in b.groups:
                for v in g.variants:
                    print(f"  [{g.title}] {v.impl}: {' '.join(v.cmd)}")
        return 0
    unknown = [n for n in args.names if n not in benches]
    if unknown:
        log(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(benches)}")
        return 2
    runs = args.runs if args.runs is not None else (3 if args.quick else 5)
    if runs < 1:
        log("--runs must be at least 1")
        return 2
    if args.validate:
        return 0

    if args.timeout is not None:
        for b in benches.values():
            b.timeout = args.timeout
    # SIGTERM unwinds like Ctrl-C, so the servers' context managers stop what the harness started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    build = Path(args.build_dir).resolve()
    results = Path(args.results_dir).resolve()
    if args.render:
        render(results, benches, not args.no_plots)
        return 0
    rid = run_id()
    runner = Runner(ROOT, build, runs, args.quick, args.verbose, log)
    log(f"run {rid}: {runs} runs per implementation{' (quick)' if args.quick else ''}, build {build}")
    failures = 0
    for name in args.names or list(benches):
        bench = benches[name]
        log(f"== {name}: {bench.description}")
        started = time.monotonic()
        outcome = runner.run(bench)
        meds = report.medians(outcome.records)
        for r in outcome.records + meds:
            print(report.json.dumps(r), flush=True)
        report.append_jsonl(results / "latest.jsonl", name, rid, outcome.records, meds, outcome.skipped,
                            outcome.failures)
        failures += len(outcome.failures)
        log(f"== {name}: {len(outcome.records)} results, {len(outcome.skipped)} skipped, "
            f"{len(outcome.failures)} failed, {time.monotonic() - started:.0f} s")

    md = render(results, benches, not args.no_plots)
    print(md, flush=True)
    log(f"results: {results / 'latest.jsonl'}, {results / 'latest.md'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
