"""Build a function's bootstrap: fingerprint -> cache -> cargo zigbuild -> ELF check -> zip."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from infra.bootstrap.archive import build_zip, crc64_fc, read_extra_files, sha256_hex
from infra.bootstrap.elf import RUNTIME_GLIBC, check_runtime_compatible, inspect_elf
from infra.bootstrap.errors import BuildError
from infra.bootstrap.files import replace_together
from infra.bootstrap.process import CommandFailedError, run_streamed
from infra.bootstrap.unwind import stub_library
from infra.bootstrap.workspace import TOOLCHAIN_FILES, Crate, Workspace

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from hashlib import _Hash

    # Turns a crate's freshly built binary (with the toolchain's versions) into its cache
    # entry's file and manifest.
    _Make = Callable[[Crate, bytes, dict[str, str]], tuple[bytes, dict[str, str]]]

# Bumped whenever the packaging itself changes, so old cache entries are not reused.
BUILDER_VERSION = "3"
SIZE_PROFILE = {
    "OPT_LEVEL": "z",
    "LTO": "true",
    "CODEGEN_UNITS": "1",
    "STRIP": "symbols",
    "PANIC": "unwind",
}
"""The release profile of this repository's Cargo.toml (see the README, "Binary size"), given to
a workspace that sets no `[profile.release]` as `CARGO_PROFILE_RELEASE_*` (cargo's environment
form of a profile setting: https://doc.rust-lang.org/cargo/reference/config.html#profile)."""
TARGET = "x86_64-unknown-linux-gnu"
DEFAULT_RUNTIME = "custom.debian10"
DEFAULT_SIZE_BUDGET = 8 * 1024 * 1024
"""A zip above this fails the build: a bootstrap that grew past it has likely pulled in too much."""
FC_CODE_SIZE_LIMIT = 500 * 1024 * 1024
"""FC's limit for a zip code package delivered through OSS."""
ROOT = Path(__file__).resolve().parents[2]
"""The directory holding the `infra` package: this repository in a checkout (site-packages when
installed). Not the default workspace: that is the current directory."""


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


def _run_version(tool: str, command: list[str], cwd: Path, env: dict[str, str]) -> str:
    try:
        out = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, check=True, timeout=60
        )
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


_TOOLCHAIN_SETTINGS = ("PATH", "RUSTC", "RUSTUP_TOOLCHAIN", "RUSTUP_HOME", "CARGO_HOME")
"""The environment that decides which rustc cargo runs (rustup reads its toolchain from these)."""
_versions_asked: dict[tuple[object, ...], dict[str, str]] = {}


def _toolchain_key(env: Mapping[str, str], root: Path, *, zig: bool) -> tuple[object, ...]:
    """Everything that could change the versions' answer for a build in `root`."""
    files: list[bytes | None] = []
    for directory in (root, *root.parents):
        for name in TOOLCHAIN_FILES:
            try:
                files.append((directory / name).read_bytes())
            except OSError:
                files.append(None)
    settings = tuple(env.get(name) for name in _TOOLCHAIN_SETTINGS)
    return (str(root), zig, tuple(ZIG_VERSION), settings, tuple(files))


def toolchain_versions(*, zig: bool = True, workspace: Path | None = None) -> dict[str, str]:
    """Rustc's and zig's versions: part of the fingerprint, since either changes the binary.

    Asked as cargo would meet them (its environment, in the workspace root, default the current
    directory) and once per process for each setting that could change them: a preview of many
    functions starts these processes once, not once per function.
    """
    env = tool_env()
    root = (workspace or Path.cwd()).resolve()
    key = _toolchain_key(env, root, zig=zig)
    if key not in _versions_asked:
        rustc = env.get("RUSTC", "rustc")
        versions = {"rustc": _run_version("rustc", [rustc, "--version"], root, env)}
        if zig:
            versions["zig"] = _run_version("ziglang", ZIG_VERSION, root, env)
        _versions_asked[key] = versions
    return dict(_versions_asked[key])


def _relative(path: Path, root: Path) -> str:
    """`path` relative to `root`, with `..` for a path outside it.

    The same on every machine whose checkout has the same layout.
    """
    return Path(os.path.relpath(path, root)).as_posix()


def _hash_files(digest: _Hash, workspace: Workspace, paths: Sequence[Path]) -> None:
    for path in paths:
        rel = _relative(path, workspace.root).encode()
        data = path.read_bytes()
        digest.update(b"%d:%s%d:" % (len(rel), rel, len(data)))
        digest.update(data)


def run_digest(workspace: Workspace, crates: Sequence[Crate]) -> str:
    """sha256 over the manifests of the crates one cargo run builds, and of their path deps.

    Cargo unifies the features of the dependencies of every package it builds at once
    (https://doc.rust-lang.org/cargo/reference/features.html#feature-unification): a feature one
    crate enables reaches the others' binaries, so each manifest of the run is an input of each.
    """
    digest = hashlib.sha256()
    _hash_files(digest, workspace, sorted({p for c in crates for p in workspace.manifests(c)}))
    return digest.hexdigest()


def fingerprint(
    workspace: Workspace, crate: Crate, flavour: str, versions: dict[str, str], run: str = ""
) -> str:
    """sha256 over every input of the build, by path relative to the workspace root.

    `run` is the `run_digest` of the crates built with this one. Cheap for an unchanged tree: it
    reads the crate's sources; no cargo process runs.
    """
    digest = hashlib.sha256()
    header = {"builder": BUILDER_VERSION, "crate": crate.name, "flavour": flavour, **versions}
    digest.update(json.dumps({**header, "run": run}, sort_keys=True).encode())
    _hash_files(digest, workspace, workspace.source_files(crate))
    return digest.hexdigest()


def _cargo_home() -> Path:
    return Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))


def _rustflags(
    workspace: Workspace, outside: Sequence[Path], target_dir: Path, extra: list[str]
) -> str:
    """Remap every machine path rustc could embed, so the binary is the same from any checkout.

    `outside` are source directories outside the workspace root (path dependencies such as
    `../shared/lib`): each maps to where it lies from the root, `/build/../shared/lib`. When
    several prefixes match, rustc applies the last given, so the target directory (often under
    the root) comes after the root.

    Returned as CARGO_ENCODED_RUSTFLAGS wants them, separated by 0x1f: cargo splits RUSTFLAGS at
    spaces, which would cut a path with a space in two.
    """
    remaps = [f"--remap-path-prefix={workspace.root}=/build"]
    remaps += [f"--remap-path-prefix={d}=/build/{_relative(d, workspace.root)}" for d in outside]
    remaps += [
        f"--remap-path-prefix={target_dir}=/target",
        f"--remap-path-prefix={_cargo_home()}=/cargo",
    ]
    return "\x1f".join([*remaps, *extra])


LOCK_REFUSED = "--locked was passed to prevent this"
"""What cargo says when Cargo.lock lacks a crate or dependency of the workspace: "cannot update the
lock file ... because --locked was passed to prevent this" (cargo 1.95), "the lock file ... needs
to be updated but --locked was passed to prevent this" (older)."""


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
    except CommandFailedError as error:
        refused = [line for line in error.output if LOCK_REFUSED in line]
        if refused:
            raise BuildError(_stale_lock(cwd, refused[-1])) from error
        failed = [m.group(1) for line in error.output if (m := _CRATE_FAILED.search(line))]
        if failed:
            raise BuildError(
                f"{error}\ncrate {failed[-1]} failed to build. Every function of the workspace "
                "is built in one cargo run (so that a binary is the same whichever functions are "
                f"asked for), so this stops all of them: fix {failed[-1]}, or move it out of the "
                "workspace's functions"
            ) from error
        raise


_CRATE_FAILED = re.compile(
    r"(?:failed to run custom build command for|could not compile) `([^` ]+)"
)
"""cargo's words for a crate that failed: its build script, or its compilation."""


def _stale_lock(root: Path, said: str) -> str:
    # `cargo update --workspace` updates the workspace's own packages and adds missing ones,
    # leaving every locked dependency at its version
    # (https://doc.rust-lang.org/cargo/commands/cargo-update.html#update-options);
    # `cargo generate-lockfile` would re-resolve (upgrade) them all.
    return (
        f"{root / 'Cargo.lock'} does not match the workspace (a crate was added or renamed, or a "
        "dependency changed), and builds run cargo with --locked so that every machine builds "
        f"the same versions. Run `cargo update --workspace` in {root}: it adds what is missing "
        "and upgrades no locked dependency (with --offline it uses only crates already "
        f"downloaded). Then commit Cargo.lock. cargo said: {said.strip()}"
    )


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


@dataclass(frozen=True)
class _Kind:
    """One kind of build: how cargo makes it and what its cache entries hold."""

    flavour: str
    """A glibc version, or "static": names the cargo target directory, part of the fingerprint."""
    subcommand: tuple[str, ...]
    rustflags: tuple[str, ...]
    file: str
    mode: int
    keys: tuple[str, ...]
    zig: bool


@dataclass(frozen=True)
class _Entry:
    """A crate's cache entry, found or just written."""

    crate: Crate
    fingerprint: str
    directory: Path
    data: bytes
    meta: dict[str, str]


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
        """The workspace defaults to the current directory, as Pulumi runs a program in its own.

        The other paths default to `target/fc-rust/` of the workspace; env vars override them.

        `cargo_env` adds variables to cargo's environment (e.g. a `RUSTC_WRAPPER`).
        """
        if workspace is None and not (Path.cwd() / "Cargo.toml").is_file():
            raise BuildError(
                f"no Cargo.toml in {Path.cwd()}: the Cargo workspace defaults to the current "
                "directory (Pulumi runs a program in its project directory); run from the "
                "workspace root or pass its path as `workspace`"
            )
        self.workspace = Workspace(Path.cwd() if workspace is None else workspace)
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
        self.cargo_seconds = 0.0
        """How long they ran, in all: the rest of a build is this package's own work."""
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
        budgets = {crate_name: size_budget}
        return self.package_many([crate_name], runtime=runtime, size_budgets=budgets)[crate_name]

    def package_many(
        self,
        crates: Sequence[str],
        *,
        runtime: str = DEFAULT_RUNTIME,
        size_budgets: Mapping[str, int] | None = None,
    ) -> dict[str, Package]:
        """The functions' zips for `runtime`, by crate name; what is not cached, from one cargo run.

        In that run the dependencies the functions share compile once. It builds every function
        of the workspace, not only those asked for (see `run_crates`): those up to date cost
        cargo a check, and a function's binary is the same however it was asked for. Only the
        crates asked for are packaged; of those, only the ones whose inputs changed.

        `size_budgets` maps a crate to its largest zip in bytes (default DEFAULT_SIZE_BUDGET).
        If any crate fails to build, to pass the checks or to fit its budget, no
        dist/<function>/ is written: each keeps the package it had. Each dist/<function>/ is
        replaced whole or not at all.
        """
        if runtime not in RUNTIME_GLIBC:
            allowed = ", ".join(RUNTIME_GLIBC)
            raise BuildError(f"runtime must be one of {allowed}, got {runtime!r}")
        budgets = dict(size_budgets or {})
        unknown = sorted(set(budgets) - set(crates))
        if unknown:
            raise BuildError(f"size_budgets names crates not being built: {', '.join(unknown)}")
        kind = _zip_kind(runtime)

        def make(
            crate: Crate, binary: bytes, versions: dict[str, str]
        ) -> tuple[bytes, dict[str, str]]:
            report = check_runtime_compatible(binary, runtime)
            data = build_zip(binary, _extra_files(crate))
            glibc_max = report.glibc_max or "static"
            return data, {
                "sha256": sha256_hex(data),
                "glibc_max": glibc_max,
                "rustc": versions["rustc"],
            }

        with self._cached(crates, kind, make) as entries:
            packages = {
                entry.crate.name: Package(
                    function=entry.crate.name,
                    zip_path=self.dist_dir(entry.crate.name) / "bootstrap.zip",
                    cached_zip=entry.directory / "bootstrap.zip",
                    relative_zip=f"dist/{entry.crate.name}/bootstrap.zip",
                    sha256=entry.meta["sha256"],
                    crc64=crc64_fc(entry.data),
                    size=len(entry.data),
                    fingerprint=entry.fingerprint,
                    runtime=runtime,
                    glibc_max=entry.meta["glibc_max"],
                    rustc=entry.meta["rustc"],
                )
                for entry in entries
            }
            problems = [
                problem
                for name, package in packages.items()
                if (problem := _size_problem(package, budgets.get(name, DEFAULT_SIZE_BUDGET)))
            ]
            if problems:
                raise BuildError("\n".join(problems))
            for entry in entries:
                self._publish(packages[entry.crate.name], entry.data)
        return packages

    def binary(self, crate_name: str, *, runtime: str = DEFAULT_RUNTIME) -> bytes:
        """The function's bootstrap for `runtime` straight from cargo: the bytes `package` zips.

        Neither packaged nor cached: `serve --watch` runs it without waiting for zopfli.
        """
        crate = self.workspace.crate(crate_name)
        run = self.run_crates([crate_name])
        _check_binaries(run)
        return self._cargo_build(run, [crate], _zip_kind(runtime))[crate.name]

    def static_binary(self, crate_name: str) -> StaticBinary:
        """A statically linked binary (glibc's crt-static) for a `FROM scratch` image."""
        return self.static_binaries([crate_name])[crate_name]

    def static_binaries(self, crates: Sequence[str]) -> dict[str, StaticBinary]:
        """Static binaries by crate name; what is not cached, from one cargo run.

        The run builds every function, as `package_many`'s does (see `run_crates`).
        """
        kind = _Kind(
            flavour="static",
            subcommand=("build", "--target", TARGET),
            rustflags=("-C", "target-feature=+crt-static"),
            file="bootstrap",
            mode=0o755,
            keys=STATIC_KEYS,
            zig=False,
        )

        def make(_crate: Crate, binary: bytes, _: dict[str, str]) -> tuple[bytes, dict[str, str]]:
            if not inspect_elf(binary).static:
                raise BuildError("the crt-static build is still dynamic")
            return binary, {"sha256": sha256_hex(binary)}

        with self._cached(crates, kind, make) as entries:
            return {
                entry.crate.name: StaticBinary(
                    entry.crate.name,
                    entry.directory / "bootstrap",
                    entry.meta["sha256"],
                    len(entry.data),
                    entry.fingerprint,
                )
                for entry in entries
            }

    def cargo_environment(
        self, flavour: str, rustflags: Sequence[str] = (), *, zig: bool = True
    ) -> dict[str, str]:
        """The environment cargo builds `flavour` in (a glibc version, or "static").

        The same for every set of crates: cargo rebuilds everything when its flags change. With
        `zig` (cargo zigbuild), the binaries link against the runtime's libgcc_s for unwinding,
        as rustc's own linux-gnu builds do (see infra/bootstrap/unwind.py).
        """
        target_dir = self.target_dir / flavour
        env = tool_env()
        if zig:
            unwinder = stub_library(self.target_dir / "unwind", env)
            rustflags = [*rustflags, "-C", f"link-arg={unwinder}"]
        env.update(self.cargo_env)
        for key, value in self.release_profile()[1].items():
            env.setdefault(f"CARGO_PROFILE_RELEASE_{key}", value)
        env["CARGO_TARGET_DIR"] = str(target_dir)
        outside = {
            directory
            for crate in self.workspace.crates.values()
            for directory in self.workspace.source_dirs(crate)
            if not directory.is_relative_to(self.workspace.root)
        }
        encoded = _rustflags(self.workspace, sorted(outside), target_dir, [*rustflags])
        env["CARGO_ENCODED_RUSTFLAGS"] = encoded
        env["SOURCE_DATE_EPOCH"] = "315532800"
        return env

    def release_profile(self) -> tuple[str, dict[str, str]]:
        """Which release profile cargo builds with, and the settings the build adds for it.

        The workspace's own `[profile.release]` when its Cargo.toml has one (nothing added),
        else `SIZE_PROFILE`: without it a workspace's packages come out half again as big.
        """
        if self.workspace.release_profile:
            return "the workspace's [profile.release]", {}
        settings = ", ".join(f"{k.lower().replace('_', '-')} {v}" for k, v in SIZE_PROFILE.items())
        return f"fc-rust's size profile ({settings}): the workspace sets none", SIZE_PROFILE

    def run_crates(self, names: Sequence[str]) -> list[Crate]:
        """What one cargo run builds for `names`: those and every function, by name.

        Every function: each crate of `Workspace.functions()`. Cargo unifies dependency features
        across the crates of a run, so a binary built with other crates can differ from the same
        crate built alone (the hyper and hyper-util features sync-forks enables for its client
        reach hello's copies too). With every function in every run, a function's binary is the
        same whichever of them were asked for, by whom, in what order.
        """
        wanted = {name: self.workspace.crate(name) for name in names}
        every = {name: self.workspace.crates[name] for name in self.workspace.functions()}
        return [crate for _, crate in sorted({**every, **wanted}.items())]

    @contextlib.contextmanager
    def _cached(self, names: Sequence[str], kind: _Kind, make: _Make) -> Iterator[list[_Entry]]:
        """Each crate's cache entry, in the order given: found, or built and written.

        What must be built is built in one cargo run (see `run_crates`). The crates stay locked
        while the caller publishes them.
        """
        crates = [self.workspace.crate(name) for name in dict.fromkeys(names)]
        run = self.run_crates(names)
        _check_binaries(run)
        versions = toolchain_versions(zig=kind.zig, workspace=self.workspace.root)
        if self.release_profile()[1]:  # the binaries differ: so must the fingerprints
            versions |= {"profile": "fc-rust size profile"}
        flavour = f"{TARGET}.{kind.flavour}"
        together = run_digest(self.workspace, run)
        prints = {
            c.name: fingerprint(self.workspace, c, flavour, versions, together) for c in crates
        }
        directories = {name: self.cache_dir / name / prints[name] for name in prints}
        with contextlib.ExitStack() as locks:
            for name in sorted(prints):  # one order for every builder: no deadlock
                locks.enter_context(_locked(self.cache_dir / f"{name}.lock"))
            found: dict[str, tuple[bytes, dict[str, str]]] = {}
            for crate in crates:
                cached = self._read_entry(directories[crate.name], kind.file, kind.keys)
                if cached is not None:
                    found[crate.name] = cached
            missing = [crate for crate in crates if crate.name not in found]
            if missing:
                binaries = self._cargo_build(run, missing, kind)
                problems = []
                # Packaging is mostly zopfli, which lets go of the GIL: one thread per core.
                with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
                    made = {
                        crate.name: pool.submit(make, crate, binaries[crate.name], versions)
                        for crate in missing
                    }
                for crate in missing:
                    try:
                        data, meta = made[crate.name].result()
                    except BuildError as error:
                        problems.append(f"{crate.name}: {error}")
                        continue
                    self._write_entry(directories[crate.name], kind.file, data, kind.mode, meta)
                    found[crate.name] = data, meta
                if problems:
                    raise BuildError("\n".join(problems))
            yield [
                _Entry(crate, prints[crate.name], directories[crate.name], *found[crate.name])
                for crate in crates
            ]

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
        self, crates: list[Crate], wanted: list[Crate], kind: _Kind
    ) -> dict[str, bytes]:
        """One cargo run for the binaries of `crates`; the bytes of the `wanted` ones.

        Each flavour (a glibc version, or "static") has its own target directory, so switching
        between them does not recompile everything.
        """
        env = self.cargo_environment(kind.flavour, kind.rustflags, zig=kind.zig)
        if kind.subcommand[0] == "zigbuild" and shutil.which(ZIGBUILD, path=env["PATH"]) is None:
            raise BuildError(_missing_tool(ZIGBUILD))
        command = ["cargo", *kind.subcommand, "--release", "--locked"]
        for crate in crates:  # --bin: only the binary that becomes bootstrap, not its siblings
            command += ["-p", crate.name, "--bin", crate.binary]
        names = ", ".join(crate.name for crate in wanted)
        others = len(crates) - len(wanted)
        also = f", in one cargo run with {others} more functions" if others else ""
        self.log.write(f"fc-rust: building {names} ({' '.join(kind.subcommand[1:])}){also}\n")
        self.log.write(f"fc-rust: release profile: {self.release_profile()[0]}\n")
        release = Path(env["CARGO_TARGET_DIR"]) / TARGET / "release"
        # Another builder's run rewrites these binaries too: the same bytes, but not while
        # they are read.
        with _locked(self.cache_dir / f"cargo-{kind.flavour}.lock"):
            self.cargo_runs += 1
            started = time.monotonic()
            try:
                _stream_cargo(command, self.workspace.root, env, self.log, self._started)
            finally:
                self.cargo_seconds += time.monotonic() - started
            binaries = {}
            for crate in wanted:
                try:
                    binaries[crate.name] = (release / crate.binary).read_bytes()
                except OSError as error:
                    raise BuildError(
                        f"cargo finished but the binary of {crate.name} cannot be read "
                        f"({_reason(error)}); delete {release.parent.parent} and build again"
                    ) from error
        return binaries

    def _started(self, pid: int) -> None:
        self.cargo_pid = pid

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


def _zip_kind(runtime: str) -> _Kind:
    """A zip package for `runtime`: cargo zigbuild against the runtime's glibc."""
    glibc = RUNTIME_GLIBC[runtime]
    return _Kind(
        flavour=glibc,
        subcommand=("zigbuild", "--target", f"{TARGET}.{glibc}"),
        rustflags=(),
        file="bootstrap.zip",
        mode=0o644,
        keys=ZIP_KEYS,
        zig=True,
    )


def _check_binaries(crates: list[Crate]) -> None:
    """Each crate has a binary, and no two have binaries of the same name.

    Cargo would write both to the same file in one run, and only warn
    (https://github.com/rust-lang/cargo/issues/6313).
    """
    for crate in crates:
        owners = [other.name for other in crates if crate.binary in other.binaries]
        if len(owners) > 1:
            raise BuildError(
                f"crates {' and '.join(owners)} both have a binary named {crate.binary!r}, and the "
                "cargo run that builds the functions would write both to one file: rename one "
                "(`name` under [[bin]] in its Cargo.toml)"
            )


def _size_problem(package: Package, size_budget: int) -> str | None:
    if package.size > FC_CODE_SIZE_LIMIT:
        return (
            f"{package.function}: bootstrap.zip is {package.size} bytes, over FC's code "
            f"package limit of {FC_CODE_SIZE_LIMIT} bytes"
        )
    if package.size > size_budget:
        return (
            f"{package.function}: bootstrap.zip is {package.size} bytes, over its size "
            f"budget of {size_budget} bytes; trim dependencies or raise size_budget"
        )
    return None


def _extra_files(crate: Crate) -> dict[str, bytes]:
    try:
        return read_extra_files(crate.directory, crate.include)
    except (OSError, ValueError) as error:
        raise BuildError(str(error)) from error
