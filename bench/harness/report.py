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


# One colour per implementation in every plot (value bars, and ratio bars coloured by their denominator).
COLORS = {
    "squall-epoll": "#1f4e9c", "squall-uring": "#5aa9e6",
    "raw-epoll": "#3a3a3a", "raw-uring": "#8a8a8a", "raw-c": "#5c5c5c",
    "libuv": "#2ca02c", "libcurl": "#ff7f0e", "curl": "#8c564b", "wrk": "#d62728", "tornado": "#9467bd",
    "librabbitmq": "#e0b000", "pika": "#c05fc0", "py-amqp": "#e377c2", "openssl": "#17becf",
}
_FALLBACK = ["#bcbd22", "#7f7f7f", "#aec7e8", "#98df8a", "#ff9896", "#c49c94"]
# Values kept in the tables but not plotted: configuration echoes and counts, not performance.
UNPLOTTED_METRICS = {"recv_buffer_bytes"}
LOG_SPAN = 20.0  # a panel whose values span more than this factor gets a log axis


def color(impl: str) -> str:
    if impl in COLORS:
        return COLORS[impl]
    return _FALLBACK[sum(map(ord, impl)) % len(_FALLBACK)]


def lower_is_better(metric: str) -> bool:
    return not (metric.endswith("_per_s") or metric == "mb_per_s")


def _needs_log(values: list[float]) -> bool:
    pos = [v for v in values if v and v > 0]
    return len(pos) > 1 and max(pos) / min(pos) > LOG_SPAN


def panels(suite: str, lines: list[dict], bench: Benchmark | None) -> list[dict]:
    """One panel per (bench, metric) with at least two implementations: its values, and the ratios of each
    squall implementation to each other implementation (and squall-uring to squall-epoll) per row."""
    out = []
    for title, header, rows, values in tables(suite, lines, bench):
        bname, metric = title.split(": ", 1)[0], title.split(": ", 1)[1].split(" (")[0]
        impls = [h for h in header[1:] if " / " not in h]
        # No single-implementation panels, and none of squall alone (its backends side by side only).
        if metric in UNPLOTTED_METRICS or not rows or all(i.startswith("squall-") for i in impls) or len(impls) < 2:
            continue
        squalls = [i for i in impls if i.startswith("squall-")]
        pairs = [(a, b) for a in squalls for b in impls if not b.startswith("squall-")]
        if "squall-uring" in squalls and "squall-epoll" in squalls:
            pairs.append(("squall-uring", "squall-epoll"))
        ratios = []
        for v in values:
            row = []
            for a, b in pairs:
                va, vb = v[impls.index(a)], v[impls.index(b)]
                row.append(va / vb if va is not None and vb else None)
            ratios.append(row)
        keep = [k for k in range(len(pairs)) if any(r[k] is not None for r in ratios)]
        pairs = [pairs[k] for k in keep]
        ratios = [[r[k] for k in keep] for r in ratios]
        targets = [next((t.value for t in (bench.targets if bench else []) if t.applies(bname, metric, a, b)), None)
                   for a, b in pairs]
        out.append({"bench": bname, "metric": metric, "title": title, "rows": [r[0] for r in rows],
                    "impls": impls, "values": values, "pairs": pairs, "ratios": ratios, "targets": targets})
    return out


def _bars(ax, labels: list[str], series: list[tuple[str, list, dict]]) -> None:
    width = 0.8 / max(1, len(series))
    for i, (label, heights, style) in enumerate(series):
        xs = [x + i * width for x in range(len(labels))]
        hs = [h if h is not None else 0.0 for h in heights]
        ax.bar(xs, hs, width, label=label, **style)
    ax.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(labels))])
    ax.set_xticklabels(labels, fontsize=8)


def _headroom(ax, values: list[float], log: bool) -> None:
    """Room above the tallest bar for the legend and the labels."""
    pos = [v for v in values if v is not None and v > 0]
    if not pos:
        return
    if log:
        ax.set_ylim(min(pos) / 1.5, max(pos) * 6)
    else:
        ax.set_ylim(0, max(pos) * 1.45)


def _draw_values(ax, p: dict) -> None:
    series = [(impl, [v[i] for v in p["values"]], {"color": color(impl)}) for i, impl in enumerate(p["impls"])]
    _bars(ax, p["rows"], series)
    flat = [x for v in p["values"] for x in v if x is not None]
    log = _needs_log(flat)
    if log:
        ax.set_yscale("log")
    _headroom(ax, flat, log)
    better = "lower" if lower_is_better(p["metric"]) else "higher"
    ax.set_title(f"{p['title']}, {better} is better", fontsize=9)
    ax.legend(fontsize=7, ncol=4, loc="upper left")
    ax.grid(axis="y", alpha=0.3, which="both")


def _draw_ratios(ax, p: dict) -> None:
    series = []
    for k, (a, b) in enumerate(p["pairs"]):
        style = {"color": color(b), "edgecolor": color(a), "linewidth": 1.2}
        if a == "squall-uring":
            style["hatch"] = "//"
        series.append((f"{a} ÷ {b}", [r[k] for r in p["ratios"]], style))
    _bars(ax, p["rows"], series)
    width = 0.8 / max(1, len(series))
    flat = [x for r in p["ratios"] for x in r if x is not None]
    for row, r in enumerate(p["ratios"]):
        for k, v in enumerate(r):
            x = row + k * width
            if v is not None:
                ax.annotate(f"{v:.2f}" if v >= 0.1 else f"{v:.3f}", (x, v), ha="center", va="bottom", fontsize=6)
            t = p["targets"][k]
            if t is not None:
                ax.hlines(t, x - width / 2, x + width / 2, colors="#c00000", linestyles="--", linewidth=1.5)
    if any(t is not None for t in p["targets"]):
        ax.plot([], [], color="#c00000", linestyle="--", label="target")
        flat += [t for t in p["targets"] if t is not None]
    ax.axhline(1.0, color="black", linewidth=0.8)
    log = _needs_log(flat + [1.0])
    if log:
        ax.set_yscale("log")
    _headroom(ax, flat + [1.0], log)
    better = "lower" if lower_is_better(p["metric"]) else "higher"
    ax.set_title(f"{p['bench']}: {p['metric']} ratio, {better} is better", fontsize=9)
    ax.legend(fontsize=6, ncol=3, loc="upper left")
    ax.grid(axis="y", alpha=0.3, which="both")


def _plt(log):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("plots skipped: matplotlib is missing (Debian package python3-matplotlib)")
        return None
    return plt


def _run_id(lines: list[dict]) -> str:
    return lines[0].get("run_id", "") if lines else ""


def _save(plt, fig, title: str, path: Path, log) -> None:
    """Titles the figure, writes it to path (90 dpi) and closes it."""
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    log(f"plot: {path}")


def plot(suite: str, lines: list[dict], bench: Benchmark | None, path: Path, log) -> None:
    """<suite>.png: a row per (bench, metric): the values on the left, the ratios on the right."""
    plt = _plt(log)
    ps = panels(suite, lines, bench)
    if plt is None or not ps:
        return
    fig, axes = plt.subplots(len(ps), 2, figsize=(14, 3.8 * len(ps)), squeeze=False)
    for (vax, rax), p in zip(axes, ps):
        _draw_values(vax, p)
        if p["pairs"]:
            _draw_ratios(rax, p)
        else:
            rax.set_visible(False)
    _save(plt, fig, f"{suite} (run {_run_id(lines)})", path, log)


def plot_ratios(suite: str, lines: list[dict], bench: Benchmark | None, path: Path, log) -> None:
    """<suite>_ratios.png: only the ratio panels (two per row), for the README."""
    plt = _plt(log)
    ps = [p for p in panels(suite, lines, bench) if p["pairs"]]
    if plt is None or not ps:
        return
    cols = 2 if len(ps) > 1 else 1
    nrows = (len(ps) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(7.5 * cols, 3.8 * nrows), squeeze=False)
    for ax in axes.flat[len(ps):]:
        ax.set_visible(False)
    for ax, p in zip(axes.flat, ps):
        _draw_ratios(ax, p)
    _save(plt, fig, f"{suite}: squall ÷ each peer and the floor (run {_run_id(lines)}); dashed red: target", path,
          log)
