"""`make bench`: the figures the README quotes, each measured beside what it is compared with.

1. Size: the release bootstrap with `panic = "unwind"` (ours) and `panic = "abort"`, the zip,
   the static binary and the container image.
2. Preview cost: a cache hit of the build resource beside cargo's own no-op build.
3. Cold start: from exec of the unpacked bootstrap to its first answered invocation.

Results are printed and written to bench/results.md.
"""

from __future__ import annotations

import http.client
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from infra.bootstrap import Builder  # noqa: E402
from infra.bootstrap.build import TARGET, tool_env  # noqa: E402

FUNCTIONS = ("hello", "sync-forks")
GLIBC = "2.28"
RUNS = 5
COLD_STARTS = 20


def median_seconds(action: object, runs: int) -> float:
    """Median wall time of `runs` calls of `action`."""
    assert callable(action)
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
        ["cargo", "zigbuild", "--release", "--locked", "--quiet", "-p", crate]
        + ["--target", f"{TARGET}.{GLIBC}"],
        cwd=builder.workspace.root,
        env=env,
        check=True,
    )
    return target_dir / TARGET / "release" / crate


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    from infra.container import DOCKERFILE, prepare_context  # noqa: PLC0415

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
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"Toolchain: {subprocess.run(['rustc', '--version'], capture_output=True, text=True, check=True).stdout.strip()}.",
        "",
        "## Size (bytes)",
        "",
        "| function | bootstrap, panic=unwind (ours) | bootstrap, panic=abort | zip | static binary | image |",
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
    for crate in FUNCTIONS:
        hit = median_seconds(lambda crate=crate: Builder().package(crate), RUNS)
        noop = median_seconds(
            lambda crate=crate: cargo_zigbuild(builder, crate, builder.target_dir / GLIBC, "unwind"),
            RUNS,
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
