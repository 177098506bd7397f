"""The build for real: cargo zigbuild, the ELF check, the zip, the cache, on a tiny workspace."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from infra.bootstrap import Builder, BuildError, Package, check_runtime_compatible
from infra.bootstrap import build as build_module

FIXTURE = Path(__file__).parent / "fixtures" / "tiny-workspace"
MAIN_RS = Path("functions/tiny/src/main.rs")


def clone(destination: Path) -> Path:
    shutil.copytree(FIXTURE, destination, ignore=shutil.ignore_patterns("target", "dist"))
    return destination


def builder(workspace: Path, state: Path) -> Builder:
    """A builder whose cache and cargo target directory live in `state`."""
    return Builder(
        workspace, cache_dir=state / "cache", target_dir=state / "cargo", log=io.StringIO()
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Package]:
    """One real build of the tiny workspace, shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("built")
    workspace = clone(root / "ws")
    return workspace, root, builder(workspace, root).package("tiny")


def test_two_clones_in_different_directories_give_identical_zips(
    built: tuple[Path, Path, Package], tmp_path: Path
) -> None:
    _, _, first = built
    other = clone(tmp_path / "elsewhere" / "deeper" / "checkout")
    second = builder(other, tmp_path / "state").package("tiny")
    assert second.zip_path.read_bytes() == first.zip_path.read_bytes()
    assert (second.sha256, second.crc64, second.size) == (first.sha256, first.crc64, first.size)
    assert second.fingerprint == first.fingerprint
    binary = zipfile.ZipFile(second.zip_path).read("bootstrap")
    assert str(tmp_path).encode() not in binary
    assert b"tiny bootstrap" in binary


def test_package_entries_modes_and_timestamps(built: tuple[Path, Path, Package]) -> None:
    _, _, package = built
    with zipfile.ZipFile(package.zip_path) as archive:
        entries = {e.filename: e for e in archive.infolist()}
        assert list(entries) == ["bootstrap", "config/a.toml", "config/b.toml"]
        assert entries["bootstrap"].external_attr >> 16 == 0o100755
        assert entries["config/a.toml"].external_attr >> 16 == 0o100644
        assert {e.date_time for e in entries.values()} == {(1980, 1, 1, 0, 0, 0)}
        assert archive.read("config/a.toml") == b'level = "info"\n'


def test_manifest_describes_the_package(built: tuple[Path, Path, Package]) -> None:
    workspace, _, package = built
    manifest = json.loads((workspace / "dist" / "tiny" / "manifest.json").read_text())
    assert manifest == package.manifest()
    assert manifest["function"] == "tiny"
    assert manifest["relative_zip"] == "dist/tiny/bootstrap.zip"
    assert manifest["runtime"] == "custom.debian10"
    assert manifest["glibc_max"] in {"2.18", "2.28"}
    assert manifest["rustc"].startswith("rustc ")
    assert manifest["size"] == package.zip_path.stat().st_size
    assert "/" not in manifest["sha256"]


def test_unchanged_tree_is_a_cache_hit_that_runs_no_cargo(
    built: tuple[Path, Path, Package], monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace, state, first = built

    def no_cargo(*_: object) -> None:
        pytest.fail("a cache hit started cargo")

    monkeypatch.setattr(build_module, "_stream_cargo", no_cargo)
    again = builder(workspace, state)
    assert again.package("tiny") == first
    assert again.cargo_runs == 0


def test_one_source_byte_changes_fingerprint_zip_and_both_checksums(
    built: tuple[Path, Path, Package], tmp_path: Path
) -> None:
    _, state, first = built
    workspace = clone(tmp_path / "ws")
    source = workspace / MAIN_RS
    source.write_text(source.read_text().replace("tiny bootstrap", "tiny bootstraP"))
    changed = builder(workspace, state).package("tiny")
    assert changed.fingerprint != first.fingerprint
    assert changed.sha256 != first.sha256
    assert changed.crc64 != first.crc64


def test_host_glibc_binary_is_rejected_for_debian10_naming_the_symbol(
    built: tuple[Path, Path, Package],
) -> None:
    workspace, state, _ = built
    target = state / "host"
    subprocess.run(
        ["cargo", "build", "--quiet", "--release", "--locked", "-p", "tiny"],
        cwd=workspace,
        env={**os.environ, "CARGO_TARGET_DIR": str(target)},
        check=True,
    )
    binary = (target / "release" / "tiny").read_bytes()
    with pytest.raises(BuildError) as error:
        check_runtime_compatible(binary, "custom.debian10")
    message = str(error.value)
    assert "GLIBC_2.34" in message
    assert "__libc_start_main" in message
    assert "custom.debian10 has glibc 2.28" in message
    assert check_runtime_compatible(binary, "custom.debian12").glibc_max == "2.34"


def test_compile_error_shows_cargos_error_and_keeps_the_last_good_package(
    built: tuple[Path, Path, Package], tmp_path: Path
) -> None:
    _, state, _ = built
    workspace = clone(tmp_path / "ws")
    good = builder(workspace, state).package("tiny").zip_path.read_bytes()
    (workspace / MAIN_RS).write_text('fn main() { let x: u8 = "not a number"; }\n')
    with pytest.raises(BuildError) as error:
        builder(workspace, state).package("tiny")
    assert "error[E0308]: mismatched types" in str(error.value)
    assert "main.rs" in str(error.value)
    assert (workspace / "dist" / "tiny" / "bootstrap.zip").read_bytes() == good


def test_over_budget_fails_and_keeps_the_last_good_package(
    built: tuple[Path, Path, Package],
) -> None:
    workspace, state, package = built
    before = package.zip_path.read_bytes()
    with pytest.raises(BuildError, match=r"over its size budget of 1000 bytes"):
        builder(workspace, state).package("tiny", size_budget=1000)
    assert package.zip_path.read_bytes() == before


def test_corrupt_cache_entry_is_detected_and_rebuilt(tmp_path: Path) -> None:
    workspace = clone(tmp_path / "ws")
    first = builder(workspace, tmp_path).package("tiny")
    cached = tmp_path / "cache" / "tiny" / first.fingerprint / "bootstrap.zip"
    cached.write_bytes(cached.read_bytes()[:-10] + b"corrupted!")
    rebuilt = builder(workspace, tmp_path)
    assert rebuilt.package("tiny") == first
    assert rebuilt.cargo_runs == 1
    assert cached.read_bytes() == first.zip_path.read_bytes()
    assert isinstance(rebuilt.log, io.StringIO)
    assert "is corrupt; rebuilding" in rebuilt.log.getvalue()


def test_concurrent_builds_of_one_function_run_cargo_once(tmp_path: Path) -> None:
    workspace = clone(tmp_path / "ws")
    builders = [builder(workspace, tmp_path) for _ in range(2)]
    results: list[Package] = []
    threads = [
        threading.Thread(target=lambda b=b: results.append(b.package("tiny"))) for b in builders
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    assert results[0] == results[1]
    assert sum(b.cargo_runs for b in builders) == 1
    assert zipfile.ZipFile(results[0].zip_path).testzip() is None


def test_unknown_crate_names_the_crates_that_exist(tmp_path: Path) -> None:
    workspace = clone(tmp_path / "ws")
    with pytest.raises(BuildError, match=r"crate 'tinny' is not in the workspace .*; crates: tiny"):
        builder(workspace, tmp_path).package("tinny")


def test_unknown_runtime_lists_the_runtimes(tmp_path: Path) -> None:
    workspace = clone(tmp_path / "ws")
    with pytest.raises(BuildError, match=r"runtime must be one of custom, custom.debian10, .*"):
        builder(workspace, tmp_path).package("tiny", runtime="custom.debian9")


def test_missing_cargo_says_how_to_install_rust(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = clone(tmp_path / "ws")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(BuildError, match=r"rustc not found: install Rust stable"):
        builder(workspace, tmp_path).package("tiny")


def test_missing_cargo_zigbuild_says_to_run_make_setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = clone(tmp_path / "ws")
    monkeypatch.setattr(build_module, "ZIGBUILD", "cargo-zigbuild-absent")
    with pytest.raises(BuildError, match=r"cargo-zigbuild-absent not found: run `make setup`"):
        builder(workspace, tmp_path).package("tiny")


def test_missing_zig_says_to_run_make_setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = clone(tmp_path / "ws")
    monkeypatch.setattr(build_module, "ZIG_VERSION", [sys.executable, "-m", "ziglang_absent"])
    with pytest.raises(BuildError, match=r"ziglang not found: run `make setup`"):
        builder(workspace, tmp_path).package("tiny")


def test_cli_prints_the_manifest_and_reports_errors_without_a_traceback(
    built: tuple[Path, Path, Package],
) -> None:
    workspace, state, package = built
    env = {**os.environ, "FCRUST_CACHE_DIR": str(state / "cache")}
    env["FCRUST_CARGO_TARGET_DIR"] = str(state / "cargo")
    command = [sys.executable, "-m", "infra.bootstrap", "package", "--workspace", str(workspace)]
    ok = subprocess.run([*command, "tiny"], capture_output=True, text=True, env=env, check=False)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == package.manifest()
    bad = subprocess.run([*command, "nope"], capture_output=True, text=True, env=env, check=False)
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: crate 'nope' is not in the workspace")
    assert "Traceback" not in bad.stderr
    neither = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert neither.returncode == 2
    assert "give crate names or --all" in neither.stderr
