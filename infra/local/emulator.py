"""Run a packaged bootstrap as FC's custom runtime does, and drive it over FC's HTTP contract.

One `Instance` is one FC instance: the zip unpacked into a fresh code directory (or an image
run with `docker run`), the bootstrap started with FC's environment and nothing else of the
host's, a health check on its port, then `/initialize`, `/invoke` and `/pre-stop` with FC's
headers. Each call is measured and reported with FC's report line; the function's timeout and
memory size are enforced the way FC enforces them: the instance is killed.
"""

from __future__ import annotations

import contextlib
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
"""How long a stopping bootstrap may take after SIGTERM before it is killed."""
POLL_S = 0.02
MEMORY_SAMPLE_S = 0.02
MIB = 1024 * 1024
_PATH = "/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin"
_OLD_RUNTIMES = {"custom", "custom.debian10"}
"""Runtimes that name the function version `FC_VER_ID`; newer ones use `FC_FUNCTION_VERSION`."""


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
    """The bootstrap's lines printed during the call."""

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


def _descendants(pid: int) -> list[int]:
    """`pid` and every process below it, from /proc/<pid>/task/*/children."""
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


class Instance:
    """One FC instance of a function: started, called, and stopped with its whole process group."""

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
        self._lines: list[str] = []
        self._tail: deque[str] = deque(maxlen=50)
        self._lock = threading.Lock()
        self._line_added = threading.Condition(self._lock)
        self._readers: list[threading.Thread] = []
        self._peak_bytes = 0
        self._memory_breach = False
        self._stopped = threading.Event()
        self._sampler: threading.Thread | None = None

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
        """Echo the bootstrap's lines as they come, and keep them for the call and for errors."""
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip("\r\n")
            with self._line_added:
                self._lines.append(line)
                self._tail.append(line)
                self._line_added.notify_all()
            self.echo(line)
        stream.close()

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
        while not self._stopped.is_set() and self.alive():
            pid = self._function_pid
            if pid is not None:
                pids = _descendants(pid)
                total = sum(_read_rss(p)[0] for p in pids)
                peak = max(total, _read_rss(pid)[1])
                self._peak_bytes = max(self._peak_bytes, peak)
                if self._peak_bytes > limit and not self._memory_breach:
                    self._memory_breach = True
                    self._kill()
                    return
            self._stopped.wait(MEMORY_SAMPLE_S)

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
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)

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
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    self._kill()
                    process.wait(STOP_GRACE_S)
            # Children the bootstrap left in its group go with it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
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

    def invoke(self, event: bytes, cancel: threading.Event | None = None) -> Invocation:
        """`POST /invoke` with the event, bounded by the function's timeout."""
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
        with self._lock:
            first_line = len(self._lines)
        answer = _Answer()

        def send() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout + 5)
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                answer.body = response.read()
                answer.status = response.status
                answer.fc_status = response.getheader("x-fc-status")
            except (OSError, http.client.HTTPException) as error:
                answer.error = error
            finally:
                connection.close()

        worker = threading.Thread(target=send, daemon=True)
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
            self._settle_answer(result, answer)
        if not self.alive():
            self._join_readers()
        result.max_memory_mb = self.max_memory_mb()
        # The answer can overtake the bootstrap's last log lines through the pipe: wait, briefly,
        # for the End line, so each call's output is complete.
        end = f"FC {kind} End RequestId: {request_id}"
        with self._line_added:
            self._line_added.wait_for(
                lambda: end in self._lines[first_line:], timeout=END_LINE_WAIT
            )
            result.output = self._lines[first_line:]
        return result

    def _settle_answer(self, result: Invocation, answer: _Answer) -> None:
        """Fill `result` from a finished call: the answer, or why there was none."""
        if self._memory_breach:
            result.error_type = "MemoryLimitExceeded"
            result.error_message = (
                f"the instance used more than its memory size of {self.function.memory_size} MB "
                "and was killed; raise memory_size or use less"
            )
        elif answer.error is not None:
            self._settle()
            code = self.process.poll() if self.process is not None else None
            result.error_type = "ProcessExited" if code is not None else "ConnectionError"
            result.error_message = (
                f"Process exited unexpectedly before completing request ({_exit_text(code)})"
                if code is not None
                else f"the connection to the bootstrap failed: {answer.error}"
            )
        else:
            result.body = answer.body
            result.status = answer.status
            fc_status = answer.fc_status
            result.fc_status = int(fc_status) if fc_status and fc_status.isdigit() else None

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


def _exit_text(code: int | None) -> str:
    if code is None:
        return "no exit status"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
    return f"exit status {code}"
