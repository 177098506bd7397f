"""The Cargo workspace as the build sees it: its crates, their path dependencies, their files."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from infra.bootstrap.errors import BuildError

if TYPE_CHECKING:
    from pathlib import Path

# Never part of a crate's sources: build output, VCS data, editor and Python caches.
_SKIP_DIRS = frozenset({"target", "dist", ".git", "__pycache__", ".venv", "node_modules"})
TOOLCHAIN_FILES = ("rust-toolchain.toml", "rust-toolchain")
"""rustup's per-directory toolchain files, looked up from cargo's directory upwards
(https://rust-lang.github.io/rustup/overrides.html)."""
_ROOT_FILES = (*TOOLCHAIN_FILES, ".cargo/config.toml")
"""Files at the workspace root that change what cargo builds, whatever the crate."""


@dataclass(frozen=True)
class Crate:
    """One package of the workspace."""

    name: str
    directory: Path
    binaries: tuple[str, ...]
    """Its binary targets: the `[[bin]]` names, then the package's own name for a `src/main.rs`
    no `[[bin]]` claims. Empty for a library."""
    include: tuple[str, ...]
    """Extra files for the code package, globs relative to the crate (`[package.metadata.fc]`)."""
    path_dependencies: tuple[Path, ...]

    @property
    def binary(self) -> str:
        """The executable that becomes `bootstrap`: the first of `binaries`."""
        if not self.binaries:
            raise BuildError(
                f"crate {self.name!r} ({self.directory}) has no binary target: a function needs "
                "src/main.rs or a [[bin]] section in its Cargo.toml"
            )
        return self.binaries[0]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise BuildError(f"{path} not found: is this a Cargo workspace root?") from error
    except tomllib.TOMLDecodeError as error:
        raise BuildError(f"{path} is not valid TOML: {error}") from error
    except UnicodeDecodeError as error:
        raise BuildError(
            f"{path} is not UTF-8 text (byte {error.object[error.start]:#04x} at offset "
            f"{error.start}): cargo reads manifests as UTF-8; save it as UTF-8"
        ) from error


def _path_dependencies(
    manifest: dict[str, Any], crate_dir: Path, workspace_deps: dict[str, Any], root: Path
) -> tuple[Path, ...]:
    """Directories of the crates this manifest depends on by path (dev-dependencies excluded)."""
    found: set[Path] = set()
    sections = [manifest.get("dependencies", {}), manifest.get("build-dependencies", {})]
    for target in manifest.get("target", {}).values():
        sections += [target.get("dependencies", {}), target.get("build-dependencies", {})]
    for deps in sections:
        for name, spec in deps.items():
            if not isinstance(spec, dict):
                continue
            if "path" in spec:
                found.add((crate_dir / spec["path"]).resolve())
            elif spec.get("workspace"):
                shared = workspace_deps.get(spec.get("package", name), {})
                if isinstance(shared, dict) and "path" in shared:
                    found.add((root / shared["path"]).resolve())
    return tuple(sorted(found))


def _binaries(manifest: dict[str, Any], directory: Path, name: str) -> tuple[str, ...]:
    """The binary targets cargo builds for this manifest (see `Crate.binaries`)."""
    declared = [b.get("name", name) for b in manifest.get("bin", [])]
    claimed = {b.get("path") for b in manifest.get("bin", [])}
    autobins = manifest.get("package", {}).get("autobins", True)
    main = (directory / "src" / "main.rs").is_file()
    if main and autobins and "src/main.rs" not in claimed and name not in declared:
        declared.append(name)
    return tuple(declared)


class Workspace:
    """A Cargo workspace root: `Cargo.toml` with `[workspace]` and a committed `Cargo.lock`."""

    def __init__(self, root: Path) -> None:
        """Read the workspace manifest and every member's manifest; no cargo process runs."""
        self.root = root.resolve()
        manifest = _read_toml(self.root / "Cargo.toml")
        workspace = manifest.get("workspace")
        if not isinstance(workspace, dict):
            raise BuildError(f"{self.root / 'Cargo.toml'} has no [workspace] section")
        if not (self.root / "Cargo.lock").is_file():
            raise BuildError(
                f"{self.root / 'Cargo.lock'} is missing: builds are --locked, "
                "run `cargo generate-lockfile` and commit it"
            )
        self.release_profile = "release" in manifest.get("profile", {})
        """Whether the workspace's Cargo.toml sets `[profile.release]`."""
        self._shared_deps: dict[str, Any] = workspace.get("dependencies", {})
        self.crates: dict[str, Crate] = {}
        for member in workspace.get("members", []):
            for directory in sorted(self.root.glob(member)):
                crate = self._read_crate(directory)
                if crate is not None:
                    self.crates[crate.name] = crate
        self._by_dir = {crate.directory: crate for crate in self.crates.values()}

    def _read_crate(self, directory: Path) -> Crate | None:
        if not (directory / "Cargo.toml").is_file():
            return None
        manifest = _read_toml(directory / "Cargo.toml")
        package = manifest.get("package", {})
        name = package.get("name")
        if not isinstance(name, str):
            return None
        metadata = package.get("metadata", {}).get("fc", {})
        # A crate outside the root belongs to no workspace of ours: `workspace = true` there
        # refers to its own workspace, whose path dependencies cargo resolves, not this one's.
        shared = self._shared_deps if directory.resolve().is_relative_to(self.root) else {}
        return Crate(
            name=name,
            directory=directory.resolve(),
            binaries=_binaries(manifest, directory, name),
            include=tuple(metadata.get("include", [])),
            path_dependencies=_path_dependencies(manifest, directory, shared, self.root),
        )

    def crate(self, name: str) -> Crate:
        """The crate called `name`, or an error listing the crates that exist."""
        try:
            return self.crates[name]
        except KeyError:
            known = ", ".join(sorted(self.crates)) or "none"
            raise BuildError(
                f"crate {name!r} is not in the workspace at {self.root}; crates: {known}"
            ) from None

    def functions(self) -> list[str]:
        """The crates under `functions/` that have a binary: the deployable bootstraps."""
        functions_dir = self.root / "functions"
        return sorted(
            name
            for name, crate in self.crates.items()
            if crate.directory.parent == functions_dir and crate.binaries
        )

    def source_dirs(self, crate: Crate) -> list[Path]:
        """The crate's directory and, transitively, those of its path dependencies.

        Path dependencies may lie outside the workspace root (`path = "../../shared/lib"`) and
        need not be members: their manifests are read here to follow theirs.
        """
        seen: dict[Path, None] = {}
        pending = [(crate.directory, crate)]
        while pending:
            directory, referrer = pending.pop()
            if directory in seen:
                continue
            if not directory.is_dir():
                raise BuildError(
                    f"{referrer.directory / 'Cargo.toml'} depends on the path {directory}, "
                    "which does not exist: fix the dependency's `path`"
                )
            seen[directory] = None
            dep = self._by_dir.get(directory) or self._read_crate(directory)
            if dep is not None:
                pending.extend((path, dep) for path in dep.path_dependencies)
        return sorted(seen)

    def source_files(self, crate: Crate) -> list[Path]:
        """Every file that can change the crate's binary, in a stable order."""
        files = [self.root / "Cargo.toml", self.root / "Cargo.lock"]
        files += [self.root / name for name in _ROOT_FILES if (self.root / name).is_file()]
        for directory in self.source_dirs(crate):
            files.extend(_walk(directory))
        return sorted(set(files))

    def manifests(self, crate: Crate) -> list[Path]:
        """The `Cargo.toml` of the crate and of each of its path dependencies."""
        found = [directory / "Cargo.toml" for directory in self.source_dirs(crate)]
        return [path for path in found if path.is_file()]


def _walk(directory: Path) -> list[Path]:
    out: list[Path] = []
    for entry in directory.iterdir():
        if entry.is_dir():
            if entry.name not in _SKIP_DIRS:
                out.extend(_walk(entry))
        elif entry.is_file():
            out.append(entry)
    return out
