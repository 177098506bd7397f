"""The hellos `make bench` measures side by side, each built as it would ship.

Each is started as FC starts a custom runtime: from its code directory, with FC's environment and
nothing of the host's, answering `POST /invoke` with FC's headers on `FC_CUSTOM_LISTEN_PORT`.

- ours: functions/hello as the project packages it (`Builder().package`), its zip unpacked.
- Go: bench/go/hello.go, standard library, built with Debian's Go.
- Python: bench/python/hello.py, standard library, on the system's python3.
- seed: bench/seed, the architecture of the article this project grew from (tokio "full", warp,
  pretty_env_logger) with its release profile, in its own Cargo workspace.

hello-http's `GET /hello/{name}` (FC's HTTP trigger) has its own contenders, when the workspace
has functions/hello-http: ours, Go (bench/go/http, net/http) and Python
(bench/python/hello_http.py, http.server) (`http_hellos`, in FC's shape and side by side), and the
seed's stack (bench/seed/src/http.rs, warp; `seed_http`, side by side), each asked as FC forwards
an HTTP-trigger request.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING

from infra.bootstrap import Builder
from infra.limits import RUNTIMES
from infra.local.instance import Instance, free_port, unpack
from infra.local.invocation import request_headers
from infra.local.processes import process_info, read_rss
from infra.local.stack import DEFAULT_REGION, LocalFunction
from infra.spec import MEMORY_SIZE, TIMEOUT

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bench.cgroup import Group

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
TARGET = REPO / "target"
CODE_DIRS = TARGET / "bench-code"
"""Each contender's code directory: what FC would unpack into /code."""
GO_BINARY = TARGET / "bench-go" / "hello"
GO_HTTP_BINARY = TARGET / "bench-go" / "hello-http"
HTTP_FUNCTION = "hello-http"
SEED_TARGET = TARGET / "bench-seed"
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"

REQUEST_ID = "bench-request"
HELLO_BODY = b"{}"
SYNC_FORKS_BODY = b'{"forks": []}'
"""sync-forks with no fork to sync: any answer to it counts (a sync that succeeds needs GitHub)."""
GREETING = {"message": "Hello, world!", "request_id": REQUEST_ID}
"""What every hello must answer to HELLO_BODY: checked on each contender's first answer."""
HTTP_PATH = "/hello/bench"
HTTP_GREETING = {"message": "Hello, bench!"}
"""What every hello-http must answer to `GET HTTP_PATH`."""
HTTP_TRIGGER_HEADERS = {"x-fc-control-path": "/http-invoke"}
"""What marks a request FC forwards from an HTTP trigger (fc-runtime's http_trigger.rs)."""
START_TIMEOUT_S = 30.0
STOP_GRACE_S = 10.0
CONNECT_RETRY_S = 0.0005
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
"""The unit of the CPU times in /proc/<pid>/stat (100 per second on Linux)."""


@dataclass(frozen=True)
class Contender:
    """One hello (or ours of another function) ready to start."""

    key: str
    """Its key in results.json."""
    name: str
    """Its name in the tables."""
    function: str
    """The FC function name it is started as."""
    code_dir: Path
    command: tuple[str, ...]
    binary: Path | None
    """The executable in the code directory; None where the runtime brings it (Python)."""
    built_with: str
    """How it was built, for the results."""
    body: bytes = HELLO_BODY
    method: str = "POST"
    path: str = "/invoke"
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    """Headers beside FC's invocation headers (an HTTP trigger's mark)."""
    greeting: Mapping[str, str] | None = field(default_factory=lambda: GREETING)
    """What its first answer must be, as JSON; None: not checked."""
    status: int | None = http.HTTPStatus.OK
    """The status of its answer to `body`; None: any (the cold start then ends at any answer)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Its own variables, as a function's configuration would set them."""
    packaged_zip: int | None = None
    """The zip as the project ships it (ours only)."""

    def request_headers(self) -> dict[str, str]:
        """The headers of each request to it: FC's invocation headers and its own."""
        return invoke_headers(self.function) | dict(self.extra_headers)

    def zip_size(self) -> int:
        """Bytes of a zip of the code directory, deflated by zlib at level 9.

        The same compressor for every contender (the project's own zip may compress better:
        `packaged_zip`).
        """
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for path in sorted(self.code_dir.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(self.code_dir).as_posix())
        return len(buffer.getvalue())


def _function(name: str) -> LocalFunction:
    """The function as the emulator would run it with the project's defaults."""
    return LocalFunction(
        name=name,
        crate=name,
        workspace=REPO,
        runtime=RUNTIMES[0],
        memory_size=MEMORY_SIZE,
        timeout=TIMEOUT,
        region=DEFAULT_REGION,
    )


def fc_environment(function: str, port: int, code_dir: Path) -> dict[str, str]:
    """The variables the emulator (infra.local.instance) gives a bootstrap, for this port."""
    instance = Instance(_function(function), zip_path=code_dir / "unused.zip")
    instance.port = port
    return instance.fc_environment(str(code_dir))


def invoke_headers(function: str = "hello") -> dict[str, str]:
    """FC's headers for one `POST /invoke` (infra.local.invocation), with REQUEST_ID."""
    return request_headers(_function(function), REQUEST_ID, "Invoke")


def _fresh_code_dir(key: str) -> Path:
    code_dir = CODE_DIRS / key
    shutil.rmtree(code_dir, ignore_errors=True)
    code_dir.mkdir(parents=True)
    return code_dir


def _tool_version(command: list[str]) -> str:
    run = subprocess.run(command, capture_output=True, text=True, check=True)
    return (run.stdout or run.stderr).strip()


def ours(crate: str = "hello", key: str = "ours") -> Contender:
    """Our function, packaged by the project and unpacked as FC unpacks it."""
    package = Builder().package(crate)
    code_dir = _fresh_code_dir(key)
    bootstrap = unpack(package.zip_path, code_dir)
    return Contender(
        key=key,
        name="ours" if crate == "hello" else f"ours ({crate}; to its first answer, any status)",
        function=crate,
        code_dir=code_dir,
        command=(str(bootstrap),),
        binary=bootstrap,
        built_with=f"the project's package ({package.rustc})",
        body=HELLO_BODY if crate == "hello" else SYNC_FORKS_BODY,
        greeting=GREETING if crate == "hello" else None,
        status=http.HTTPStatus.OK if crate == "hello" else None,
        packaged_zip=package.size,
    )


def _go_build(package: str, binary: Path, key: str) -> tuple[Path, Path, str]:
    """Build a package of bench/go: its code directory, its bootstrap and how it was built.

    Static (no cgo), symbols stripped as ours and the seed's are.
    """
    if shutil.which("go") is None:
        raise RuntimeError("go not found on PATH: install Debian's `golang-go` (make bench does)")
    binary.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CGO_ENABLED": "0", "GOPROXY": "off", "GOFLAGS": "-trimpath"}
    flags = ["-ldflags=-s -w"]
    subprocess.run(
        ["go", "build", *flags, "-o", str(binary), package],
        cwd=BENCH_DIR / "go",
        env=env,
        check=True,
    )
    code_dir = _fresh_code_dir(key)
    bootstrap = code_dir / "bootstrap"
    shutil.copy2(binary, bootstrap)
    version = _tool_version(["go", "version"]).removeprefix("go version ")
    return code_dir, bootstrap, f"{version}, CGO_ENABLED=0 -trimpath -ldflags='-s -w'"


def go() -> Contender:
    """The Go hello (bench/go/hello.go)."""
    code_dir, bootstrap, built_with = _go_build(".", GO_BINARY, "go")
    return Contender(
        key="go",
        name="Go",
        function="hello",
        code_dir=code_dir,
        command=(str(bootstrap),),
        binary=bootstrap,
        built_with=built_with,
    )


def go_one_processor(go_contender: Contender) -> Contender:
    """The same Go hello with GOMAXPROCS=1: one goroutine scheduler (P), as on one vCPU.

    With more Ps than goroutines to run, Go's idle Ps spin looking for work before their threads
    sleep, so a request arriving meanwhile is picked up without a wake-up from the kernel: lower
    latency at one connection, paid in CPU time. With one P there is nobody to spin.
    """
    return replace(
        go_contender,
        key="go_1p",
        name="Go, GOMAXPROCS=1",
        env={**go_contender.env, "GOMAXPROCS": "1"},
        built_with=f"{go_contender.built_with}, run with GOMAXPROCS=1",
    )


def python(script: str = "hello.py", key: str = "python") -> Contender:
    """The Python hello on the system's python3, as a custom runtime's image carries one."""
    interpreter = shutil.which("python3", path=SYSTEM_PATH)
    if interpreter is None:
        raise RuntimeError(f"python3 not found in {SYSTEM_PATH}: install Debian's `python3`")
    code_dir = _fresh_code_dir(key)
    shutil.copy2(BENCH_DIR / "python" / script, code_dir / script)
    return Contender(
        key=key,
        name="Python",
        function="hello",
        code_dir=code_dir,
        command=(interpreter, script),
        binary=None,
        built_with=f"{_tool_version([interpreter, '--version'])} ({interpreter})",
    )


def seed(binary: str = "seed-hello", key: str = "seed") -> Contender:
    """The seed's architecture, built as its Makefile builds it (`cargo build --release`).

    `binary`: seed-hello (hello), or seed-hello-http (hello-http's route, `seed_http`); one
    build makes both.
    """
    manifest = BENCH_DIR / "seed" / "Cargo.toml"
    env = {**os.environ, "CARGO_TARGET_DIR": str(SEED_TARGET)}
    build = ["cargo", "build", "--release", "--locked", "--quiet", "--manifest-path"]
    subprocess.run([*build, str(manifest)], env=env, check=True)
    code_dir = _fresh_code_dir(key)
    bootstrap = code_dir / "bootstrap"
    shutil.copy2(SEED_TARGET / "release" / binary, bootstrap)
    return Contender(
        key=key,
        name="seed",
        function="hello",
        code_dir=code_dir,
        command=(str(bootstrap),),
        binary=bootstrap,
        built_with=f"{_tool_version(['rustc', '--version'])}, cargo build --release --locked",
        # pretty_env_logger logs nothing below `error` unless told: the seed's own `info!` lines
        # need RUST_LOG, as a function's configuration would set it.
        env={"RUST_LOG": "info"},
    )


def hellos() -> list[Contender]:
    """Every hello measured side by side: ours, Go, Go with GOMAXPROCS=1, Python, the seed."""
    go_contender = go()
    return [ours(), go_contender, go_one_processor(go_contender), python(), seed()]


def has_http_function() -> bool:
    """Whether the workspace has hello-http, whose trio `http_hellos` builds."""
    return (REPO / "functions" / HTTP_FUNCTION / "Cargo.toml").is_file()


def _as_trigger(contender: Contender) -> Contender:
    """`contender` asked `GET HTTP_PATH` as FC forwards an HTTP trigger's request."""
    return replace(
        contender,
        function=HTTP_FUNCTION,
        body=b"",
        method="GET",
        path=HTTP_PATH,
        extra_headers=HTTP_TRIGGER_HEADERS,
        greeting=HTTP_GREETING,
        status=http.HTTPStatus.OK,
    )


def http_hellos() -> list[Contender]:
    """hello-http's `GET /hello/{name}` in ours, Go and Python, asked as an HTTP trigger asks."""
    code_dir, bootstrap, built_with = _go_build("./http", GO_HTTP_BINARY, "go_http")
    go_http = Contender(
        key="go_http",
        name="Go",
        function=HTTP_FUNCTION,
        code_dir=code_dir,
        command=(str(bootstrap),),
        binary=bootstrap,
        built_with=built_with,
    )
    ours_http = replace(ours(HTTP_FUNCTION, key="ours_http"), name="ours")
    return [_as_trigger(c) for c in (ours_http, go_http, python("hello_http.py", "python_http"))]


def seed_http() -> Contender:
    """hello-http's `GET /hello/{name}` on the seed's stack (warp), asked as a trigger asks."""
    return _as_trigger(seed("seed-hello-http", key="seed_http"))


def invoke(  # noqa: PLR0913 - one request, every part of it
    port: int,
    body: bytes,
    headers: Mapping[str, str],
    *,
    status: int | None = http.HTTPStatus.OK,
    timeout: float = 10.0,
    method: str = "POST",
    path: str = "/invoke",
) -> bytes:
    """One request (`POST /invoke` unless told) on a new connection; its body.

    Raises unless it answers `status` (None: any status).
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body or None, headers=dict(headers))
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    if status is not None and response.status != status:
        raise RuntimeError(
            f"{method} {path} on port {port} answered {response.status}, not {status}: {data!r}"
        )
    return data


def _check_greeting(contender: Contender, answer: bytes) -> None:
    if contender.greeting is not None and json.loads(answer) != contender.greeting:
        raise RuntimeError(
            f"{contender.name} ({contender.function}) answered {answer!r}, not the greeting "
            f"{contender.greeting}"
        )


class Running:
    """A contender started, answering: `cold_start_s` is from exec to its first 200.

    Its stdout and stderr go to /dev/null (`pipe=False`) or to one pipe that a thread of the bench
    drains (`pipe=True`), as FC reads a function's output; the pipe's bytes and lines are counted.
    """

    def __init__(self, contender: Contender, *, pipe: bool, group: Group | None = None) -> None:
        """Start `contender` (inside `group`, when given) and wait for its first answer."""
        self.contender = contender
        self.port = free_port()
        self.headers = contender.request_headers()
        self.output_bytes = 0
        self.output_lines = 0
        env = {"PATH": f"{contender.code_dir}:{SYSTEM_PATH}"}
        env |= fc_environment(contender.function, self.port, contender.code_dir)
        env |= contender.env
        if group is not None:
            group.prime()
        started = time.perf_counter()
        self.process = subprocess.Popen(
            contender.command,
            cwd=contender.code_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipe else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends all of it
            # Into its cgroup between fork and exec, so that its whole start runs under the
            # quota. No thread of the bench runs at this point (the drainer starts below).
            preexec_fn=None if group is None else group.enter,  # noqa: PLW1509
        )
        self._drainer: threading.Thread | None = None
        if pipe:
            assert self.process.stdout is not None  # noqa: S101 - asked for above
            self._drainer = threading.Thread(
                target=self._drain, args=(self.process.stdout,), daemon=True
            )
            self._drainer.start()
        try:
            first = self._first_answer()
            self.cold_start_s = time.perf_counter() - started
            _check_greeting(contender, first)
        except BaseException:
            self.stop()
            raise

    def _first_answer(self) -> bytes:
        deadline = time.perf_counter() + START_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.contender.name} ({' '.join(self.contender.command)}) exited with "
                    f"code {self.process.returncode} before answering on port {self.port}"
                )
            try:
                return invoke(
                    self.port,
                    self.contender.body,
                    self.headers,
                    status=self.contender.status,
                    method=self.contender.method,
                    path=self.contender.path,
                )
            except ConnectionRefusedError:
                if time.perf_counter() > deadline:
                    raise RuntimeError(
                        f"{self.contender.name} did not listen on port {self.port} (from "
                        f"FC_CUSTOM_LISTEN_PORT) within {START_TIMEOUT_S:g} s"
                    ) from None
                time.sleep(CONNECT_RETRY_S)

    def _drain(self, stream: IO[bytes]) -> None:
        descriptor = stream.fileno()
        while chunk := os.read(descriptor, 1 << 16):
            self.output_bytes += len(chunk)
            self.output_lines += chunk.count(b"\n")

    def rss(self) -> int:
        """The resident set size now, in bytes."""
        return read_rss(self.process.pid)[0]

    def peak_rss(self) -> int:
        """The most resident memory the process has held (VmHWM), in bytes."""
        return read_rss(self.process.pid)[1]

    def cpu_seconds(self) -> float:
        """User and system CPU seconds of the process so far, all its threads, to the clock tick."""
        info = process_info(self.process.pid)
        if info is None:
            raise RuntimeError(f"{self.contender.name} (pid {self.process.pid}) is gone")
        return info.cpu / CLOCK_TICKS

    def stop(self) -> None:
        """SIGTERM its process group, SIGKILL after STOP_GRACE_S; drain what it printed."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self._drainer is not None:
            self._drainer.join()
        if self.process.stdout is not None:
            self.process.stdout.close()
