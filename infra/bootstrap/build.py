"""Build a function's bootstrap: fingerprint -> cache -> cargo zigbuild -> ELF check -> zip."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from infra.bootstrap.archive import build_zip, crc64_fc, read_extra_files, sha256_hex
from infra.bootstrap.elf import RUNTIME_GLIBC, check_runtime_compatible, inspect_elf
from infra.bootstrap.errors import BuildError
from infra.bootstrap.workspace import Crate, Workspace

if TYPE_CHECKING:
    from collections.abc import Iterator

# Bumped whenever the packaging itself changes, so old cache entries are not reused.
BUILDER_VERSION = "1"
TARGET = "x86_64-unknown-linux-gnu"
DEFAULT_RUNTIME = "custom.debian10"
DEFAULT_SIZE_BUDGET = 8 * 1024 * 1024
"""A zip above this fails the build: a bootstrap that grew past it has likely pulled in too much."""
FC_CODE_SIZE_LIMIT = 500 * 1024 * 1024
"""FC's limit for a zip code package delivered through OSS."""
ROOT = Path(__file__).resolve().parents[2]
"""The repository this package lives in: the default workspace."""


@dataclass(frozen=True)
class Package:
    """A packaged bootstrap, as written to `dist/<function>/` (`manifest.json` holds these)."""

    function: str
    zip_path: Path
    cached_zip: Path
    """The same bytes in the content-addressed build cache: immutable, so uploads read it (another
    stack's build may replace `zip_path` between a program's evaluation and its upload)."""
    relative_zip: str
    sha256: str
    crc64: str
    size: int
    fingerprint: str
    runtime: str
    glibc_max: str
    rustc: str

    def manifest(self) -> dict[str, str | int]:
        """The JSON manifest: everything but machine paths."""
        data = asdict(self)
        del data["zip_path"], data["cached_zip"]
        return data


@dataclass(frozen=True)
class StaticBinary:
    """A statically linked bootstrap for a `FROM scratch` container image."""

    function: str
    path: Path
    sha256: str
    size: int
    fingerprint: str


ZIGBUILD = "cargo-zigbuild"
ZIG_VERSION = [sys.executable, "-m", "ziglang", "version"]


def _run_version(tool: str, command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    except (FileNotFoundError, subprocess.CalledProcessError) as error:
        raise BuildError(_missing_tool(tool)) from error
    return out.stdout.strip()


def _missing_tool(tool: str) -> str:
    if tool in {"cargo", "rustc"}:
        return f"{tool} not found: install Rust stable (https://rustup.rs), then run `make setup`"
    return f"{tool} not found: run `make setup` (it installs cargo-zigbuild and ziglang from PyPI)"


def tool_env() -> dict[str, str]:
    """The environment for cargo: the venv's tools first, so cargo-zigbuild finds its zig."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    # Only flags this module sets reach rustc: a user's RUSTFLAGS would break reproducibility.
    for name in ("RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS"):
        env.pop(name, None)
    return env


def toolchain_versions(*, zig: bool = True) -> dict[str, str]:
    """Rustc's and zig's versions: part of the fingerprint, since either changes the binary."""
    versions = {"rustc": _run_version("rustc", ["rustc", "--version"])}
    if zig:
        versions["zig"] = _run_version("ziglang", ZIG_VERSION)
    return versions


def fingerprint(workspace: Workspace, crate: Crate, flavour: str, versions: dict[str, str]) -> str:
    """sha256 over every input of the build, by path relative to the workspace root.

    Cheap for an unchanged tree: it reads the crate's sources; no cargo process runs.
    """
    digest = hashlib.sha256()
    header = {"builder": BUILDER_VERSION, "crate": crate.name, "flavour": flavour, **versions}
    digest.update(json.dumps(header, sort_keys=True).encode())
    for path in workspace.source_files(crate):
        rel = path.relative_to(workspace.root).as_posix().encode()
        data = path.read_bytes()
        digest.update(b"%d:%s%d:" % (len(rel), rel, len(data)))
        digest.update(data)
    return digest.hexdigest()


def _cargo_home() -> Path:
    return Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))


def _rustflags(workspace: Workspace, target_dir: Path, extra: list[str]) -> str:
    """Remap every machine path rustc could embed, so the binary is the same from any checkout."""
    remaps = [
        f"--remap-path-prefix={workspace.root}=/build",
        f"--remap-path-prefix={target_dir}=/target",
        f"--remap-path-prefix={_cargo_home()}=/cargo",
    ]
    return " ".join([*remaps, *extra])


def _stream_cargo(command: list[str], cwd: Path, env: dict[str, str], log: IO[str]) -> None:
    """Run cargo with its progress streamed to `log`; on failure raise with cargo's own words."""
    tail: deque[str] = deque(maxlen=60)
    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
    except FileNotFoundError as error:
        raise BuildError(_missing_tool(command[0])) from error
    assert process.stdout is not None  # noqa: S101 - Popen(stdout=PIPE) guarantees it
    for line in process.stdout:
        log.write(line)
        tail.append(line.rstrip())
    if process.wait() != 0:
        errors = [line for line in tail if line.lstrip().startswith(("error", "-->", "|"))]
        shown = "\n".join(errors[-30:] or list(tail)[-30:])
        raise BuildError(f"`{' '.join(command[:3])} ...` failed:\n{shown}")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock: two stacks previewing at once build one after the other."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write beside `path`, set its mode, rename: no reader sees half a file or a wrong mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as f:
        f.write(data)
        temp = Path(f.name)
    temp.chmod(mode)
    temp.replace(path)


class Builder:
    """Builds and caches bootstraps for the crates of one workspace."""

    def __init__(
        self,
        workspace: Path | None = None,
        *,
        cache_dir: Path | None = None,
        target_dir: Path | None = None,
        log: IO[str] | None = None,
    ) -> None:
        """Paths default to `target/fc-rust/` of the workspace; env vars override them."""
        self.workspace = Workspace(workspace or ROOT)
        base = self.workspace.root / "target" / "fc-rust"
        self.cache_dir = (
            cache_dir or Path(os.environ.get("FCRUST_CACHE_DIR", base / "cache"))
        ).resolve()
        self.target_dir = (
            target_dir or Path(os.environ.get("FCRUST_CARGO_TARGET_DIR", base / "cargo"))
        ).resolve()
        self.log: IO[str] = log or sys.stderr
        self.cargo_runs = 0
        """How many cargo processes this builder started: a cache hit starts none."""

    def dist_dir(self, function: str) -> Path:
        """Where `make package` and the Pulumi program find a function's package."""
        return self.workspace.root / "dist" / function

    def package(
        self,
        crate_name: str,
        *,
        runtime: str = DEFAULT_RUNTIME,
        size_budget: int = DEFAULT_SIZE_BUDGET,
    ) -> Package:
        """The function's zip for `runtime`: from the cache when the inputs are unchanged."""
        if runtime not in RUNTIME_GLIBC:
            allowed = ", ".join(RUNTIME_GLIBC)
            raise BuildError(f"runtime must be one of {allowed}, got {runtime!r}")
        crate = self.workspace.crate(crate_name)
        glibc = RUNTIME_GLIBC[runtime]
        versions = toolchain_versions()
        source_print = fingerprint(self.workspace, crate, f"{TARGET}.{glibc}", versions)
        entry = self.cache_dir / crate.name / source_print
        with _locked(self.cache_dir / f"{crate.name}.lock"):
            cached = self._cached_zip(entry)
            if cached is None:
                binary = self._cargo_build(
                    crate, glibc, ["zigbuild", "--target", f"{TARGET}.{glibc}"]
                )
                report = check_runtime_compatible(binary, runtime)
                extra = read_extra_files(crate.directory, crate.include)
                cached = build_zip(binary, extra)
                manifest = {
                    "sha256": sha256_hex(cached),
                    "glibc_max": report.glibc_max or "static",
                    "rustc": versions["rustc"],
                }
                write_atomic(entry / "bootstrap.zip", cached)
                write_atomic(entry / "entry.json", json.dumps(manifest).encode())
            meta = json.loads((entry / "entry.json").read_text())
            package = self._check_size(
                Package(
                    function=crate.name,
                    zip_path=self.dist_dir(crate.name) / "bootstrap.zip",
                    cached_zip=entry / "bootstrap.zip",
                    relative_zip=f"dist/{crate.name}/bootstrap.zip",
                    sha256=sha256_hex(cached),
                    crc64=crc64_fc(cached),
                    size=len(cached),
                    fingerprint=source_print,
                    runtime=runtime,
                    glibc_max=meta["glibc_max"],
                    rustc=meta["rustc"],
                ),
                size_budget,
            )
            self._publish(package, cached)
        return package

    def static_binary(self, crate_name: str) -> StaticBinary:
        """A statically linked binary (glibc's crt-static) for a `FROM scratch` image."""
        crate = self.workspace.crate(crate_name)
        versions = toolchain_versions(zig=False)
        source_print = fingerprint(self.workspace, crate, f"{TARGET}.static", versions)
        entry = self.cache_dir / crate.name / source_print
        with _locked(self.cache_dir / f"{crate.name}.lock"):
            path = entry / "bootstrap"
            manifest = entry / "entry.json"
            data = path.read_bytes() if path.is_file() and manifest.is_file() else None
            if data is None or json.loads(manifest.read_text())["sha256"] != sha256_hex(data):
                data = self._cargo_build(
                    crate,
                    "static",
                    ["build", "--target", TARGET],
                    ["-C", "target-feature=+crt-static"],
                )
                if not inspect_elf(data).static:
                    raise BuildError(f"{crate.name}: the crt-static build is still dynamic")
                write_atomic(path, data, mode=0o755)
                write_atomic(manifest, json.dumps({"sha256": sha256_hex(data)}).encode())
        return StaticBinary(crate.name, path, sha256_hex(data), len(data), source_print)

    def _cached_zip(self, entry: Path) -> bytes | None:
        """The cached zip if its manifest vouches for its bytes; a corrupt entry is a miss."""
        try:
            data = (entry / "bootstrap.zip").read_bytes()
            expected = json.loads((entry / "entry.json").read_text())["sha256"]
        except (OSError, ValueError, KeyError):
            return None
        if sha256_hex(data) != expected:
            self.log.write(f"fc-rust: cache entry {entry} is corrupt; rebuilding\n")
            return None
        return data

    def _cargo_build(
        self,
        crate: Crate,
        flavour: str,
        subcommand: list[str],
        extra_flags: list[str] | None = None,
    ) -> bytes:
        """Run cargo for the crate's release binary and return its bytes.

        Each flavour (a glibc version, or "static") has its own target directory, so switching
        between them does not recompile everything.
        """
        target_dir = self.target_dir / flavour
        env = tool_env()
        env["CARGO_TARGET_DIR"] = str(target_dir)
        env["RUSTFLAGS"] = _rustflags(self.workspace, target_dir, extra_flags or [])
        env["SOURCE_DATE_EPOCH"] = "315532800"
        if subcommand[0] == "zigbuild" and shutil.which(ZIGBUILD, path=env["PATH"]) is None:
            raise BuildError(_missing_tool(ZIGBUILD))
        command = ["cargo", *subcommand, "--release", "--locked", "-p", crate.name]
        command += ["--bin", crate.binary]
        self.log.write(f"fc-rust: building {crate.name} ({' '.join(subcommand[1:])})\n")
        self.cargo_runs += 1
        _stream_cargo(command, self.workspace.root, env, self.log)
        return (target_dir / TARGET / "release" / crate.binary).read_bytes()

    def _check_size(self, package: Package, size_budget: int) -> Package:
        if package.size > FC_CODE_SIZE_LIMIT:
            raise BuildError(
                f"{package.function}: bootstrap.zip is {package.size} bytes, over FC's code "
                f"package limit of {FC_CODE_SIZE_LIMIT} bytes"
            )
        if package.size > size_budget:
            raise BuildError(
                f"{package.function}: bootstrap.zip is {package.size} bytes, over its size "
                f"budget of {size_budget} bytes; trim dependencies or raise size_budget"
            )
        return package

    def _publish(self, package: Package, data: bytes) -> None:
        """Write dist/<function>/: the zip, then its manifest, each replaced atomically."""
        text = json.dumps(package.manifest(), indent=2, sort_keys=True) + "\n"
        manifest_path = package.zip_path.parent / "manifest.json"
        with contextlib.suppress(OSError):
            if manifest_path.read_text() == text and package.zip_path.read_bytes() == data:
                return
        write_atomic(package.zip_path, data)
        write_atomic(manifest_path, text.encode())
