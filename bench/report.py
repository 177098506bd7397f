"""What a `make bench` section returns, and the arithmetic and tables the sections share.

A section is a module with `def section() -> Section`, listed in `bench.__main__.SECTIONS`. It
measures, then returns its markdown (starting with its `## ` heading), its figures for
bench/results.json (JSON values only), and the ratios ours/X it found, which go into the JSON and
into bench/ratios.png. It reads `quick()` to run fewer rounds while someone develops it.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

BENCH_DIR = Path(__file__).resolve().parent
DEV_DIR = BENCH_DIR.parent / "target" / "bench-dev"
"""Where quick runs (and `--only`) write: bench/ holds full runs only."""

QUICK_ENV = "FCRUST_BENCH_QUICK"
"""Set to `1` by `python -m bench --quick`: sections run fewer rounds."""

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]

_START = time.monotonic()


@dataclass(frozen=True)
class Ratio:
    """One ratio ours/X: `value` is our figure divided by the other contender's."""

    metric: str
    """What was measured, e.g. `cold start, median`."""
    versus: str
    """The other contender, e.g. `Go`."""
    value: float
    higher_is_better: bool = False
    """True for figures such as throughput: a ratio above 1 is then ours ahead."""

    def as_json(self) -> dict[str, JsonValue]:
        """The ratio as results.json holds it."""
        return {
            "metric": self.metric,
            "versus": self.versus,
            "ours_over_theirs": round(self.value, 4),
            "higher_is_better": self.higher_is_better,
        }


@dataclass(frozen=True)
class Section:
    """What one section of `make bench` found."""

    key: str
    """Its key in results.json: lowercase words joined by `_`."""
    markdown: str
    """Its part of results.md, starting with its `## ` heading."""
    data: dict[str, JsonValue]
    """Its figures, JSON values only."""
    ratios: tuple[Ratio, ...] = field(default=())


def quick() -> bool:
    """Whether this is a `--quick` run (fewer rounds, results outside bench/)."""
    return os.environ.get(QUICK_ENV) == "1"


def progress(message: str) -> None:
    """A progress line on stderr, with the seconds since the run started."""
    sys.stderr.write(f"[bench {time.monotonic() - _START:6.1f} s] {message}\n")
    sys.stderr.flush()


def spread(values: Sequence[float]) -> dict[str, JsonValue]:
    """Median, minimum, maximum and count, as results.json records a repeated measurement."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """Our figure over theirs, or None when either is unknown or theirs is zero."""
    if ours is None or theirs is None or theirs == 0:
        return None
    return ours / theirs


def ratio_text(value: float | None) -> str:
    """A ratio to three significant digits (`0.72`, `0.0352`, `1.13`); `-` when unknown."""
    if value is None:
        return "-"
    return f"{value:.3g}"


def bytes_text(size: int | None) -> str:
    """Bytes with thousands separators (`394,785`); `-` when unknown."""
    return "-" if size is None else f"{size:,}"


def ms_text(seconds: float) -> str:
    """A duration in µs under 1 ms, else in ms with one decimal under 100 ms and none above."""
    millis = seconds * 1000
    if millis < 1:
        return f"{millis * 1000:.0f} µs"
    return f"{millis:.1f} ms" if millis < 100 else f"{millis:.0f} ms"  # noqa: PLR2004


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
