"""`make stress`: the real packages under hostile load, on loopback only, with figures.

1. Hostile requests: malformed, oversized and odd HTTP against hello's bootstrap; each must get
   an HTTP answer.
2. Slow and idle connections: clients that trickle headers or never send, held while normal
   invocations still get through, then shed by the runtime's timeouts.
3. Soak: invocations over keep-alive (greetings, handler errors, panics) with the bootstrap's
   RSS and open file descriptors before and after.
4. Build faults: a killed cargo, an unwritable cache, a read-only dist/, a broken cache entry;
   each must end in a clear error or a rebuild, with the previous package intact.
5. GitHub faults: sync-forks against a GitHub that rate-limits, fails, sends endless or huge
   bodies or never answers; every fork must end with a status.
6. Held resources: stalled request bodies at and beyond the connection cap, the memory held by
   incomplete heads, by large bodies that stop and by answers nobody reads (peak RSS against
   the 128 MB instance), clients that half-close, a stdout nobody reads, and log lines forged
   through the payload.
7. Sibling crates: a function whose build script never ends, and one whose build script fails,
   beside the one being packaged: each must end in an error naming it.
8. Scaffold kills: `python -m infra new` stopped by SIGINT, SIGTERM or SIGKILL during its
   `cargo update`, by an error in its second stack file and by a SIGKILL before each file it
   writes; one line each with what was left, which must be nothing (after a SIGKILL, once the
   next run has rolled it back).

The last line is `lost: N`: invocations that ended without an answer plus packages lost, plus
scaffold runs that left something behind. Run from the repository root: `python -m bench.stress`
(`--quick` for the part `make test` runs).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

from infra.bootstrap import Builder, BuildError
from infra.bootstrap.faults import FaultNotRecoveredError, drill
from infra.bootstrap.process import group_alive
from infra.local.instance import free_port

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

OVERSIZE = 40 * 1024 * 1024
"""Above the runtime's 32 MiB body limit."""
HEAD_TIMEOUT_S = 10
"""fc-runtime's DEFAULT_HEADER_READ_TIMEOUT."""
BODY_TIMEOUT_S = 10
"""fc-runtime's DEFAULT_BODY_READ_TIMEOUT (and DEFAULT_WRITE_TIMEOUT)."""
MEMORY_MB = 128
"""The instance memory the bootstraps run with (FC_FUNCTION_MEMORY_SIZE): FC's smallest."""
MIB = 1024 * 1024


@dataclass
class Figures:
    """What a run found; `lost` is what the last line reports."""

    lines: list[str] = field(default_factory=list)
    lost: int = 0

    def say(self, line: str) -> None:
        """Print a figure now and keep it for the summary."""
        print(line, flush=True)  # noqa: T201 - the harness reports on stdout
        self.lines.append(line)


@dataclass
class Bootstrap:
    """A function's bootstrap unpacked and started as FC starts it, its output drained."""

    process: subprocess.Popen[bytes]
    port: int
    code_dir: Path
    output_lines: int = 0
    last_lines: deque[bytes] = field(default_factory=lambda: deque(maxlen=2000))
    """The last lines of its output, as read."""

    @property
    def pid(self) -> int:
        """The bootstrap's process id."""
        return self.process.pid

    def rss_kb(self) -> int:
        """Resident memory of the bootstrap, from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def peak_rss_kb(self) -> int:
        """The most resident memory the bootstrap has used since it started (VmHWM)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    def open_fds(self) -> int:
        """Open file descriptors of the bootstrap, from /proc."""
        return len(list(Path(f"/proc/{self.pid}/fd").iterdir()))

    def alive(self) -> bool:
        """Whether the bootstrap still runs."""
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers; remove the code directory."""
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        shutil.rmtree(self.code_dir, ignore_errors=True)


def start(
    zip_path: Path,
    env: dict[str, str] | None = None,
    open_files: int | None = None,
    *,
    drain: bool = True,
) -> Bootstrap:
    """Unpack `zip_path` and exec its `bootstrap` with FC's variables; wait for the port.

    `open_files` lowers the bootstrap's file-descriptor limit (its connection cap is half of it).
    Without `drain`, nobody reads its stdout (a pipe that fills up).
    """
    code_dir = Path(tempfile.mkdtemp(prefix="fc-stress-"))
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(code_dir)
    (code_dir / "bootstrap").chmod(0o755)
    port = free_port()
    environment = {
        "PATH": "/usr/bin:/bin",
        "FC_CUSTOM_LISTEN_PORT": str(port),
        "FC_FUNCTION_NAME": zip_path.parent.name,
        "FC_FUNCTION_MEMORY_SIZE": str(MEMORY_MB),
        "FC_REGION": "cn-hangzhou",
        **(env or {}),
    }

    def limit_files() -> None:
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    process = subprocess.Popen(
        [str(code_dir / "bootstrap")],
        cwd=code_dir,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=limit_files,  # noqa: PLW1509 - only setrlimit, before exec
    )
    bootstrap = Bootstrap(process, port, code_dir)
    if drain:
        threading.Thread(target=_drain, args=(bootstrap,), daemon=True).start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and bootstrap.alive():
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return bootstrap
        time.sleep(0.01)
    bootstrap.stop()
    message = f"{zip_path}: the bootstrap did not listen on port {port} within 30 s"
    raise RuntimeError(message)


def _drain(bootstrap: Bootstrap) -> None:
    """Read the bootstrap's output as FC's log collector would, keeping only a count."""
    assert bootstrap.process.stdout is not None  # noqa: S101 - Popen was given a pipe
    for line in bootstrap.process.stdout:
        bootstrap.output_lines += 1
        bootstrap.last_lines.append(line)


def raw_exchange(port: int, request: bytes, timeout: float = 15.0) -> bytes:
    """Send `request` as is and read until the server closes or a response head arrives.

    Raises TimeoutError when the server does neither within `timeout`.
    """
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout) as connection:
        with contextlib.suppress(ConnectionError):
            connection.sendall(request)
        with contextlib.suppress(ConnectionError):
            while b"\r\n\r\n" not in received:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                received += chunk
    return received


def _invoke_request(body: bytes, request_id: str = "stress") -> bytes:
    return (
        b"POST /invoke HTTP/1.1\r\nHost: fc\r\nContent-Type: application/octet-stream\r\n"
        + f"x-fc-request-id: {request_id}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


HOSTILE: tuple[tuple[str, bytes], ...] = (
    ("garbage request line", b"GARBAGE\r\n\r\n"),
    ("binary noise", bytes(range(256)) * 4 + b"\r\n\r\n"),
    ("HTTP/2 preface on HTTP/1", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
    ("path of 100 KB", b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: fc\r\n\r\n"),
    (
        "header of 1 MB",
        b"GET /invoke HTTP/1.1\r\nHost: fc\r\nX-Big: " + b"b" * 1_000_000 + b"\r\n\r\n",
    ),
    ("10,000 headers", b"GET / HTTP/1.1\r\n" + b"X-A: 1\r\n" * 10_000 + b"\r\n"),
    ("header without a colon", b"POST /invoke HTTP/1.1\r\nHost fc\r\n\r\n"),
    ("negative Content-Length", b"POST /invoke HTTP/1.1\r\nHost: fc\r\nContent-Length: -1\r\n\r\n"),
    ("Content-Length not a number", b"POST /invoke HTTP/1.1\r\nContent-Length: abc\r\n\r\n"),
    (
        "Content-Length and chunked",
        (
            b"POST /invoke HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"0\r\n\r\n"
        ),
    ),
    (
        "broken chunk",
        b"POST /invoke HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    ),
    ("NUL in the path", b"GET /inv\x00oke HTTP/1.1\r\nHost: fc\r\n\r\n"),
    ("unknown path", b"POST /nowhere HTTP/1.1\r\nHost: fc\r\nContent-Length: 0\r\n\r\n"),
    ("wrong method", b"DELETE /invoke HTTP/1.1\r\nHost: fc\r\n\r\n"),
    ("HTTP/1.0 invocation", b"POST /invoke HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}"),
    ("invalid JSON payload", _invoke_request(b"{not json")),
    ("payload of the wrong type", _invoke_request(b'{"name": 7}')),
    ("empty payload", _invoke_request(b"")),
    ("a panic", _invoke_request(b'{"panic": true}')),
    (
        "Expect: 100-continue",
        b"POST /invoke HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
    ),
    ("two pipelined invocations", _invoke_request(b"{}") + _invoke_request(b"{}")),
    ("oversize body sent at once", _invoke_request(b"x" * OVERSIZE)),
)


def hostile_requests(bootstrap: Bootstrap, figures: Figures) -> None:
    """Each hostile request is answered with an HTTP status, or refused with a clean close.

    A close is the only right answer to what is not HTTP/1 at all (an HTTP/2 preface); a request
    that gets neither before the timeout is a failure.
    """
    refused, hung = [], []
    for title, request in HOSTILE:
        try:
            answer = raw_exchange(bootstrap.port, request)
        except TimeoutError:
            hung.append(title)
            continue
        if not answer.startswith(b"HTTP/1."):
            refused.append(title)
    answered = len(HOSTILE) - len(refused) - len(hung)
    figures.say(
        f"hostile requests: {len(HOSTILE)} tried, {answered} answered with an HTTP status, "
        f"{len(refused)} refused with a clean close ({', '.join(refused) or 'none'}), "
        f"{len(hung)} left hanging"
    )
    figures.lost += len(hung)
    if not bootstrap.alive():
        figures.say("  the bootstrap died under hostile requests")
        figures.lost += 1


def invoke(port: int, body: bytes, timeout: float = 10.0) -> tuple[int, str | None]:
    """One invocation on a fresh connection: (HTTP status, x-fc-status)."""
    answer = raw_exchange(port, _invoke_request(body), timeout)
    head = answer.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")
    if not head or not head[0].startswith("HTTP/1."):
        return 0, None
    fc_status = next(
        (
            line.split(":", 1)[1].strip()
            for line in head[1:]
            if line.lower().startswith("x-fc-status:")
        ),
        None,
    )
    return int(head[0].split()[1]), fc_status


@contextlib.contextmanager
def held_connections(port: int, slow: int, idle: int) -> Iterator[list[socket.socket]]:
    """`slow` clients that send a header byte a second and `idle` ones that send nothing."""
    sockets: list[socket.socket] = []
    stop = threading.Event()
    try:
        for _ in range(slow + idle):
            connection = socket.create_connection(("127.0.0.1", port), 5)
            connection.settimeout(0.0)
            sockets.append(connection)
        trickle = b"POST /invoke HTTP/1.1\r\nX-Slow: " + b"s" * 10_000

        def drip() -> None:
            for byte in trickle:
                for connection in sockets[:slow]:
                    with contextlib.suppress(OSError):
                        connection.send(bytes([byte]))
                if stop.wait(1.0):
                    return

        threading.Thread(target=drip, daemon=True).start()
        yield sockets
    finally:
        stop.set()
        for connection in sockets:
            connection.close()


def _closed_by_server(connection: socket.socket) -> bool:
    try:
        return connection.recv(65536) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def slow_and_idle(zip_path: Path, figures: Figures, slow: int, idle: int, cap: int) -> None:
    """Slow clients shed by the header timeout, idle ones above the cap shed to make room.

    The bootstrap runs with 2 x `cap` open files (its connection cap is half the limit). First
    `slow` trickling clients and `idle` silent ones, within the cap: the slow heads time out
    (the runtime's 10 s header-read timeout) while the idle ones stay, as FC's pooled connections
    must, until the 10-minute idle timeout. Then `cap` more idle clients: above the cap the
    idlest make room. Normal invocations must pass throughout.
    """
    bootstrap = start(zip_path, open_files=2 * cap)
    latencies: list[float] = []

    def invocations() -> None:
        for _ in range(10):
            begun = time.perf_counter()
            try:
                answer = invoke(bootstrap.port, b'{"name": "under load"}')
            except (TimeoutError, ConnectionError):
                answer = (0, None)
            latencies.append(time.perf_counter() - begun)
            if answer != (200, "200"):
                figures.lost += 1

    try:
        with held_connections(bootstrap.port, slow, idle) as sockets:
            started = time.monotonic()
            invocations()
            slow_shed: set[int] = set()
            while len(slow_shed) < slow and time.monotonic() - started < HEAD_TIMEOUT_S + 20:
                slow_shed.update(
                    i for i in range(slow) if i not in slow_shed and _closed_by_server(sockets[i])
                )
                time.sleep(0.05)
            waited = time.monotonic() - started
            idle_kept = idle - sum(_closed_by_server(s) for s in sockets[slow:])
            with held_connections(bootstrap.port, 0, cap) as more:
                invocations()
                shed_at_cap = sum(_closed_by_server(s) for s in [*sockets[slow:], *more])
    finally:
        bootstrap.stop()
    figures.say(
        f"slow and idle connections (cap {cap}): {slow} slow shed {len(slow_shed)} within "
        f"{waited:.1f} s (header timeout {HEAD_TIMEOUT_S} s) while {idle_kept}/{idle} idle were "
        f"kept; {cap} more idle: {shed_at_cap} idlest shed at the cap; 20 normal invocations "
        f"meanwhile, slowest {max(latencies) * 1000:.1f} ms"
    )
    if len(slow_shed) < slow:
        figures.lost += 1


class KeepAlive:
    """Invocations over one keep-alive connection, opened again after a failed call."""

    def __init__(self, port: int) -> None:
        """A connection to the bootstrap on `port`."""
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def invoke(self, body: bytes, request_id: str) -> str | None:
        """One invocation: its x-fc-status, None when it ended without an answer."""
        try:
            self.connection.request("POST", "/invoke", body, {"x-fc-request-id": request_id})
            response = self.connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            return None
        return response.getheader("x-fc-status")

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


def soak(bootstrap: Bootstrap, figures: Figures, invocations: int) -> None:
    """Invocations over one keep-alive connection: greetings, errors and panics in turn."""
    bodies = (b'{"name": "soak"}', b'{"fail": true}', b'{"panic": true}')
    expected = ("200", "404", "404")
    rss_before, fds_before = bootstrap.rss_kb(), bootstrap.open_fds()
    connection = KeepAlive(bootstrap.port)
    answered = 0
    began = time.perf_counter()
    for index in range(invocations):
        fc_status = connection.invoke(bodies[index % 3], f"soak-{index}")
        answered += fc_status == expected[index % 3]
    elapsed = time.perf_counter() - began
    connection.close()
    figures.lost += invocations - answered
    figures.say(
        f"soak: {invocations} invocations ({invocations // 3} each greeting, error, panic) in "
        f"{elapsed:.1f} s, {answered} answered as expected; RSS {rss_before} -> "
        f"{bootstrap.rss_kb()} KB, open fds {fds_before} -> {bootstrap.open_fds()}"
    )


def build_faults(figures: Figures) -> None:
    """Every build fault of `infra.bootstrap.faults` on the tiny fixture workspace.

    Each must end in a clear error or a rebuild, leave no cargo or rustc running, and keep the
    previous package in dist/ intact; a fault that does not counts as a lost package.
    """
    workspace = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tiny-workspace"
    started = time.monotonic()
    try:
        lines = drill(workspace, "tiny")
    except FaultNotRecoveredError as error:
        figures.say(f"build faults: not recovered: {error}")
        figures.lost += 1
        return
    figures.say(
        f"build faults: {len(lines)} injected and recovered in {time.monotonic() - started:.0f} s"
    )
    for line in lines:
        figures.say(f"  {line}")


# -- GitHub faults --------------------------------------------------------------------------------

FAULTS = {
    "fault/rate-limited": "429 with Retry-After: 1, then synced",
    "fault/flaky": "503, then synced",
    "fault/conflict": "409 merge conflict",
    "fault/missing": "404",
    "fault/huge-error": "422 with a 10 MB message",
    "fault/endless": "200 with a body that never ends",
    "fault/silent": "never answers",
}


class _FaultyGitHub(BaseHTTPRequestHandler):
    """Answers merge-upstream per repository as FAULTS says; counts calls per repository."""

    calls: dict[str, int]
    lock = threading.Lock()

    def do_GET(self) -> None:
        """The repository lookup: a fork of upstream/<name> on main."""
        self._json(200, {"default_branch": "main", "fork": True})

    def do_POST(self) -> None:
        """merge-upstream, by repository."""
        repo = "/".join(self.path.split("/")[2:4])
        with self.lock:
            self.calls[repo] = self.calls.get(repo, 0) + 1
            count = self.calls[repo]
        if repo == "fault/rate-limited" and count == 1:
            self._json(429, {"message": "API rate limit exceeded"}, {"Retry-After": "1"})
        elif repo == "fault/flaky" and count == 1:
            self._json(503, {"message": "Service Unavailable"})
        elif repo == "fault/conflict":
            self._json(409, {"message": "There are merge conflicts"})
        elif repo == "fault/missing":
            self._json(404, {"message": "Not Found"})
        elif repo == "fault/huge-error":
            self._json(422, {"message": "x" * 10_000_000})
        elif repo == "fault/endless":
            self._endless()
        elif repo == "fault/silent":
            time.sleep(120)
        else:
            self._json(
                200,
                {"message": "synced", "merge_type": "fast-forward", "base_branch": "upstream:main"},
            )

    def _json(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        with contextlib.suppress(OSError):
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def _endless(self) -> None:
        with contextlib.suppress(OSError):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"message": "')
            for _ in range(100_000):
                self.wfile.write(b"a" * 65536)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet."""


def github_faults(zip_path: Path, figures: Figures, timeout_s: int) -> None:
    """sync-forks against the faulty GitHub: every fork must end with a status."""
    handler = type("Handler", (_FaultyGitHub,), {"calls": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        "GITHUB_API_URL": f"http://127.0.0.1:{server.server_address[1]}",
        "GITHUB_TOKEN": "stress-token-not-real",
        "SYNC_FORKS": ",".join(FAULTS),
        "SYNC_FORKS_BUDGET_SECS": str(timeout_s - 10),
    }
    bootstrap = start(zip_path, env)
    try:
        peak = bootstrap.rss_kb()
        answer: list[bytes] = []
        done = threading.Event()

        def call() -> None:
            """The whole answer (head and body), or nothing when none came in time."""
            connection = http.client.HTTPConnection("127.0.0.1", bootstrap.port, timeout_s + 5)
            try:
                connection.request("POST", "/invoke", b"", {"x-fc-request-id": "github-faults"})
                answer.append(connection.getresponse().read())
            except (OSError, http.client.HTTPException):
                pass
            finally:
                connection.close()
                done.set()

        threading.Thread(target=call, daemon=True).start()
        while not done.wait(0.1):
            if bootstrap.alive():
                peak = max(peak, bootstrap.rss_kb())
        summary = _summary(answer[0]) if answer else []
    finally:
        bootstrap.stop()
        server.shutdown()
    statuses = {str(f.get("repo")): str(f.get("status")) for f in summary}
    figures.say(f"GitHub faults: {len(FAULTS)} forks, peak RSS {peak} KB")
    for repo, fault in FAULTS.items():
        figures.say(f"  {repo:22} {fault:40} -> {statuses.get(repo, 'no status')}")
    if len(statuses) != len(FAULTS):
        figures.lost += 1


def _summary(body: bytes) -> list[dict[str, object]]:
    """The forks of sync-forks' answer, whether it succeeded or failed (`details`)."""
    try:
        data = json.loads(body)
    except ValueError:
        return []
    if isinstance(data, dict):
        forks = data.get("forks") or (data.get("details") or {}).get("forks")
        if isinstance(forks, list):
            return [f for f in forks if isinstance(f, dict)]
    return []


# -- held resources -------------------------------------------------------------------------------


@dataclass
class _Meanwhile:
    """Normal invocations, one after another on fresh connections, while an attack runs."""

    port: int
    ok: int = 0
    failed: int = 0
    slowest: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            begun = time.perf_counter()
            try:
                answer = invoke(self.port, b'{"name": "meanwhile"}', timeout=10)
            except (TimeoutError, OSError):
                answer = (0, None)
            self.slowest = max(self.slowest, time.perf_counter() - begun)
            if answer == (200, "200"):
                self.ok += 1
            else:
                self.failed += 1
            self.stop.wait(0.05)

    def said(self) -> str:
        """The figure: served, failed, slowest."""
        return (
            f"{self.ok} invocations served meanwhile ({self.failed} failed), "
            f"slowest {self.slowest * 1000:.0f} ms"
        )


@contextlib.contextmanager
def meanwhile(port: int) -> Iterator[_Meanwhile]:
    """Invocations in a thread of their own for the duration of the block."""
    served = _Meanwhile(port)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        served.stop.set()
        thread.join(15)


def _connect_all(port: int, count: int, first: bytes) -> list[socket.socket]:
    """`count` connections that each sent `first` (as much of it as the server took)."""
    sockets = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", port), 5)
        with contextlib.suppress(OSError):
            connection.sendall(first)
        connection.setblocking(False)  # noqa: FBT003 - socket's own API
        sockets.append(connection)
    return sockets


def stalled_bodies(zip_path: Path, figures: Figures, count: int, cap: int) -> None:
    """Connections with a complete head promising 100 bytes, then one byte and silence.

    Beyond the cap each new connection closes the oldest of them; within it, the body-read
    timeout does. Normal invocations must pass throughout.
    """
    bootstrap = start(zip_path, open_files=2 * cap)
    head = _invoke_request(b"{" + b" " * 99, "stalled")[:-99]
    try:
        with meanwhile(bootstrap.port) as served:
            sockets = _connect_all(bootstrap.port, count, head)
            started = time.monotonic()
            shed: set[int] = set()
            while len(shed) < count and time.monotonic() - started < BODY_TIMEOUT_S + 20:
                shed.update(
                    i for i in range(count) if i not in shed and _closed_by_server(sockets[i])
                )
                time.sleep(0.05)
            waited = time.monotonic() - started
        for connection in sockets:
            connection.close()
    finally:
        bootstrap.stop()
    figures.say(
        f"stalled bodies (cap {cap}): {count} connections with a complete head and 1 of 100 "
        f"body bytes: {len(shed)} shed within {waited:.1f} s (body-read timeout "
        f"{BODY_TIMEOUT_S} s); {served.said()}"
    )
    figures.lost += served.failed + (len(shed) < count)


def _peak_under(
    zip_path: Path, attack: Callable[[int], list[socket.socket]], settle_s: float
) -> tuple[int, int, _Meanwhile]:
    """Idle RSS and peak RSS (KB) of a fresh bootstrap under `attack`, held for `settle_s`."""
    bootstrap = start(zip_path)
    idle = bootstrap.rss_kb()
    try:
        with meanwhile(bootstrap.port) as served:
            sockets = attack(bootstrap.port)
            time.sleep(settle_s)
            peak = bootstrap.peak_rss_kb()
        for connection in sockets:
            connection.close()
    finally:
        bootstrap.stop()
    return idle, peak, served


def _senders(
    port: int, count: int, request: bytes, rcvbuf: int | None = None
) -> list[socket.socket]:
    """`count` clients, each sending `request` from a thread; none reads anything.

    A client stops sending when the server has taken nothing for 2 s.
    """
    sockets = []
    for _ in range(count):
        connection = socket.socket()
        if rcvbuf is not None:
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        connection.connect(("127.0.0.1", port))
        connection.settimeout(2)
        sockets.append(connection)
    view = memoryview(request)

    def send(connection: socket.socket) -> None:
        with contextlib.suppress(OSError):
            for at in range(0, len(view), MIB):
                connection.sendall(view[at : at + MIB])

    threads = [threading.Thread(target=send, args=(c,), daemon=True) for c in sockets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return sockets


def held_memory(zip_path: Path, figures: Figures, *, quick: bool) -> None:
    """Peak RSS under incomplete heads, stalled large bodies and unread answers."""
    limit_kb = MEMORY_MB * 1024
    heads = 500

    def head_attack(size: int) -> Callable[[int], list[socket.socket]]:
        head = b"POST /invoke HTTP/1.1\r\nHost: fc\r\nX-Pad: " + b"p" * size
        return lambda port: _connect_all(port, heads, head)

    body = 32 * MIB
    big = (
        b"POST /invoke HTTP/1.1\r\nHost: fc\r\nx-fc-request-id: big\r\n"
        + f"Content-Length: {body}\r\n\r\n".encode()
        + b"x" * (30 * MIB)
    )
    name = 31 * MIB
    greeting = _invoke_request(b'{"name": "' + b"n" * name + b'"}', "unread")
    attacks = (
        (f"{heads} incomplete heads of 371 KB (431 past 32 KiB)", head_attack(371_000), 1.0),
        (f"{heads} incomplete heads of 31 KB, held", head_attack(31_000), 1.0),
        (
            "20 bodies declaring 32 MiB, 30 MiB sent, then silence",
            lambda port: _senders(port, 20, big),
            1.0,
        ),
        (
            f"{4 if quick else 8} clients sending 31 MiB names, never reading the answer",
            lambda port: _senders(port, 4 if quick else 8, greeting, rcvbuf=4096),
            2.0,
        ),
    )
    figures.say(f"held memory (instance {MEMORY_MB} MB, body memory {MEMORY_MB // 4} MiB):")
    for title, attack, settle in attacks:
        idle, peak, served = _peak_under(zip_path, attack, settle)
        figures.say(
            f"  {title}: RSS {idle / 1024:.1f} -> peak {peak / 1024:.1f} MB; {served.said()}"
        )
        figures.lost += served.failed + (peak >= limit_kb)


def half_closed(bootstrap: Bootstrap, figures: Figures, count: int) -> None:
    """Clients that shut down their sending side right after the request still get the answer."""
    answered = 0
    for index in range(count):
        request = _invoke_request(b'{"sleep_ms": 50}', f"half-closed-{index}")
        with socket.create_connection(("127.0.0.1", bootstrap.port), 10) as connection:
            connection.sendall(request)
            connection.shutdown(socket.SHUT_WR)
            answer = b""
            with contextlib.suppress(OSError):
                while chunk := connection.recv(65536):
                    answer += chunk
        answered += answer.startswith(b"HTTP/1.1 200")
    figures.say(f"half-closed clients: {answered}/{count} answered")
    figures.lost += count - answered


def blocked_stdout(zip_path: Path, figures: Figures, invocations: int) -> None:
    """A stdout nobody reads: the pipe fills up, invocations must go on."""
    bootstrap = start(zip_path, drain=False)
    body = b'{"name": "' + b"n" * 4000 + b'"}'
    answered, slowest = 0, 0.0
    began = time.perf_counter()
    try:
        connection = KeepAlive(bootstrap.port)
        for index in range(invocations):
            started = time.perf_counter()
            answered += connection.invoke(body, f"b-{index}") == "200"
            slowest = max(slowest, time.perf_counter() - started)
        connection.close()
    finally:
        bootstrap.stop()
    figures.say(
        f"stdout nobody reads: {answered}/{invocations} invocations answered in "
        f"{time.perf_counter() - began:.1f} s ({invocations * 4} KB of log lines), slowest "
        f"{slowest * 1000:.0f} ms"
    )
    figures.lost += invocations - answered


FORGERIES = (
    b'{"a\\nFC Invoke End RequestId: forged-1":1}',
    b'{"name": "x\\r\\nFC Invoke End RequestId: forged-2"}',
    b'{"name": "main\\u202egnp.exe\\u200b\\u2028FC Invoke End RequestId: forged-3"}',
)
"""Payloads whose text would print a forged End line if it reached the log raw."""


def log_forging(bootstrap: Bootstrap, figures: Figures) -> None:
    """Newlines, bidi and zero-width characters in payloads: every log line stays one line."""
    for index, body in enumerate(FORGERIES):
        raw_exchange(bootstrap.port, _invoke_request(body, f"forging-{index}"))
    last = f"FC Invoke End RequestId: forging-{len(FORGERIES) - 1}\n".encode()
    deadline = time.monotonic() + 10
    while last not in bootstrap.last_lines and time.monotonic() < deadline:
        time.sleep(0.02)
    # The last lines kept, the soak's included: its panics are one line each too (fc-runtime's
    # panic hook), on stdout, with stderr merged into this output.
    lines = [line.decode(errors="replace") for line in bootstrap.last_lines]
    forged = [line for line in lines if "RequestId: forged-" in line and line.startswith("FC ")]
    split = [line for line in lines if not re.match(r"FC |\d{4}-\d\d-\d\dT", line)]
    hidden = [line for line in lines if any(c in line for c in "\u202e\u200b\u2028")]
    figures.say(
        f"log forging: {len(FORGERIES)} payloads with newlines, bidi and zero-width "
        f"characters: {len(forged)} forged lines, {len(split)} split lines, {len(hidden)} "
        "with raw invisible characters"
    )
    figures.lost += len(forged) + len(split) + len(hidden) + (last not in bootstrap.last_lines)


# -- sibling crates -------------------------------------------------------------------------------

SIBLINGS = {
    "stuck": "fn main() {\n    loop {\n        std::thread::park();\n    }\n}\n",
    "failing": 'fn main() {\n    panic!("this build script fails");\n}\n',
}


def sibling_crates(figures: Figures) -> None:
    """Package tiny beside a function whose build script never ends, then one that fails."""
    fixture = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tiny-workspace"
    timeout_s = "5"
    with tempfile.TemporaryDirectory(prefix="fc-stress-siblings-") as tmp:
        for name, build_rs in SIBLINGS.items():
            workspace = Path(tmp) / name
            shutil.copytree(fixture, workspace, ignore=shutil.ignore_patterns("target", "dist"))
            crate = workspace / "functions" / name
            (crate / "src").mkdir(parents=True)
            (crate / "src" / "main.rs").write_text("fn main() {}\n")
            (crate / "build.rs").write_text(build_rs)
            (crate / "Cargo.toml").write_text(
                f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n'
            )
            subprocess.run(
                ["cargo", "update", "--workspace", "--offline", "--quiet"],
                cwd=workspace,
                check=True,
            )
            builder = Builder(
                workspace,
                cache_dir=Path(tmp) / "cache",
                target_dir=Path(tmp) / "cargo",
                log=io.StringIO(),
            )
            started = time.monotonic()
            os.environ["FCRUST_BUILD_SCRIPT_TIMEOUT_S"] = timeout_s
            try:
                builder.package("tiny")
                outcome = "packaged: the sibling was not noticed"
            except BuildError as error:
                named = f"crate {name}" in str(error)
                outcome = "an error naming it" if named else f"an error not naming it: {error}"
            finally:
                del os.environ["FCRUST_BUILD_SCRIPT_TIMEOUT_S"]
            left = builder.cargo_pid is not None and group_alive(builder.cargo_pid)
            figures.say(
                f"sibling crate whose build script is {name} (build-script timeout {timeout_s} s): "
                f"{outcome} after {time.monotonic() - started:.1f} s; "
                f"{'cargo left running' if left else 'no process left'}"
            )
            figures.lost += outcome != "an error naming it" or left


# -- scaffold kills -------------------------------------------------------------------------------

SCAFFOLD_PROGRAM = {
    "Cargo.toml": (
        '[workspace]\nresolver = "2"\nmembers = ["crates/*", "functions/*"]\n\n'
        '[workspace.dependencies]\nfc-runtime = { path = "crates/fc-runtime" }\n'
    ),
    "Cargo.lock": "# the lock file\nversion = 4\n",
    "Pulumi.yaml": "name: mine\nruntime: python\n",
    "Pulumi.dev.yaml": "config:\n  mine:functions:\n    hello: {}\n",
    "Pulumi.broken.yaml": "config:\n  mine:functions: [not, a, map]\n",
    "functions/hello/Cargo.toml": '[package]\nname = "hello"\n',
}
"""A program for `python -m infra new` whose workspace needs no compiler: `cargo` is a script."""
LOCKING_CARGO = "#!/bin/sh\nprintf '# updated by cargo\\n' >> Cargo.lock\n"
"""A `cargo update` that records it ran: no registry, no compiler."""
STUCK_CARGO = (
    "#!/bin/sh\n"
    'echo $$ > "$CARGO_STARTED.tmp" && mv "$CARGO_STARTED.tmp" "$CARGO_STARTED"\n'
    'while :; do echo "# rewritten $(date +%s%N)" > Cargo.lock; sleep 0.02; done\n'
)
"""A `cargo update` that says it started, then rewrites Cargo.lock until it is killed."""
KILLED_AT_WRITE = """
import os, signal, sys
import infra.scaffold as scaffold
limit, calls, write = int(sys.argv[1]), [0], scaffold.write_atomic
def dying(path, data):
    calls[0] += 1
    if calls[0] == limit:
        print(path.name, file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    write(path, data)
scaffold.write_atomic = dying
from infra.__main__ import main
sys.exit(main(sys.argv[2:]))
"""
"""`python -m infra` that SIGKILLs itself before its Nth file write, naming the file on stderr."""
NEW = ("-m", "infra", "new", "greeter", "--stack", "dev", "--stack", "prod")
"""The scaffold run that is stopped: a new function added to two stack files."""


class _Scratch:
    """A scratch program in `root/program`, with a fake `cargo` first in PATH."""

    def __init__(self, root: Path, cargo: str) -> None:
        self.program = root / "program"
        for name, text in SCAFFOLD_PROGRAM.items():
            path = self.program / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self.cargo = root / "bin" / "cargo"
        self.cargo.parent.mkdir()
        self.use_cargo(cargo)
        self.started = root / "cargo-started"
        self.env = {
            "PATH": f"{self.cargo.parent}:{os.environ['PATH']}",
            "HOME": str(Path.home()),
            "CARGO_STARTED": str(self.started),
        }
        self.before = self.tree()

    def use_cargo(self, script: str) -> None:
        """Make `cargo` the given script."""
        self.cargo.write_text(script)
        self.cargo.chmod(0o755)

    def tree(self) -> dict[str, bytes | None]:
        """Every file's bytes and every directory (None) of the program."""
        return {
            str(path.relative_to(self.program)): None if path.is_dir() else path.read_bytes()
            for path in sorted(self.program.rglob("*"))
        }

    def popen(self, *args: str) -> subprocess.Popen[bytes]:
        """Start `python ARGS` in the program."""
        return subprocess.Popen(
            [sys.executable, *args],
            cwd=self.program,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `python ARGS` in the program."""
        return subprocess.run(
            [sys.executable, *args],
            cwd=self.program,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def cargo_pid(self, process: subprocess.Popen[bytes]) -> int | None:
        """The fake cargo's pid once it says it started; None if `process` ended first."""
        deadline = time.monotonic() + 30
        while not self.started.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                return None
            time.sleep(0.01)
        return int(self.started.read_text())


def _left_behind(expected: dict[str, bytes | None], now: dict[str, bytes | None]) -> list[str]:
    """How `now` differs from `expected`: paths added (the topmost only), changed or removed."""
    added = [path for path in now if path not in expected]
    left = [
        f"{path}{'/' if now[path] is None else ''} added"
        for path in added
        if str(Path(path).parent) not in added
    ]
    left += [f"{path} changed" for path in expected if path in now and now[path] != expected[path]]
    return left + [f"{path} removed" for path in expected if path not in now]


def _cargo_left(cargo: int) -> list[str]:
    """`cargo running` when its process group is still there after up to 5 s."""
    deadline = time.monotonic() + 5
    while group_alive(cargo):
        if time.monotonic() > deadline:
            return ["cargo running"]
        time.sleep(0.01)
    return []


@dataclass
class _Stops:
    """Reports scaffold runs that were stopped, against `finished`: a run never stopped."""

    figures: Figures
    root: Path
    finished: dict[str, bytes | None]

    def say(self, step: str, how: str, left: list[str], after: list[str] | None = None) -> None:
        """One line: the step, the signal or exit status, what was left (and after the next run).

        What is left counts as lost; after a SIGKILL, what the next run left.
        """
        line = f"  {step}, {how}: left {', '.join(left) or 'nothing'}"
        if after is not None:
            line += f"; after the next run: {', '.join(after) or 'nothing'}"
        self.figures.say(line)
        self.figures.lost += bool(left if after is None else after)

    def next_run(self, scratch: _Scratch) -> list[str]:
        """Run `new` again with a working cargo: how the program differs from `finished`."""
        scratch.use_cargo(LOCKING_CARGO)
        retried = scratch.run(*NEW)
        said = retried.stderr.strip().splitlines()
        failed = [f"it failed ({said[-1] if said else retried.returncode})"]
        failed = failed if retried.returncode else []
        return failed + _left_behind(self.finished, scratch.tree())


SCAFFOLD_REFUSED = 2
"""`python -m infra new`'s exit status when it changed nothing because of a problem."""


def _signals_during_cargo_update(stops: _Stops) -> None:
    """SIGINT and SIGTERM roll back at once; after SIGKILL, the next run rolls back first."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        scratch = _Scratch(stops.root / signum.name, STUCK_CARGO)
        process = scratch.popen(*NEW)
        cargo = scratch.cargo_pid(process)
        if cargo is None:
            process.kill()
            process.wait()
            stops.say("during cargo update", signum.name, ["cargo never started"])
            continue
        process.send_signal(signum)
        process.wait(60)
        left = _left_behind(scratch.before, scratch.tree())
        if signum != signal.SIGKILL:
            stops.say("during cargo update", signum.name, left + _cargo_left(cargo))
            continue
        left += ["cargo running"] if group_alive(cargo) else []
        after = stops.next_run(scratch) + _cargo_left(cargo)
        stops.say("during cargo update", signum.name, left, after)


def _error_in_the_second_stack_file(stops: _Stops) -> None:
    """A stack file whose functions entry is not a mapping, named second: nothing changes."""
    scratch = _Scratch(stops.root / "broken", LOCKING_CARGO)
    refused = scratch.run("-m", "infra", "new", "greeter", "--stack", "dev", "--stack", "broken")
    left = _left_behind(scratch.before, scratch.tree())
    if refused.returncode != SCAFFOLD_REFUSED:
        left.append("not refused")
    stops.say("error in the second --stack file", f"exit {refused.returncode}", left)


def _sigkill_before_each_write(stops: _Stops) -> None:
    """SIGKILL before the 1st, 2nd, ... file write until a run gets through: each is undone."""
    write = 0
    while True:
        write += 1
        scratch = _Scratch(stops.root / f"write-{write}", LOCKING_CARGO)
        killed = scratch.run("-c", KILLED_AT_WRITE, str(write), *NEW[2:])
        if killed.returncode == 0:
            return
        named = killed.stderr.strip().splitlines()
        left = _left_behind(scratch.before, scratch.tree())
        if killed.returncode != -signal.SIGKILL:
            left.append(f"exit {killed.returncode}, not killed")
        step = f"before write {write} ({named[-1] if named else '?'})"
        stops.say(step, "SIGKILL", left, stops.next_run(scratch))


def scaffold_kills(figures: Figures) -> None:
    """`python -m infra new` stopped at each step; nothing may be left once it is over.

    SIGINT, SIGTERM and SIGKILL during its `cargo update`, an error in the second of two
    `--stack` files, and a SIGKILL before each file it writes (the journal's included). An
    error, SIGINT or SIGTERM rolls back at once: the program must be as it was. A SIGKILL cannot
    be cleaned up after; the next `new` rolls it back first (infra/scaffold.py), and its result
    must be that of a run never stopped. One line per stop: the step, the signal (or the exit
    status) and what was left; for a SIGKILL, also what was left after the next run.
    """
    with tempfile.TemporaryDirectory(prefix="fc-stress-scaffold-") as tmp:
        reference = _Scratch(Path(tmp) / "reference", LOCKING_CARGO)
        made = reference.run(*NEW)
        if made.returncode != 0:
            figures.say(f"scaffold kills: `python -m infra new` failed: {made.stderr.strip()}")
            figures.lost += 1
            return
        stops = _Stops(figures, Path(tmp), reference.tree())
        figures.say(f"scaffold kills (`python {' '.join(NEW)}`, a fake cargo):")
        _signals_during_cargo_update(stops)
        _error_in_the_second_stack_file(stops)
        _sigkill_before_each_write(stops)


def main() -> int:
    """Run every part, print figures and the `lost` line; 1 when anything was lost."""
    parser = argparse.ArgumentParser(prog="python -m bench.stress")
    parser.add_argument("--quick", action="store_true", help="the short run `make test` does")
    args = parser.parse_args()
    figures = Figures()
    builder = Builder()
    figures.say(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    hello = builder.package("hello").zip_path
    sync_forks = builder.package("sync-forks").zip_path
    bootstrap = start(hello)
    try:
        hostile_requests(bootstrap, figures)
        soak(bootstrap, figures, 3_000 if args.quick else 100_000)
        log_forging(bootstrap, figures)
        half_closed(bootstrap, figures, 20 if args.quick else 200)
    finally:
        bootstrap.stop()
    slow_and_idle(
        hello,
        figures,
        slow=20 if args.quick else 200,
        idle=50 if args.quick else 200,
        cap=100 if args.quick else 500,
    )
    stalled_bodies(hello, figures, count=200 if args.quick else 520, cap=100 if args.quick else 500)
    held_memory(hello, figures, quick=args.quick)
    blocked_stdout(hello, figures, 2_000 if args.quick else 20_000)
    github_faults(sync_forks, figures, timeout_s=40)
    build_faults(figures)
    sibling_crates(figures)
    scaffold_kills(figures)
    figures.say(f"lost: {figures.lost}")
    return 1 if figures.lost else 0


if __name__ == "__main__":
    sys.exit(main())
