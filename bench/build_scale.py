"""Many functions from one workspace: N copies of hello, one cargo run for them all.

Built one crate at a time, by `package_many` (one cargo run) and by one plain `cargo zigbuild
--workspace` (the yardstick).

For each N, a workspace is generated in a temporary directory: this repository's `Cargo.toml`,
`Cargo.lock` and `crates/`, and `functions/hello-1` .. `hello-N`, each a copy of
`functions/hello` under its own name. Its `Cargo.lock` is updated once, offline (`cargo update
--workspace --offline`: the crates come from cargo's local registry cache). Then:

(a) a cold build of every function (empty build cache, empty cargo target directory) three ways:
    `cargo zigbuild --workspace` alone, which packages nothing, and `package_many` (one run),
    each twice in turns (once at N = 32), the fastest kept; then one crate at a time (N cargo
    runs, each followed by its packaging: the builder before `package_many`), for N <= 8 only:
    at N = 32 it takes long.
(b) an unchanged preview: `package_many` of every function on a warm cache, median of 5, each
    from a new `Builder` with the toolchain versions asked again (as a new `pulumi preview`
    process would).
(c) one source file of one function changed: `package_many` again; only that function gets a new
    package (checked: every other package's sha256 is unchanged).

`python -m bench.build_scale [--quick]` prints the Markdown and writes it, with the figures and
how long the run took, to bench/build_scale.md and .json; `--quick` measures N = 1 and 2 and
writes to target/bench-dev/.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bench.report import BENCH_DIR, DEV_DIR, table
from bench.sizes import GLIBC, TRIPLE
from infra.bootstrap import Builder, build_zip, check_runtime_compatible
from infra.bootstrap import build as build_module
from infra.bootstrap.build import DEFAULT_RUNTIME, TARGET

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[1]
SIZES = (1, 8, 32)
QUICK_SIZES = (1, 2)
ONE_AT_A_TIME_UP_TO = 8
"""One crate at a time is measured up to this N."""
PREVIEW_RUNS = 5
COLD_RUNS = 2
"""Cold builds of the yardstick and of package_many, in turns, for N <= ONE_AT_A_TIME_UP_TO (one
at N = 32); the fastest of each is reported."""
COLD_TARGET = 1.05
"""The issue's target: a cold package_many of N = 8 within this factor of one cargo run."""
PREVIEW_TARGET_S = 0.2
"""The issue's target: an unchanged preview of N = 32 under this many seconds."""
CHANGED = ('|| "world"', '|| "world, once more"')
"""The one-file change: hello's default name, in one function's src/main.rs."""


def names(n: int) -> list[str]:
    """The generated functions' crate names."""
    return [f"hello-{i}" for i in range(1, n + 1)]


def generate(root: Path, n: int) -> Path:
    """A workspace in `root` with functions hello-1..hello-N and a Cargo.lock listing them."""
    skip = shutil.ignore_patterns("target", "dist")
    for name in ("Cargo.toml", "Cargo.lock"):
        shutil.copy2(REPO / name, root / name)
    shutil.copytree(REPO / "crates", root / "crates", ignore=skip)
    for name in names(n):
        crate = Path(shutil.copytree(REPO / "functions" / "hello", root / "functions" / name))
        manifest = crate / "Cargo.toml"
        manifest.write_text(
            re.sub(
                r'^name = "hello"$', f'name = "{name}"', manifest.read_text(), flags=re.MULTILINE
            )
        )
    subprocess.run(["cargo", "update", "--workspace", "--offline", "--quiet"], cwd=root, check=True)
    return root


def builder(workspace: Path, state: Path) -> Builder:
    """A builder whose cache and target directory are `state`'s (empty when `state` is new)."""
    return Builder(
        workspace,
        cache_dir=state / "cache",
        target_dir=state / "cargo",
        log=io.StringIO(),
    )


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (cargo, rustc, zig's linker)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(action: Callable[[], T]) -> tuple[dict[str, float], T]:
    """Wall and CPU seconds `action` took (`s`, `cpu_s`), and what it returned.

    CPU time is what other work on the machine changes least: it shows whether a slower wall
    time came from the build or from the neighbours.
    """
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = action()
    return {"s": time.perf_counter() - wall, "cpu_s": cpu_seconds() - cpu}, result


def one_at_a_time(workspace: Path, state: Path, crates: list[str]) -> dict[str, float]:
    """The builder before package_many: per crate, one cargo run, then the ELF check and zip."""
    env = builder(workspace, state).cargo_environment(GLIBC)
    release = Path(env["CARGO_TARGET_DIR"]) / TARGET / "release"

    def build() -> float:
        in_cargo = 0.0
        for crate in crates:
            command = ["cargo", "zigbuild", "--release", "--locked", "--quiet", "-p", crate]
            command += ["--bin", crate, "--target", TRIPLE]
            start = time.perf_counter()
            subprocess.run(command, cwd=workspace, env=env, check=True)
            in_cargo += time.perf_counter() - start
            binary = (release / crate).read_bytes()
            check_runtime_compatible(binary, DEFAULT_RUNTIME)
            build_zip(binary, {})
        return in_cargo

    timing, in_cargo = timed(build)
    return {**timing, "cargo_s": in_cargo}


def yardstick(workspace: Path, state: Path) -> dict[str, float]:
    """One plain `cargo zigbuild --workspace`, in the builder's environment: no packaging."""
    env = builder(workspace, state).cargo_environment(GLIBC)
    command = ["cargo", "zigbuild", "--release", "--locked", "--quiet", "--workspace"]
    command += ["--target", TRIPLE]
    timing, _ = timed(lambda: subprocess.run(command, cwd=workspace, env=env, check=True))
    return {**timing, "cargo_s": timing["s"]}


def package_many(workspace: Path, state: Path, crates: list[str]) -> dict[str, float]:
    """A cold package_many: it must run cargo once."""
    many = builder(workspace, state)
    timing, _ = timed(functools.partial(many.package_many, crates))
    if many.cargo_runs != 1:
        raise AssertionError(f"package_many ran cargo {many.cargo_runs} times")
    return {**timing, "cargo_s": many.cargo_seconds}


def unchanged_preview(workspace: Path, state: Path, crates: list[str]) -> list[float]:
    """package_many on a warm cache, as a new preview process pays it."""
    times = []
    for _ in range(PREVIEW_RUNS):
        build_module._versions_asked.clear()  # noqa: SLF001 - a new process asks again
        start = time.perf_counter()
        hit = builder(workspace, state)
        hit.package_many(crates)
        times.append(time.perf_counter() - start)
        if hit.cargo_runs:
            raise AssertionError("an unchanged preview ran cargo")
    return times


def one_change(workspace: Path, state: Path, crates: list[str]) -> dict[str, Any]:
    """Change one function's main.rs; package_many; check only it got a new package."""
    before = builder(workspace, state).package_many(crates)
    changed = crates[len(crates) // 2]
    source = workspace / "functions" / changed / "src" / "main.rs"
    text = source.read_text()
    if CHANGED[0] not in text:
        raise AssertionError(f"{source} no longer holds {CHANGED[0]}: update CHANGED")
    source.write_text(text.replace(*CHANGED, 1))
    rebuilt = builder(workspace, state)
    timing, after = timed(lambda: rebuilt.package_many(crates))
    new = sorted(name for name in crates if after[name].fingerprint != before[name].fingerprint)
    same = all(after[name].sha256 == before[name].sha256 for name in crates if name != changed)
    if new != [changed] or not same or after[changed].sha256 == before[changed].sha256:
        raise AssertionError(f"changed {changed}; new packages: {new}; others unchanged: {same}")
    binary = zipfile.ZipFile(after[changed].zip_path).read("bootstrap")
    if b"world, once more" not in binary:
        raise AssertionError(f"{changed}'s new package does not hold the change")
    return {
        **timing,
        "cargo_s": rebuilt.cargo_seconds,
        "cargo_runs": rebuilt.cargo_runs,
        "repackaged": new,
    }


def measure(n: int) -> dict[str, Any]:
    """Every figure for N functions; each cold build from empty state."""
    crates = names(n)
    result: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix=f"fc-rust-scale-{n}-") as temp:
        workspace = Path(temp) / "ws"
        workspace.mkdir()
        generate(workspace, n)
        states = Path(temp) / "state"
        runs: dict[str, list[dict[str, float]]] = {"yardstick": [], "package_many": []}
        # Taken in turns, the fastest of each kept: other work on the machine slows a build, it
        # never speeds one up. The last package_many's state serves (b) and (c).
        for _ in range(COLD_RUNS if n <= ONE_AT_A_TIME_UP_TO else 1):
            shutil.rmtree(states, ignore_errors=True)
            runs["yardstick"].append(yardstick(workspace, states / "yardstick"))
            shutil.rmtree(states / "yardstick")
            runs["package_many"].append(package_many(workspace, states / "many", crates))
        if n <= ONE_AT_A_TIME_UP_TO:
            runs["one_at_a_time"] = [one_at_a_time(workspace, states / "one", crates)]
            shutil.rmtree(states / "one")
        result["cold_runs"] = runs
        result["cold"] = {label: min(each, key=lambda r: r["s"]) for label, each in runs.items()}
        result["unchanged_preview_s"] = unchanged_preview(workspace, states / "many", crates)
        result["one_change"] = one_change(workspace, states / "many", crates)
    result["load_after"] = os.getloadavg()[0]
    return result


def _s(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds >= 10 else f"{seconds:.2f} s"  # noqa: PLR2004


def _cell(run: dict[str, float]) -> str:
    return f"{_s(run['s'])} (CPU {_s(run['cpu_s'])})"


PICKS = (statistics.median, min, max)
"""How the unchanged preview's runs are shown: median, fastest, slowest."""


def render(figures: dict[str, Any]) -> str:
    """The Markdown section for `figures` (as `section` returns them)."""
    sizes: dict[str, dict[str, Any]] = figures["sizes"]
    loads = ", ".join(
        f"N = {n}: {f['load_before']:.1f} -> {f['load_after']:.1f}" for n, f in sizes.items()
    )
    lines = [
        "## Many functions: one cargo run (N copies of hello)",
        "",
        (
            f"Machine: {figures['machine']}. Load average (1 min) before and after each N: "
            f"{loads}. Above the core count, other work shared the cores: wall times are then "
            "high and uneven; CPU times (this process and its children) much less so."
        ),
        "",
        "### Cold build of every function (empty build cache and cargo target directory)",
        "",
    ]
    rows = []
    for n, f in sizes.items():
        cold = f["cold"]
        yard, many = cold["yardstick"], cold["package_many"]
        one = (
            f"{_cell(cold['one_at_a_time'])}, of which cargo {_s(cold['one_at_a_time']['cargo_s'])}"
            if "one_at_a_time" in cold
            else f"not measured (N > {ONE_AT_A_TIME_UP_TO}: it takes long)"
        )
        rows.append(
            [
                n,
                _cell(yard),
                _cell(many),
                _s(many["cargo_s"]),
                (
                    f"{many['s'] / yard['s']:.2f}x (CPU {many['cpu_s'] / yard['cpu_s']:.2f}x; "
                    f"cargo alone {many['cargo_s'] / yard['s']:.2f}x)"
                ),
                one,
            ]
        )
    headers = [
        "N",
        "cargo zigbuild --workspace",
        "package_many (one cargo run)",
        "of which cargo",
        "package_many / --workspace",
        "one crate at a time (N cargo runs)",
    ]
    lines += [
        table(headers, rows),
        "",
        (
            f"--workspace and package_many: the fastest of {COLD_RUNS} builds each, taken in "
            f"turns (of one for N > {ONE_AT_A_TIME_UP_TO}); then one build one crate at a time. "
            "package_many's time beyond cargo's is the ELF check and the zip of each function."
        ),
    ]
    if "8" in sizes:
        many, yard = sizes["8"]["cold"]["package_many"], sizes["8"]["cold"]["yardstick"]
        ratio = many["s"] / yard["s"]
        verdict = "met" if ratio <= COLD_TARGET else "NOT met"
        lines.append(
            f"Target, cold N = 8 within {COLD_TARGET}x of one cargo invocation: {verdict} "
            f"({ratio:.2f}x; its cargo run alone {many['cargo_s'] / yard['s']:.2f}x)."
        )
    lines += [
        "",
        f"### Unchanged preview: package_many on a warm cache (median of {PREVIEW_RUNS})",
        "",
        table(
            ["N", "median", "fastest", "slowest"],
            [
                [n, *(f"{pick(f['unchanged_preview_s']) * 1000:.0f} ms" for pick in PICKS)]
                for n, f in sizes.items()
            ],
        ),
    ]
    if "32" in sizes:
        median = statistics.median(sizes["32"]["unchanged_preview_s"])
        verdict = "met" if median < PREVIEW_TARGET_S else "NOT met"
        lines.append(
            f"\nTarget, unchanged N = 32 under {PREVIEW_TARGET_S} s: {verdict} "
            f"({median * 1000:.0f} ms)."
        )
    lines += [
        "",
        "### One source file of one function changed",
        "",
        table(
            ["N", "package_many", "of which cargo", "cargo runs", "repackaged"],
            [
                [
                    n,
                    _cell(change),
                    _s(change["cargo_s"]),
                    str(change["cargo_runs"]),
                    f"{', '.join(change['repackaged'])} (every other package's sha256 unchanged)",
                ]
                for n, change in ((n, f["one_change"]) for n, f in sizes.items())
            ],
        ),
    ]
    return "\n".join(lines) + "\n"


def section(*, quick: bool = False) -> tuple[str, dict[str, Any]]:
    """Measure; return the Markdown and the figures (JSON-able)."""
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True, check=True)
    figures: dict[str, Any] = {
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{rustc.stdout.strip()}"
        ),
        "sizes": {str(n): measure(n) for n in (QUICK_SIZES if quick else SIZES)},
    }
    return render(figures), figures


def main() -> None:
    """Measure; print the Markdown and write it with the figures once every N is measured.

    To bench/build_scale.md and .json (`--quick`: target/bench-dev/), so a failed run leaves the
    last results in place.
    """
    parser = argparse.ArgumentParser(prog="python -m bench.build_scale")
    parser.add_argument("--quick", action="store_true", help=f"N = {QUICK_SIZES} only")
    quick = parser.parse_args().quick
    started = time.monotonic()
    text, figures = section(quick=quick)
    minutes = (time.monotonic() - started) / 60
    text += f"\nThe run took {minutes:.0f} minutes.\n"
    print(text)  # noqa: T201
    out_dir = DEV_DIR if quick else BENCH_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "build_scale.md").write_text(text, encoding="utf-8")
    figures_text = json.dumps(figures, indent=2) + "\n"
    (out_dir / "build_scale.json").write_text(figures_text, encoding="utf-8")


if __name__ == "__main__":
    main()
