"""`make bench`: the figures the README quotes, each measured beside what it is compared with.

1. Size: the release bootstrap with `panic = "unwind"` (ours) and `panic = "abort"`, the zip,
   the static binary and the container image.
2. Preview cost: a cache hit of the build resource beside cargo's own no-op build.
3. Cold start: from exec of the unpacked bootstrap to its first answered invocation.

Run from the repository root: `python -m bench`. Results are printed and written to
bench/results.md.
"""

from __future__ import annotations

import functools
import http.client
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from infra.bootstrap import Builder
from infra.bootstrap.build import TARGET, tool_env
from infra.container import DOCKERFILE, prepare_context
from infra.local.emulator import free_port

if TYPE_CHECKING:
    from collections.abc import Callable

FUNCTIONS = ("hello", "sync-forks")
GLIBC = "2.28"
TRIPLE = f"{TARGET}.{GLIBC}"
RUNS = 5
COLD_STARTS = 20


def median_seconds(action: Callable[[], object], runs: int) -> float:
    """Median wall time of `runs` calls of `action`."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cargo_zigbuild(builder: Builder, crate: str, target_dir: Path, panic: str) -> Path:
    """Build like the build resource does (release, zig, glibc floor), with the given panic."""
    env = tool_env()
    env["CARGO_TARGET_DIR"] = str(target_dir)
    env["CARGO_PROFILE_RELEASE_PANIC"] = panic
    subprocess.run(
        [
            *("cargo", "zigbuild", "--release", "--locked", "--quiet"),
            "-p",
            crate,
            "--target",
            TRIPLE,
        ],
        cwd=builder.workspace.root,
        env=env,
        check=True,
    )
    return target_dir / TARGET / "release" / crate


def cache_hit(crate: str) -> None:
    """What an unchanged preview pays: read the workspace, fingerprint, find the package."""
    Builder().package(crate)


def cold_start(code_dir: Path, body: bytes) -> float:
    """Seconds from exec of `bootstrap` to the first answered `POST /invoke`."""
    port = free_port()
    env = {"FC_CUSTOM_LISTEN_PORT": str(port), "PATH": "/usr/bin:/bin"}
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(code_dir / "bootstrap")], env=env, stdout=subprocess.DEVNULL, cwd=code_dir
    )
    try:
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("POST", "/invoke", body=body)
                connection.getresponse().read()
                connection.close()
                return time.perf_counter() - start
            except ConnectionRefusedError:
                time.sleep(0.0005)
    finally:
        process.terminate()
        process.wait(timeout=10)


def image_size(builder: Builder, crate: str) -> int | None:
    """Uncompressed size of the FROM-scratch image, or None without a Docker engine."""
    if shutil.which("docker") is None:
        return None
    _, context = prepare_context(builder, crate)
    reference = f"fc-rust-bench/{crate}:latest"
    dockerfile = str(builder.workspace.root / DOCKERFILE)
    build = ["docker", "build", "--quiet", "-f", dockerfile, "-t", reference, str(context)]
    if subprocess.run(build, capture_output=True, check=False).returncode != 0:
        return None
    inspect = ["docker", "image", "inspect", "--format", "{{.Size}}", reference]
    size = int(subprocess.run(inspect, capture_output=True, text=True, check=True).stdout)
    subprocess.run(["docker", "rmi", reference], capture_output=True, check=False)
    return size


def main() -> None:
    """Measure, print, and record."""
    builder = Builder()
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True, check=True)
    lines = [
        "# Benchmark results",
        "",
        (
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, {rustc.stdout.strip()}."
        ),
        "",
        "## Size (bytes)",
        "",
        (
            "| function | bootstrap, panic=unwind (ours) | bootstrap, panic=abort | zip "
            "| static binary | image |"
        ),
        "|---|---|---|---|---|---|",
    ]
    packages = {crate: builder.package(crate) for crate in FUNCTIONS}
    abort_dir = builder.target_dir / "bench-abort"
    for crate in FUNCTIONS:
        package = packages[crate]
        unwind = zipfile.ZipFile(package.zip_path).getinfo("bootstrap").file_size
        abort = cargo_zigbuild(builder, crate, abort_dir, "abort").stat().st_size
        static = builder.static_binary(crate).size
        image = image_size(builder, crate)
        lines.append(
            f"| {crate} | {unwind} | {abort} ({(abort - unwind) / unwind:+.1%}) | {package.size} "
            f"| {static} | {image if image is not None else 'no docker'} |"
        )

    lines += [
        "",
        f"## Preview cost of an unchanged function (median of {RUNS})",
        "",
        "| function | build resource cache hit | cargo zigbuild, nothing to do |",
        "|---|---|---|",
    ]
    target_dir = builder.target_dir / GLIBC
    for crate in FUNCTIONS:
        hit = median_seconds(functools.partial(cache_hit, crate), RUNS)
        noop = median_seconds(
            functools.partial(cargo_zigbuild, builder, crate, target_dir, "unwind"), RUNS
        )
        lines.append(f"| {crate} | {hit * 1000:.0f} ms | {noop * 1000:.0f} ms |")

    lines += [
        "",
        f"## Cold start: exec to first answered invocation (median of {COLD_STARTS})",
        "",
        "| function | time |",
        "|---|---|",
    ]
    for crate, body in (("hello", b"{}"), ("sync-forks", b'{"forks": []}')):
        with tempfile.TemporaryDirectory() as code:
            zipfile.ZipFile(packages[crate].zip_path).extractall(code)
            (Path(code) / "bootstrap").chmod(0o755)
            starts = [cold_start(Path(code), body) for _ in range(COLD_STARTS)]
        lines.append(f"| {crate} | {statistics.median(starts) * 1000:.1f} ms |")

    text = "\n".join(lines) + "\n"
    print(text)  # noqa: T201
    (Path(__file__).parent / "results.md").write_text(text)


if __name__ == "__main__":
    main()
