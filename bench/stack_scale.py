"""What a stack costs as it grows: N = 1, 10 and 50 functions, shared layout beside per-function.

For each N, a stack of N functions of one crate (hello), each with a daily timer, declared by
`declare_functions` under the offline mocks (`infra.offline`, as `python -m infra plan` runs
it): the resources it declares, the time the program takes to evaluate with every package
cached (what `pulumi preview` of an unchanged stack pays before the engine diffs), and the
build's cache hit alone (`build_all`). The same stack in the layout before sharing
(`layout: per-function`) is measured beside it, in turn.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from typing import TYPE_CHECKING

from bench.report import Section, progress, quick, table
from infra import offline
from infra.program import build_all, declare_functions
from infra.sharing import Sharing
from infra.spec import resolve

if TYPE_CHECKING:
    from bench.report import JsonValue
    from infra.args import RustFunctionArgs

SIZES = (1, 10, 50)
REGION = "cn-hangzhou"
PROJECT, STACK = "fc-rust", "bench"


def functions(count: int) -> dict[str, RustFunctionArgs]:
    """`count` functions of hello, each with a daily timer."""
    return {
        f"fn-{index:02}": {"crate": "hello", "timers": [{"name": "daily", "cron": "0 0 0 * * *"}]}
        for index in range(count)
    }


def evaluate(count: int, sharing: Sharing) -> tuple[float, Counter[str]]:
    """Seconds to evaluate the stack, and how many custom resources of each type it declares."""
    mocks = offline.CloudMocks("123456789", REGION)
    monitor = offline.RecordingMonitor(mocks)
    started = time.perf_counter()
    offline.evaluate(
        lambda: declare_functions(functions(count), sharing=sharing),
        {"alicloud:region": REGION},
        [],
        project=PROJECT,
        stack=STACK,
        mocks=mocks,
        monitor=monitor,
    )
    seconds = time.perf_counter() - started
    return seconds, Counter(r.type for r in monitor.registered if r.custom)


def cache_hit(count: int) -> float:
    """Seconds for `build_all` to find every package of the stack in the cache."""
    specs = [
        resolve(name, args, project=PROJECT, stack=STACK, region=REGION)
        for name, args in functions(count).items()
    ]
    started = time.perf_counter()
    build_all(specs)
    return time.perf_counter() - started


def section() -> Section:
    """Each N, each layout, in turn; the median of the rounds after an untimed first."""
    rounds = 1 if quick() else 5
    layouts = {"shared": Sharing(), "per-function": Sharing(enabled=False)}
    progress("stack scale: first evaluation (builds hello if needed)")
    evaluate(1, Sharing())
    timings: dict[tuple[int, str], list[float]] = {}
    hits: dict[int, list[float]] = {}
    counts: dict[tuple[int, str], Counter[str]] = {}
    for round_ in range(rounds):
        progress(f"stack scale: round {round_ + 1} of {rounds}")
        for count in SIZES:
            hits.setdefault(count, []).append(cache_hit(count))
            for label, sharing in layouts.items():
                seconds, counts[count, label] = evaluate(count, sharing)
                timings.setdefault((count, label), []).append(seconds)
    rows = []
    data: dict[str, JsonValue] = {"rounds": rounds}
    for count in SIZES:
        for label in layouts:
            found = counts[count, label]
            total = sum(found.values())
            buckets = found["alicloud:oss/bucket:Bucket"]
            projects = found["alicloud:log/project:Project"]
            seconds = statistics.median(timings[count, label])
            hit = statistics.median(hits[count])
            rows.append(
                [
                    str(count),
                    label,
                    str(total),
                    f"{total / count:.1f}",
                    f"{buckets} / {projects}",
                    f"{seconds:.2f} s",
                    f"{hit * 1000:.0f} ms",
                ]
            )
            data[f"{count} {label}"] = {
                "resources": total,
                "buckets": buckets,
                "log_projects": projects,
                "evaluation_s": seconds,
                "cache_hit_s": hit,
            }
    markdown = "\n\n".join(
        [
            "## A stack as it grows: N functions, shared layout beside per-function",
            (
                "N functions of hello, each with a daily timer, declared by `declare_functions` "
                "under the offline mocks; evaluation: the whole program with every package "
                f"cached, median of {rounds} round(s) after an untimed first; cache hit: "
                "`build_all` alone."
            ),
            table(
                [
                    "N",
                    "layout",
                    "custom resources",
                    "per function",
                    "buckets / log projects",
                    "evaluation",
                    "build cache hit",
                ],
                rows,
            ),
        ]
    )
    return Section("stack_scale", markdown, data)
