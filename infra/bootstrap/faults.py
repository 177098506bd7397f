"""Build faults on purpose: each injected into a throwaway copy of a workspace, each checked.

For `make stress`::

    from infra.bootstrap.faults import drill
    for line in drill(Path("tests/fixtures/tiny-workspace"), "tiny"):
        print(line)

or `python -m infra.bootstrap faults --workspace tests/fixtures/tiny-workspace tiny`, whose last
line is `build faults injected and recovered`. A fault that is not handled as it should be raises
FaultNotRecoveredError (the CLI exits 1). The workspace itself is never written to.
"""

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
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

from infra.bootstrap.build import ROOT, Builder, Package
from infra.bootstrap.errors import INTERRUPTED_EXIT, BuildError
from infra.bootstrap.process import group_alive

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

SLOW_RUSTC = """#!/bin/sh
# A RUSTC_WRAPPER that makes every compilation take a minute (cargo's probes stay fast), so a
# build can be stopped while rustc, the wrapper and its `sleep` all run.
case " $* " in *" --crate-name ___ "*) ;; *" --crate-name "*) sleep 60;; esac
exec "$@"
"""
WAIT_S = 30.0
"""Longest a stopped build may take to return."""


class FaultNotRecoveredError(Exception):
    """An injected fault did not end in a clear error or a rebuild, or left damage behind."""


def _check(ok: object, fault: str, what: str) -> None:
    if not ok:
        raise FaultNotRecoveredError(f"{fault}: {what}")


def slow_rustc(directory: Path) -> Path:
    """Write SLOW_RUSTC into `directory`; set it as RUSTC_WRAPPER for a build worth stopping."""
    path = directory / "slow-rustc"
    path.write_text(SLOW_RUSTC)
    path.chmod(0o755)
    return path


def _writable(directory: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False


def _chattr(path: Path, flag: str) -> bool:
    try:
        done = subprocess.run(["chattr", flag, str(path)], capture_output=True, check=False)
    except FileNotFoundError:
        return False
    return done.returncode == 0


@contextlib.contextmanager
def read_only(directory: Path) -> Iterator[str | None]:
    """`directory` unwritable for this process; yields how, or None if nothing here binds.

    chmod 0555 stops a normal user; root ignores modes, so for root `chattr +i` (the immutable
    attribute: no entry can be created, renamed or removed, even by root). Both are undone after.
    """
    mode = directory.stat().st_mode
    directory.chmod(0o555)
    try:
        if not _writable(directory):
            yield "chmod 0555"
        elif _chattr(directory, "+i"):
            try:
                yield "chattr +i" if not _writable(directory) else None
            finally:
                _chattr(directory, "-i")
        else:
            yield None
    finally:
        directory.chmod(mode)


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError):
                stat = (entry / "stat").read_text()
                if int(stat[stat.rfind(")") + 2 :].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


class OnCompiling(io.StringIO):
    """A build log that calls `action` at cargo's first `Compiling` line."""

    def __init__(self, action: Callable[[], None]) -> None:
        """Call `action` once, at the first `Compiling` line written."""
        super().__init__()
        self.action: Callable[[], None] | None = action

    def write(self, text: str) -> int:
        """Keep `text`; the first time it holds `Compiling`, run the action."""
        written = super().write(text)
        if self.action is not None and "Compiling" in text:
            action, self.action = self.action, None
            action()
        return written


class _Drill:
    def __init__(self, workspace: Path, crate: str, root: Path, log: IO[str] | None) -> None:
        self.workspace = Path(
            shutil.copytree(
                workspace, root / "ws", ignore=shutil.ignore_patterns("target", "dist", ".git")
            )
        )
        self.crate = crate
        self.root = root
        self.state = root / "state"
        self.log = log
        self.wrapper = slow_rustc(root)
        self.dist = Builder(self.workspace, cache_dir=self.state / "cache").dist_dir(crate)

    def builder(
        self,
        log: IO[str] | None = None,
        *,
        cache_dir: Path | None = None,
        target_dir: Path | None = None,
        cargo_env: dict[str, str] | None = None,
    ) -> Builder:
        return Builder(
            self.workspace,
            cache_dir=cache_dir or self.state / "cache",
            target_dir=target_dir or self.state / "cargo",
            log=log or self.log or io.StringIO(),
            cargo_env=cargo_env,
        )

    def dist_bytes(self) -> dict[str, bytes]:
        if not self.dist.is_dir():
            return {}
        return {p.name: p.read_bytes() for p in sorted(self.dist.iterdir())}

    def touch_sources(self, tag: str) -> None:
        """A new file in the crate: a new fingerprint (a cache miss), the same binary."""
        crate_dir = self.builder().workspace.crate(self.crate).directory
        (crate_dir / ".fault-drill").write_text(tag)

    def kill_cargo(self, signum: signal.Signals) -> str:
        fault = f"cargo killed by {signum.name} mid-build"
        before = self.dist_bytes()
        holder: list[Builder] = []

        def kill() -> None:
            assert holder[0].cargo_pid is not None  # noqa: S101 - set before any output
            os.kill(holder[0].cargo_pid, signum)

        builder = self.builder(
            OnCompiling(kill),
            target_dir=self.root / f"cold-{signum.name}",
            cargo_env={"RUSTC_WRAPPER": str(self.wrapper)},
        )
        holder.append(builder)
        started = time.monotonic()
        try:
            builder.package(self.crate)
        except BuildError as error:
            message = str(error)
        else:
            message = ""
        _check(message, fault, "the build did not fail")
        _check(signum.name in message, fault, f"the error does not name the signal: {message}")
        _check("Finished" not in message, fault, f"the error reads like success: {message}")
        _check(time.monotonic() - started < WAIT_S, fault, "the build went on after the kill")
        pgid = builder.cargo_pid
        _check(pgid and not group_alive(pgid), fault, "processes of the build still run")
        _check(self.dist_bytes() == before, fault, "dist/ changed")
        return f"{fault}: BuildError names {signum.name}; no process left; dist/ unchanged"

    def interrupt(self) -> str:
        fault = "KeyboardInterrupt while cargo runs"

        def ctrl_c() -> None:
            raise KeyboardInterrupt

        builder = self.builder(
            OnCompiling(ctrl_c),
            target_dir=self.root / "cold-interrupt",
            cargo_env={"RUSTC_WRAPPER": str(self.wrapper)},
        )
        interrupted = False
        try:
            builder.package(self.crate)
        except KeyboardInterrupt:
            interrupted = True
        _check(interrupted, fault, "the interruption did not reach the caller")
        pgid = builder.cargo_pid
        _check(pgid and not group_alive(pgid), fault, "processes of the build still run")
        return f"{fault}: re-raised after the whole process group was stopped"

    def signal_cli(self, signum: signal.Signals) -> str:
        """SIGTERM or SIGINT to a `python -m infra.bootstrap package` while cargo runs."""
        fault = f"{signum.name} to the build's Python process"
        env = {
            **os.environ,
            "FCRUST_CACHE_DIR": str(self.state / "cache"),
            "FCRUST_CARGO_TARGET_DIR": str(self.root / f"cold-cli-{signum.name}"),
            "RUSTC_WRAPPER": str(self.wrapper),
        }
        command = [sys.executable, "-m", "infra.bootstrap", "package", self.crate]
        command += ["--workspace", str(self.workspace)]
        cli = subprocess.Popen(
            command, cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        assert cli.stderr is not None  # noqa: S101 - Popen(stderr=PIPE) guarantees it
        output = []
        with cli.stderr:
            for line in cli.stderr:
                output.append(line)
                if "Compiling" in line:
                    break
            groups = [pid for pid in children(cli.pid) if pid != cli.pid]
            _check(groups, fault, "no cargo process found: " + "".join(output))
            cli.send_signal(signum)
            try:
                status = cli.wait(WAIT_S)
            except subprocess.TimeoutExpired:
                cli.kill()
                raise FaultNotRecoveredError(f"{fault}: the build went on") from None
            output.append(cli.stderr.read())
        text = "".join(output)
        _check(all(not group_alive(pgid) for pgid in groups), fault, "processes still run")
        if signum == signal.SIGTERM:
            _check(status == -signal.SIGTERM, fault, f"exit status {status}: {text}")
        else:
            _check(
                status == INTERRUPTED_EXIT and "Traceback" not in text,
                fault,
                f"exit {status}: {text}",
            )
        return f"{fault}: the process group stopped first; exit status {status}"

    def good_build(self) -> Package:
        package = self.builder().package(self.crate)
        _check(package.zip_path.is_file(), "recovery", "no package after the faults")
        return package

    def cache_unwritable(self) -> str:
        fault = "cache directory under a regular file"
        blocker = self.root / "not-a-directory"
        blocker.write_text("")
        before = self.dist_bytes()
        try:
            self.builder(cache_dir=blocker / "cache").package(self.crate)
        except BuildError as error:
            message = str(error)
        else:
            message = ""
        _check(str(blocker / "cache") in message, fault, f"no BuildError naming it: {message}")
        _check("FCRUST_CACHE_DIR" in message, fault, f"no advice: {message}")
        _check(self.dist_bytes() == before, fault, "dist/ changed")
        return f"{fault}: BuildError names the path and FCRUST_CACHE_DIR; dist/ unchanged"

    def broken_entries(self, good: Package) -> list[str]:
        entry = good.cached_zip.parent
        manifest = entry / "entry.json"
        whole = manifest.read_text()
        breakages: dict[str, Callable[[], object]] = {
            "entry.json lacking glibc_max": lambda: manifest.write_text(
                json.dumps({k: v for k, v in json.loads(whole).items() if k != "glibc_max"})
            ),
            "entry.json not JSON": lambda: manifest.write_text(whole[: len(whole) // 2]),
            "entry.json a JSON list": lambda: manifest.write_text("[]"),
            "entry.json missing": manifest.unlink,
            "bootstrap.zip truncated": lambda: good.cached_zip.write_bytes(b"PK"),
        }
        lines = []
        for name, breakage in breakages.items():
            fault = f"cache entry with {name}"
            breakage()
            log = io.StringIO()
            builder = self.builder(log)
            again = builder.package(self.crate)
            _check(again == good, fault, "the rebuilt package differs")
            _check(builder.cargo_runs == 1, fault, "it was not rebuilt")
            _check("is corrupt" in log.getvalue(), fault, "no log line says so")
            _check(manifest.read_text() == whole, fault, "the entry was not replaced")
            lines.append(f"{fault}: logged, rebuilt, replaced")
        return lines

    def dist_read_only(self) -> str:
        fault = "read-only dist/<function>/"
        self.touch_sources("read-only dist")
        before = self.dist_bytes()
        with read_only(self.dist) as how:
            if how is None:
                return f"{fault}: skipped (neither chmod nor chattr +i binds here)"
            try:
                self.builder().package(self.crate)
            except BuildError as error:
                message = str(error)
            else:
                message = ""
        _check(str(self.dist) in message, fault, f"no BuildError naming it: {message}")
        _check(self.dist_bytes() == before, fault, "the previous package changed")
        self.builder().package(self.crate)
        _check(self.dist_bytes() != before, fault, "no new package once writable")
        return f"{fault} ({how}): BuildError names it; previous package intact; rebuilt after"

    def dist_half_writable(self) -> str:
        fault = "dist/<function>/manifest.json a directory"
        self.touch_sources("manifest a directory")
        before = self.dist_bytes()
        manifest = self.dist / "manifest.json"
        manifest.unlink()
        (manifest / "blocker").mkdir(parents=True)
        try:
            self.builder().package(self.crate)
        except BuildError as error:
            message = str(error)
        else:
            message = ""
        _check(str(self.dist) in message, fault, f"no BuildError naming it: {message}")
        zip_now = (self.dist / "bootstrap.zip").read_bytes()
        _check(zip_now == before["bootstrap.zip"], fault, "the zip was replaced")
        _check(len(list(self.dist.iterdir())) == 2, fault, "temporary files were left behind")  # noqa: PLR2004
        shutil.rmtree(manifest)
        self.builder().package(self.crate)
        return f"{fault}: BuildError; the zip rolled back; rebuilt after"


def drill(workspace: Path, crate: str, *, log: IO[str] | None = None) -> list[str]:
    """Inject every build fault into a copy of `workspace`; one line per fault, as checked.

    Raises FaultNotRecoveredError at the first fault not handled. Takes a few cold builds'
    time: each stopped build is stopped at its first `Compiling` line.
    """
    with tempfile.TemporaryDirectory(prefix="fcrust-faults-") as tmp:
        run = _Drill(workspace, crate, Path(tmp), log)
        lines = [run.kill_cargo(signal.SIGKILL), run.kill_cargo(signal.SIGTERM)]
        lines += [run.interrupt()]
        lines += [run.signal_cli(signal.SIGTERM), run.signal_cli(signal.SIGINT)]
        good = run.good_build()
        lines += [run.cache_unwritable(), *run.broken_entries(good)]
        lines += [run.dist_read_only(), run.dist_half_writable()]
    return lines
