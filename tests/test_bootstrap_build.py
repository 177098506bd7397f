"""The build for real: cargo zigbuild, the ELF check, the zip, the cache, on a tiny workspace."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from infra.bootstrap import Builder, BuildError, Package, check_runtime_compatible
from infra.bootstrap import build as build_module
from infra.bootstrap import process as process_module
from infra.bootstrap.faults import OnCompiling
from infra.bootstrap.workspace import Workspace

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

FIXTURE = Path(__file__).parent / "fixtures" / "tiny-workspace"
MAIN_RS = Path("functions/tiny/src/main.rs")
REPO = Path(__file__).resolve().parent.parent
SLOW_RUSTC = """#!/bin/sh
case " $* " in *" --crate-name ___ "*) ;; *" --crate-name "*) sleep 30;; esac
exec "$@"
"""
"""A RUSTC_WRAPPER under which every compilation takes 30 s (cargo's `___` probes stay fast):
a build that can be stopped while cargo, rustc, this script and its `sleep` all run."""


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
    # A space in the path too: every path the build hands rustc must survive it.
    other = clone(tmp_path / "elsewhere" / "my projects" / "checkout")
    second = builder(other, tmp_path / "build state").package("tiny")
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
    assert "failed with exit status" in str(error.value)
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
    assert "is corrupt (bootstrap.zip does not match" in rebuilt.log.getvalue()


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


# -- Stopping a build: a killed cargo, Ctrl-C, SIGTERM -----------------------------------------


def _processes() -> dict[int, tuple[str, int, str]]:
    """pid -> (state, ppid, name), from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError):
                stat = (entry / "stat").read_text()
                state, ppid = stat[stat.rfind(")") + 2 :].split()[:2]
                found[int(entry.name)] = (
                    state,
                    int(ppid),
                    stat[stat.find("(") + 1 : stat.rfind(")")],
                )
    return found


def _tree(pid: int) -> set[int]:
    """`pid` and every process below it."""
    table = _processes()
    found, pending = set(), [pid]
    while pending:
        parent = pending.pop()
        found.add(parent)
        pending += [p for p, (_, ppid, _) in table.items() if ppid == parent and p not in found]
    return found


def _tree_at_sleep(pid: int) -> set[int]:
    """`pid`'s tree once SLOW_RUSTC's `sleep` runs in it: cargo, rustc's wrapper and `sleep`."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        tree = _tree(pid)
        if any(_processes().get(p, ("", 0, ""))[2] == "sleep" for p in tree):
            return tree
        time.sleep(0.05)
    pytest.fail(f"no sleep under {pid}: {_processes()}")


def _running(pids: set[int]) -> dict[int, str]:
    """Those of `pids` still running (a zombie has ended: only its exit status is left)."""
    return {p: name for p, (state, _, name) in _processes().items() if p in pids and state != "Z"}


def _our_cargo() -> int:
    cargos = [
        p
        for p, (_, ppid, name) in _processes().items()
        if ppid == os.getpid() and name.startswith("cargo")
    ]
    assert len(cargos) == 1, cargos
    return cargos[0]


def test_a_process_that_exits_early_has_its_group_stopped_and_its_status_reported(
    tmp_path: Path,
) -> None:
    # The first process exits 3 while a child it started holds the output pipe for 30 s.
    log = io.StringIO()
    started = time.monotonic()
    script = "echo $$ > pids; sleep 30 & echo $! >> pids; echo error: gave up; exit 3"
    with pytest.raises(BuildError) as error:
        build_module._stream_cargo(["sh", "-c", script], tmp_path, dict(os.environ), log)  # noqa: SLF001
    assert time.monotonic() - started < 10
    assert (
        str(error.value) == "`sh -c " + script + " ...` failed with exit status 3:\nerror: gave up"
    )
    pids = {int(p) for p in (tmp_path / "pids").read_text().split()}
    assert _running(pids) == {}


def test_death_by_signal_is_reported_by_name_never_as_success(tmp_path: Path) -> None:
    script = "echo '    Finished release profile'; echo still working; kill -KILL $$"
    with pytest.raises(BuildError) as error:
        build_module._stream_cargo(["sh", "-c", script], tmp_path, dict(os.environ), io.StringIO())  # noqa: SLF001
    message = str(error.value)
    assert message.startswith("`sh -c " + script + " ...` was killed by SIGKILL before it finished")
    assert message.endswith("cargo's last output:\nstill working")


@pytest.fixture
def slow_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clone whose every compilation takes 30 s; cold: its state is fresh."""
    wrapper = tmp_path / "slow-rustc"
    wrapper.write_text(SLOW_RUSTC)
    wrapper.chmod(0o755)
    monkeypatch.setenv("RUSTC_WRAPPER", str(wrapper))
    return clone(tmp_path / "ws")


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=lambda s: s.name)
def test_cargo_killed_mid_build_is_an_error_naming_the_signal_and_nothing_runs_on(
    slow_workspace: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    stopped: set[int] = set()

    def kill_cargo() -> None:
        cargo = _our_cargo()
        stopped.update(_tree_at_sleep(cargo))
        os.kill(cargo, signum)

    started = time.monotonic()
    with pytest.raises(BuildError) as error:
        Builder(
            slow_workspace,
            cache_dir=tmp_path / "cache",
            target_dir=tmp_path / "cargo",
            log=OnCompiling(kill_cargo),
        ).package("tiny")
    message = str(error.value)
    assert f"was killed by {signum.name} before it finished" in message
    assert "Finished" not in message
    assert time.monotonic() - started < 20, "the build went on after cargo was killed"
    assert len(stopped) > 3, stopped  # cargo-zigbuild, cargo, rustc's wrapper, sleep
    assert _running(stopped) == {}
    assert not (slow_workspace / "dist").exists()


def test_ctrl_c_while_cargo_runs_stops_every_process_it_started(
    slow_workspace: Path, tmp_path: Path
) -> None:
    stopped: set[int] = set()

    def ctrl_c() -> None:
        stopped.update(_tree_at_sleep(_our_cargo()))
        raise KeyboardInterrupt

    log = OnCompiling(ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        Builder(
            slow_workspace, cache_dir=tmp_path / "cache", target_dir=tmp_path / "cargo", log=log
        ).package("tiny")
    assert len(stopped) > 3, stopped
    assert _running(stopped) == {}
    assert not (slow_workspace / "dist").exists()


@pytest.mark.parametrize(
    ("signum", "to_group", "status"),
    [
        (signal.SIGTERM, False, -signal.SIGTERM),
        (signal.SIGINT, False, 130),  # Ctrl-C forwarded to the program alone (Pulumi)
        (signal.SIGINT, True, 130),  # Ctrl-C in a terminal: its whole foreground group
    ],
    ids=["SIGTERM", "SIGINT", "Ctrl-C-in-a-terminal"],
)
def test_signal_to_the_cli_stops_the_build_first(
    slow_workspace: Path, tmp_path: Path, signum: signal.Signals, *, to_group: bool, status: int
) -> None:
    env = {**os.environ, "FCRUST_CACHE_DIR": str(tmp_path / "cache")}
    env["FCRUST_CARGO_TARGET_DIR"] = str(tmp_path / "cargo")
    command = [sys.executable, "-m", "infra.bootstrap", "package", "tiny"]
    cli = subprocess.Popen(
        [*command, "--workspace", str(slow_workspace)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the CLI's group plays a terminal's foreground group
    )
    assert cli.stderr is not None
    with cli.stderr:
        output = []
        for line in cli.stderr:
            output.append(line)
            if "Compiling" in line:
                break
        stopped = _tree_at_sleep(cli.pid) - {cli.pid}
        if to_group:
            os.killpg(cli.pid, signum)
        else:
            cli.send_signal(signum)
        assert cli.wait(timeout=20) == status
        output.append(cli.stderr.read())
    assert len(stopped) > 3, output
    assert _running(stopped) == {}
    if signum == signal.SIGINT:
        assert "error: interrupted; cargo and every process it started were stopped" in output[-1]
        assert "Traceback" not in output[-1]
    assert not (slow_workspace / "dist").exists()


# -- Unwritable cache and dist/, broken cache entries -------------------------------------------


@contextlib.contextmanager
def read_only(directory: Path) -> Iterator[str]:
    """`directory` unwritable for this process, for real: no mock.

    chmod 0555 binds a normal user. Root ignores modes (these tests run as root here), so then
    `chattr +i`: the immutable attribute refuses every new entry and rename, to root too. Skipped
    where neither binds (root on a filesystem without the attribute).
    """

    def writable() -> bool:
        try:
            with tempfile.TemporaryFile(dir=directory):
                return True
        except OSError:
            return False

    def chattr(flag: str) -> bool:
        done = subprocess.run(["chattr", flag, str(directory)], capture_output=True, check=False)
        return done.returncode == 0

    mode = directory.stat().st_mode
    directory.chmod(0o555)
    try:
        if not writable():
            yield "chmod 0555"
            return
        if shutil.which("chattr") is None or not chattr("+i"):
            pytest.skip("root, and no chattr +i here: no way to make a directory read-only")
        try:
            if writable():
                pytest.skip("chattr +i does not bind here")
            yield "chattr +i"
        finally:
            chattr("-i")
    finally:
        directory.chmod(mode)


def _change_source(workspace: Path) -> None:
    source = workspace / MAIN_RS
    source.write_text(source.read_text().replace("tiny bootstrap", "tiny bootstrap v2"))


def test_cache_dir_that_cannot_be_created_is_an_error_naming_it(
    built: tuple[Path, Path, Package], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FCRUST_CACHE_DIR under a regular file: ENOTDIR, for root too (no mock).
    workspace, state, package = built
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("FCRUST_CACHE_DIR", str(blocker / "cache"))
    before = package.zip_path.read_bytes()
    with pytest.raises(BuildError) as error:
        Builder(workspace, target_dir=state / "cargo", log=io.StringIO()).package("tiny")
    message = str(error.value)
    assert f"the build cache {blocker / 'cache'} is not writable (Not a directory" in message
    assert "set FCRUST_CACHE_DIR to a writable directory" in message
    assert package.zip_path.read_bytes() == before


def test_read_only_cache_is_an_error_and_keeps_the_previous_package(
    built: tuple[Path, Path, Package], tmp_path: Path
) -> None:
    _, state, _ = built
    workspace = clone(tmp_path / "ws")
    good = builder(workspace, state).package("tiny")
    before = good.zip_path.read_bytes()
    _change_source(workspace)
    crate_cache = state / "cache" / "tiny"
    entries = sorted(crate_cache.iterdir())
    with read_only(crate_cache), pytest.raises(BuildError) as error:
        builder(workspace, state).package("tiny")
    message = str(error.value)
    assert f"the build cache {state / 'cache'} is not writable" in message
    assert str(crate_cache) in message
    assert "FCRUST_CACHE_DIR" in message
    assert good.zip_path.read_bytes() == before
    assert sorted(crate_cache.iterdir()) == entries


def test_read_only_dist_is_an_error_and_keeps_the_previous_package(
    built: tuple[Path, Path, Package], tmp_path: Path
) -> None:
    _, state, _ = built
    workspace = clone(tmp_path / "ws")
    dist = builder(workspace, state).package("tiny").zip_path.parent
    before = {p.name: p.read_bytes() for p in dist.iterdir()}
    _change_source(workspace)
    with read_only(dist), pytest.raises(BuildError) as error:
        builder(workspace, state).package("tiny")
    assert f"cannot write the package to {dist} (" in str(error.value)
    assert "make it a writable directory and build again" in str(error.value)
    assert {p.name: p.read_bytes() for p in dist.iterdir()} == before
    again = builder(workspace, state).package("tiny")
    assert again.zip_path.read_bytes() != before["bootstrap.zip"]


def test_dist_that_takes_the_zip_but_not_the_manifest_rolls_the_zip_back(
    built: tuple[Path, Path, Package], tmp_path: Path
) -> None:
    # manifest.json a directory: the zip's rename succeeds, the manifest's fails (EISDIR, root
    # too); the package must not be left half new.
    _, state, _ = built
    workspace = clone(tmp_path / "ws")
    good = builder(workspace, state).package("tiny")
    before = good.zip_path.read_bytes()
    manifest = good.zip_path.parent / "manifest.json"
    manifest.unlink()
    (manifest / "in-the-way").mkdir(parents=True)
    _change_source(workspace)
    with pytest.raises(BuildError, match=r"cannot write the package to .*Is a directory"):
        builder(workspace, state).package("tiny")
    assert good.zip_path.read_bytes() == before
    assert sorted(p.name for p in good.zip_path.parent.iterdir()) == [
        "bootstrap.zip",
        "manifest.json",
    ]


def _without_glibc_max(entry: Path) -> None:
    meta = json.loads((entry / "entry.json").read_text())
    del meta["glibc_max"]
    (entry / "entry.json").write_text(json.dumps(meta))


BREAKAGES: dict[str, Callable[[Path], object]] = {
    "missing-key": _without_glibc_max,
    "truncated-json": lambda e: (e / "entry.json").write_text('{"sha256": "ab'),
    "json-list": lambda e: (e / "entry.json").write_text("[]"),
    "no-entry-json": lambda e: (e / "entry.json").unlink(),
    "no-zip": lambda e: (e / "bootstrap.zip").unlink(),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_broken_cache_entry_is_logged_rebuilt_and_replaced(
    built: tuple[Path, Path, Package], breakage: str
) -> None:
    workspace, state, first = built
    entry = first.cached_zip.parent
    whole = {p.name: p.read_bytes() for p in entry.iterdir()}
    BREAKAGES[breakage](entry)
    rebuilt = builder(workspace, state)
    assert rebuilt.package("tiny") == first
    assert rebuilt.cargo_runs == 1
    assert isinstance(rebuilt.log, io.StringIO)
    assert f"fc-rust: cache entry {entry} is corrupt (" in rebuilt.log.getvalue()
    assert "); rebuilding it" in rebuilt.log.getvalue()
    assert {p.name: p.read_bytes() for p in entry.iterdir()} == whole
    again = builder(workspace, state)
    assert again.package("tiny") == first
    assert again.cargo_runs == 0


def test_broken_static_cache_entry_is_rebuilt(tmp_path: Path) -> None:
    workspace = clone(tmp_path / "ws")
    first = builder(workspace, tmp_path).static_binary("tiny")
    manifest = first.path.parent / "entry.json"
    manifest.write_text("{not json")
    rebuilt = builder(workspace, tmp_path)
    assert rebuilt.static_binary("tiny") == first
    assert rebuilt.cargo_runs == 1
    assert json.loads(manifest.read_text()) == {"sha256": first.sha256}


def test_fault_drill_for_the_stress_harness_reports_every_fault_recovered() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "infra.bootstrap", "faults", "--workspace", str(FIXTURE), "tiny"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "build faults injected and recovered"
    assert len(lines) == 14
    assert not (FIXTURE / "dist").exists()


# -- Many functions, one cargo run ---------------------------------------------------------------


def add_crate(workspace: Path, relative: str, manifest: str, sources: dict[str, str]) -> Path:
    """A crate at `relative` with the given Cargo.toml text and files (paths under the crate)."""
    directory = workspace / relative
    for name, text in sources.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    (directory / "Cargo.toml").write_text(manifest)
    return directory


def printing(marker: str) -> str:
    return f'fn main() {{\n    println!("{marker} {{}}", file!());\n}}\n'


def update_lock(workspace: Path) -> None:
    """What the stale-lock error tells a user to run (no network: these crates have no deps)."""
    subprocess.run(
        ["cargo", "update", "--workspace", "--offline", "--quiet"], cwd=workspace, check=True
    )


def many_workspace(destination: Path) -> Path:
    """tiny, `second` (its [[bin]] `second-bin`, plus a `helper` bin that must not be built) and
    `third`, with a Cargo.lock that lists them all."""
    workspace = clone(destination)
    add_crate(
        workspace,
        "functions/second",
        '[package]\nname = "second"\nversion = "0.1.0"\nedition = "2021"\n\n'
        '[[bin]]\nname = "second-bin"\npath = "src/main.rs"\n\n'
        '[[bin]]\nname = "helper"\npath = "src/helper.rs"\n',
        {"src/main.rs": printing("second bootstrap"), "src/helper.rs": printing("helper")},
    )
    add_crate(
        workspace,
        "functions/third",
        '[package]\nname = "third"\nversion = "0.1.0"\nedition = "2021"\n',
        {"src/main.rs": printing("third bootstrap")},
    )
    update_lock(workspace)
    return workspace


MANY = ("tiny", "second", "third")


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Package]]:
    """One package_many of three crates; its builder must have run cargo once."""
    root = tmp_path_factory.mktemp("many")
    workspace = many_workspace(root / "ws")
    first = builder(workspace, root)
    packages = first.package_many(MANY)
    assert first.cargo_runs == 1
    return workspace, root, packages


def bootstrap_of(package: Package) -> bytes:
    return zipfile.ZipFile(package.zip_path).read("bootstrap")


def test_package_many_builds_every_crate_in_one_cargo_run(
    many: tuple[Path, Path, dict[str, Package]],
) -> None:
    workspace, state, packages = many
    assert list(packages) == list(MANY)
    for name, package in packages.items():
        assert package.function == name
        assert package.zip_path == workspace / "dist" / name / "bootstrap.zip"
        manifest = json.loads((workspace / "dist" / name / "manifest.json").read_text())
        assert manifest == package.manifest()
        binary = bootstrap_of(package)
        assert binary.startswith(b"\x7fELF")
        others = [n for n in MANY if n != name]
        assert f"{name} bootstrap".encode() in binary
        assert not any(f"{other} bootstrap".encode() in binary for other in others)
    assert len({p.fingerprint for p in packages.values()}) == len(MANY)
    release = state / "cargo" / "2.28" / "x86_64-unknown-linux-gnu" / "release"
    assert (release / "second-bin").is_file()
    assert not (release / "helper").exists(), "a binary no function needs was built"
    again = builder(workspace, state)
    assert again.package_many(MANY) == packages
    assert again.cargo_runs == 0


def test_package_is_package_many_of_one_and_builds_every_function(
    many: tuple[Path, Path, dict[str, Package]], tmp_path: Path
) -> None:
    workspace, state, packages = many
    hit = builder(workspace, state)
    assert hit.package("third") == packages["third"]
    assert hit.cargo_runs == 0
    # Cold, alone: one run builds every function (see the next test), and the same bytes.
    other = many_workspace(tmp_path / "ws")
    alone = builder(other, tmp_path)
    assert alone.package("third").sha256 == packages["third"].sha256
    assert alone.cargo_runs == 1
    release = tmp_path / "cargo" / "2.28" / "x86_64-unknown-linux-gnu" / "release"
    assert sorted(p.name for p in release.iterdir() if p.is_file() and "." not in p.name) == [
        "second-bin",
        "third",
        "tiny",
    ]
    assert sorted(p.name for p in (other / "dist").iterdir()) == ["third"]


def test_a_function_is_built_as_with_every_other_function(tmp_path: Path) -> None:
    # Cargo unifies the features of a dependency across the crates of one run: `quiet` built
    # alone would say "quiet voice", built with `shouter` (which enables `loud`) "LOUD VOICE".
    # Every run builds every function, so `quiet` says the same however it is asked for, and a
    # sibling's manifest is an input of its fingerprint.
    workspace = clone(tmp_path / "ws")
    add_crate(
        workspace,
        "libs/voice",
        '[package]\nname = "voice"\nversion = "0.1.0"\nedition = "2021"\n\n[features]\nloud = []\n',
        {
            "src/lib.rs": '#[cfg(feature = "loud")]\npub const GREETING: &str = "LOUD VOICE";\n'
            '#[cfg(not(feature = "loud"))]\npub const GREETING: &str = "quiet voice";\n'
        },
    )
    greet = 'fn main() {\n    println!("{}", voice::GREETING);\n}\n'
    for name, features in (("quiet", "[]"), ("shouter", '["loud"]')):
        add_crate(
            workspace,
            f"functions/{name}",
            f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n\n'
            f'[dependencies]\nvoice = {{ path = "../../libs/voice", features = {features} }}\n',
            {"src/main.rs": greet},
        )
    update_lock(workspace)
    alone = builder(workspace, tmp_path).package("quiet")
    assert b"LOUD VOICE" in bootstrap_of(alone)
    together = builder(workspace, tmp_path)
    assert together.package_many(["shouter", "quiet"])["quiet"] == alone
    assert together.cargo_runs == 1  # shouter's package; quiet's was cached
    shouter = workspace / "functions" / "shouter" / "Cargo.toml"
    shouter.write_text(shouter.read_text().replace('["loud"]', "[]"))
    quieter = builder(workspace, tmp_path).package("quiet")
    assert quieter.fingerprint != alone.fingerprint
    assert b"quiet voice" in bootstrap_of(quieter)


def test_only_the_changed_crate_is_repackaged(
    many: tuple[Path, Path, dict[str, Package]], tmp_path: Path
) -> None:
    _, state, _ = many
    workspace = many_workspace(tmp_path / "ws")
    before = builder(workspace, state).package_many(MANY)
    dist = {n: (p.zip_path.read_bytes(), p.zip_path.stat().st_mtime_ns) for n, p in before.items()}
    source = workspace / "functions" / "second" / "src" / "main.rs"
    source.write_text(printing("second bootstrap, changed"))
    changed = builder(workspace, state)
    after = changed.package_many(MANY)
    assert changed.cargo_runs == 1
    assert isinstance(changed.log, io.StringIO)
    assert (
        "fc-rust: building second (--target x86_64-unknown-linux-gnu.2.28), in one cargo run with "
        "2 more functions\n"
    ) in changed.log.getvalue()
    assert after["second"].fingerprint != before["second"].fingerprint
    assert after["second"].sha256 != before["second"].sha256
    assert b"second bootstrap, changed" in bootstrap_of(after["second"])
    for name in ("tiny", "third"):
        assert after[name] == before[name]
        path = after[name].zip_path
        assert (path.read_bytes(), path.stat().st_mtime_ns) == dist[name], "dist/ was rewritten"


def test_over_budget_crate_in_a_set_publishes_none_of_it(
    many: tuple[Path, Path, dict[str, Package]], tmp_path: Path
) -> None:
    _, state, _ = many
    workspace = many_workspace(tmp_path / "ws")
    with pytest.raises(
        BuildError, match=r"^third: bootstrap.zip is \d+ bytes, over its size budget"
    ):
        builder(workspace, state).package_many(MANY, size_budgets={"third": 1000})
    assert not (workspace / "dist").exists()
    with pytest.raises(BuildError, match=r"size_budgets names crates not being built: fourth"):
        builder(workspace, state).package_many(MANY, size_budgets={"fourth": 1000})


def test_two_functions_with_one_binary_name_is_an_error_before_cargo(tmp_path: Path) -> None:
    workspace = clone(tmp_path / "ws")
    add_crate(
        workspace,
        "functions/twin",
        '[package]\nname = "twin"\nversion = "0.1.0"\nedition = "2021"\n\n'
        '[[bin]]\nname = "tiny"\npath = "src/main.rs"\n',
        {"src/main.rs": printing("twin bootstrap")},
    )
    update_lock(workspace)
    twins = builder(workspace, tmp_path)
    for crates in (["tiny", "twin"], ["twin"]):
        with pytest.raises(BuildError) as error:
            twins.package_many(crates)
        assert str(error.value) == (
            "crates tiny and twin both have a binary named 'tiny', and the cargo run that builds "
            "the functions would write both to one file: rename one (`name` under [[bin]] in its "
            "Cargo.toml)"
        )
    assert twins.cargo_runs == 0


def test_a_library_crate_is_not_a_function(tmp_path: Path) -> None:
    workspace = clone(tmp_path / "ws")
    add_crate(
        workspace,
        "functions/shared",
        '[package]\nname = "shared"\nversion = "0.1.0"\nedition = "2021"\n',
        {"src/lib.rs": "pub fn answer() -> u8 { 42 }\n"},
    )
    update_lock(workspace)
    library = builder(workspace, tmp_path)
    assert library.workspace.functions() == ["tiny"]
    with pytest.raises(BuildError, match=r"crate 'shared' .* has no binary target: a function"):
        library.package("shared")


def test_cli_all_packages_every_function_in_one_cargo_run(
    many: tuple[Path, Path, dict[str, Package]], tmp_path: Path
) -> None:
    _, state, packages = many
    workspace = many_workspace(tmp_path / "ws")
    env = {**os.environ, "FCRUST_CACHE_DIR": str(tmp_path / "cache")}
    env["FCRUST_CARGO_TARGET_DIR"] = str(state / "cargo")
    done = subprocess.run(
        [sys.executable, "-m", "infra.bootstrap", "package", "--all"],
        cwd=workspace,  # the workspace defaults to the current directory
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    built = [line for line in done.stderr.splitlines() if line.startswith("fc-rust: building")]
    assert built == [
        "fc-rust: building second, third, tiny (--target x86_64-unknown-linux-gnu.2.28)"
    ]
    manifests = [json.loads(line) for line in done.stdout.splitlines()]
    assert [m["function"] for m in manifests] == ["second", "third", "tiny"]
    assert {m["function"]: m["sha256"] for m in manifests} == {
        n: p.sha256 for n, p in packages.items()
    }


# -- The workspace: the current directory by default; path dependencies outside it ---------------


def test_the_default_workspace_is_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = clone(tmp_path / "ws")
    monkeypatch.chdir(workspace / "functions")
    with pytest.raises(BuildError) as error:
        Builder()
    assert str(error.value).startswith(
        f"no Cargo.toml in {workspace / 'functions'}: the Cargo workspace defaults to the current "
        "directory"
    )
    monkeypatch.chdir(workspace)
    default = Builder()
    assert default.workspace.root == workspace.resolve()
    assert default.cache_dir == workspace.resolve() / "target" / "fc-rust" / "cache"


def outside_project(destination: Path) -> Path:
    """`project/ws` (the workspace) whose tiny uses `project/shared/mylib`, outside its root."""
    workspace = clone(destination / "ws")
    add_crate(
        destination,
        "shared/mylib",
        '[package]\nname = "mylib"\nversion = "0.1.0"\nedition = "2021"\n',
        {"src/lib.rs": "pub fn whence() -> &'static str {\n    file!()\n}\n"},
    )
    manifest = workspace / "functions" / "tiny" / "Cargo.toml"
    text = manifest.read_text().replace(
        "[package.metadata.fc]",
        '[dependencies]\nmylib = { path = "../../../shared/mylib" }\n\n[package.metadata.fc]',
    )
    manifest.write_text(text)
    (workspace / MAIN_RS).write_text(
        'fn main() {\n    println!("tiny bootstrap {} {}", file!(), mylib::whence());\n}\n'
    )
    update_lock(workspace)
    return workspace


def test_a_path_dependency_outside_the_workspace_is_fingerprinted_and_remapped(
    tmp_path: Path,
) -> None:
    workspace = outside_project(tmp_path / "project")
    first = builder(workspace, tmp_path / "state").package("tiny")
    binary = bootstrap_of(first)
    assert b"/build/../shared/mylib/src/lib.rs" in binary
    assert str(tmp_path).encode() not in binary
    # Elsewhere, in the same layout: the same fingerprint, and no machine path in the binary.
    # (Not always the same bytes: cargo hashes the absolute path of a path dependency outside the
    # workspace into its crate metadata, which can reorder the linked code.)
    other = outside_project(tmp_path / "elsewhere" / "project")
    second = builder(other, tmp_path / "state2").package("tiny")
    assert second.fingerprint == first.fingerprint
    assert b"/build/../shared/mylib/src/lib.rs" in bootstrap_of(second)
    assert str(tmp_path).encode() not in bootstrap_of(second)
    # A file of the dependency is an input.
    library = tmp_path / "project" / "shared" / "mylib" / "src" / "lib.rs"
    library.write_text(library.read_text() + "\npub fn more() {}\n")
    changed = builder(workspace, tmp_path / "state")
    assert changed.package("tiny").fingerprint != first.fingerprint
    assert changed.cargo_runs == 1


def test_a_path_dependency_that_does_not_exist_is_an_error_naming_it(tmp_path: Path) -> None:
    workspace = clone(tmp_path / "ws")
    manifest = workspace / "functions" / "tiny" / "Cargo.toml"
    manifest.write_text(manifest.read_text() + '\n[dependencies]\ngone = { path = "../gone" }\n')
    with pytest.raises(BuildError) as error:
        builder(workspace, tmp_path).package("tiny")
    assert str(error.value) == (
        f"{manifest.resolve()} depends on the path {(workspace / 'functions' / 'gone').resolve()}, "
        "which does not exist: fix the dependency's `path`"
    )


# -- Cargo.lock behind the workspace; the toolchain's versions -----------------------------------


def test_a_stale_cargo_lock_names_the_command_that_fixes_it(tmp_path: Path) -> None:
    workspace = clone(tmp_path / "ws")
    add_crate(
        workspace,
        "functions/newcomer",
        '[package]\nname = "newcomer"\nversion = "0.1.0"\nedition = "2021"\n',
        {"src/main.rs": printing("newcomer bootstrap")},
    )
    with pytest.raises(BuildError) as error:
        builder(workspace, tmp_path).package("newcomer")
    message = str(error.value)
    assert message.startswith(f"{workspace.resolve() / 'Cargo.lock'} does not match the workspace")
    assert f"Run `cargo update --workspace` in {workspace.resolve()}" in message
    assert "Then commit Cargo.lock." in message
    assert "--locked was passed to prevent this" in message  # cargo's own words, last
    assert not (workspace / "dist").exists()
    lock = (workspace / "Cargo.lock").read_text()
    update_lock(workspace)  # as the message says
    assert (workspace / "Cargo.lock").read_text() != lock
    assert builder(workspace, tmp_path).package("newcomer").function == "newcomer"


def test_a_change_to_cargo_lock_alone_changes_the_fingerprint(tmp_path: Path) -> None:
    """A dependency bump changes only Cargo.lock: the build must not be served from the cache.

    Mutation caught: `Workspace.source_files` leaving Cargo.lock out of the fingerprint.
    """
    workspace = clone(tmp_path / "ws")
    versions = {"rustc": "rustc 1.95.0", "zig": "0.17.1"}

    def fingerprint() -> str:
        tree = Workspace(workspace)
        return build_module.fingerprint(tree, tree.crate("tiny"), "zip", versions)

    before = fingerprint()
    assert fingerprint() == before
    lock = workspace / "Cargo.lock"
    lock.write_text(lock.read_text().replace('version = "0.1.0"', 'version = "0.1.1"', 1))
    assert fingerprint() != before


def test_toolchain_versions_are_asked_once_per_setting(
    many: tuple[Path, Path, dict[str, Package]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workspace, state, packages = many
    asked: list[str] = []
    real = build_module._run_version  # noqa: SLF001

    def counted(tool: str, command: list[str], cwd: Path, env: dict[str, str]) -> str:
        asked.append(tool)
        return real(tool, command, cwd, env)

    monkeypatch.setattr(build_module, "_run_version", counted)
    monkeypatch.setattr(build_module, "_versions_asked", {})
    for _ in range(3):
        assert builder(workspace, state).package_many(MANY) == packages
    assert builder(workspace, state).package("tiny").rustc == packages["tiny"].rustc
    assert asked == ["rustc", "ziglang"]
    # Another rustc may come first on a new PATH: asked again.
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", os.pathsep.join([str(tmp_path / "bin"), os.environ["PATH"]]))
    assert builder(workspace, state).package_many(MANY) == packages
    assert asked == ["rustc", "ziglang", "rustc", "ziglang"]


def _sibling_with_build_script(workspace: Path, name: str, build_rs: str) -> None:
    """A function crate `name` beside tiny, whose build script is `build_rs`."""
    add_crate(
        workspace,
        f"functions/{name}",
        f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\nbuild = "build.rs"\n',
        {"src/main.rs": printing(name), "build.rs": build_rs},
    )
    update_lock(workspace)


def test_a_stuck_sibling_build_script_is_stopped_with_an_error_naming_its_crate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = clone(tmp_path / "ws")
    forever = "fn main() {\n    loop {\n        std::thread::park();\n    }\n}\n"
    _sibling_with_build_script(workspace, "stuck", forever)
    monkeypatch.setenv("FCRUST_BUILD_SCRIPT_TIMEOUT_S", "3")
    build = builder(workspace, tmp_path)
    started = time.monotonic()
    with pytest.raises(BuildError) as error:
        build.package("tiny")
    message = str(error.value)
    assert message.startswith("the build script (build.rs) of crate stuck has run for "), message
    assert "fix stuck's build.rs" in message
    assert time.monotonic() - started < 120
    assert build.cargo_pid is not None
    assert not _running({build.cargo_pid})
    assert not (workspace / "dist").exists()


def test_a_failing_sibling_build_script_is_an_error_naming_its_crate(tmp_path: Path) -> None:
    workspace = clone(tmp_path / "ws")
    _sibling_with_build_script(workspace, "failing", 'fn main() {\n    panic!("no luck");\n}\n')
    with pytest.raises(BuildError) as error:
        builder(workspace, tmp_path).package("tiny")
    message = str(error.value)
    assert "error: failed to run custom build command for `failing v0.1.0" in message
    assert message.endswith(
        "crate failing failed to build. Every function of the workspace is built in one cargo "
        "run (so that a binary is the same whichever functions are asked for), so this stops all "
        "of them: fix failing, or move it out of the workspace's functions"
    ), message


def test_one_huge_output_line_is_split_in_linear_time() -> None:
    log = io.StringIO()
    lines = process_module._Lines(log)  # noqa: SLF001
    chunk = b"x" * 65536
    started = time.monotonic()
    for _ in range(512):  # 32 MiB without a newline, as cargo's pipe delivers it
        lines.feed(chunk)
    lines.feed(b"\nerror: after\nlast", final=True)
    elapsed = time.monotonic() - started
    assert log.getvalue() == "x" * (512 * 65536) + "\nerror: after\nlast\n"
    assert list(lines.tail)[1:] == ["error: after", "last"]
    assert lines.tail[0].endswith(f"... ({512 * 65536} characters)")
    assert elapsed < 3, f"{elapsed:.1f} s for 32 MiB"


def test_lines_split_across_chunks_come_out_whole() -> None:
    log = io.StringIO()
    lines = process_module._Lines(log)  # noqa: SLF001
    text = "Compiling a\nwarning: b\n\nerror: é c\nno newline".encode()
    for at in range(len(text)):  # every byte its own chunk, the é split in two
        lines.feed(text[at : at + 1])
    lines.feed(b"", final=True)
    assert log.getvalue() == "Compiling a\nwarning: b\n\nerror: é c\nno newline\n"


def test_a_workspace_manifest_that_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    workspace = clone(tmp_path / "ws")
    manifest = workspace / "Cargo.toml"
    manifest.write_bytes(manifest.read_bytes() + b"# caf\xe9\n")
    with pytest.raises(BuildError) as error:
        Workspace(workspace)
    assert str(error.value).startswith(f"{manifest.resolve()} is not UTF-8 text (byte 0xe9 at ")


def test_a_build_script_past_its_time_is_stopped_without_cargo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What cargo runs for a crate's build.rs: .../build/<crate>-<hash>/build-script-build.
    script = tmp_path / "build" / "slowpoke-0123abcd" / "build-script-build"
    script.parent.mkdir(parents=True)
    shutil.copy(shutil.which("sleep") or "/bin/sleep", script)
    monkeypatch.setenv("FCRUST_BUILD_SCRIPT_TIMEOUT_S", "1")
    started = time.monotonic()
    with pytest.raises(BuildError) as error:
        build_module._stream_cargo(  # noqa: SLF001
            ["sh", "-c", f"'{script}' 60; echo done"], tmp_path, dict(os.environ), io.StringIO()
        )
    assert str(error.value).startswith("the build script (build.rs) of crate slowpoke has run")
    assert time.monotonic() - started < 10


def test_a_quiet_build_says_what_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(process_module, "QUIET_NOTICE_S", 1.0)
    log = io.StringIO()
    build_module._stream_cargo(  # noqa: SLF001
        ["sh", "-c", "echo start; sleep 2.5; echo end"], tmp_path, dict(os.environ), log
    )
    lines = log.getvalue().splitlines()
    assert lines[0] == "start"
    assert lines[-1] == "end"
    notices = [line for line in lines if line.startswith("fc-rust: cargo has printed nothing for ")]
    assert notices, lines
    assert notices[0].endswith(
        " s; running: cargo itself (resolving or downloading dependencies, or waiting for "
        "another build's lock on the target directory)"
    )
