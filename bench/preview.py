"""What `pulumi preview` pays for an unchanged function.

The build resource's cache hit (a new `Builder` reads the workspace, fingerprints it and finds
the package) beside cargo's own no-op: the build resource's cargo command with nothing to do.
"""

from __future__ import annotations

import functools
import statistics
import time
from typing import TYPE_CHECKING

from bench.report import Section, progress, quick, table
from bench.sizes import GLIBC, cargo_zigbuild
from infra.bootstrap import Builder

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from bench.report import JsonValue


def median_seconds(actions: Sequence[Callable[[], object]], runs: int) -> list[float]:
    """The median wall time of each action, over `runs` rounds that call each once in turn.

    Each action runs once first, untimed: what is measured is the steady state.
    """
    for action in actions:
        action()
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(runs):
        for action, taken in zip(actions, times, strict=True):
            start = time.perf_counter()
            action()
            taken.append(time.perf_counter() - start)
    return [statistics.median(taken) for taken in times]


def cache_hit(crate: str) -> None:
    """What an unchanged preview pays: read the workspace, fingerprint, find the package."""
    Builder().package(crate)


def section() -> Section:
    """Time each cache hit and cargo's no-op, in turn."""
    runs = 2 if quick() else 5
    builder = Builder()
    functions = [crate.name for crate in builder.run_crates([])]
    progress("preview cost")
    actions: list[Callable[[], object]] = [
        functools.partial(cache_hit, crate) for crate in functions
    ]
    actions.append(functools.partial(cargo_zigbuild, builder, GLIBC))
    *hits, noop = median_seconds(actions, runs)
    rows = [[f"build resource cache hit, {crate}", f"{hit * 1000:.0f} ms"] for crate, hit in
            zip(functions, hits, strict=True)]  # fmt: skip
    rows.append(["cargo zigbuild of every function, nothing to do", f"{noop * 1000:.0f} ms"])
    data: dict[str, JsonValue] = {
        "runs": runs,
        "cache_hit_s": dict(zip(functions, hits, strict=True)),
        "cargo_noop_s": noop,
    }
    markdown = "\n".join(
        [
            f"## Preview cost of an unchanged function (median of {runs})",
            "",
            table(["", "time"], rows),
        ]
    )
    return Section("preview_cost", markdown, data)
