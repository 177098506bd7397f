"""A function instance's shape on the bench machine: a CPU quota and a memory limit, by cgroups.

FC gives an instance a fraction of a vCPU and a memory size; the kernel's CFS bandwidth control
(a quota of CPU time per period) and the memory controller do the same to a group of processes.
Each instance the bench starts gets a fresh group, as FC starts each instance afresh: its quota
starts full and its CPU time and memory peak count only its own processes.

Two layouts are handled: cgroup v2 (one hierarchy with `cpu.max`, `memory.max`, `cpu.stat`'s
`usage_usec`) and cgroup v1 (separate `cpu`, `cpuacct` and `memory` hierarchies with
`cpu.cfs_quota_us`, `memory.limit_in_bytes`, `cpuacct.usage`). New groups go under the bench's own
group in each hierarchy (/proc/self/cgroup). It needs root (or a delegated hierarchy).

The period is the kernel's default, 100 ms: what FC's own period is was not found (unconfirmed);
a shorter period gives a throttled instance shorter pauses at the same share.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

CGROUP_ROOT = Path("/sys/fs/cgroup")
PERIOD_US = 100_000
"""The CFS period: the kernel's default (`cpu.cfs_period_us`, `cpu.max`)."""
WEIGHT_FACTOR = 10
"""The group's CPU weight over a default process's (v1 `cpu.shares` 10,240, v2 `cpu.weight`
1,000): an FC instance owns its vCPU, while the bench machine may be busy with other work; at 10
times the default weight the group gets its quota first and the quota, not the neighbours, is
what limits it."""
QUOTA_SLACK = 0.05
"""How far over what its quota allows a busy loop's CPU time may measure (the kernel's accounting
slices) before the bench says the quota does not hold."""
OVERFILL_MB = 32
"""How far past its memory limit `check_memory_limit`'s process fills."""
MIB = 1024 * 1024
REMOVE_TIMEOUT_S = 5.0
_names = itertools.count()


def quota_us(vcpu: float, period_us: int = PERIOD_US) -> int:
    """Microseconds of CPU per period that give `vcpu` cores: 0.1 vCPU is 10,000 of 100,000."""
    if vcpu <= 0:
        raise ValueError(f"a CPU quota needs a positive vCPU, got {vcpu!r}")
    return max(1000, round(vcpu * period_us))  # the kernel refuses quotas under 1 ms


def cpu_max_text(vcpu: float, period_us: int = PERIOD_US) -> str:
    """The `cpu.max` of cgroup v2 for `vcpu`: `<quota> <period>`."""
    return f"{quota_us(vcpu, period_us)} {period_us}"


def memory_limit_bytes(memory_mb: int) -> int:
    """FC's memory size in MB as bytes (FC's MB are MiB: 128 MB is 134,217,728 bytes)."""
    return memory_mb * MIB


def share_of_core(cpu_seconds: float, wall_seconds: float) -> float:
    """CPU time over wall time: 0.1 is a tenth of one core."""
    return cpu_seconds / wall_seconds


@dataclass(frozen=True)
class Layout:
    """Where the controllers are: one v2 directory, or v1's three."""

    version: int
    cpu: Path
    """v2: the group's parent for everything; v1: the parent in the `cpu` hierarchy."""
    cpuacct: Path
    memory: Path

    def describe(self) -> str:
        """The mechanism in words, for results.md."""
        if self.version == 2:  # noqa: PLR2004 - cgroup v2
            return f"cgroup v2 under {self.cpu} (cpu.max, memory.max, cpu.stat usage_usec)"
        return (
            f"cgroup v1: cpu.cfs_quota_us under {self.cpu}, cpuacct.usage under {self.cpuacct}, "
            f"memory.limit_in_bytes under {self.memory}"
        )


def _own_group(controller: str) -> str:
    """The bench's own group in the v1 hierarchy holding `controller`, or in v2 (`""`)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path.lstrip("/")
    raise RuntimeError(f"/proc/self/cgroup lists no {controller or 'cgroup v2'} hierarchy")


def find_layout(root: Path = CGROUP_ROOT) -> Layout:
    """The cgroup controllers this machine offers for CPU quota, CPU time and memory.

    Raises with what is missing when the bench cannot make groups with both limits.
    """
    controllers = root / "cgroup.controllers"
    if controllers.is_file():
        found = controllers.read_text().split()
        missing = {"cpu", "memory"} - set(found)
        if missing:
            raise RuntimeError(f"cgroup v2 at {root} lacks the {' and '.join(sorted(missing))}")
        parent = root / _own_group("")
        return Layout(2, parent, parent, parent)
    paths = {name: root / name for name in ("cpu", "cpuacct", "memory")}
    for name, path in paths.items():
        if not (path / "cgroup.procs").is_file():
            raise RuntimeError(
                f"no cgroup v2 at {root} and no v1 `{name}` hierarchy at {path}: the FC-shape "
                "bench needs cgroups (run it as root on Linux)"
            )
    return Layout(
        1,
        paths["cpu"] / _own_group("cpu"),
        paths["cpuacct"] / _own_group("cpuacct"),
        paths["memory"] / _own_group("memory"),
    )


class Group:
    """A fresh cgroup with a CPU quota of `vcpu` and a memory limit of `memory_mb`."""

    def __init__(self, layout: Layout, vcpu: float, memory_mb: int) -> None:
        """Create the group and set its limits (removed by `remove`)."""
        self.layout = layout
        self.vcpu = vcpu
        self.memory_mb = memory_mb
        name = f"fcrust-bench-{os.getpid()}-{next(_names)}"
        self.dirs = list(dict.fromkeys([layout.cpu / name, layout.cpuacct / name]))
        self.dirs += [] if layout.memory / name in self.dirs else [layout.memory / name]
        for directory in self.dirs:
            directory.mkdir()
        self.cpu = layout.cpu / name
        self.cpuacct = layout.cpuacct / name
        self.memory = layout.memory / name
        limit = str(memory_limit_bytes(memory_mb))
        try:
            if layout.version == 2:  # noqa: PLR2004 - cgroup v2
                (self.cpu / "cpu.max").write_text(cpu_max_text(vcpu))
                (self.cpu / "cpu.weight").write_text(str(100 * WEIGHT_FACTOR))
                (self.memory / "memory.max").write_text(limit)
                _write_if_present(self.memory / "memory.swap.max", "0")
            else:
                (self.cpu / "cpu.cfs_period_us").write_text(str(PERIOD_US))
                (self.cpu / "cpu.cfs_quota_us").write_text(str(quota_us(vcpu)))
                (self.cpu / "cpu.shares").write_text(str(1024 * WEIGHT_FACTOR))
                (self.memory / "memory.limit_in_bytes").write_text(limit)
                _write_if_present(self.memory / "memory.memsw.limit_in_bytes", limit)
        except BaseException:
            self.remove()
            raise
        self._procs = [str(d / "cgroup.procs") for d in self.dirs]

    def quota(self) -> tuple[int, int]:
        """(quota, period) in µs as the kernel holds them, read back."""
        if self.layout.version == 2:  # noqa: PLR2004 - cgroup v2
            quota_text, period_text = (self.cpu / "cpu.max").read_text().split()
            return int(quota_text), int(period_text)
        quota = int((self.cpu / "cpu.cfs_quota_us").read_text())
        return quota, int((self.cpu / "cpu.cfs_period_us").read_text())

    def enter(self) -> None:
        """Move the calling process into the group: `preexec_fn` of the process to limit."""
        for procs in self._procs:
            descriptor = os.open(procs, os.O_WRONLY)
            try:
                os.write(descriptor, b"0")
            finally:
                os.close(descriptor)

    def prime(self) -> None:
        """Take the kernel's cgroup-migration lock once, so that `enter` does not wait for it.

        On cgroup v1 a write to `cgroup.procs` takes a lock whose writer waits a full RCU grace
        period (measured: about 12 ms here) when no migration ran in the last one, as after a
        start that took longer than that (Python's). Moving the bench into the group it is
        already in takes the same lock outside the timed start.
        """
        with contextlib.suppress(OSError):
            (self.layout.cpu / "cgroup.procs").write_text(str(os.getpid()))

    def cpu_seconds(self) -> float:
        """CPU time of every process that ran in the group (user and system, all threads)."""
        if self.layout.version == 2:  # noqa: PLR2004 - cgroup v2
            for line in (self.cpuacct / "cpu.stat").read_text().splitlines():
                key, value = line.split()
                if key == "usage_usec":
                    return int(value) / 1e6
            raise RuntimeError(f"no usage_usec in {self.cpuacct / 'cpu.stat'}")
        return int((self.cpuacct / "cpuacct.usage").read_text()) / 1e9

    def throttled(self) -> int:
        """Periods in which the group ran out of quota and waited (`nr_throttled`)."""
        for line in (self.cpu / "cpu.stat").read_text().splitlines():
            key, value = line.split()
            if key == "nr_throttled":
                return int(value)
        return 0

    def memory_peak(self) -> int | None:
        """The most memory the group held, in bytes (None when the kernel does not say)."""
        name = "memory.peak" if self.layout.version == 2 else "memory.max_usage_in_bytes"  # noqa: PLR2004
        with contextlib.suppress(OSError):
            return int((self.memory / name).read_text())
        return None

    def oom_kills(self) -> int:
        """Processes the group's memory limit killed."""
        name = "memory.events" if self.layout.version == 2 else "memory.oom_control"  # noqa: PLR2004
        with contextlib.suppress(OSError):
            for line in (self.memory / name).read_text().splitlines():
                key, value = line.split()
                if key == "oom_kill":
                    return int(value)
        return 0

    def remove(self) -> None:
        """Remove the group once its processes are gone (waits for the kernel to reap them)."""
        deadline = time.monotonic() + REMOVE_TIMEOUT_S
        for directory in self.dirs:
            while directory.exists():
                try:
                    directory.rmdir()
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.001)


def _write_if_present(path: Path, value: str) -> None:
    if path.exists():
        path.write_text(value)


@contextlib.contextmanager
def group(layout: Layout, vcpu: float, memory_mb: int) -> Iterator[Group]:
    """A fresh group for the block, removed after."""
    made = Group(layout, vcpu, memory_mb)
    try:
        yield made
    finally:
        made.remove()


@dataclass(frozen=True)
class QuotaCheck:
    """What a busy loop got inside a group: proof that the quota holds."""

    vcpu: float
    busy_processes: int
    wall_s: float
    cpu_s: float
    throttled_periods: int

    @property
    def share(self) -> float:
        """Cores' worth of CPU the loop got."""
        return share_of_core(self.cpu_s, self.wall_s)

    def within_quota(self) -> bool:
        """The loop got no more CPU time than the quota allows over its wall time.

        The quota allows `vcpu` cores over the wall time plus one period (a group starts with a
        full period's quota), give or take QUOTA_SLACK. No lower bound: the machine's other work
        may take part of what the quota allows (at 2 vCPU on a 2-core machine, the quota is the
        whole machine).
        """
        allowed = self.vcpu * (self.wall_s + PERIOD_US / 1e6)
        return self.cpu_s <= allowed * (1 + QUOTA_SLACK)

    def text(self) -> str:
        """One line for the results."""
        return (
            f"{self.vcpu:g} vCPU: {self.busy_processes} busy loop(s) got {self.share:.3f} of a "
            f"core ({self.cpu_s * 1000:.0f} ms of CPU in {self.wall_s:.2f} s, throttled in "
            f"{self.throttled_periods} periods)"
        )


def check_quota(layout: Layout, vcpu: float, memory_mb: int, seconds: float) -> QuotaCheck:
    """Run one more busy loop than the quota has cores in a fresh group for `seconds`."""
    processes = int(vcpu) + 1
    with group(layout, vcpu, memory_mb) as made:
        started = time.perf_counter()
        loops = [
            subprocess.Popen(
                ["/bin/sh", "-c", "while :; do :; done"],
                preexec_fn=made.enter,  # noqa: PLW1509 - the bench starts no thread here
            )
            for _ in range(processes)
        ]
        try:
            deadline = started + seconds
            while (left := deadline - time.perf_counter()) > 0:
                time.sleep(left)
            cpu = made.cpu_seconds()
            wall = time.perf_counter() - started
        finally:
            for loop in loops:
                loop.kill()
                loop.wait()
        return QuotaCheck(vcpu, processes, wall, cpu, made.throttled())


def check_memory_limit(layout: Layout, memory_mb: int) -> bool:
    """Whether a process that fills more than `memory_mb` in the group is killed by the limit."""
    fill = f"b = b'x' * ({memory_mb + OVERFILL_MB} * {MIB})"
    with group(layout, 2.0, memory_mb) as made:
        run = subprocess.run(
            [sys.executable, "-c", fill],
            preexec_fn=made.enter,
            check=False,
        )
        return run.returncode == -9 and made.oom_kills() >= 1  # noqa: PLR2004 - SIGKILL
