"""`make bench`: the figures the README quotes, each measured beside what it is compared with.

Runs the sections in SECTIONS in order (see bench/report.py for what a section is), then prints
and writes bench/results.md (for people), bench/results.json (for programs) and bench/ratios.png
(every ratio ours/X), headed by the machine and its load average before and after.

Run from the repository root: `python -m bench` (`make bench` also installs what it needs).
`--quick` runs fewer rounds and `--only NAME` runs one section; both
write to target/bench-dev/ instead, for developing the bench.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bench import fc_shape, preview, side_by_side, sizes, stack_scale
from bench.plot import plot
from bench.report import BENCH_DIR, DEV_DIR, QUICK_ENV, JsonValue, Section, progress

if TYPE_CHECKING:
    from collections.abc import Callable

SECTIONS: list[Callable[[], Section]] = [
    sizes.section,
    preview.section,
    side_by_side.section,
    fc_shape.section,
    stack_scale.section,
]
"""Each `section()` in the order of results.md; a new section is one more entry."""


def section_name(section: Callable[[], Section]) -> str:
    """A section's name for `--only`: its module's (`side_by_side`)."""
    return section.__module__.rsplit(".", 1)[-1]


def _first_line(command: list[str]) -> str:
    try:
        run = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return "not found"
    return ((run.stdout or run.stderr).strip().splitlines() or ["?"])[0]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def machine() -> dict[str, JsonValue]:
    """What the figures were measured on."""
    memory = _memory_gib()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1) if memory is not None else None,
        "kernel": f"{platform.system()} {platform.release()}",
        "arch": platform.machine(),
        "rustc": _first_line(["rustc", "--version"]),
        "go": _first_line(["go", "version"]),
        "wrk": " ".join(_first_line(["wrk", "--version"]).split()[:2]),
    }


def _load_text(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{value:.2f}" for value in load)


def main() -> None:
    """Run every section; print and write the results."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds, results in target/bench-dev"
    )
    names = [section_name(section) for section in SECTIONS]
    parser.add_argument(
        "--only", action="append", choices=names, help="run this section only (repeatable)"
    )
    args = parser.parse_args()
    chosen = [s for s in SECTIONS if args.only is None or section_name(s) in args.only]
    if args.quick:
        os.environ[QUICK_ENV] = "1"
    out_dir = DEV_DIR if args.quick or args.only else BENCH_DIR
    out_dir.mkdir(parents=True, exist_ok=True)

    started = datetime.now(UTC)
    load_before = os.getloadavg()
    found = []
    for section in chosen:
        progress(f"section {section_name(section)}")
        found.append(section())
    load_after = os.getloadavg()
    host = machine()
    host["load_before"] = list(load_before)
    host["load_after"] = list(load_after)

    ratios = [ratio for section in found for ratio in section.ratios]
    header = [
        "# Benchmark results",
        "",
        (
            f"`make bench`{' --quick' if args.quick else ''}"
            f"{''.join(f' --only {name}' for name in args.only or [])}, "
            f"{started:%Y-%m-%d %H:%M} UTC, "
            f"{(datetime.now(UTC) - started).total_seconds() / 60:.1f} minutes."
        ),
        "",
        (
            f"Machine: {host['cpu']}, {host['cores']} cores, {host['memory_gib']} GiB, "
            f"{host['kernel']} ({host['arch']}). Load average (1 / 5 / 15 min): "
            f"{_load_text(load_before)} before, {_load_text(load_after)} after."
        ),
        f"Tools: {host['rustc']}; {host['go']}; {host['wrk']}.",
        "",
        "![ratios ours/X](ratios.png)",
    ]
    text = "\n\n".join(["\n".join(header), *(section.markdown for section in found)]) + "\n"
    results: dict[str, JsonValue] = {
        "started": started.isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": host,
        "sections": {section.key: section.data for section in found},
        "ratios": [ratio.as_json() for ratio in ratios],
    }
    (out_dir / "results.md").write_text(text)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    sys.stdout.write(text)
    title = f"ours/X, {host['cpu']}, {started:%Y-%m-%d}"
    try:
        plot(ratios, out_dir / "ratios.png", title)
    except ModuleNotFoundError as error:
        raise SystemExit(
            f"cannot draw ratios.png: {error} (`make bench` installs the `bench` dependency group)"
        ) from error
    progress(f"wrote {out_dir / 'results.md'}, results.json and ratios.png")


if __name__ == "__main__":
    main()
