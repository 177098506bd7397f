"""One FC instance of a function: its code package (or image) started as FC starts it, then stopped.

One `Instance` is one FC instance: the zip unpacked into a fresh code directory (or an image
run with `docker run`), the bootstrap started with FC's environment and nothing else of the
host's, a health check on its port, then `/initialize`, `/invoke` and `/pre-stop` with FC's
headers (`infra.local.invocation`). Each call is measured and reported with FC's report line;
the function's timeout and memory size are enforced the way FC enforces them: the instance is
killed, with every process the bootstrap started.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import uuid
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Self

from infra.local.invocation import (
    ACCOUNT_ID,
    HANDLER,
    MIB,
    QUALIFIER,
    Answer,
    Invocation,
    read_answer,
    refused_payload,
    request_headers,
    send,
)
from infra.local.output import Output, print_line
from infra.local.processes import (
    LOOPBACK_HEX,
    ProcessInfo,
    Usage,
    become_subreaper,
    descendants,
    exit_text,
    has_environment,
    listen_addresses,
    open_fds,
    process_info,
    process_table,
    read_rss,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from infra.local.stack import LocalFunction

FC_HEALTH_CHECK_S = 120.0
"""FC kills an instance whose port does not accept connections within 120 s of start."""
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
_PATH = "/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin"
_OLD_RUNTIMES = {"custom", "custom.debian10"}
"""Runtimes that name the function version `FC_VER_ID`; newer ones use `FC_FUNCTION_VERSION`."""
STRAY_KILL_S = 5.0
"""How long the emulator keeps killing the instance's leftover processes before giving up."""


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


class Instance:
    """One FC instance of a function: started, called, and stopped with every process it started.

    Its output is echoed as it comes and kept only per call, bounded (`Invocation.output`).
    """

    def __init__(  # noqa: PLR0913 - each option is one of FC's settings
        self,
        function: LocalFunction,
        *,
        zip_path: Path | None = None,
        image: str | None = None,
        start_timeout: float = FC_HEALTH_CHECK_S,
        echo: Callable[[str], None] = print_line,
        extra_environment: dict[str, str] | None = None,
    ) -> None:
        """Give exactly one of `zip_path` (the code package) and `image` (a container image)."""
        if (zip_path is None) == (image is None):
            raise ValueError("give exactly one of zip_path and image")
        self.function = function
        self.zip_path = zip_path
        self.image = image
        self.start_timeout = start_timeout
        self.output = Output(echo)
        """The bootstrap's output: `echo` receives each line as it comes."""
        self.environment = {**function.environment, **(extra_environment or {})}
        self.instance_id = f"local-{uuid.uuid4().hex[:16]}"
        self.port = 0
        self.code_dir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.container_name: str | None = None
        self._function_pid: int | None = None
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
            "FC_FUNCTION_NAME": spec.fc_name,
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
                # One pipe for both, as FC logs them: a line keeps its place between the two
                # streams (a panic's message on stderr comes after `FC Invoke Start` on stdout).
                stderr=subprocess.STDOUT,
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
        self.output.read((self.process.stdout,))

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
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.output.read((self.process.stdout,))

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

    def _wait_for_port(self) -> None:
        """FC's health check: the port accepts a TCP connection within the start timeout."""
        assert self.process is not None  # noqa: S101 - launched before
        deadline = time.monotonic() + self.start_timeout
        while True:
            code = self.process.poll()
            if code is not None:
                self.output.join()
                raise FunctionStartError(
                    "FunctionNotStarted",
                    f"the bootstrap exited with {exit_text(code)} before listening on port "
                    f"{self.port}: it must serve HTTP on 0.0.0.0:$FC_CUSTOM_LISTEN_PORT",
                    self.output.tail(),
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
                    self.output.tail(),
                )
            time.sleep(POLL_S)
        addresses = listen_addresses(self.port)
        if addresses and addresses <= LOOPBACK_HEX:
            raise FunctionStartError(
                "FunctionNotStarted",
                f"the bootstrap listens on 127.0.0.1:{self.port} only; FC connects from outside "
                "the instance, so it must bind 0.0.0.0",
                self.output.tail(),
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
                pids = self._track(scan=scan) if self.container_name is None else descendants(pid)
                total = sum(read_rss(p)[0] for p in pids)
                peak = max(total, read_rss(pid)[1])
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
                pids.update(descendants(root))
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
            if not info.dead and has_environment(pid, self._marker)
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
            pids = set(descendants(self._function_pid))
        else:
            pids = set()
        pids = {pid for pid in pids if (info := process_info(pid)) is not None and not info.dead}
        return Usage(
            pids=sorted(pids),
            rss_bytes=sum(read_rss(pid)[0] for pid in pids),
            open_fds=sum(open_fds(pid) for pid in pids),
        )

    def max_memory_mb(self) -> int:
        """The instance's peak memory so far, in whole MB rounded up."""
        pid = self._function_pid
        if pid is not None:
            self._peak_bytes = max(self._peak_bytes, read_rss(pid)[1])
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
            self.output.join()
        if self._sampler is not None:
            self._sampler.join(1.0)
        self._remove_code_dir()
        return hook

    def _remove_code_dir(self) -> None:
        if self.code_dir is not None:
            shutil.rmtree(self.code_dir, ignore_errors=True)

    # -- calls -----------------------------------------------------------------------------

    def invoke(
        self, event: bytes, cancel: threading.Event | None = None, *, asynchronous: bool = False
    ) -> Invocation:
        """`POST /invoke` with the event, bounded by the function's timeout.

        An event over FC's payload limit (32 MiB; 128 KiB when `asynchronous`, as a timer's
        invocation is) is refused as FC refuses it: it never reaches the bootstrap.
        """
        refused = refused_payload(event, self.function.memory_size, asynchronous=asynchronous)
        if refused is not None:
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
        headers = request_headers(self.function, request_id, kind)
        result = Invocation(kind, request_id, self.function.memory_size)
        with self.output.capture(f"FC {kind} End RequestId: {request_id}") as capture:
            self._exchange(result, method, path, body, headers, timeout=timeout, cancel=cancel)
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
        answer = Answer()
        worker = threading.Thread(
            target=send,
            args=(answer, self.port),
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
        elif self._memory_breach:
            self._settle()  # killed by the sampler: the connection can close before it is dead
            result.error_type = "MemoryLimitExceeded"
            result.error_message = (
                f"the instance used more than its memory size of {self.function.memory_size} MB "
                "and was killed; raise memorySize or use less"
            )
        else:
            exit_code = None
            if answer.error is not None:
                self._settle()
                exit_code = self.process.poll() if self.process is not None else None
            read_answer(result, answer, len(body), exit_code)
        if not self.alive():
            self.output.join()
        result.max_memory_mb = self.max_memory_mb()

    def _settle(self) -> None:
        """Give a dying bootstrap a moment to be reaped, so its exit status is known."""
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(1.0)
