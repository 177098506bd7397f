"""Sizes of every function as the project builds it, and what `panic = "abort"` would save.

The release bootstrap with `panic = "unwind"` (ours: a handler panic answers 404 and the instance
keeps serving) beside the same build with `panic = "abort"`, the zip, the static binary and the
container image.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from typing import TYPE_CHECKING

from bench.report import Section, bytes_text, progress, table
from infra.bootstrap import Builder
from infra.bootstrap.build import DEFAULT_RUNTIME, TARGET
from infra.bootstrap.elf import RUNTIME_GLIBC
from infra.container import DOCKERFILE, prepare_context

if TYPE_CHECKING:
    from pathlib import Path

    from bench.report import JsonValue

GLIBC = RUNTIME_GLIBC[DEFAULT_RUNTIME]
"""The glibc floor the build resource links against for the default runtime (`zigbuild --target
<triple>.<glibc>`)."""
TRIPLE = f"{TARGET}.{GLIBC}"


def cargo_zigbuild(builder: Builder, flavour: str, panic: str = "unwind") -> Path:
    """Build every function as the build resource does, with the given panic strategy.

    Its cargo command and environment (zig, the glibc floor, its rustc flags), in the target
    directory of `flavour` (GLIBC: the build resource's own). Returns the release directory.
    """
    env = builder.cargo_environment(flavour)
    env["CARGO_PROFILE_RELEASE_PANIC"] = panic
    command = ["cargo", "zigbuild", "--target", TRIPLE, "--release", "--locked", "--quiet"]
    for crate in builder.run_crates([]):  # every function, as the build resource's run
        command += ["-p", crate.name, "--bin", crate.binary]
    subprocess.run(command, cwd=builder.workspace.root, env=env, check=True)
    return builder.target_dir / flavour / TARGET / "release"


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


def section() -> Section:
    """Build each function every way the project can ship it and compare the sizes."""
    builder = Builder()
    progress("sizes: every function with panic=abort")
    abort_dir = cargo_zigbuild(builder, "bench-abort", panic="abort")
    rows = []
    data: dict[str, JsonValue] = {}
    for function in builder.run_crates([]):
        crate = function.name
        progress(f"sizes: {crate} (package, static binary, image)")
        package = builder.package(crate)
        with zipfile.ZipFile(package.zip_path) as archive:
            unwind = archive.getinfo("bootstrap").file_size
        abort = (abort_dir / function.binary).stat().st_size
        static = builder.static_binary(crate).size
        image = image_size(builder, crate)
        rows.append(
            [
                crate,
                bytes_text(unwind),
                f"{bytes_text(abort)} ({(abort - unwind) / unwind:+.1%})",
                bytes_text(package.size),
                bytes_text(static),
                bytes_text(image) if image is not None else "no docker",
            ]
        )
        data[crate] = {
            "bootstrap_unwind": unwind,
            "bootstrap_abort": abort,
            "zip": package.size,
            "static_binary": static,
            "image": image,
        }
    headers = [
        "function",
        "bootstrap, panic=unwind (ours)",
        "bootstrap, panic=abort",
        "zip",
        "static binary",
        "image",
    ]
    markdown = "\n".join(["## Size (bytes)", "", table(headers, rows)])
    return Section("sizes", markdown, data)
