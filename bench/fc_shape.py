"""Hello in FC's shape: each contender inside a function's vCPU and memory, and what it costs.

On FC an instance of hello owns a fraction of a vCPU and its memory size (the stack's default:
0.1 vCPU, 128 MB; `infra.spec.default_cpu`), and answers one invocation at a time (FC's default
instance concurrency). Each contender here (ours, Go, Go with GOMAXPROCS=1, Python, the seed's
stack; hello-http's trio once that function exists) runs in a fresh cgroup with that CPU quota and
memory limit (`bench.cgroup`), at the stack's default, at 1 vCPU and at 2 (with the least memory
FC 3.0 allows beside them: memory (GB) at least the vCPU).

At each shape:
1. Cold start: exec to the first 200, in a fresh group each time, and the CPU time the group used
   until then.
2. Invocations/s, p99 and mean latency at one connection (back to back: the instance never
   idles, the worst case for a throttled one), and at 16 where the shape has 1 vCPU or more;
   latencies as measured (wrk's correction for coordinated omission undone:
   `side_by_side.uncorrected`).
3. CPU time per invocation: the group's CPU time (every thread and process in it) over a run,
   over the invocations answered.
4. Peak RSS of the process after those runs.
5. Cost of one million invocations at FC's pay-as-you-go prices (`bench.cost`), from the duration
   each invocation took at one connection, billed in whole milliseconds.

Rounds interleave the contenders (an order rotated each round) and the shapes, as
`bench.side_by_side` does. Before measuring, a busy loop in a group of each shape shows the quota
holding, and a process filling more than 128 MB shows the memory limit holding.
"""

from __future__ import annotations

import math
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench import cgroup, contenders, cost
from bench.report import (
    JsonValue,
    Ratio,
    Section,
    ms_text,
    progress,
    quick,
    ratio,
    ratio_text,
    spread,
    table,
)
from bench.side_by_side import Load, rotated, run_wrk, wrk_script
from infra import limits
from infra.spec import MEMORY_SIZE, default_cpu

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from bench.contenders import Contender

MIB = 1024 * 1024
WIDER_VCPUS = (1.0, 2.0)
"""The shapes beside the stack's default."""
MANY_CONNECTIONS = 16
HEADING = "## In FC's shape: a function's vCPU and memory, one invocation at a time"


@dataclass(frozen=True)
class Shape:
    """An instance's size: vCPU and memory (MB), as a function's configuration sets them."""

    vcpu: float
    memory_mb: int
    note: str = ""

    @property
    def label(self) -> str:
        """`0.1 vCPU, 128 MB`."""
        return f"{self.vcpu:g} vCPU, {self.memory_mb} MB"

    @property
    def connections(self) -> tuple[int, ...]:
        """One connection always; 16 too where the instance has a whole vCPU or more."""
        return (1, MANY_CONNECTIONS) if self.vcpu >= 1 else (1,)


def least_memory_mb(vcpu: float) -> int:
    """The least memory FC 3.0 accepts beside `vcpu`: memory (GB) at least the vCPU."""
    steps = math.ceil(vcpu * 1024 / limits.MEMORY_STEP_MB)
    return max(limits.MEMORY_MIN_MB, steps * limits.MEMORY_STEP_MB)


def shapes() -> tuple[Shape, ...]:
    """The stack's default for hello, then 1 and 2 vCPU; each one FC 3.0 accepts."""
    default = Shape(default_cpu(MEMORY_SIZE), MEMORY_SIZE, "the stack's default for hello")
    found = (default, *(Shape(vcpu, least_memory_mb(vcpu)) for vcpu in WIDER_VCPUS))
    for shape in found:
        if problems := limits.check_cpu(shape.vcpu, shape.memory_mb):
            raise RuntimeError(f"shape {shape.label} is not one FC accepts: {problems[0]}")
    return found


@dataclass(frozen=True)
class Plan:
    """How much to measure: the full run, or `--quick`."""

    cold_starts: int
    wrk_rounds: int
    wrk_seconds: int
    quota_check_s: float


FULL = Plan(cold_starts=30, wrk_rounds=3, wrk_seconds=2, quota_check_s=1.0)
QUICK = Plan(cold_starts=3, wrk_rounds=1, wrk_seconds=1, quota_check_s=0.5)


@dataclass(frozen=True)
class Start:
    """One cold start in a fresh group."""

    seconds: float
    cpu_s: float


@dataclass(frozen=True)
class Run:
    """One wrk run against an instance in its group."""

    load: Load
    cpu_per_invocation_s: float
    throttled_periods: int


Key = tuple[str, str]
"""(shape label, contender key)."""


def measure_cold_starts(
    layout: cgroup.Layout, hellos: Sequence[Contender], found: Sequence[Shape], starts: int
) -> dict[Key, list[Start]]:
    """`starts` cold starts of each contender at each shape, interleaved."""
    results: dict[Key, list[Start]] = {(s.label, c.key): [] for s in found for c in hellos}
    for round_index in range(starts):
        for shape in found:
            for contender in rotated(hellos, round_index):
                with cgroup.group(layout, shape.vcpu, shape.memory_mb) as made:
                    running = contenders.Running(contender, pipe=False, group=made)
                    used = made.cpu_seconds()
                    running.stop()
                results[shape.label, contender.key].append(Start(running.cold_start_s, used))
    return results


def _load_instance(
    layout: cgroup.Layout, contender: Contender, shape: Shape, plan: Plan, script: Path
) -> tuple[dict[int, Run], int]:
    """The wrk runs at each connection count of `contender`, fresh in a group of `shape`.

    Also the process's peak RSS after them.
    """
    found = {}
    with cgroup.group(layout, shape.vcpu, shape.memory_mb) as made:
        running = contenders.Running(contender, pipe=True, group=made)
        try:
            for conns in shape.connections:
                cpu_before, throttled_before = made.cpu_seconds(), made.throttled()
                load = run_wrk(running.port, conns, plan.wrk_seconds, script, contender.path)
                used = made.cpu_seconds() - cpu_before
                throttled = made.throttled() - throttled_before
                found[conns] = Run(load, used / max(load.requests, 1), throttled)
            peak = running.peak_rss()
        finally:
            running.stop()
        if made.oom_kills():
            raise RuntimeError(f"{contender.name} was killed by the {shape.memory_mb} MB limit")
    return found, peak


def measure_loads(
    layout: cgroup.Layout, everyone: Sequence[Contender], found: Sequence[Shape], plan: Plan
) -> tuple[dict[tuple[str, str, int], list[Run]], dict[Key, list[float]]]:
    """Run wrk at each shape's connection counts, interleaved; and each instance's peak RSS."""
    runs: dict[tuple[str, str, int], list[Run]] = {
        (s.label, c.key, n): [] for s in found for c in everyone for n in s.connections
    }
    peaks: dict[Key, list[float]] = {(s.label, c.key): [] for s in found for c in everyone}
    with tempfile.TemporaryDirectory(prefix="fc-rust-bench-") as scratch:
        scripts = {}
        for contender in everyone:
            directory = Path(scratch) / contender.key
            directory.mkdir()
            scripts[contender.key] = wrk_script(
                directory, contender.body, contender.request_headers(), method=contender.method
            )
        for round_index in range(plan.wrk_rounds):
            for shape in found:
                for contender in rotated(everyone, round_index):
                    progress(f"fc shape: round {round_index + 1}, {shape.label}, {contender.key}")
                    done, peak = _load_instance(
                        layout, contender, shape, plan, scripts[contender.key]
                    )
                    for conns, run in done.items():
                        runs[shape.label, contender.key, conns].append(run)
                    peaks[shape.label, contender.key].append(peak)
    return runs, peaks


# -- tables ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One row of a shape's table: a figure per contender, and whether lower is better."""

    metric: str
    values: dict[str, float]
    text: Callable[[float], str]
    higher_is_better: bool = False


def _cells(figure: Figure, hellos: Sequence[Contender]) -> list[str]:
    ours = figure.values[hellos[0].key]
    cells = [figure.text(ours)]
    for contender in hellos[1:]:
        found = ratio(ours, figure.values[contender.key])
        cells.append(f"{figure.text(figure.values[contender.key])} ({ratio_text(found)})")
    return cells


def misses(figure: Figure, hellos: Sequence[Contender], where: str) -> list[str]:
    """Every contender that beats ours (the first) on `figure`: both figures and ours/X."""
    ours = figure.values[hellos[0].key]
    found = []
    for contender in hellos[1:]:
        theirs = figure.values[contender.key]
        behind = ours < theirs if figure.higher_is_better else ours > theirs
        if behind:
            found.append(
                f"{where}, {figure.metric}: ours {figure.text(ours)}, {contender.name} "
                f"{figure.text(theirs)} (ours/X {ratio_text(ratio(ours, theirs))})"
            )
    return found


def _rate(value: float) -> str:
    return f"{value:,.0f}"


def _mib(value: float) -> str:
    return f"{value / MIB:.1f} MiB"


def shape_figures(
    shape: Shape,
    hellos: Sequence[Contender],
    starts: dict[Key, list[Start]],
    runs: dict[tuple[str, str, int], list[Run]],
    peaks: dict[Key, list[float]],
) -> list[Figure]:
    """The medians at one shape, a Figure per row."""

    def median_of(pick: Callable[[str], Sequence[float]]) -> dict[str, float]:
        return {c.key: statistics.median(pick(c.key)) for c in hellos}

    label = shape.label
    figures = [
        Figure(
            "cold start, median",
            median_of(lambda k: [s.seconds for s in starts[label, k]]),
            ms_text,
        ),
        Figure(
            "CPU time to start, median",
            median_of(lambda k: [s.cpu_s for s in starts[label, k]]),
            ms_text,
        ),
        Figure("peak RSS", median_of(lambda k: peaks[label, k]), _mib),
    ]
    for conns in shape.connections:

        def pick(key: str, conns: int = conns) -> list[Run]:
            return runs[label, key, conns]

        figures += [
            Figure(
                f"invocations/s, {conns} conn",
                median_of(lambda k: [r.load.throughput for r in pick(k)]),
                _rate,
                higher_is_better=True,
            ),
            Figure(
                f"p99, {conns} conn",
                median_of(lambda k: [r.load.measured_percentile(99) for r in pick(k)]),
                ms_text,
            ),
            Figure(
                f"CPU time per invocation, {conns} conn",
                median_of(lambda k: [r.cpu_per_invocation_s for r in pick(k)]),
                ms_text,
            ),
        ]
    return figures


def cost_rows(
    shape: Shape,
    family: Family,
    runs: dict[tuple[str, str, int], list[Run]],
) -> tuple[list[list[str]], dict[str, JsonValue], list[Ratio]]:
    """The cost of a million invocations at one connection, per contender, at `shape`."""
    hellos = family.contenders
    ours = hellos[0].key
    rows, ratios = [], []
    data: dict[str, JsonValue] = {}
    totals: dict[str, float] = {}
    for contender in hellos:
        chosen = runs[shape.label, contender.key, 1]
        mean = statistics.median(r.load.mean_s for r in chosen)
        billed = statistics.median(cost.billed_seconds(r.load.histogram) for r in chosen)
        bill = cost.per_million(billed, shape.vcpu, shape.memory_mb)
        totals[contender.key] = bill.total
        found = None if contender.key == ours else ratio(totals[ours], bill.total)
        if found is not None:
            ratios.append(Ratio(f"cost, {family.name}, {shape.label}", contender.name, found))
        rows.append(
            [
                family.name,
                shape.label,
                contender.name,
                ms_text(mean),
                ms_text(billed),
                cost.usd_text(bill.invocations),
                cost.usd_text(bill.vcpu + bill.memory),
                cost.usd_text(bill.total),
                ratio_text(found),
            ]
        )
        data[contender.key] = {
            "mean_duration_s": mean,
            "billed_duration_s": billed,
            "usd_invocations": bill.invocations,
            "usd_vcpu": bill.vcpu,
            "usd_memory": bill.memory,
            "usd_total": bill.total,
        }
    return rows, data, ratios


def _run_json(chosen: Sequence[Run]) -> dict[str, JsonValue]:
    return {
        "throughput": spread([r.load.throughput for r in chosen]),
        "p99_s": spread([r.load.measured_percentile(99) for r in chosen]),
        "mean_s": spread([r.load.mean_s for r in chosen]),
        "cpu_s_per_invocation": spread([r.cpu_per_invocation_s for r in chosen]),
        "throttled_periods": [r.throttled_periods for r in chosen],
        "errors": sum(r.load.errors for r in chosen),
    }


def verify_limits(layout: cgroup.Layout, found: Sequence[Shape], seconds: float) -> list[str]:
    """Busy loops in a group of each shape, and a process filling more than the default memory.

    Raises when a loop gets more than its quota or the memory limit does not stop the filler: the
    figures would not be of FC's shape.
    """
    lines = []
    for shape in found:
        check = cgroup.check_quota(layout, shape.vcpu, shape.memory_mb, seconds)
        progress(f"fc shape: quota check, {check.text()}")
        if not check.within_quota():
            raise RuntimeError(f"the CPU quota did not hold: {check.text()}")
        lines.append(f"- {check.text()}.")
    memory = found[0].memory_mb
    if not cgroup.check_memory_limit(layout, memory):
        raise RuntimeError(f"a process filling more than {memory} MB was not stopped by the limit")
    lines.append(
        f"- memory: a process filling {memory + cgroup.OVERFILL_MB} MB in a {memory} MB group was "
        "killed by the limit (oom_kill 1)."
    )
    return lines


@dataclass(frozen=True)
class Family:
    """Contenders answering the same request, ours first: hello's, or hello-http's."""

    name: str
    """`hello`, or hello-http's route."""
    contenders: list[Contender]


def families() -> list[Family]:
    """Build hello's contenders, and hello-http's where the workspace has that function."""
    progress("fc shape: building ours, Go, Python and the seed")
    found = [Family("hello", contenders.hellos())]
    if contenders.has_http_function():
        progress("fc shape: building hello-http in ours, Go and Python")
        found.append(Family(f"hello-http GET {contenders.HTTP_PATH}", contenders.http_hellos()))
    return found


def family_tables(
    family: Family,
    shape: Shape,
    starts: dict[Key, list[Start]],
    measured: tuple[dict[tuple[str, str, int], list[Run]], dict[Key, list[float]]],
) -> tuple[list[str], list[str], list[Ratio], dict[str, JsonValue]]:
    """One family at one shape: its table, where ours is behind, its ratios and figures."""
    runs, peaks = measured
    hellos = family.contenders
    figures = shape_figures(shape, hellos, starts, runs, peaks)
    rows = [[figure.metric, *_cells(figure, hellos)] for figure in figures]
    heading = f"### {family.name}, {shape.label}" + (f" ({shape.note})" if shape.note else "")
    where = f"{family.name}, {shape.label}"
    missed, ratios = [], []
    for figure in figures:
        missed += misses(figure, hellos, where)
        for contender in hellos[1:]:
            found = ratio(figure.values[hellos[0].key], figure.values[contender.key])
            if found is not None:
                metric = f"{figure.metric}, {where}"
                ratios.append(Ratio(metric, contender.name, found, figure.higher_is_better))
    data: dict[str, JsonValue] = {
        c.key: {
            "cold_start_s": spread([s.seconds for s in starts[shape.label, c.key]]),
            "cpu_to_start_s": spread([s.cpu_s for s in starts[shape.label, c.key]]),
            "peak_rss": spread(peaks[shape.label, c.key]),
            **{f"{n} conn": _run_json(runs[shape.label, c.key, n]) for n in shape.connections},
        }
        for c in hellos
    }
    markdown = [heading, "", table(["", *(c.name for c in hellos)], rows), ""]
    return markdown, missed, ratios, data


def _not_measured(reason: str) -> Section:
    """The section on a machine where FC's shape cannot be made, saying why."""
    progress(f"fc shape: not measured: {reason}")
    markdown = f"{HEADING}\n\nNot measured on this machine: {reason}."
    return Section("fc_shape", markdown, {"not_measured": reason})


def section() -> Section:
    """Build the contenders, check the limits, then measure them in each shape."""
    plan = QUICK if quick() else FULL
    found = shapes()
    try:
        layout = cgroup.find_layout()
        checks = verify_limits(layout, found, plan.quota_check_s)
    except PermissionError as error:
        return _not_measured(f"the bench may not make cgroups here ({error}): run it as root")
    except RuntimeError as error:
        return _not_measured(str(error))
    chosen = families()
    everyone = [c for family in chosen for c in family.contenders]
    progress("fc shape: cold starts")
    starts = measure_cold_starts(layout, everyone, found, plan.cold_starts)
    measured = measure_loads(layout, everyone, found, plan)

    parts: list[str] = []
    ratios: list[Ratio] = []
    missed: list[str] = []
    data: dict[str, JsonValue] = {"mechanism": layout.describe(), "limits": list(checks)}
    cost_table: list[list[str]] = []
    for shape in found:
        shape_data: dict[str, JsonValue] = {"vcpu": shape.vcpu, "memory_mb": shape.memory_mb}
        for family in chosen:
            lines, behind, found_ratios, figures = family_tables(family, shape, starts, measured)
            rows, costs, cost_ratios = cost_rows(shape, family, measured[0])
            parts += lines
            missed += behind
            ratios += [*found_ratios, *cost_ratios]
            cost_table += rows
            shape_data[family.name] = {**figures, "cost_per_million": costs}
        data[shape.label] = shape_data
    data["price_source"] = cost.PRICE_SOURCE
    data["plan"] = {
        "cold_starts": plan.cold_starts,
        "wrk_rounds": plan.wrk_rounds,
        "wrk_seconds": plan.wrk_seconds,
    }
    cost_headers = [
        "request",
        "shape",
        "",
        "mean duration",
        "billed (whole ms)",
        "invocations",
        "vCPU + memory",
        "USD per million",
        "ours/X",
    ]
    markdown = "\n".join(
        [
            HEADING,
            "",
            *[f"- {c.name} ({c.key}): {c.built_with}." for c in everyone],
            "",
            (
                "Each contender runs in a fresh cgroup with the CPU quota of the shape's vCPU "
                f"(per {cgroup.PERIOD_US // 1000} ms period) and a memory limit of its memory "
                f"size. Mechanism: {layout.describe()}; each group has "
                f"{cgroup.WEIGHT_FACTOR} times a default process's CPU weight, so that the quota "
                "rather than the machine's other work limits it. What a busy loop got in each "
                f"shape, over {plan.quota_check_s:g} s:"
            ),
            "",
            *checks,
            "",
            (
                "Each cell: the median figure, and (ours/X) beside the others' (below 1 ours "
                "ahead, except invocations/s). Cold starts: "
                f"{plan.cold_starts} per contender and shape, each in a fresh group; CPU time to "
                "start: the group's, until the first 200. Loads: wrk -t1 for "
                f"{plan.wrk_seconds} s, median of {plan.wrk_rounds} rounds, output to a pipe the "
                "bench drains; one connection sends invocations back to back; p99 as measured "
                "(wrk's coordinated-omission correction undone); CPU time per invocation: the "
                "group's CPU time over the run, over the invocations answered. Peak RSS: VmHWM "
                "after the runs."
            ),
            "",
            *parts,
            "### Where ours is behind",
            "",
            *([f"- {line}" for line in missed] or ["- nowhere in this run."]),
            "",
            "### What a million invocations cost (one connection, back to back)",
            "",
            table(cost_headers, cost_table),
            "",
            (
                f"Prices: {cost.PRICE_SOURCE}; USD {cost.USD_PER_CU:.6f} per CU (tier 1), "
                f"{cost.CU_PER_INVOCATION * 10_000:g} CU per 10,000 invocations, "
                f"{cost.CU_PER_VCPU_SECOND:g} CU per vCPU-second, {cost.CU_PER_GB_SECOND:g} CU per "
                "GB-second; vCPU and memory are billed as configured times each invocation's "
                "duration, rounded up to a whole millisecond (our reading of the billing "
                "granularity). Durations are wrk's, from the client: a little more than FC "
                "would count. All unconfirmed here: check the prices before quoting them."
            ),
        ]
    )
    return Section("fc_shape", markdown, data, tuple(ratios))
