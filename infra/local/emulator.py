"""Run a packaged bootstrap as FC's custom runtime does, and drive it over FC's HTTP contract.

One `Instance` is one FC instance: the zip unpacked into a fresh code directory (or an image
run with `docker run`), the bootstrap started with FC's environment and nothing else of the
host's, a health check on its port, then `/initialize`, `/invoke` and `/pre-stop` with FC's
headers. Each call is measured and reported with FC's report line; the function's timeout and
memory size are enforced the way FC enforces them: the instance is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import http
import http.client
import json
import math
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Self

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from infra.local.stack import FunctionSpec

FC_HEALTH_CHECK_S = 120.0
"""FC kills an instance whose port does not accept connections within 120 s of start."""
ACCOUNT_ID = "1234567890123456"
"""A made-up account id: the emulator has no account."""
QUALIFIER = "LATEST"
HANDLER = "index.handler"
CONTAINER_PORT = 9000
"""FC's default CAPort; the port a container image listens on unless told otherwise."""
STOP_GRACE_S = 5.0
"""How long a stopping bootstrap may take after SIGTERM before it is killed.

FC documents no delay between its SIGTERM and a kill (it sends SIGTERM only after a client
cancelled a request: https://www.alibabacloud.com/help/en/function-compute/latest/container-instance-lifecycle),
so this is the emulator's own bound: fc-runtime's default shutdown grace of 3 s
(`DEFAULT_SHUTDOWN_TIMEOUT` in crates/fc-runtime/src/runtime.rs) plus 2 s to exit. The `hello`
tests read this value and require the runtime to exit within it, work in flight or not.
"""
POLL_S = 0.02
MEMORY_SAMPLE_S = 0.02
SCAN_EVERY_SAMPLES = 50
"""Every this many samples, the sampler also looks for the instance's processes outside its tree
(by their `FC_INSTANCE_ID`), so their memory counts too."""
MIB = 1024 * 1024
_PATH = "/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin"
_OLD_RUNTIMES = {"custom", "custom.debian10"}
"""Runtimes that name the function version `FC_VER_ID`; newer ones use `FC_FUNCTION_VERSION`."""

SYNC_PAYLOAD_MAX_BYTES = 32 * MIB
"""FC's request payload limit for a synchronous invocation: 32 MB. Source: FC doc "What do I do if
the 'EntityTooLarge: payload size exceeds maximum allowed size' error message is reported?"
https://www.alibabacloud.com/help/doc-detail/2527064.html ("The maximum payload for a synchronous
invocation is 32 MB, and the maximum payload for an asynchronous invocation is 128 KB"), and "Can
I modify the limit on the body size of an HTTP request?"
https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/http-body-be-modified ("These
requests will not reach your function"). MB read as MiB, the limit crates/fc-runtime applies."""
ASYNC_PAYLOAD_MAX_BYTES = 128 * 1024
"""FC's payload limit for an asynchronous invocation (a timer's is one): 128 KB, same sources."""
PAYLOAD_ERROR = "EntityTooLarge"
"""FC's error code for a payload over the limit (the doc above quotes its message)."""

LINE_MAX_BYTES = 64 * 1024
"""A longer output line is read, echoed and kept in pieces of this size."""
CALL_OUTPUT_MAX_LINES = 2000
"""Lines kept of one call's output: its first half and its last half; the middle is counted."""
CALL_OUTPUT_MAX_BYTES = MIB
"""Bytes kept of one call's output, split the same way."""
TAIL_LINES = 50
"""Lines kept of the bootstrap's latest output, for a start failure's report."""
STRAY_KILL_S = 5.0
"""How long the emulator keeps killing the instance's leftover processes before giving up."""
_PR_SET_CHILD_SUBREAPER = 36
"""prctl(2) option: orphans below this process reparent to it instead of to init."""


def _print_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


END_LINE_WAIT = 2.0
"""Seconds a finished call waits for its `FC ... End RequestId` line before reporting."""


class FunctionStartError(Exception):
    """The instance could not be started: FC's error type, what happened and the output so far."""

    def __init__(self, error_type: str, message: str, output: Iterable[str] = ()) -> None:
        """`output` is the bootstrap's last lines, shown after the message."""
        self.error_type = error_type
        self.message = message
        self.output = list(output)
        tail = "".join(f"\n  | {line}" for line in self.output[-20:])
        shown = f"\nbootstrap output (last lines):{tail}" if self.output else ""
        super().__init__(f"{error_type}: {message}{shown}")


@dataclass
class Invocation:
    """One call into the instance and what FC would make of it."""

    kind: str
    """`Invoke`, `Initialize` or `PreStop`."""
    request_id: str
    memory_size: int
    """MB."""
    status: int | None = None
    """The HTTP status; None when no answer came."""
    fc_status: int | None = None
    """The `x-fc-status` header; FC counts an answer without it as a success."""
    body: bytes = b""
    duration_ms: float = 0.0
    max_memory_mb: int = 0
    error_type: str | None = None
    """Set when the platform failed the call: `FunctionTimeout`, `MemoryLimitExceeded`,
    `ProcessExited` (error types named by the emulator; FC's messages are quoted)."""
    error_message: str | None = None
    output: list[str] = field(default_factory=list)
    """The bootstrap's lines printed from the call's start to its `End RequestId` line, at most
    `CALL_OUTPUT_MAX_LINES` / `CALL_OUTPUT_MAX_BYTES`: the first and the last half, with a
    `... K lines dropped` line between (all of it was echoed)."""

    @property
    def succeeded(self) -> bool:
        """What FC counts as a success: an answer with `x-fc-status: 200`, or without it."""
        if self.error_type is not None or self.status is None:
            return False
        if self.kind != "Invoke":
            return 200 <= self.status < 300  # noqa: PLR2004 - hooks: any 2xx succeeds
        return self.fc_status is None or self.fc_status == 200  # noqa: PLR2004

    def report_line(self) -> str:
        """FC's report line, e.g. `Duration: 12.34 ms, Billed Duration: 13 ms, ...`."""
        return (
            f"Duration: {self.duration_ms:.2f} ms, "
            f"Billed Duration: {max(1, math.ceil(self.duration_ms))} ms, "
            f"Memory Size: {self.memory_size} MB, Max Memory Used: {self.max_memory_mb} MB"
        )

    def error(self) -> dict[str, str] | None:
        """`{"errorType", "errorMessage"}` of a failed call, from the platform or the body."""
        if self.error_type is not None:
            return {"errorType": self.error_type, "errorMessage": self.error_message or ""}
        if self.succeeded:
            return None
        with contextlib.suppress(ValueError):
            data = json.loads(self.body)
            if isinstance(data, dict) and "errorType" in data:
                return {k: str(v) for k, v in data.items() if k in {"errorType", "errorMessage"}}
        return {
            "errorType": "UnhandledInvocationError",
            "errorMessage": self.body.decode(errors="replace"),
        }


@dataclass(frozen=True)
class Usage:
    """What an instance's processes hold at one moment (for soak tests and stress harnesses)."""

    pids: list[int]
    """The bootstrap and every process it started that is still running."""
    rss_bytes: int
    """Their resident memory, summed."""
    open_fds: int
    """Their open file descriptors, summed."""


def timer_event(name: str, payload: str = "", now: datetime | None = None) -> bytes:
    """The event FC posts for a timer trigger: RFC 3339 UTC time to the second, compact JSON."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    event = {
        "triggerTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "triggerName": name,
        "payload": payload,
    }
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def free_port() -> int:
    """A TCP port free on this machine now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def unpack(zip_path: Path, code_dir: Path) -> Path:
    """Unpack the code package as FC does, keeping each entry's mode; the bootstrap's path.

    Raises FC's errors for a missing or non-executable `bootstrap`.
    """
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for info in archive.infolist():
                target = (code_dir / info.filename).resolve()
                if not target.is_relative_to(code_dir.resolve()):
                    raise FunctionStartError(
                        "InvalidCodePackage",
                        f"zip entry {info.filename!r} escapes the code directory",
                    )
                archive.extract(info, code_dir)
                mode = (info.external_attr >> 16) & 0o7777
                if mode and not info.is_dir():
                    target.chmod(mode)
    except (OSError, zipfile.BadZipFile) as error:
        raise FunctionStartError(
            "InvalidCodePackage", f"cannot unpack {zip_path}: {error}"
        ) from error
    bootstrap = code_dir / "bootstrap"
    if not bootstrap.is_file():
        raise FunctionStartError(
            "FunctionNotStarted",
            f"/code/bootstrap is not exist: {zip_path} has no `bootstrap` at its root",
        )
    if not bootstrap.stat().st_mode & stat.S_IXUSR:
        raise FunctionStartError(
            "CAFilePermission",
            f"/code/bootstrap is not executable (mode {stat.S_IMODE(bootstrap.stat().st_mode):o}): "
            "store it in the zip with mode 0755",
        )
    return bootstrap


def _read_rss(pid: int) -> tuple[int, int]:
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
        return ProcessInfo(pid, int(fields[1]), fields[0], int(fields[19]))
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


def _descendants(pid: int) -> list[int]:
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


def _has_environment(pid: int, entry: bytes) -> bool:
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


def _listen_addresses(port: int) -> set[str]:
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


_LOOPBACK_HEX = {"0100007F", "00000000000000000000000001000000"}


class _Capture:
    """One call's output, bounded: its first lines, a count of the middle, its last lines.

    It takes the lines printed from the call's start to its `FC <kind> End RequestId` line;
    past `max_lines` or `max_bytes`, the oldest of the last half are dropped and counted.
    """

    def __init__(self, end_line: str, max_lines: int, max_bytes: int) -> None:
        self.end_line = end_line
        self.ended = False
        self._half_lines = max(1, max_lines // 2)
        self._half_bytes = max(1, max_bytes // 2)
        self._head: list[str] = []
        self._head_bytes = 0
        self._head_full = False
        self._last: deque[tuple[str, int]] = deque()
        self._last_bytes = 0
        self.dropped = 0
        self.dropped_bytes = 0

    def add(self, line: str, size: int) -> None:
        """Take one line of `size` bytes, unless the call's End line came already."""
        if self.ended:
            return
        self.ended = line == self.end_line
        if not self._head_full:
            if len(self._head) < self._half_lines and self._head_bytes + size <= self._half_bytes:
                self._head.append(line)
                self._head_bytes += size
                return
            self._head_full = True
        self._last.append((line, size))
        self._last_bytes += size
        while len(self._last) > self._half_lines or self._last_bytes > self._half_bytes:
            _, dropped = self._last.popleft()
            self._last_bytes -= dropped
            self.dropped += 1
            self.dropped_bytes += dropped

    def lines(self) -> list[str]:
        """The kept lines, with `... K lines dropped` where the middle was."""
        if not self.dropped:
            return [*self._head, *(line for line, _ in self._last)]
        marker = (
            f"... {self.dropped} lines dropped ({self.dropped_bytes} bytes): the emulator keeps "
            "the first and last lines of a call; all were echoed"
        )
        return [*self._head, marker, *(line for line, _ in self._last)]


class Instance:
    """One FC instance of a function: started, called, and stopped with every process it started.

    Its output is echoed as it comes and kept only per call, bounded (`Invocation.output`).
    """

    def __init__(  # noqa: PLR0913 - each option is one of FC's settings
        self,
        function: FunctionSpec,
        *,
        zip_path: Path | None = None,
        image: str | None = None,
        start_timeout: float = FC_HEALTH_CHECK_S,
        echo: Callable[[str], None] = _print_line,
        extra_environment: dict[str, str] | None = None,
    ) -> None:
        """Give exactly one of `zip_path` (the code package) and `image` (a container image)."""
        if (zip_path is None) == (image is None):
            raise ValueError("give exactly one of zip_path and image")
        self.function = function
        self.zip_path = zip_path
        self.image = image
        self.start_timeout = start_timeout
        self.echo = echo
        self.environment = {**function.environment, **(extra_environment or {})}
        self.instance_id = f"local-{uuid.uuid4().hex[:16]}"
        self.port = 0
        self.code_dir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.container_name: str | None = None
        self._function_pid: int | None = None
        self._captures: list[_Capture] = []
        """The calls under way, each taking the lines printed while it runs."""
        self._tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._lock = threading.Lock()
        self._line_added = threading.Condition(self._lock)
        self._readers: list[threading.Thread] = []
        self._peak_bytes = 0
        self._memory_breach = False
        self._stopped = threading.Event()
        self._sampler: threading.Thread | None = None
        self._procs_lock = threading.Lock()
        self._bootstrap_start: int | None = None
        self._tracked: dict[int, int] = {}
        """Every process seen below the bootstrap, pid to start time, until it is gone."""
        self._marker = f"FC_INSTANCE_ID={self.instance_id}".encode()
        """In the environment of every process the bootstrap starts, unless it clears it."""

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Self:
        """Start the instance."""
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        """Stop the instance, whatever happened."""
        self.stop()

    @property
    def pid(self) -> int | None:
        """The bootstrap's process id (for a container: the host pid of its first process)."""
        return self._function_pid

    def alive(self) -> bool:
        """Whether the bootstrap is still running."""
        return self.process is not None and self.process.poll() is None

    def fc_environment(self, code_dir: str) -> dict[str, str]:
        """The variables FC sets for the instance, then the function's own."""
        spec = self.function
        version_key = "FC_VER_ID" if spec.runtime in _OLD_RUNTIMES else "FC_FUNCTION_VERSION"
        env = {
            "FC_CUSTOM_LISTEN_PORT": str(self.port),
            "FC_SERVER_PORT": str(self.port),
            "FC_FUNC_CODE_PATH": code_dir,
            "FC_FUNCTION_NAME": spec.name,
            "FC_FUNCTION_HANDLER": HANDLER,
            "FC_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "FC_REGION": spec.region,
            "FC_ACCOUNT_ID": ACCOUNT_ID,
            "FC_INSTANCE_ID": self.instance_id,
            version_key: QUALIFIER,
        }
        return {**env, **self.environment}

    def start(self) -> None:
        """Unpack (or pull nothing: run the local image), launch and wait for the port."""
        self.port = free_port()
        if self.image is not None:
            self._launch_container(self.image)
        else:
            assert self.zip_path is not None  # noqa: S101 - checked in __init__
            become_subreaper()
            self.code_dir = Path(tempfile.mkdtemp(prefix=f"fc-local-{self.function.name}-"))
            try:
                bootstrap = unpack(self.zip_path, self.code_dir)
            except FunctionStartError:
                self._remove_code_dir()
                raise
            self._launch_process(bootstrap)
        try:
            self._wait_for_port()
        except BaseException:
            self.stop(pre_stop=False)
            raise
        self._sampler = threading.Thread(target=self._sample_memory, daemon=True)
        self._sampler.start()

    def _launch_process(self, bootstrap: Path) -> None:
        assert self.code_dir is not None  # noqa: S101 - set by start()
        env = {"PATH": f"{self.code_dir}:{self.code_dir}/bin:{_PATH}"}
        env |= self.fc_environment(str(self.code_dir))
        try:
            self.process = subprocess.Popen(
                [str(bootstrap)],
                cwd=self.code_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group: stop() kills all of it
            )
        except OSError as error:
            self._remove_code_dir()
            raise FunctionStartError(
                "FunctionNotStarted", f"/code/bootstrap cannot be executed: {error.strerror}"
            ) from error
        self._function_pid = self.process.pid
        info = process_info(self.process.pid)
        self._bootstrap_start = info.start if info is not None else None
        self._start_readers()

    def _launch_container(self, image: str) -> None:
        """`docker run` with FC's environment; host networking so the port check is real."""
        docker = shutil.which("docker")
        if docker is None:
            raise FunctionStartError("FunctionNotStarted", "docker not found: install Docker")
        self.container_name = f"fc-local-{self.function.name}-{uuid.uuid4().hex[:8]}"
        function_env = self.fc_environment("/code")
        memory = f"{self.function.memory_size}m"
        command = [docker, "run", "--rm", "--name", self.container_name, "--network", "host"]
        command += ["--memory", memory, "--memory-swap", memory]
        # Values travel in the docker CLI's environment, never on its command line (secrets).
        for key in sorted(function_env):
            command += ["--env", key]
        command.append(image)
        cli_env = {
            k: v for k, v in os.environ.items() if k in {"PATH", "HOME"} or k.startswith("DOCKER_")
        }
        self.process = subprocess.Popen(
            command,
            env=cli_env | function_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._start_readers()

    def _container_pid(self) -> int | None:
        if self.container_name is None:
            return None
        inspect = subprocess.run(
            ["docker", "inspect", "--format", "{{.State.Pid}}", self.container_name],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
        pid = inspect.stdout.strip()
        return int(pid) if inspect.returncode == 0 and pid.isdigit() and pid != "0" else None

    def _start_readers(self) -> None:
        assert self.process is not None  # noqa: S101 - called right after Popen
        for stream in (self.process.stdout, self.process.stderr):
            assert stream is not None  # noqa: S101 - Popen(PIPE) guarantees it
            reader = threading.Thread(target=self._pump, args=(stream,), daemon=True)
            reader.start()
            self._readers.append(reader)

    def _pump(self, stream: IO[bytes]) -> None:
        """Echo the bootstrap's lines as they come; keep only what the calls under way need.

        Nothing is kept of a line but by the calls under way (each bounded) and the last
        `TAIL_LINES` (for a start failure), so any amount of output runs in bounded memory.
        """
        try:
            for raw in iter(lambda: stream.readline(LINE_MAX_BYTES), b""):
                line = raw.decode(errors="replace").rstrip("\r\n")
                with self._line_added:
                    self._tail.append(line)
                    ended = False
                    for capture in self._captures:
                        was_open = not capture.ended
                        capture.add(line, len(raw))
                        ended |= was_open and capture.ended
                    if ended:
                        self._line_added.notify_all()
                self.echo(line)
        finally:
            stream.close()
            with self._line_added:
                self._line_added.notify_all()  # a call waiting for its End line stops waiting

    def _join_readers(self, timeout: float = 2.0) -> None:
        deadline = time.monotonic() + timeout
        for reader in self._readers:
            reader.join(max(0.0, deadline - time.monotonic()))

    def _tail_lines(self) -> list[str]:
        with self._lock:
            return list(self._tail)

    def _wait_for_port(self) -> None:
        """FC's health check: the port accepts a TCP connection within the start timeout."""
        assert self.process is not None  # noqa: S101 - launched before
        deadline = time.monotonic() + self.start_timeout
        while True:
            code = self.process.poll()
            if code is not None:
                self._join_readers()
                raise FunctionStartError(
                    "FunctionNotStarted",
                    f"the bootstrap exited with {_exit_text(code)} before listening on port "
                    f"{self.port}: it must serve HTTP on 0.0.0.0:$FC_CUSTOM_LISTEN_PORT",
                    self._tail_lines(),
                )
            if self.container_name is not None and self._function_pid is None:
                self._function_pid = self._container_pid()
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                break
            if time.monotonic() >= deadline:
                raise FunctionStartError(
                    "FunctionNotStarted",
                    f"health check failed on port {self.port} in {self.start_timeout:g} seconds: "
                    "the bootstrap must listen on 0.0.0.0:$FC_CUSTOM_LISTEN_PORT",
                    self._tail_lines(),
                )
            time.sleep(POLL_S)
        addresses = _listen_addresses(self.port)
        if addresses and addresses <= _LOOPBACK_HEX:
            raise FunctionStartError(
                "FunctionNotStarted",
                f"the bootstrap listens on 127.0.0.1:{self.port} only; FC connects from outside "
                "the instance, so it must bind 0.0.0.0",
                self._tail_lines(),
            )

    def _sample_memory(self) -> None:
        """Track the instance's peak memory; past its memory size, kill it as FC does."""
        limit = self.function.memory_size * MIB
        samples = 0
        while not self._stopped.is_set() and self.alive():
            pid = self._function_pid
            if pid is not None:
                samples += 1
                scan = samples % SCAN_EVERY_SAMPLES == 1  # the first sample, then about 1 s apart
                pids = self._track(scan=scan) if self.container_name is None else _descendants(pid)
                total = sum(_read_rss(p)[0] for p in pids)
                peak = max(total, _read_rss(pid)[1])
                self._peak_bytes = max(self._peak_bytes, peak)
                if self._peak_bytes > limit and not self._memory_breach:
                    self._memory_breach = True
                    self._kill()
                    return
            self._stopped.wait(MEMORY_SAMPLE_S)

    def _track(self, *, scan: bool = False) -> set[int]:
        """The instance's processes now; reaps those of them left to the emulator.

        The bootstrap's tree and every process seen in it before: a detached child whose parent
        died stays the instance's. `scan` adds every process started with this instance's
        `FC_INSTANCE_ID` (reads all of /proc: not at every sample).
        """
        marked = self._marked(process_table()) if scan else set()
        with self._procs_lock:
            for known, start in list(self._tracked.items()):
                info = process_info(known)
                if info is None or info.start != start:
                    del self._tracked[known]
                elif info.dead and info.ppid == os.getpid():
                    self._reap(known)
            bootstrap = self._bootstrap_root()
            pids = set(self._tracked) | marked | ({bootstrap} if bootstrap is not None else set())
            for root in list(pids):
                pids.update(_descendants(root))
            for new in pids - set(self._tracked) - {bootstrap}:
                info = process_info(new)
                if info is not None and not info.dead:
                    self._tracked[new] = info.start
            return pids

    def _marked(self, table: dict[int, ProcessInfo]) -> set[int]:
        """The live processes started with this instance's `FC_INSTANCE_ID` in their environment."""
        return {
            pid
            for pid, info in table.items()
            if not info.dead and _has_environment(pid, self._marker)
        }

    def _bootstrap_root(self) -> int | None:
        """The bootstrap's pid while it is that process (once reaped, the pid may be reused)."""
        if self.process is None or self._bootstrap_start is None:
            return None
        info = process_info(self.process.pid)
        same = info is not None and info.start == self._bootstrap_start
        return self.process.pid if same else None

    def _reap(self, pid: int) -> None:
        """Collect the exit status of a dead process left to the emulator (the subreaper).

        So it is gone rather than a zombie. Never the bootstrap: Popen reaps it.
        """
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        self._tracked.pop(pid, None)

    def _kill_strays(self) -> None:
        """SIGKILL every process of the instance but the bootstrap, again until none is left.

        The instance's processes: the bootstrap's tree, whatever was seen in it (a child in a
        new session, an orphan of a double fork) and every process started with this instance's
        `FC_INSTANCE_ID`. A process that cleared its environment and left the tree before the
        emulator saw it (within `MEMORY_SAMPLE_S`) is not found.
        """
        if self.process is None or self.container_name is not None:
            return
        bootstrap = self.process.pid
        deadline = time.monotonic() + STRAY_KILL_S
        while True:
            alive = []
            for pid in self._track(scan=True) - {bootstrap}:
                info = process_info(pid)
                if info is None:
                    continue
                if not info.dead:
                    alive.append(pid)
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
                elif info.ppid == os.getpid():
                    with self._procs_lock:
                        self._reap(pid)
            if not alive or time.monotonic() >= deadline:
                return
            time.sleep(POLL_S)

    def usage(self) -> Usage:
        """The instance's processes now, their resident memory and open file descriptors."""
        if self.container_name is None:
            pids = self._track(scan=True)
        elif self._function_pid is not None:
            pids = set(_descendants(self._function_pid))
        else:
            pids = set()
        pids = {pid for pid in pids if (info := process_info(pid)) is not None and not info.dead}
        return Usage(
            pids=sorted(pids),
            rss_bytes=sum(_read_rss(pid)[0] for pid in pids),
            open_fds=sum(open_fds(pid) for pid in pids),
        )

    def max_memory_mb(self) -> int:
        """The instance's peak memory so far, in whole MB rounded up."""
        pid = self._function_pid
        if pid is not None:
            self._peak_bytes = max(self._peak_bytes, _read_rss(pid)[1])
        return math.ceil(self._peak_bytes / MIB)

    def _kill(self) -> None:
        """SIGKILL the whole process group (and the container)."""
        if self.container_name is not None:
            subprocess.run(
                ["docker", "kill", self.container_name],
                capture_output=True,
                check=False,
                timeout=30,
            )
        if self.process is not None:
            self._track()
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            # Once it is dead its orphans are the emulator's to reap. Not Popen.wait: a poll()
            # from another thread during it would say "running".
            self._wait_dead(self.process.pid, 1.0)
            self._kill_strays()

    @staticmethod
    def _wait_dead(pid: int, timeout: float) -> None:
        """Wait until the process is a zombie or gone, without reaping it."""
        deadline = time.monotonic() + timeout
        while (info := process_info(pid)) is not None and not info.dead:
            if time.monotonic() >= deadline:
                return
            time.sleep(POLL_S / 4)

    def stop(self, *, pre_stop: bool = True) -> Invocation | None:
        """`GET /pre-stop` if the instance is up, then SIGTERM, then SIGKILL after a grace period.

        Returns the pre-stop call, if one was made. Idempotent.
        """
        hook = None
        if pre_stop and self.alive() and not self._stopped.is_set():
            hook = self.call(
                "PreStop", "GET", "/pre-stop", b"", timeout=float(self.function.timeout)
            )
        self._stopped.set()
        process = self.process
        if process is not None:
            if process.poll() is None:
                if self.container_name is not None:
                    subprocess.run(
                        ["docker", "stop", "--time", str(int(STOP_GRACE_S)), self.container_name],
                        capture_output=True,
                        check=False,
                        timeout=STOP_GRACE_S + 30,
                    )
                self._track()  # the whole tree, before its processes are orphaned
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    self._kill()
                    process.wait(STOP_GRACE_S)
            # Children the bootstrap left in its group go with it, and those it detached.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            self._kill_strays()
            self._join_readers()
        if self._sampler is not None:
            self._sampler.join(1.0)
        self._remove_code_dir()
        return hook

    def _remove_code_dir(self) -> None:
        if self.code_dir is not None:
            shutil.rmtree(self.code_dir, ignore_errors=True)

    # -- calls -----------------------------------------------------------------------------

    def headers(self, request_id: str) -> dict[str, str]:
        """FC's request headers for one call."""
        spec = self.function
        return {
            "x-fc-request-id": request_id,
            "x-fc-function-name": spec.name,
            "x-fc-function-handler": HANDLER,
            "x-fc-region": spec.region,
            "x-fc-account-id": ACCOUNT_ID,
            "x-fc-qualifier": QUALIFIER,
            "x-fc-version-id": QUALIFIER,
            "x-fc-function-memory": str(spec.memory_size),
            "x-fc-function-timeout": str(spec.timeout),
            "Content-Type": "application/octet-stream",
        }

    def invoke(
        self, event: bytes, cancel: threading.Event | None = None, *, asynchronous: bool = False
    ) -> Invocation:
        """`POST /invoke` with the event, bounded by the function's timeout.

        An event over FC's payload limit (32 MiB; 128 KiB when `asynchronous`, as a timer's
        invocation is) is refused as FC refuses it: it never reaches the bootstrap.
        """
        limit = ASYNC_PAYLOAD_MAX_BYTES if asynchronous else SYNC_PAYLOAD_MAX_BYTES
        if len(event) > limit:
            refused = Invocation("Invoke", str(uuid.uuid4()), self.function.memory_size)
            refused.error_type = PAYLOAD_ERROR
            refused.error_message = (
                f"payload too large: the event is {_size_text(len(event))}, over FC's limit of "
                f"{_size_text(limit)} for {'an asynchronous' if asynchronous else 'a synchronous'} "
                "invocation (FC: payload size exceeds maximum allowed size); FC refuses it "
                "before it reaches the function"
            )
            refused.max_memory_mb = self.max_memory_mb()
            return refused
        return self.call(
            "Invoke", "POST", "/invoke", event, timeout=float(self.function.timeout), cancel=cancel
        )

    def initialize(self) -> Invocation:
        """`POST /initialize`, as FC does once per instance when an initializer is configured."""
        return self.call(
            "Initialize", "POST", "/initialize", b"", timeout=float(self.function.timeout)
        )

    def call(  # noqa: PLR0913 - one HTTP call: its parts and its limits
        self,
        kind: str,
        method: str,
        path: str,
        body: bytes,
        *,
        timeout: float,
        cancel: threading.Event | None = None,
    ) -> Invocation:
        """One HTTP call; on timeout or memory breach the instance is killed, as FC does."""
        request_id = str(uuid.uuid4())
        headers = self.headers(request_id)
        if kind == "Initialize":
            headers["x-fc-function-initializer"] = "index.initializer"
            headers["x-fc-initialization-timeout"] = str(self.function.timeout)
        result = Invocation(kind, request_id, self.function.memory_size)
        capture = _Capture(
            f"FC {kind} End RequestId: {request_id}", CALL_OUTPUT_MAX_LINES, CALL_OUTPUT_MAX_BYTES
        )
        with self._lock:
            self._captures.append(capture)
        try:
            self._exchange(result, method, path, body, headers, timeout=timeout, cancel=cancel)
            # The answer can overtake the bootstrap's last log lines through the pipe: wait,
            # briefly, for the End line, so each call's output is complete.
            with self._line_added:
                self._line_added.wait_for(
                    lambda: capture.ended or not any(r.is_alive() for r in self._readers),
                    timeout=END_LINE_WAIT,
                )
        finally:
            with self._lock:
                self._captures.remove(capture)
        result.output = capture.lines()
        return result

    def _exchange(  # noqa: PLR0913 - one HTTP call: its parts and its limits
        self,
        result: Invocation,
        method: str,
        path: str,
        body: bytes,
        headers: dict[str, str],
        *,
        timeout: float,
        cancel: threading.Event | None,
    ) -> None:
        """Send the call and wait for its answer within `timeout`; fill `result`."""
        answer = _Answer()
        worker = threading.Thread(
            target=self._send,
            args=(answer,),
            kwargs={
                "method": method,
                "path": path,
                "body": body,
                "headers": headers,
                "timeout": timeout + 5,
            },
            daemon=True,
        )
        started = time.monotonic()
        worker.start()
        deadline = started + timeout
        while worker.is_alive() and time.monotonic() < deadline:
            if cancel is not None and cancel.is_set():
                break
            worker.join(min(0.05, max(0.0, deadline - time.monotonic())))
        result.duration_ms = (time.monotonic() - started) * 1000
        if worker.is_alive():
            self._kill()
            worker.join(5.0)
            cancelled = cancel is not None and cancel.is_set()
            result.error_type = "Cancelled" if cancelled else "FunctionTimeout"
            result.error_message = (
                "the emulator was stopped during the call"
                if cancelled
                else f"Function timed out after {timeout:g} seconds"
            )
        else:
            self._settle_answer(result, answer, len(body))
        if not self.alive():
            self._join_readers()
        result.max_memory_mb = self.max_memory_mb()

    def _send(  # noqa: PLR0913 - one HTTP exchange, run in a worker thread
        self,
        answer: _Answer,
        *,
        method: str,
        path: str,
        body: bytes,
        headers: dict[str, str],
        timeout: float,
    ) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            try:
                connection.request(method, path, body=body, headers=headers)
            except (BrokenPipeError, ConnectionResetError) as error:
                # The bootstrap stopped reading the body: it may have answered why (413).
                answer.send_error = error
            response = connection.getresponse()
            answer.body = response.read()
            answer.status = response.status
            answer.fc_status = response.getheader("x-fc-status")
        except (OSError, http.client.HTTPException) as error:
            answer.error = answer.send_error or error
        finally:
            connection.close()

    def _settle_answer(self, result: Invocation, answer: _Answer, sent: int) -> None:
        """Fill `result` from a finished call of a `sent`-byte body: the answer, or why none."""
        if self._memory_breach:
            self._settle()  # killed by the sampler: the connection can close before it is dead
            result.error_type = "MemoryLimitExceeded"
            result.error_message = (
                f"the instance used more than its memory size of {self.function.memory_size} MB "
                "and was killed; raise memory_size or use less"
            )
        elif answer.error is not None:
            self._settle()
            code = self.process.poll() if self.process is not None else None
            if code is not None:
                result.error_type = "ProcessExited"
                result.error_message = (
                    f"Process exited unexpectedly before completing request ({_exit_text(code)})"
                )
            elif answer.send_error is not None:
                result.error_type = PAYLOAD_ERROR
                result.error_message = (
                    f"payload too large: the bootstrap closed the connection before reading all "
                    f"of the {_size_text(sent)} body ({answer.send_error.strerror}); FC itself "
                    f"refuses a body over {_size_text(SYNC_PAYLOAD_MAX_BYTES)}"
                )
            else:
                result.error_type = "ConnectionError"
                result.error_message = f"the connection to the bootstrap failed: {answer.error}"
        else:
            result.body = answer.body
            result.status = answer.status
            fc_status = answer.fc_status
            result.fc_status = int(fc_status) if fc_status and fc_status.isdigit() else None
            if result.status == http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
                result.error_type = PAYLOAD_ERROR
                result.error_message = (
                    f"payload too large: the bootstrap answered HTTP 413 to the {_size_text(sent)} "
                    f"body; FC itself refuses a body over {_size_text(SYNC_PAYLOAD_MAX_BYTES)}"
                )

    def _settle(self) -> None:
        """Give a dying bootstrap a moment to be reaped, so its exit status is known."""
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(1.0)


@dataclass
class _Answer:
    """What the worker thread of one call received."""

    body: bytes = b""
    status: int | None = None
    fc_status: str | None = None
    error: Exception | None = None
    send_error: OSError | None = None
    """The connection broke while the body was being sent: the bootstrap stopped reading it."""


def _size_text(size: int) -> str:
    """`41943040 bytes (40 MiB)`: exact, and readable."""
    for unit, scale in (("MiB", MIB), ("KiB", 1024)):
        if size >= scale:
            return f"{size} bytes ({size / scale:g} {unit})"
    return f"{size} bytes"


def _exit_text(code: int | None) -> str:
    if code is None:
        return "no exit status"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
    return f"exit status {code}"
