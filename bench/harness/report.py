"""Results: medians per (bench, impl, params, metric), the append-only latest.jsonl, the markdown table
(latest.md, with ratio columns against the named peers) and matplotlib bar charts (<suite>.png).

latest.jsonl lines carry "suite" (the scripts/bench NAME) and "run_id"; raw lines add "run" and
"placement", medians add "stat": "median", "n", "min", "max"; "stat": "skipped" / "failed" lines say what
did not run and why. latest.md shows, for every suite, the most recent run_id found in latest.jsonl.
"""
from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path

from spec import Benchmark

# Counts kept in latest.jsonl (they back derived figures) but not worth a table or a plot.
HIDDEN_METRICS = {"requests", "bytes"}


def params_key(params: dict, ignore: list[str] = ()) -> str:
    return json.dumps({k: v for k, v in params.items() if k not in ignore}, sort_keys=True)


def medians(records: list[dict]) -> list[dict]:
    samples: dict[tuple, list[float]] = defaultdict(list)
    first: dict[tuple, dict] = {}
    for r in records:
        key = (r["bench"], r["impl"], params_key(r["params"]), r["metric"])
        samples[key].append(r["value"])
        first.setdefault(key, r)
    out = []
    for key, values in samples.items():
        r = first[key]
        out.append({"bench": r["bench"], "impl": r["impl"], "params": r["params"], "metric": r["metric"],
                    "value": statistics.median(values), "unit": r["unit"], "stat": "median",
                    "n": len(values), "min": min(values), "max": max(values), "placement": r["placement"]})
    return out


def append_jsonl(path: Path, suite: str, run_id: str, raw: list[dict], meds: list[dict],
                 skipped: list[tuple[str, str]], failures: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        for r in raw + meds:
            f.write(json.dumps({"suite": suite, "run_id": run_id} | r) + "\n")
        for impl, reason in skipped:
            f.write(json.dumps({"suite": suite, "run_id": run_id, "impl": impl, "stat": "skipped",
                                "reason": reason}) + "\n")
        for reason in failures:
            f.write(json.dumps({"suite": suite, "run_id": run_id, "stat": "failed", "reason": reason}) + "\n")


def load_latest(path: Path) -> dict[str, list[dict]]:
    """suite → the lines of that suite's most recent run_id."""
    by_suite: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    order: dict[str, list[str]] = defaultdict(list)
    if not path.exists():
        return {}
    for line in path.read_text().splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        suite, run_id = obj.get("suite"), obj.get("run_id")
        if not suite or not run_id:
            continue
        if run_id not in by_suite[suite]:
            order[suite].append(run_id)
        by_suite[suite][run_id].append(obj)
    return {suite: runs[order[suite][-1]] for suite, runs in by_suite.items()}


def fmt(value: float) -> str:
    if value != value:
        return "nan"
    a = abs(value)
    if a >= 1000:
        return f"{value:,.0f}"
    if a >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _sort_key(params: dict) -> tuple:
    """Numbers sort as numbers (pending=1 before pending=1024), other values as text."""
    return tuple((k, (0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v))) for k, v in sorted(params.items()))


def _impl_order(bench: Benchmark | None, present: set[str]) -> list[str]:
    order = []
    if bench:
        for g in bench.groups:
            for v in g.variants:
                if v.impl in present and v.impl not in order:
                    order.append(v.impl)
    return order + sorted(present - set(order))


def tables(suite: str, lines: list[dict], bench: Benchmark | None) -> list[tuple[str, list[str], list[list[str]], list]]:
    """[(title, header, rows, values)] for one suite: one table per (bench, metric), rows = params;
    values[row][impl index] is the raw median (None when absent), for plots."""
    meds = [l for l in lines if l.get("stat") == "median" and l["metric"] not in HIDDEN_METRICS]
    scale = bench.scale_params if bench else []
    ratios = bench.ratios if bench else []
    groups: dict[tuple[str, str], dict] = {}
    for m in meds:
        g = groups.setdefault((m["bench"], m["metric"]), {"unit": m["unit"], "cells": defaultdict(dict),
                                                          "params": {}, "impls": set()})
        pk = params_key(m["params"], scale)
        g["params"][pk] = {k: v for k, v in m["params"].items() if k not in scale}
        g["cells"][pk][m["impl"]] = m
        g["impls"].add(m["impl"])
    out = []
    for (bname, metric), g in sorted(groups.items()):
        impls = _impl_order(bench, g["impls"])
        used_ratios = [(a, b) for a, b in ratios if a in g["impls"] and b in g["impls"]]
        header = ["params"] + impls + [f"{a} / {b}" for a, b in used_ratios]
        rows, values = [], []
        for pk in sorted(g["params"], key=lambda k: _sort_key(g["params"][k])):
            cells = g["cells"][pk]
            label = ", ".join(f"{k}={v}" for k, v in g["params"][pk].items()) or "-"
            row = [label] + [fmt(cells[i]["value"]) if i in cells else "" for i in impls]
            for a, b in used_ratios:
                if a in cells and b in cells and cells[b]["value"]:
                    row.append(f"{cells[a]['value'] / cells[b]['value']:.2f}")
                else:
                    row.append("")
            rows.append(row)
            values.append([cells[i]["value"] if i in cells else None for i in impls])
        out.append((f"{bname}: {metric} ({g['unit']})", header, rows, values))
    return out


def markdown(latest: dict[str, list[dict]], benches: dict[str, Benchmark]) -> str:
    parts = ["# squall benchmark results", "",
             "Generated by `scripts/bench` from latest.jsonl (next to this file): for each benchmark its most "
             "recent run. Values are medians over the runs (n per cell in latest.jsonl); ratio columns "
             "divide the two medians (for cpu_us_per_op and latencies lower is better).", ""]
    for suite in sorted(latest):
        lines = latest[suite]
        bench = benches.get(suite)
        run_id = lines[0]["run_id"]
        placements = sorted({l["placement"] for l in lines if l.get("stat") == "median"})
        ns = sorted({l["n"] for l in lines if l.get("stat") == "median"})
        parts += [f"## {suite}", ""]
        if bench:
            parts += [bench.description, ""]
        parts += [f"run `{run_id}`; placement: {'; '.join(placements) or 'n/a'}; "
                  f"runs per cell: {', '.join(map(str, ns)) or 'n/a'}", ""]
        for title, header, rows, _ in tables(suite, lines, bench):
            parts += [f"**{title}**", "", "| " + " | ".join(header) + " |",
                      "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
            parts += ["| " + " | ".join(r) + " |" for r in rows]
            parts.append("")
        skipped = [l for l in lines if l.get("stat") == "skipped"]
        failed = [l for l in lines if l.get("stat") == "failed"]
        if skipped:
            parts += ["Skipped (not run, no figures):", ""]
            parts += [f"- {l['impl']}: {l['reason']}" for l in skipped]
            parts.append("")
        if failed:
            parts += ["Failed runs (excluded):", ""]
            parts += [f"- {l['reason']}" for l in failed]
            parts.append("")
        if bench and bench.notes:
            parts += [f"- {n}" for n in bench.notes]
            parts.append("")
    return "\n".join(parts)


def plot(suite: str, lines: list[dict], bench: Benchmark | None, path: Path, log) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("plots skipped: matplotlib is missing (Debian package python3-matplotlib)")
        return
    tabs = tables(suite, lines, bench)
    tabs = [t for t in tabs if t[2]]
    if not tabs:
        return
    cols = 2 if len(tabs) > 1 else 1
    nrows = (len(tabs) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(7 * cols, 3.6 * nrows), squeeze=False)
    for ax in axes.flat[len(tabs):]:
        ax.set_visible(False)
    for ax, (title, header, rows, values) in zip(axes.flat, tabs):
        impls = [h for h in header[1:] if " / " not in h]
        width = 0.8 / max(1, len(impls))
        for i, impl in enumerate(impls):
            heights = [v[i] if v[i] is not None else 0.0 for v in values]
            ax.bar([x + i * width for x in range(len(rows))], heights, width, label=impl)
        ax.set_xticks([x + width * (len(impls) - 1) / 2 for x in range(len(rows))])
        ax.set_xticklabels([r[0] for r in rows], fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    log(f"plot: {path}")
