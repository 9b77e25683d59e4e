"""Turn a program's output into result records {"bench", "impl", "params", "metric", "value", "unit"}.

Our programs and peer drivers print those records as JSON lines (DESIGN section 8); wrk and curl print text,
which is parsed here. Untrusted output never crashes the harness: malformed lines are reported and dropped.
"""
from __future__ import annotations

import json
import re
from typing import Any

REQUIRED = ("bench", "impl", "params", "metric", "value", "unit")


def record(bench: str, impl: str, params: dict[str, Any], metric: str, value: float, unit: str) -> dict:
    return {"bench": bench, "impl": impl, "params": params, "metric": metric, "value": value, "unit": unit}


def parse_json_lines(text: str) -> tuple[list[dict], list[str]]:
    """Returns (records, problems). Lines not starting with '{' are human output and ignored."""
    records, problems = [], []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"not JSON ({e.msg}): {line[:120]}")
            continue
        missing = [k for k in REQUIRED if k not in obj]
        if missing:
            problems.append(f"missing {', '.join(missing)}: {line[:120]}")
            continue
        if not isinstance(obj["params"], dict):
            problems.append(f"params is not an object: {line[:120]}")
            continue
        value = obj["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            problems.append(f"value is not a number: {line[:120]}")
            continue
        records.append({k: obj[k] for k in REQUIRED} | {"value": float(value)})
    return records, problems


_UNITS_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def _duration_us(text: str) -> float:
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text)
    if not m:
        raise ValueError(f"bad duration {text!r}")
    return float(m.group(1)) * _UNITS_US[m.group(2)]


def parse_wrk(text: str, bench: str, impl: str, params: dict) -> tuple[list[dict], list[str]]:
    """wrk 4.1 text (run with --latency) → req_per_s, latency percentiles, and the request count.

    wrk reports no client CPU; the harness adds process_cpu_us_per_op from the process's rusage.
    """
    records, problems = [], []
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    total = re.search(r"^\s*(\d+) requests in ([0-9.]+\w+),", text, re.M)
    if not rps or not total:
        return [], [f"wrk output without Requests/sec or request count: {text[-300:]!r}"]
    records.append(record(bench, impl, params, "req_per_s", float(rps.group(1)), "1/s"))
    records.append(record(bench, impl, params, "requests", float(total.group(1)), "1"))
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+([0-9.]+(?:us|ms|s|m|h))\s*$", text, re.M)
        if m:
            records.append(record(bench, impl, params, f"latency_p{pct}_us", _duration_us(m.group(1)), "us"))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if errors and sum(int(g) for g in errors.groups()) > 0:
        problems.append(f"wrk socket errors: {errors.group(0)}")
    if non2xx:
        problems.append(f"wrk saw {non2xx.group(1)} non-2xx/3xx responses")
    return records, problems


def parse_curl(text: str, bench: str, impl: str, params: dict) -> tuple[list[dict], list[str]]:
    """curl -s -o /dev/null -w '%{size_download} %{time_total} %{http_code}\\n' → mb_per_s (10^6 B/s)."""
    m = re.search(r"^(\d+) ([0-9.]+) (\d{3})\s*$", text, re.M)
    if not m:
        return [], [f"curl output is not 'size time code': {text[-200:]!r}"]
    size, seconds, code = int(m.group(1)), float(m.group(2)), m.group(3)
    if not code.startswith("2"):
        return [], [f"curl got HTTP {code}"]
    if seconds <= 0:
        return [], ["curl reported a zero transfer time"]
    return [record(bench, impl, params, "mb_per_s", size / seconds / 1e6, "MB/s"),
            record(bench, impl, params, "bytes", float(size), "B")], []


def parse(kind: str, text: str, bench: str, impl: str, params: dict) -> tuple[list[dict], list[str]]:
    if kind == "json":
        return parse_json_lines(text)
    if kind == "wrk":
        return parse_wrk(text, bench, impl, params)
    if kind == "curl":
        return parse_curl(text, bench, impl, params)
    raise ValueError(f"unknown parser {kind!r}")
