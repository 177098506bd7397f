"""Cargo in a process group of its own: streamed, reported honestly, never left running.

Cargo starts a tree of processes (cargo-zigbuild, a second cargo, rustc, build scripts, zig's
linker). They all share the process group this module gives the first one, so that stopping the
build stops all of them: on our interruption (Ctrl-C, SIGTERM, any exception while streaming),
or when the first process dies early and leaves its children running.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import IO, TYPE_CHECKING

from infra.bootstrap.errors import BuildError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import FrameType

GRACE_S = 2.0
"""How long the group has after SIGTERM before SIGKILL."""
REAP_S = 10.0
"""How long to wait after SIGKILL for the group to be gone."""
DRAIN_S = 2.0
"""How long to read output left in the pipe once cargo has exited."""
BUILD_SCRIPT_TIMEOUT_S = 600.0
"""How long one crate's build script (`build.rs`) may run before the build is stopped, unless
`FCRUST_BUILD_SCRIPT_TIMEOUT_S` says otherwise: 10 minutes. The slowest common build scripts
(C and C++ libraries built with cmake, such as aws-lc-sys) take a few minutes on one core; one
that runs longer is stuck (a loop, a lock, a network call that never ends), and since every
function of a workspace is built in one cargo run, it would hold up packaging all of them."""
QUIET_NOTICE_S = 60.0
"""After this long without output from cargo, the log says what is still running (and again
each time as long again passes)."""
_WATCH_S = 1.0
_POLL_S = 0.1
_TAIL_LINES = 60
_SHOWN_LINES = 30
_SHOWN_LINE_CHARS = 2000
"""A line longer than this is cut in the error message (the log keeps it whole)."""
_PROC = Path("/proc")


class CommandFailedError(BuildError):
    """The command ran and ended badly; `output` holds its last lines, to tell known causes."""

    def __init__(self, message: str, output: tuple[str, ...]) -> None:
        """`message` is what the user reads; `output` the command's last lines, as printed."""
        super().__init__(message)
        self.output = output


class _Terminated(BaseException):
    """SIGTERM reached this process while cargo ran (raised by our handler, not by Python)."""


def group_alive(pgid: int) -> bool:
    """Whether any process of the group is still running (zombies count as gone)."""
    if not _PROC.is_dir():  # no /proc (macOS): kill(0) answers, zombies included
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
            state, _ppid, pgrp, *_ = stat[stat.rfind(")") + 2 :].split()
            member = int(pgrp) == pgid
        except (OSError, ValueError):  # it ended while we looked
            continue
        if member and state not in {"Z", "X"}:
            return True
    return False


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _gone(process: subprocess.Popen[bytes], deadline: float) -> bool:
    """Wait until the group's first process is reaped and no other member runs."""
    while process.poll() is None or group_alive(process.pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


@contextlib.contextmanager
def _deferred_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while the group is stopped, then deliver them as usual.

    A second Ctrl-C must not cut the cleanup short and leave rustc running.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def record(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = {s: signal.signal(s, record) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for pending in dict.fromkeys(received):
            signal.raise_signal(pending)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the whole group, SIGKILL to what is left after GRACE_S; wait until it is gone."""
    with _deferred_signals():
        _signal_group(process.pid, signal.SIGTERM)
        if not _gone(process, time.monotonic() + GRACE_S):
            _signal_group(process.pid, signal.SIGKILL)
            _gone(process, time.monotonic() + REAP_S)
        if process.poll() is None:  # pragma: no cover - SIGKILL failed to end it
            process.wait()


@contextlib.contextmanager
def _sigterm_stops_the_build() -> Iterator[None]:
    """While cargo runs, SIGTERM to us raises `_Terminated` instead of ending us on the spot.

    Only where SIGTERM would otherwise kill the process outright (the default disposition, and
    only the main thread can set handlers). Once the group is stopped, the signal is raised
    again with the default disposition: the process ends by SIGTERM, as it would have.
    """
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def handler(_signum: int, _frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the cleanup must not be cut short
        raise _Terminated

    try:
        signal.signal(signal.SIGTERM, handler)
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        signal.raise_signal(signal.SIGTERM)
        raise BuildError(  # pragma: no cover - the process has ended by now
            "the build was interrupted by SIGTERM; cargo and its processes were stopped"
        ) from None
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


class _Lines:
    """Bytes from the pipe, decoded, written to the log line by line, the last ones kept.

    The part of a line not ended yet is kept as a list of pieces, joined once its end comes: a
    line of any length costs time in proportion to its length (one 100 MB line once took
    minutes, each chunk re-joined with all before it).
    """

    def __init__(self, log: IO[str]) -> None:
        self.log = log
        self.tail: deque[str] = deque(maxlen=_TAIL_LINES)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending: list[str] = []
        self.last_output = time.monotonic()

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        text = self._decoder.decode(chunk, final=final)
        if chunk:
            self.last_output = time.monotonic()
        first, *rest = text.split("\n")
        self._pending.append(first)
        if rest:
            ended = ["".join(self._pending), *rest[:-1]]
            self._pending = [rest[-1]]
            for line in ended:
                self._emit(line)
        if final and any(self._pending):
            self._emit("".join(self._pending))
            self._pending = []

    def _emit(self, line: str) -> None:
        self.log.write(line + "\n")
        line = line.rstrip()
        if len(line) > _SHOWN_LINE_CHARS:
            line = f"{line[:_SHOWN_LINE_CHARS]}... ({len(line)} characters)"
        self.tail.append(line)


def _group_members(pgid: int) -> list[tuple[list[str], float]]:
    """Each running process of the group: its command line and how long it has run (s)."""
    members = []
    try:
        uptime = float((_PROC / "uptime").read_text().split()[0])
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):  # no /proc (macOS): nothing to tell
        return []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            fields = stat[stat.rfind(")") + 2 :].split()
            # state ppid pgrp ... starttime is the 22nd field, the 20th after the comm.
            if int(fields[2]) != pgid or fields[0] in {"Z", "X"}:
                continue
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            members.append((argv, uptime - int(fields[19]) / ticks))
    return members


def _build_script_crate(argv: list[str]) -> str | None:
    """The crate a cargo build script belongs to (`.../build/<crate>-<hash>/build-script-*`)."""
    path = Path(argv[0]) if argv and argv[0] else None
    if path is None or not path.name.startswith("build-script-"):
        return None
    return path.parent.name.rsplit("-", 1)[0]


def _activity(pgid: int) -> tuple[list[str], list[tuple[str, float]]]:
    """What the group runs: each compiler and build script described, and the build scripts.

    The build scripts by crate, with how long each has run.
    """
    described, scripts = [], []
    for argv, age in _group_members(pgid):
        crate = _build_script_crate(argv)
        if crate is not None:
            scripts.append((crate, age))
            described.append(f"the build script of {crate} ({age:.0f} s)")
        elif "--crate-name" in argv[:-1] and Path(argv[0]).name.startswith("rustc"):
            name = argv[argv.index("--crate-name") + 1]
            if name != "___":
                described.append(f"rustc compiling {name} ({age:.0f} s)")
    return described, scripts


def _build_script_timeout() -> float:
    value = os.environ.get("FCRUST_BUILD_SCRIPT_TIMEOUT_S", "")
    try:
        return float(value) if value.strip() else BUILD_SCRIPT_TIMEOUT_S
    except ValueError:
        raise BuildError(
            f"FCRUST_BUILD_SCRIPT_TIMEOUT_S must be a number of seconds, got {value!r}"
        ) from None


def _watch(pgid: int, lines: _Lines, limit: float, quiet_since: list[float]) -> str | None:
    """A stuck build script's error; a notice in the log when cargo has long been quiet."""
    described, scripts = _activity(pgid)
    stuck = [(crate, age) for crate, age in scripts if age >= limit]
    if stuck:
        crate, age = max(stuck, key=lambda item: item[1])
        return (
            f"the build script (build.rs) of crate {crate} has run for {age:.0f} s, more than "
            f"the {limit:.0f} s a build script may take (FCRUST_BUILD_SCRIPT_TIMEOUT_S); the "
            "build was stopped. Every function of the workspace is built in one cargo run, so "
            f"a stuck build script holds up all of them: fix {crate}'s build.rs (or move the "
            "crate out of the workspace's functions), then build again"
        )
    quiet = time.monotonic() - max(lines.last_output, quiet_since[0])
    if quiet >= QUIET_NOTICE_S:
        quiet_since[0] = time.monotonic()
        running = ", ".join(described) or (
            "cargo itself (resolving or downloading dependencies, or waiting for another "
            "build's lock on the target directory)"
        )
        lines.log.write(
            f"fc-rust: cargo has printed nothing for {quiet:.0f} s; running: {running}\n"
        )
    return None


def _pump(process: subprocess.Popen[bytes], lines: _Lines) -> int:
    """Stream output until cargo exits; then drain what is left. Returns cargo's status.

    Watches the first process, not the pipe: when it dies, the processes it started may keep
    the pipe open (and the build going) for minutes.
    """
    assert process.stdout is not None  # noqa: S101 - Popen(stdout=PIPE) guarantees it
    fd = process.stdout.fileno()
    limit = _build_script_timeout()
    next_watch, quiet_since = time.monotonic() + _WATCH_S, [time.monotonic()]
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        eof = False
        while not eof and process.poll() is None:
            if selector.select(_POLL_S):
                chunk = os.read(fd, 65536)
                eof = not chunk
                lines.feed(chunk)
            if time.monotonic() >= next_watch:
                next_watch = time.monotonic() + _WATCH_S
                stuck = _watch(process.pid, lines, limit, quiet_since)
                if stuck is not None:
                    raise BuildError(stuck)
        status = process.wait()
        if status != 0:  # its children may still run: a failed build stops them all
            stop_group(process)
        deadline = time.monotonic() + DRAIN_S
        while not eof and (left := deadline - time.monotonic()) > 0:
            if selector.select(left):
                chunk = os.read(fd, 65536)
                eof = not chunk
                lines.feed(chunk)
    lines.feed(b"", final=True)
    return status


def _failure(command: list[str], status: int, tail: deque[str]) -> str:
    """What went wrong, then cargo's own words; never a line that reads like success."""
    shown = [line for line in tail if not line.lstrip().startswith("Finished")]
    what = f"`{' '.join(command[:3])} ...`"
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        last = "\n".join(shown[-_SHOWN_LINES:]) or "(none)"
        return (
            f"{what} was killed by {name} before it finished; nothing was packaged and the "
            f"previous package is unchanged. Build again. cargo's last output:\n{last}"
        )
    errors = [line for line in shown if line.lstrip().startswith(("error", "-->", "|"))]
    last = "\n".join(errors[-_SHOWN_LINES:] or shown[-_SHOWN_LINES:]) or "(none)"
    return f"{what} failed with exit status {status}:\n{last}"


def run_streamed(
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    log: IO[str],
    on_start: Callable[[int], None] | None = None,
) -> None:
    """Run `command` in a new process group, its output streamed to `log`.

    `on_start` gets its pid (which is also the group's id). A non-zero exit or a death by signal
    raises CommandFailedError with the status or the signal's name and the output's tail. Any
    exception while it runs (KeyboardInterrupt, SIGTERM, a failing log) stops the whole group
    first.
    FileNotFoundError if the program is not found.
    """
    lines = _Lines(log)
    with _sigterm_stops_the_build():
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
        assert process.stdout is not None  # noqa: S101 - Popen(stdout=PIPE) guarantees it
        with process.stdout:
            try:
                if on_start is not None:
                    on_start(process.pid)
                status = _pump(process, lines)
            except BaseException:
                stop_group(process)
                raise
    if status != 0:
        raise CommandFailedError(_failure(command, status, lines.tail), tuple(lines.tail))
