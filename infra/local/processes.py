"""What Linux's /proc says about an instance's processes: their tree, memory, descriptors, ports.

The instance reads these to bound memory as FC does and to find every process a bootstrap
started, detached ones included, so that stopping an instance leaves none behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

_PR_SET_CHILD_SUBREAPER = 36
"""prctl(2) option: orphans below this process reparent to it instead of to init."""
LOOPBACK_HEX = {"0100007F", "00000000000000000000000001000000"}
"""127.0.0.1 and ::1 as /proc/net/tcp and tcp6 write them."""


@dataclass(frozen=True)
class Usage:
    """What an instance's processes hold at one moment (for soak tests and stress harnesses)."""

    pids: list[int]
    """The bootstrap and every process it started that is still running."""
    rss_bytes: int
    """Their resident memory, summed."""
    open_fds: int
    """Their open file descriptors, summed."""


def read_rss(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in bytes; zeros when it is gone."""
    rss = hwm = 0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) * 1024
    return rss, hwm


def open_fds(pid: int) -> int:
    """How many file descriptors a process has open; 0 when it is gone."""
    try:
        return sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return 0


@dataclass(frozen=True)
class ProcessInfo:
    """One line of /proc/<pid>/stat, the fields the emulator needs."""

    pid: int
    ppid: int
    state: str
    """`R`, `S`, ... `Z` for a zombie (dead, not yet reaped)."""
    start: int
    """Start time in clock ticks after boot: with the pid, it names one process (pids recycle)."""
    cpu: int
    """User and system CPU time so far, all its threads, in clock ticks (`SC_CLK_TCK` a second)."""

    @property
    def dead(self) -> bool:
        """A zombie (or dying): killed, only its exit status is left."""
        return self.state in {"Z", "X", "x"}


def process_info(pid: int) -> ProcessInfo | None:
    """A process's /proc/<pid>/stat; None when it is gone (or not Linux)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: the fields follow the last ')'.
    fields = text[text.rfind(")") + 2 :].split()
    try:
        cpu = int(fields[11]) + int(fields[12])  # utime and stime, fields 14 and 15 of proc(5)
        return ProcessInfo(pid, int(fields[1]), fields[0], int(fields[19]), cpu)
    except (IndexError, ValueError):
        return None


def process_table() -> dict[int, ProcessInfo]:
    """Every process this user can see, by pid."""
    table: dict[int, ProcessInfo] = {}
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                info = process_info(int(entry.name))
                if info is not None:
                    table[info.pid] = info
    return table


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it, from /proc/<pid>/task/*/children (cheaper than a scan)."""
    found: list[int] = []
    queue = [pid]
    while queue and len(found) < 1024:  # noqa: PLR2004 - a bound, not a limit anyone meets
        current = queue.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                with contextlib.suppress(OSError):
                    queue.extend(int(c) for c in (task / "children").read_text().split())
    return found


def has_environment(pid: int, entry: bytes) -> bool:
    """Whether the process was started with `entry` (`NAME=value`) in its environment."""
    try:
        return entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


_subreaper_lock = threading.Lock()
_subreaper: bool | None = None


def become_subreaper() -> bool:
    """Make this process the child subreaper (Linux): orphans below it reparent to it, not to init.

    A bootstrap's detached children (setsid, double fork) then stay below the emulator, which
    kills and reaps them on stop. Once per process; False where prctl is missing.
    """
    global _subreaper  # noqa: PLW0603 - a process-wide attribute, set once
    with _subreaper_lock:
        if _subreaper is None:
            _subreaper = False
            if sys.platform.startswith("linux"):
                with contextlib.suppress(OSError, AttributeError):
                    libc = ctypes.CDLL(None, use_errno=True)
                    _subreaper = int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
        return _subreaper


def listen_addresses(port: int) -> set[str]:
    """The local addresses (hex, as /proc/net/tcp* writes them) listening on `port`."""
    addresses: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                address, _, hex_port = fields[1].partition(":")
                if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    addresses.add(address)
    return addresses


def exit_text(code: int | None) -> str:
    """`exit status 3`, `signal SIGKILL` (a negative code, from Popen) or `no exit status`."""
    if code is None:
        return "no exit status"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
    return f"exit status {code}"
