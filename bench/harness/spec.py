"""What a benchmark is, as the harness sees it: variants (one command per implementation), the server they
need, the parameter grid, and the ratios the report shows.

Each module in benchmarks/ defines BENCHMARK = Benchmark(...). Commands are lists of strings formatted with
str.format from a context holding the parameters of the grid point plus:
  {build}     the build directory (build/release), {root} the repository root, {python} /usr/bin/python3,
  {host} {port} {url} (HTTP base URL, no trailing slash) {amqp_url} — filled in by the server,
  {duration}  seconds per measured interval (shorter with --quick).
"""
from __future__ import annotations

import dataclasses
import itertools
from typing import Any


@dataclasses.dataclass
class Variant:
    """One implementation's command. `impl` is the name the program prints (DESIGN section 8)."""

    impl: str
    cmd: list[str]
    # Output format: "json" (JSON lines of DESIGN section 8), "wrk" (wrk's text) or "curl" (curl -w, see
    # parsers.py). Non-JSON formats are turned into JSON records by the harness.
    parser: str = "json"
    # For the text parsers: the "bench" name of the records made from the text (params = grid point).
    bench: str = ""
    # Extra context for this variant only (e.g. a smaller message count for a slow Python peer); a
    # callable value is called with the context of the grid point.
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Files (relative to the repository root, formatted like cmd) that must exist, e.g. a Python script.
    requires_files: list[str] = dataclasses.field(default_factory=list)
    # Python modules Debian's /usr/bin/python3 must import for this variant to run.
    requires_python: list[str] = dataclasses.field(default_factory=list)
    # Grid points this variant supports: a predicate on the params (None: all).
    when: Any = None
    # CPU list for `taskset -c`; None: the client CPU (1). Self-contained programs that run both sides
    # in one process use "0,1" and place their own threads.
    cpus: str | None = None
    # Also derive process_cpu_us_per_op from the process's rusage and its "requests" record, as for wrk
    # (a JSON program compared with wrk on wrk's terms).
    process_cpu: bool = False


@dataclasses.dataclass
class Server:
    """kind: "program" (a binary under the build dir started with {port}), "nginx", "rabbitmq" or None."""

    kind: str | None = None
    cmd: list[str] = dataclasses.field(default_factory=list)  # for kind == "program"
    port: int = 0
    options: list[str] = dataclasses.field(default_factory=list)  # extra args to scripts/nginx|rabbitmq


@dataclasses.dataclass
class Group:
    """A parameter grid shared by some variants: every variant runs at every point of the grid."""

    title: str
    variants: list[Variant]
    grid: dict[str, list[Any]] = dataclasses.field(default_factory=dict)
    quick_grid: dict[str, list[Any]] | None = None  # grid used with --quick (default: same as grid)

    def points(self, quick: bool) -> list[dict[str, Any]]:
        grid = self.quick_grid if (quick and self.quick_grid is not None) else self.grid
        if not grid:
            return [{}]
        keys = list(grid)
        return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


@dataclasses.dataclass
class Target:
    """A ratio target drawn as a line on the ratio panel of (bench, metric): numerator ÷ denominator should
    stay at or below `value` for lower-is-better metrics (CPU, latency), at or above it for rates. `num`
    names one implementation or, ending in "*", every implementation starting with it ("squall-*")."""

    bench: str
    metric: str
    den: str
    value: float
    num: str = "squall-*"

    def applies(self, bench: str, metric: str, num: str, den: str) -> bool:
        if (bench, metric, den) != (self.bench, self.metric, self.den):
            return False
        return num.startswith(self.num[:-1]) if self.num.endswith("*") else num == self.num


@dataclasses.dataclass
class Benchmark:
    name: str
    description: str
    groups: list[Group]
    server: Server = dataclasses.field(default_factory=Server)
    duration: float = 5.0  # {duration}; --quick uses quick_duration
    quick_duration: float = 1.0
    # (numerator impl, denominator impl) pairs shown as ratio columns in the report.
    ratios: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    # Param keys that only scale a run (message counts, durations): ignored when rows are grouped, so a
    # slow peer run with fewer messages still lands in the same table row.
    scale_params: list[str] = dataclasses.field(default_factory=list)
    # Unrecorded rounds (every variant once, first grid point) before measuring, e.g. a fresh broker.
    warmup_rounds: int = 0
    notes: list[str] = dataclasses.field(default_factory=list)  # printed under the table
    targets: list[Target] = dataclasses.field(default_factory=list)  # lines on the ratio panels
    timeout: float = 300.0  # seconds per program run before it is killed and reported as failed
