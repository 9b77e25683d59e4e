"""Runs one benchmark: the server once, then runs × grid points × variants, alternating the order of the
implementations from run to run, each client pinned with taskset, its output parsed into records.

A variant whose program is not built (or whose tool or Python module is missing) is skipped with a line
saying why; its figures are never made up. A run that fails (non-zero exit, timeout) is reported and
contributes nothing.
"""
from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import parsers
import servers
from spec import Benchmark, Group, Variant

PYTHON = "/usr/bin/python3"  # Debian's interpreter, which has python3-tornado, -pika, -amqp


@dataclass
class Outcome:
    records: list[dict] = field(default_factory=list)  # raw records, each with "run" and "placement"
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (impl, reason)
    failures: list[str] = field(default_factory=list)


class Runner:
    def __init__(self, root: Path, build: Path, runs: int, quick: bool, verbose: bool, log) -> None:
        self.root, self.build, self.runs, self.quick, self.verbose, self.log = root, build, runs, quick, verbose, log
        self._python_ok: dict[str, bool] = {}

    # --- availability ---------------------------------------------------------------------------------
    def _base_context(self, bench: Benchmark) -> dict:
        return {"build": self.build, "root": self.root, "python": PYTHON,
                "duration": bench.quick_duration if self.quick else bench.duration}

    def _python_has(self, module: str) -> bool:
        if module not in self._python_ok:
            ok = os.access(PYTHON, os.X_OK) and subprocess.run(
                [PYTHON, "-c", f"import {module}"], capture_output=True, check=False).returncode == 0
            self._python_ok[module] = ok
        return self._python_ok[module]

    def why_missing(self, variant: Variant, ctx: dict) -> str | None:
        program = variant.cmd[0].format(**ctx)
        if "/" in program:
            path = Path(program)
            if not os.access(path, os.X_OK):
                shown = path.relative_to(self.root) if path.is_relative_to(self.root) else path
                return f"{shown} not built"
        elif shutil.which(program) is None:
            return f"{program} not installed (scripts/install-deps)"
        for f in variant.requires_files:
            path = self.root / f.format(**ctx)
            if not path.exists():
                return f"{path.relative_to(self.root)} does not exist"
        for module in variant.requires_python:
            if not self._python_has(module):
                return f"{PYTHON} cannot import {module} (install python3-{module})"
        return None

    # --- running ---------------------------------------------------------------------------------------
    def run(self, bench: Benchmark) -> Outcome:
        out = Outcome()
        base = self._base_context(bench)
        runnable: list[tuple[Group, list[Variant]]] = []
        for group in bench.groups:
            ok = []
            for v in group.variants:
                reason = self.why_missing(v, base | v.extra)
                if reason:
                    self.log(f"SKIP {bench.name}/{v.impl} ({group.title}): {reason}")
                    out.skipped.append((v.impl, f"{group.title}: {reason}"))
                else:
                    ok.append(v)
            if ok:
                runnable.append((group, ok))
        if not runnable:
            self.log(f"SKIP {bench.name}: nothing to run")
            return out
        server = servers.RunningServer(bench.server, self.root, self.build, self.log)
        reason = server.missing()
        if reason:
            self.log(f"SKIP {bench.name}: its server is missing: {reason}")
            out.skipped.extend((v.impl, f"server: {reason}") for _, vs in runnable for v in vs)
            return out
        try:
            with server:
                ctx = base | server.context
                for _ in range(bench.warmup_rounds):
                    for group, variants in runnable:
                        # Each variant warms up at the first point it runs at (`when` may leave some out).
                        for v in variants:
                            point = next((p for p in group.points(self.quick) if v.when is None or v.when(p)),
                                         None)
                            if point is not None:
                                self._run_one(bench, v, ctx, point, None, server, out)
                for run in range(self.runs):
                    for group, variants in runnable:
                        for point in group.points(self.quick):
                            # Rotate the order each run so no implementation always goes first.
                            k = run % len(variants)
                            for v in variants[k:] + variants[:k]:
                                if v.when is None or v.when(point):
                                    self._run_one(bench, v, ctx, point, run, server, out)
        except servers.ServerError as e:
            self.log(f"FAIL {bench.name}: server: {e}")
            out.failures.append(f"server: {e}")
        return out

    def _run_one(self, bench: Benchmark, v: Variant, ctx: dict, point: dict, run: int | None,
                 server: servers.RunningServer, out: Outcome) -> None:
        full = ctx | point
        full |= {k: (x(full) if callable(x) else x) for k, x in v.extra.items()}
        cmd = [a.format(**full) for a in v.cmd]
        cpus = v.cpus or servers.CLIENT_CPU
        label = f"{bench.name}/{v.impl} {point or ''} run {'warmup' if run is None else run + 1}"
        if self.verbose:
            self.log(f"  $ taskset -c {cpus} {' '.join(cmd)}")
        started = time.monotonic()
        # Runs are sequential, so the growth of RUSAGE_CHILDREN is this client's CPU time (taskset execs
        # the program in the same process).
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.Popen(["taskset", "-c", cpus, *cmd], cwd=self.root, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=bench.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            msg = f"{label}: killed after {bench.timeout:.0f} s"
            self.log(f"FAIL {msg}")
            out.failures.append(msg)
            return
        except BaseException:  # Ctrl-C or SIGTERM: leave no client behind (it runs in its own session)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        process_cpu_us = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1e6
        text = stdout.decode(errors="replace")
        if proc.returncode != 0:
            err = stderr.decode(errors="replace").strip() or text.strip()  # wrk's usage goes to stdout
            msg = f"{label}: exit {proc.returncode}: {err[-400:]}"
            self.log(f"FAIL {msg}")
            out.failures.append(msg)
            return
        records, problems = parsers.parse(v.parser, text, v.bench or bench.name, v.impl, point)
        for p in problems:
            self.log(f"WARN {label}: {p}")
        if not records:
            msg = f"{label}: printed no result line"
            self.log(f"FAIL {msg}")
            out.failures.append(msg)
            return
        if v.parser in ("wrk", "curl") or v.process_cpu:
            records += self._process_cpu_records(records, process_cpu_us)
        elapsed = time.monotonic() - started
        if self.verbose:
            self.log(f"    {len(records)} records in {elapsed:.1f} s")
        if run is None:
            return
        for r in records:
            r["run"] = run + 1
            r["placement"] = v.cpus and f"client cpus {v.cpus}" or server.placement
            out.records.append(r)

    @staticmethod
    def _process_cpu_records(records: list[dict], cpu_us: float) -> list[dict]:
        """wrk and curl cannot report their own CPU: derive it from the whole process's rusage (start-up
        included; for these C tools that is a few milliseconds) under a distinct metric name."""
        extra = []
        for r in records:
            if r["metric"] == "requests" and r["value"] > 0:
                extra.append(r | {"metric": "process_cpu_us_per_op", "value": cpu_us / r["value"], "unit": "us"})
            elif r["metric"] == "bytes" and r["value"] > 0:
                extra.append(r | {"metric": "process_cpu_ms_per_gb", "value": cpu_us / 1e3 / (r["value"] / 1e9),
                                  "unit": "ms"})
        return extra
