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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from infra.bootstrap.archive import build_zip, crc64_fc, read_extra_files, sha256_hex
from infra.bootstrap.elf import RUNTIME_GLIBC, check_runtime_compatible, inspect_elf
from infra.bootstrap.errors import BuildError
from infra.bootstrap.files import replace_together
from infra.bootstrap.process import run_streamed
from infra.bootstrap.workspace import Crate, Workspace

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

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


def _stream_cargo(
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    log: IO[str],
    on_start: Callable[[int], None] | None = None,
) -> None:
    """Run cargo in its own process group, streamed to `log`; on failure raise with its words."""
    try:
        run_streamed(command, cwd, env, log, on_start)
    except FileNotFoundError as error:
        raise BuildError(_missing_tool(command[0])) from error


def _reason(error: OSError) -> str:
    """The OS's words and the path it refused."""
    words = error.strerror or str(error)
    return f"{words}: {error.filename}" if error.filename else words


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock: two stacks previewing at once build one after the other."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a")
    except OSError as error:
        raise BuildError(_unwritable_cache(path.parent, error)) from error
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _unwritable_cache(cache_dir: Path, error: OSError) -> str:
    return (
        f"the build cache {cache_dir} is not writable ({_reason(error)}): make it writable, or "
        "set FCRUST_CACHE_DIR to a writable directory; nothing was packaged"
    )


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write beside `path`, set its mode, rename: no reader sees half a file or a wrong mode."""
    replace_together([(path, data, mode)])


ZIP_KEYS = ("sha256", "glibc_max", "rustc")
"""What a zip cache entry's `entry.json` must hold."""
STATIC_KEYS = ("sha256",)
"""What a static binary cache entry's `entry.json` must hold."""


class Builder:
    """Builds and caches bootstraps for the crates of one workspace."""

    def __init__(
        self,
        workspace: Path | None = None,
        *,
        cache_dir: Path | None = None,
        target_dir: Path | None = None,
        log: IO[str] | None = None,
        cargo_env: Mapping[str, str] | None = None,
    ) -> None:
        """Paths default to `target/fc-rust/` of the workspace; env vars override them.

        `cargo_env` adds variables to cargo's environment (e.g. a `RUSTC_WRAPPER`).
        """
        self.workspace = Workspace(workspace or ROOT)
        base = self.workspace.root / "target" / "fc-rust"
        self.cache_dir = (
            cache_dir or Path(os.environ.get("FCRUST_CACHE_DIR", base / "cache"))
        ).resolve()
        self.target_dir = (
            target_dir or Path(os.environ.get("FCRUST_CARGO_TARGET_DIR", base / "cargo"))
        ).resolve()
        self.log: IO[str] = log or sys.stderr
        self.cargo_env = dict(cargo_env or {})
        self.cargo_runs = 0
        """How many cargo processes this builder started: a cache hit starts none."""
        self.cargo_pid: int | None = None
        """The pid of the cargo this builder started last, also its process group's id: every
        process of that build is in the group, and none is left after a failed build."""

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
        """The function's zip for `runtime`: from the cache when the inputs are unchanged.

        On any failure, dist/<function>/ keeps the package it had.
        """
        if runtime not in RUNTIME_GLIBC:
            allowed = ", ".join(RUNTIME_GLIBC)
            raise BuildError(f"runtime must be one of {allowed}, got {runtime!r}")
        crate = self.workspace.crate(crate_name)
        glibc = RUNTIME_GLIBC[runtime]
        versions = toolchain_versions()
        source_print = fingerprint(self.workspace, crate, f"{TARGET}.{glibc}", versions)
        entry = self.cache_dir / crate.name / source_print
        with _locked(self.cache_dir / f"{crate.name}.lock"):
            cached = self._read_entry(entry, "bootstrap.zip", ZIP_KEYS)
            if cached is None:
                binary = self._cargo_build(
                    crate, glibc, ["zigbuild", "--target", f"{TARGET}.{glibc}"]
                )
                report = check_runtime_compatible(binary, runtime)
                extra = _extra_files(crate)
                data = build_zip(binary, extra)
                meta = {
                    "sha256": sha256_hex(data),
                    "glibc_max": report.glibc_max or "static",
                    "rustc": versions["rustc"],
                }
                self._write_entry(entry, "bootstrap.zip", data, 0o644, meta)
            else:
                data, meta = cached
            package = self._check_size(
                Package(
                    function=crate.name,
                    zip_path=self.dist_dir(crate.name) / "bootstrap.zip",
                    cached_zip=entry / "bootstrap.zip",
                    relative_zip=f"dist/{crate.name}/bootstrap.zip",
                    sha256=sha256_hex(data),
                    crc64=crc64_fc(data),
                    size=len(data),
                    fingerprint=source_print,
                    runtime=runtime,
                    glibc_max=meta["glibc_max"],
                    rustc=meta["rustc"],
                ),
                size_budget,
            )
            self._publish(package, data)
        return package

    def static_binary(self, crate_name: str) -> StaticBinary:
        """A statically linked binary (glibc's crt-static) for a `FROM scratch` image."""
        crate = self.workspace.crate(crate_name)
        versions = toolchain_versions(zig=False)
        source_print = fingerprint(self.workspace, crate, f"{TARGET}.static", versions)
        entry = self.cache_dir / crate.name / source_print
        with _locked(self.cache_dir / f"{crate.name}.lock"):
            cached = self._read_entry(entry, "bootstrap", STATIC_KEYS)
            if cached is None:
                data = self._cargo_build(
                    crate,
                    "static",
                    ["build", "--target", TARGET],
                    ["-C", "target-feature=+crt-static"],
                )
                if not inspect_elf(data).static:
                    raise BuildError(f"{crate.name}: the crt-static build is still dynamic")
                self._write_entry(entry, "bootstrap", data, 0o755, {"sha256": sha256_hex(data)})
            else:
                data, _ = cached
        path = entry / "bootstrap"
        return StaticBinary(crate.name, path, sha256_hex(data), len(data), source_print)

    def _read_entry(
        self, entry: Path, name: str, keys: tuple[str, ...]
    ) -> tuple[bytes, dict[str, str]] | None:
        """The cached file and its manifest, if the manifest is whole and vouches for the bytes.

        Anything else is a miss: a broken entry (a missing or truncated file, JSON that does not
        parse, a key missing) is logged, then rebuilt and replaced by the caller.
        """
        payload, manifest = entry / name, entry / "entry.json"
        if not payload.exists() and not manifest.exists():
            return None
        try:
            data = payload.read_bytes()
            meta = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            problem = str(error)
        else:
            missing = [
                k for k in keys if not isinstance(meta, dict) or not isinstance(meta.get(k), str)
            ]
            if missing:
                problem = f"entry.json lacks {', '.join(missing)}"
            elif meta["sha256"] != sha256_hex(data):
                problem = f"{name} does not match the sha256 in entry.json"
            else:
                return data, {k: meta[k] for k in keys}
        self.log.write(f"fc-rust: cache entry {entry} is corrupt ({problem}); rebuilding it\n")
        return None

    def _write_entry(
        self, entry: Path, name: str, data: bytes, mode: int, meta: dict[str, str]
    ) -> None:
        """Write (or replace) a cache entry, its file and manifest together."""
        try:
            replace_together(
                [
                    (entry / name, data, mode),
                    (entry / "entry.json", json.dumps(meta).encode(), 0o644),
                ]
            )
        except OSError as error:
            raise BuildError(_unwritable_cache(self.cache_dir, error)) from error

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
        env.update(self.cargo_env)
        env["CARGO_TARGET_DIR"] = str(target_dir)
        env["RUSTFLAGS"] = _rustflags(self.workspace, target_dir, extra_flags or [])
        env["SOURCE_DATE_EPOCH"] = "315532800"
        if subcommand[0] == "zigbuild" and shutil.which(ZIGBUILD, path=env["PATH"]) is None:
            raise BuildError(_missing_tool(ZIGBUILD))
        command = ["cargo", *subcommand, "--release", "--locked", "-p", crate.name]
        command += ["--bin", crate.binary]
        self.log.write(f"fc-rust: building {crate.name} ({' '.join(subcommand[1:])})\n")
        self.cargo_runs += 1
        _stream_cargo(command, self.workspace.root, env, self.log, self._started)
        binary = target_dir / TARGET / "release" / crate.binary
        try:
            return binary.read_bytes()
        except OSError as error:
            raise BuildError(
                f"cargo finished but its binary cannot be read ({_reason(error)}); "
                f"delete {target_dir} and build again"
            ) from error

    def _started(self, pid: int) -> None:
        self.cargo_pid = pid

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
        """Write dist/<function>/: the zip and its manifest, replaced together or not at all."""
        text = json.dumps(package.manifest(), indent=2, sort_keys=True) + "\n"
        manifest_path = package.zip_path.parent / "manifest.json"
        with contextlib.suppress(OSError, ValueError):
            if manifest_path.read_text() == text and package.zip_path.read_bytes() == data:
                return
        try:
            replace_together(
                [(package.zip_path, data, 0o644), (manifest_path, text.encode(), 0o644)]
            )
        except OSError as error:
            raise BuildError(
                f"cannot write the package to {package.zip_path.parent} ({_reason(error)}): make "
                "it a writable directory and build again; the previous package there is unchanged"
            ) from error


def _extra_files(crate: Crate) -> dict[str, bytes]:
    try:
        return read_extra_files(crate.directory, crate.include)
    except (OSError, ValueError) as error:
        raise BuildError(f"{crate.name}: {error}") from error
