"""The local emulator drives real packages (and small fake bootstraps) as FC does."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infra.bootstrap import Builder
from infra.container import DOCKERFILE, prepare_context
from infra.local import FunctionStartError, Instance, LocalFunction, timer_event
from infra.local.invocation import ASYNC_PAYLOAD_MAX_BYTES, SYNC_PAYLOAD_MAX_BYTES
from infra.local.output import CALL_OUTPUT_MAX_BYTES, CALL_OUTPUT_MAX_LINES
from infra.local.serve import next_fire
from infra.local.stack import load_functions
from stack.github_double import DoubleFork, GitHubDouble

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "t0k-not-a-secret"  # noqa: S105 - what the GitHub double accepts
REPORT = re.compile(
    r"^Duration: \d+\.\d\d ms, Billed Duration: \d+ ms, Memory Size: \d+ MB, "
    r"Max Memory Used: \d+ MB$",
    re.MULTILINE,
)

FAKE_SERVER = """
import json, os, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer

class Handler(BaseHTTPRequestHandler):
    def answer(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        request_id = self.headers.get("x-fc-request-id")
        print(f"FC Invoke Start RequestId: {request_id}", flush=True)
        if body == "hog":
            hog = b"x" * (200 * 1024 * 1024)
            time.sleep(10)
        echo = {"method": self.command, "path": self.path, "headers": dict(self.headers),
                "body": body, "env": dict(os.environ), "cwd": os.getcwd()}
        data = json.dumps(echo).encode()
        print(f"FC Invoke End RequestId: {request_id}", flush=True)
        self.send_response(200)
        self.send_header("x-fc-status", "200")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_GET = do_POST = answer
    def log_message(self, *args): pass

print("fake bootstrap up", flush=True)
HTTPServer((BIND, int(os.environ["FC_CUSTOM_LISTEN_PORT"])), Handler).serve_forever()
"""


def fake_zip(directory: Path, body: str, *, mode: int = 0o755) -> Path:
    """A code package whose `bootstrap` is a Python script run by this interpreter."""
    path = directory / f"fake-{uuid.uuid4().hex[:8]}.zip"
    info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(info, f"#!{sys.executable}\n{body}")
    return path


def echo_zip(directory: Path, bind: str = "0.0.0.0") -> Path:  # noqa: S104 - FC's contract
    return fake_zip(directory, f"BIND = {bind!r}\n{FAKE_SERVER}")


def spec(name: str = "hello", **changes: object) -> LocalFunction:
    base = LocalFunction(
        name=name,
        crate=name,
        workspace=ROOT,
        runtime="custom.debian10",
        memory_size=128,
        timeout=10,
        region="cn-hangzhou",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def gone(pid: int | None) -> bool:
    """Whether the process no longer exists (a zombie still counts as present)."""
    assert pid is not None
    return not Path(f"/proc/{pid}").exists()


class Echo:
    """The emulator's echo of the bootstrap's lines, waited on for a line (no fixed sleeps)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._added = threading.Condition()

    def __call__(self, line: str) -> None:
        with self._added:
            self.lines.append(line)
            self._added.notify_all()

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 30) -> list[re.Match[str]]:
        """The first `count` lines matching `pattern`, once they came."""
        regex = re.compile(pattern)

        def found() -> list[re.Match[str]]:
            return [m for m in map(regex.fullmatch, self.lines) if m is not None]

        with self._added:
            assert self._added.wait_for(lambda: len(found()) >= count, timeout), self.lines
            return found()[:count]


def packaging_digest() -> str:
    """sha256 of the code that makes a package from a binary: every module of infra/bootstrap."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "infra" / "bootstrap").glob("*.py")):
        digest.update(b"%s\0%d\0" % (path.name.encode(), path.stat().st_size))
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The real hello and sync-forks zips, built once (copied: other builds may replace dist/).

    From a build cache keyed by the packaging code (archive.py and the rest of infra/bootstrap),
    not only by BUILDER_VERSION: a change to how the zip is made reaches these tests even when
    the version is not bumped. Mutation caught: a package made by a changed archive.py (say,
    `bootstrap` stored 0644) read from the cache of the unchanged one.
    """
    directory = tmp_path_factory.mktemp("packages")
    cache = ROOT / "target" / "fc-rust" / "test-packages" / packaging_digest()
    builder = Builder(ROOT, cache_dir=cache)
    zips = {}
    for crate in ("hello", "sync-forks"):
        zips[crate] = directory / f"{crate}.zip"
        shutil.copyfile(builder.package(crate).zip_path, zips[crate])
    return zips


def run_cli(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str = "",
    module: str = "infra.local",
    cwd: Path = ROOT,
) -> subprocess.CompletedProcess[str]:
    """`python -m infra.local ARGS` (or `module`), run in `cwd`."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


# -- the real functions ----------------------------------------------------------------------


def test_hello_answers_with_fc_status_200_and_the_report(packages: dict[str, Path]) -> None:
    lines: list[str] = []
    with Instance(spec(), zip_path=packages["hello"], echo=lines.append) as instance:
        result = instance.invoke(b'{"name": "Ada"}')
    assert (result.status, result.fc_status, result.succeeded) == (200, 200, True)
    body = json.loads(result.body)
    assert body == {"message": "Hello, Ada!", "request_id": result.request_id}
    assert f"FC Invoke Start RequestId: {result.request_id}" in result.output
    assert f"FC Invoke End RequestId: {result.request_id}" in result.output
    assert REPORT.fullmatch(result.report_line())
    assert 0 < result.max_memory_mb < 128
    assert gone(instance.pid)


def test_hello_failure_is_404_with_the_error_type(packages: dict[str, Path]) -> None:
    with Instance(spec(), zip_path=packages["hello"], echo=lambda _: None) as instance:
        failed = instance.invoke(b'{"fail": true}')
        panicked = instance.invoke(b'{"panic": true}')
        after = instance.invoke(b"{}")
    assert (failed.status, failed.fc_status, failed.succeeded) == (404, 404, False)
    assert failed.error() == {
        "errorType": "GreetError",
        "errorMessage": "failing on purpose, as the payload asked",
    }
    assert panicked.fc_status == 404
    assert panicked.error() is not None
    assert panicked.error()["errorType"] == "Panic"  # type: ignore[index]
    assert after.succeeded, "the instance keeps serving after a handler error and a panic"


def test_cli_exit_status_follows_the_function(packages: dict[str, Path]) -> None:
    ok = run_cli(
        "invoke", "hello", "--zip", str(packages["hello"]), "--event", "-", stdin='{"name":"Bo"}'
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # The result alone on stdout (`| jq` works); the logs and FC's report on stderr.
    assert json.loads(ok.stdout)["message"] == "Hello, Bo!"
    assert REPORT.search(ok.stderr)
    assert "FC Invoke Start RequestId:" in ok.stderr
    failed = run_cli(
        "invoke", "hello", "--zip", str(packages["hello"]), "--event", "-", stdin='{"fail":true}'
    )
    assert failed.returncode == 1
    assert "x-fc-status 404" in failed.stderr
    assert json.loads(failed.stdout)["errorType"] == "GreetError"
    assert REPORT.search(failed.stderr)
    timed_out = run_cli(
        "invoke",
        *("hello", "--zip", str(packages["hello"]), "--timeout", "1", "--output", "json"),
        *("--event", "-"),
        stdin='{"sleep_ms": 20000}',
    )
    assert timed_out.returncode == 1, timed_out.stderr
    summary = json.loads(timed_out.stdout)
    assert summary["succeeded"] is False
    assert summary["error"]["errorType"] == "FunctionTimeout"
    assert summary["result"] is None
    as_json = run_cli(
        *("invoke", "hello", "--zip", str(packages["hello"]), "--output", "json", "--event", "-"),
        stdin='{"name":"Cy"}',
    )
    assert as_json.returncode == 0, as_json.stderr
    summary = json.loads(as_json.stdout)
    assert summary["result"]["message"] == "Hello, Cy!"
    assert (summary["status"], summary["fcStatus"], summary["succeeded"]) == (200, 200, True)
    assert summary["memorySizeMb"] == 128
    assert 0 < summary["maxMemoryUsedMb"] < 128
    assert summary["billedDurationMs"] >= 1
    assert summary["logs"][0] == f"FC Invoke Start RequestId: {summary['requestId']}"
    assert summary["logs"][-1] == f"FC Invoke End RequestId: {summary['requestId']}"


STDERR_SERVER = """
import os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request_id = self.headers.get("x-fc-request-id")
        # As a Rust panic: the start line on stdout, the panic's message on stderr, in order.
        print(f"FC Invoke Start RequestId: {request_id}", flush=True)
        panic = f"thread 'main' panicked at src/main.rs:1:1: {request_id}"
        print(panic, file=sys.stderr, flush=True)
        print(f"FC Invoke End RequestId: {request_id}", flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args): pass

HTTPServer(("0.0.0.0", int(os.environ["FC_CUSTOM_LISTEN_PORT"])), Handler).serve_forever()
"""


def test_stderr_lines_keep_their_place_among_stdout_lines(tmp_path: Path) -> None:
    # stdout and stderr reach the emulator through one pipe, in the order they were written.
    package = fake_zip(tmp_path, STDERR_SERVER)

    def slow_terminal(_: str) -> None:
        time.sleep(0.005)  # while one line is echoed, the next ones wait in the pipe

    with Instance(spec(), zip_path=package, echo=slow_terminal) as instance:
        for _ in range(50):
            result = instance.invoke(b"{}")
            assert result.output == [
                f"FC Invoke Start RequestId: {result.request_id}",
                f"thread 'main' panicked at src/main.rs:1:1: {result.request_id}",
                f"FC Invoke End RequestId: {result.request_id}",
            ]


def test_timeout_kills_the_instance_and_says_so(packages: dict[str, Path]) -> None:
    started = time.monotonic()
    with Instance(spec(timeout=1), zip_path=packages["hello"], echo=lambda _: None) as instance:
        result = instance.invoke(b'{"sleep_ms": 20000}')
        assert not instance.alive(), "FC kills an instance whose invocation timed out"
    assert time.monotonic() - started < 10
    assert result.error_type == "FunctionTimeout"
    assert result.error_message == "Function timed out after 1 seconds"
    assert 1000 <= result.duration_ms < 3000
    assert not result.succeeded
    assert gone(instance.pid)


def test_sync_forks_runs_its_timer_against_the_double(packages: dict[str, Path]) -> None:
    forks = {"me/behind": DoubleFork("behind"), "me/stuck": DoubleFork("conflict")}
    with GitHubDouble(forks, token=TOKEN) as double:
        environment = {
            "GITHUB_API_URL": double.url,
            "GITHUB_TOKEN": TOKEN,
            "SYNC_FORKS": "me/behind,me/stuck",
        }
        function = spec("sync-forks", environment=environment)
        with Instance(function, zip_path=packages["sync-forks"], echo=lambda _: None) as instance:
            result = instance.invoke(timer_event("daily"))
        calls = double.merge_calls()
    assert (result.status, result.fc_status) == (404, 404)
    error = json.loads(result.body)
    assert error["errorType"] == "SyncFailed"
    statuses = {fork["repo"]: fork["status"] for fork in error["details"]["forks"]}
    assert statuses == {"me/behind": "synced", "me/stuck": "conflict"}
    assert sorted(call.path for call in calls) == [
        "/repos/me/behind/merge-upstream",
        "/repos/me/stuck/merge-upstream",
    ]
    assert all(call.headers["authorization"] == f"Bearer {TOKEN}" for call in calls)
    assert all(call.json() == {"branch": "main"} for call in calls)


# -- bootstraps that break FC's contract -----------------------------------------------------


def test_a_bootstrap_that_never_listens_fails_the_health_check(tmp_path: Path) -> None:
    package = fake_zip(
        tmp_path, "import time\nprint('warming up forever', flush=True)\ntime.sleep(600)\n"
    )
    instance = Instance(spec(), zip_path=package, start_timeout=1.5, echo=lambda _: None)
    started = time.monotonic()
    with pytest.raises(FunctionStartError) as raised:
        instance.start()
    assert time.monotonic() - started < 10
    assert raised.value.error_type == "FunctionNotStarted"
    assert f"health check failed on port {instance.port} in 1.5 seconds" in raised.value.message
    assert "warming up forever" in raised.value.output
    assert gone(instance.pid), "the stuck bootstrap is killed"
    assert instance.code_dir is not None
    assert not instance.code_dir.exists()


def test_a_bootstrap_that_exits_at_start_is_reported_with_its_output(tmp_path: Path) -> None:
    package = fake_zip(
        tmp_path, "import sys\nprint('SYNC_FORKS is not set', flush=True)\nsys.exit(3)\n"
    )
    with pytest.raises(FunctionStartError) as raised:
        Instance(spec(), zip_path=package, start_timeout=30, echo=lambda _: None).start()
    assert raised.value.error_type == "FunctionNotStarted"
    assert "exited with exit status 3 before listening" in raised.value.message
    assert raised.value.output == ["SYNC_FORKS is not set"]


def test_a_bootstrap_without_the_execute_bit_fails_like_fc(tmp_path: Path) -> None:
    with pytest.raises(FunctionStartError) as raised:
        Instance(
            spec(), zip_path=fake_zip(tmp_path, "BIND = '0.0.0.0'\n" + FAKE_SERVER, mode=0o644)
        ).start()
    assert raised.value.error_type == "CAFilePermission"
    assert "mode 644" in raised.value.message


def test_binding_loopback_only_is_refused_as_fc_would(tmp_path: Path) -> None:
    instance = Instance(spec(), zip_path=echo_zip(tmp_path, "127.0.0.1"), echo=lambda _: None)
    with pytest.raises(FunctionStartError) as raised:
        instance.start()
    assert "must bind 0.0.0.0" in raised.value.message
    assert gone(instance.pid)


def test_a_memory_breach_kills_the_instance(tmp_path: Path) -> None:
    with Instance(
        spec(memory_size=128), zip_path=echo_zip(tmp_path), echo=lambda _: None
    ) as instance:
        result = instance.invoke(b"hog")
        assert not instance.alive()
    assert result.error_type == "MemoryLimitExceeded"
    assert result.max_memory_mb > 128
    assert f"Max Memory Used: {result.max_memory_mb} MB" in result.report_line()


FLOOD_LINES = 100_000
FLOOD_SERVER = """
import os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

LINE = "x" * 999 + "\\n"  # 1000 bytes

def flood(lines):
    for _ in range(lines):
        sys.stdout.write(LINE)
    sys.stdout.flush()

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request_id = self.headers.get("x-fc-request-id")
        print(f"FC Invoke Start RequestId: {request_id}", flush=True)
        if body == b"flood":
            flood(LINES)
        print(f"FC Invoke End RequestId: {request_id}", flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args): pass

flood(LINES // 2)  # output outside any call: only echoed
HTTPServer(("0.0.0.0", int(os.environ["FC_CUSTOM_LISTEN_PORT"])), Handler).serve_forever()
"""
FLOOD_DRIVER = """
import json, sys
from pathlib import Path
from infra.local import Instance, LocalFunction

def memory():
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {key: int(status[key].split()[0]) * 1024 for key in ("VmRSS", "VmHWM")}

echoed = {"lines": 0, "bytes": 0}
def echo(line):
    echoed["lines"] += 1
    echoed["bytes"] += len(line) + 1
    sys.stdout.write(line + "\\n")  # the terminal: /dev/null here

function = LocalFunction(name="flood", crate="flood", workspace=Path.cwd(), runtime="custom",
                         memory_size=1024, timeout=120, region="cn-hangzhou")
before = memory()
with Instance(function, zip_path=Path(sys.argv[1]), echo=echo) as instance:
    result = instance.invoke(b"flood")
after = memory()
report = {"before": before, "after": after, "echoed": echoed, "output": result.output,
          "succeeded": result.succeeded, "request_id": result.request_id}
Path(sys.argv[2]).write_text(json.dumps(report))
"""


def test_the_emulator_keeps_bounded_output_of_a_flooding_bootstrap(tmp_path: Path) -> None:
    """150 MB of output (50 MB before listening, 100 MB in one call) in bounded memory."""
    package = fake_zip(tmp_path, f"LINES = {FLOOD_LINES}\n{FLOOD_SERVER}")
    report_path = tmp_path / "report.json"
    subprocess.run(
        [sys.executable, "-c", FLOOD_DRIVER, str(package), str(report_path)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        check=True,
        timeout=300,
    )
    report = json.loads(report_path.read_text())
    assert report["succeeded"]
    call_lines = FLOOD_LINES + 2  # with its Start and End lines
    assert report["echoed"]["lines"] == FLOOD_LINES // 2 + call_lines, "every line is echoed"
    assert report["echoed"]["bytes"] > 150_000_000
    growth = report["after"]["VmHWM"] - report["before"]["VmRSS"]
    assert growth < 30 * 1024 * 1024, f"the emulator grew by {growth / 2**20:.0f} MiB"
    output = report["output"]
    request_id = report["request_id"]
    assert output[0] == f"FC Invoke Start RequestId: {request_id}"
    assert output[-1] == f"FC Invoke End RequestId: {request_id}"
    markers = [line for line in output if line.startswith("... ")]
    assert len(markers) == 1, markers
    dropped = re.match(r"\.\.\. (\d+) lines dropped", markers[0])
    assert dropped is not None, markers[0]
    kept = len(output) - 1
    assert kept + int(dropped.group(1)) == call_lines
    assert kept <= CALL_OUTPUT_MAX_LINES
    assert sum(len(line) + 1 for line in output if line is not markers[0]) <= CALL_OUTPUT_MAX_BYTES


DETACHING_SERVER = """
import os, subprocess, time
from http.server import BaseHTTPRequestHandler, HTTPServer

# A child in its own session (out of the bootstrap's process group, holding its stdout), and
# the orphan of a double fork (its parent exits at once).
detached = subprocess.Popen(["setsid", "sleep", "1000"])
print(f"detached {detached.pid}", flush=True)
orphan = subprocess.run(
    ["setsid", "sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $!"],
    capture_output=True, text=True, check=True,
).stdout.strip()
print(f"orphan {orphan}", flush=True)

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(600)
    do_GET = do_POST
    def log_message(self, *args): pass

HTTPServer(("0.0.0.0", int(os.environ["FC_CUSTOM_LISTEN_PORT"])), Handler).serve_forever()
"""


@pytest.mark.parametrize("ending", ["stop", "timeout"])
def test_processes_the_bootstrap_detached_die_with_the_instance(
    tmp_path: Path, ending: str
) -> None:
    echo = Echo()
    instance = Instance(spec(timeout=1), zip_path=fake_zip(tmp_path, DETACHING_SERVER), echo=echo)
    pids: list[int] = []
    try:
        instance.start()
        found = echo.wait_for(r"(detached|orphan) (\d+)", count=2)
        pids = [int(match.group(2)) for match in found]
        assert not any(map(gone, pids)), "the bootstrap's helpers run while the instance does"
        usage = instance.usage()
        assert {instance.pid, *pids} <= set(usage.pids), usage
        assert usage.rss_bytes > 0
        assert usage.open_fds >= 3 * len(usage.pids)
        if ending == "timeout":
            assert instance.invoke(b"{}").error_type == "FunctionTimeout"
            assert [pid for pid in pids if not gone(pid)] == [], "FC kills the whole instance"
        instance.stop(pre_stop=False)
        assert [pid for pid in pids if not gone(pid)] == []
        assert gone(instance.pid)
    finally:
        instance.stop(pre_stop=False)
        for pid in pids:  # a failing run leaves no sleeper behind
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def test_an_event_over_fcs_payload_limit_is_refused_as_fc_does(
    packages: dict[str, Path], tmp_path: Path
) -> None:
    event = b"x" * (40 * 1024 * 1024)
    assert len(event) > SYNC_PAYLOAD_MAX_BYTES
    with Instance(spec(), zip_path=packages["hello"], echo=lambda _: None) as instance:
        refused = instance.invoke(event)
        too_big_for_a_timer = instance.invoke(
            b"x" * (ASYNC_PAYLOAD_MAX_BYTES + 1), asynchronous=True
        )
        # Past the emulator's check: what the bootstrap makes of it.
        direct = instance.call("Invoke", "POST", "/invoke", event, timeout=10)
        after = instance.invoke(b'{"name": "Ada"}')
    assert (refused.error_type, refused.status, refused.output) == ("EntityTooLarge", None, [])
    assert refused.error_message is not None
    assert "payload too large" in refused.error_message
    assert "41943040 bytes (40 MiB)" in refused.error_message
    assert "33554432 bytes (32 MiB) for a synchronous invocation" in refused.error_message
    assert too_big_for_a_timer.error_type == "EntityTooLarge"
    assert "131072 bytes (128 KiB) for an asynchronous" in str(too_big_for_a_timer.error_message)
    assert direct.error_type == "EntityTooLarge", direct.error_message
    assert "payload too large" in str(direct.error_message)
    assert "Broken pipe" not in str(direct.error_message)
    if direct.status is not None:  # the runtime's answer made it through
        assert (direct.status, direct.fc_status) == (413, 404)
    assert after.succeeded, "the instance keeps serving"
    (tmp_path / "event.json").write_bytes(event)
    cli = run_cli(
        "invoke", "hello", "--zip", str(packages["hello"]), "--event", str(tmp_path / "event.json")
    )
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert "failed: EntityTooLarge: payload too large" in cli.stderr
    assert "the event is 41943040 bytes (40 MiB)" in cli.stderr
    assert "Broken pipe" not in cli.stderr
    assert cli.stdout == ""


def test_an_endless_event_is_refused_at_the_limit_without_reading_it_all(
    packages: dict[str, Path],
) -> None:
    zero = run_cli("invoke", "hello", "--zip", str(packages["hello"]), "--event", "/dev/zero")
    assert zero.returncode == 1, zero.stderr
    assert "the event is more than 33554432 bytes (32 MiB) (reading stopped there)" in (zero.stderr)
    # 200 MB on stdin: the emulator stops reading one byte past the limit and refuses.
    command = ["invoke", "hello", "--zip", str(packages["hello"]), "--event", "-"]
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local", *command],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    chunk = b"x" * (1024 * 1024)
    written = 0
    with contextlib.suppress(BrokenPipeError):
        while written < 200 * len(chunk):
            process.stdin.write(chunk)
            written += len(chunk)
    with contextlib.suppress(BrokenPipeError):
        process.stdin.close()
    assert process.stdout is not None
    assert process.stderr is not None
    out, err = process.stdout.read(), process.stderr.read()
    assert process.wait(60) == 1, err
    assert b"over FC's limit of 33554432 bytes (32 MiB)" in err
    assert written < 200 * len(chunk), "the whole 200 MB was read before the refusal"
    assert out == b""


REFUSING_SERVER = """
import os, socket

# Reads a request's headers, then closes the connection: never the body, never an answer.
server = socket.create_server(("0.0.0.0", int(os.environ["FC_CUSTOM_LISTEN_PORT"])))
print("refusing bootstrap up", flush=True)
while True:
    connection, _ = server.accept()
    head = b""
    while b"\\r\\n\\r\\n" not in head:
        chunk = connection.recv(65536)
        if not chunk:
            break
        head += chunk
    connection.close()
"""


def test_a_bootstrap_that_hangs_up_on_a_big_body_means_payload_too_large(
    tmp_path: Path,
) -> None:
    package = fake_zip(tmp_path, REFUSING_SERVER)
    with Instance(spec(), zip_path=package, echo=lambda _: None) as instance:
        result = instance.call("Invoke", "POST", "/invoke", b"x" * (40 * 1024 * 1024), timeout=10)
        assert instance.alive()
    assert result.error_type == "EntityTooLarge", result.error_message
    assert "payload too large: the bootstrap closed the connection" in str(result.error_message)


# -- what the bootstrap receives -------------------------------------------------------------


def test_the_timer_event_headers_and_environment_are_fcs(tmp_path: Path) -> None:
    host_token = "from-host"  # noqa: S105 - a fake
    env = {"PATH": os.environ["PATH"], "GITHUB_TOKEN": host_token, "HOST_ONLY_SECRET": "leak"}
    before = datetime.now(UTC).replace(microsecond=0)
    run = run_cli(
        "invoke", "sync-forks", "--timer", "daily", "--zip", str(echo_zip(tmp_path)), env=env
    )
    assert run.returncode == 0, run.stdout + run.stderr
    echo = json.loads(run.stdout)
    event = json.loads(echo["body"])
    assert list(event) == ["triggerTime", "triggerName", "payload"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["triggerTime"])
    fired = datetime.strptime(event["triggerTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= fired <= datetime.now(UTC)
    assert (event["triggerName"], event["payload"]) == ("daily", "")
    headers = {k.lower(): v for k, v in echo["headers"].items()}
    assert (echo["method"], echo["path"]) == ("POST", "/invoke")
    assert uuid.UUID(headers["x-fc-request-id"])
    assert headers["x-fc-function-name"] == "sync-forks-dev"  # FC's name: <entry>-<stack>
    assert headers["x-fc-function-memory"] == "128"
    assert headers["x-fc-function-timeout"] == "300"
    assert headers["x-fc-region"] == "cn-hangzhou"
    assert headers["content-type"] == "application/octet-stream"
    environment = echo["env"]
    port = environment["FC_CUSTOM_LISTEN_PORT"]
    assert environment["FC_SERVER_PORT"] == port
    assert environment["FC_FUNC_CODE_PATH"] == echo["cwd"]
    assert environment["FC_FUNCTION_NAME"] == "sync-forks-dev"
    assert environment["FC_FUNCTION_MEMORY_SIZE"] == "128"
    assert environment["SYNC_FORKS"] == "octocat/Hello-World"
    assert environment["GITHUB_TOKEN"] == host_token
    assert "HOST_ONLY_SECRET" not in environment, "nothing of the host leaks but what is declared"
    assert {"FC_REGION", "FC_ACCOUNT_ID", "FC_INSTANCE_ID", "FC_FUNCTION_HANDLER"} <= set(
        environment
    )


def _echoed(stdout: str) -> dict[str, object]:
    """What the echo bootstrap answered: the CLI's stdout."""
    return json.loads(stdout)  # type: ignore[no-any-return]


def test_the_cli_runs_any_programs_functions(tmp_path: Path) -> None:
    """A program outside this repository: its own project, stack and function names."""
    program = tmp_path / "my-app"
    program.mkdir()
    (program / "Pulumi.yaml").write_text("name: my-app\nruntime: python\n")
    (program / "Pulumi.dev.yaml").write_text(
        "config:\n  my-app:functions:\n    greeter:\n      crate: greeter\n"
        "      memorySize: 256\n      environment:\n        GREETING: hi\n"
    )
    package = echo_zip(tmp_path)
    for cwd, where in ((program, []), (tmp_path, ["--dir", str(program)])):
        run = run_cli("invoke", "greeter", *where, "--zip", str(package), cwd=cwd)
        assert run.returncode == 0, run.stdout + run.stderr
        environment = _echoed(run.stdout)["env"]
        assert isinstance(environment, dict)
        assert environment["FC_FUNCTION_NAME"] == "greeter-dev"
        assert environment["FC_FUNCTION_MEMORY_SIZE"] == "256"
        assert environment["GREETING"] == "hi"
    elsewhere = run_cli("invoke", "greeter", "--zip", str(package), cwd=tmp_path)
    assert elsewhere.returncode == 2, elsewhere.stdout + elsewhere.stderr
    assert f"no Pulumi.yaml in {tmp_path}: run in the program's directory or pass --dir" in (
        elsewhere.stderr
    )
    unknown = run_cli("invoke", "hello", "--zip", str(package), cwd=program)
    assert unknown.returncode == 2
    assert "stack 'dev' has no function 'hello' (functions: greeter)" in unknown.stderr
    # Building it: the crate the entry names is not there; the message names the stack key.
    (program / "Cargo.toml").write_text('[workspace]\nmembers = ["functions/*"]\n')
    (program / "Cargo.lock").write_text("version = 4\n")
    missing = run_cli("invoke", "greeter", cwd=program)
    assert missing.returncode == 2, missing.stderr
    assert "greeter: crate 'greeter' is not in the Cargo workspace" in missing.stderr
    assert "functions.greeter.crate" in missing.stderr


def test_timer_event_matches_fcs_sample() -> None:
    moment = datetime(2023, 12, 26, 7, 49, 0, 123456, tzinfo=UTC)
    assert timer_event("timer-trigger", "awesome-fc", moment) == (
        b'{"triggerTime":"2023-12-26T07:49:00Z","triggerName":"timer-trigger","payload":"awesome-fc"}'
    )


def test_the_initializer_is_called_with_fcs_headers(tmp_path: Path) -> None:
    with Instance(spec(), zip_path=echo_zip(tmp_path), echo=lambda _: None) as instance:
        init = instance.initialize()
    echo = json.loads(init.body)
    assert (echo["method"], echo["path"]) == ("POST", "/initialize")
    assert "x-fc-function-initializer" in {k.lower() for k in echo["headers"]}
    assert init.succeeded


# -- the stack -------------------------------------------------------------------------------


def test_the_stack_config_maps_to_the_functions_as_main_does() -> None:
    dev = load_functions("dev", ROOT, environ={})
    assert dev["sync-forks"].environment == {
        "SYNC_FORKS": "octocat/Hello-World",
        "SYNC_FORKS_BUDGET_SECS": "290",
    }
    assert dev["sync-forks"].missing_secrets == ["GITHUB_TOKEN"]
    assert [(t["name"], t["cron"]) for t in dev["sync-forks"].timers] == [("daily", "0 0 0 * * *")]
    assert (dev["sync-forks"].memory_size, dev["sync-forks"].timeout) == (128, 300)
    assert dev["sync-forks"].workspace == ROOT, "the package builds in the program's workspace"
    assert dev["hello"].timers == []
    prod = load_functions("prod", ROOT, environ={"GITHUB_TOKEN": TOKEN})
    assert prod["sync-forks"].environment["GITHUB_TOKEN"] == TOKEN
    assert prod["sync-forks"].missing_secrets == []
    assert prod["sync-forks"].timers[0]["cron"] == "CRON_TZ=Asia/Shanghai 0 0 8 * * *"
    assert (prod["sync-forks"].memory_size, prod["sync-forks"].region) == (256, "cn-shanghai")
    assert prod["sync-forks"].runtime == "custom.debian11"


def test_secrets_in_the_stack_file_are_never_read(tmp_path: Path) -> None:
    shutil.copyfile(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.t.yaml").write_text(
        "config:\n  fc-rust:githubToken:\n    secure: v1:AAAA\n  fc-rust:functions:\n"
        "    sync-forks:\n      environment:\n        SYNC_FORKS: a/b,c/d:dev\n"
        "      secretEnvironment:\n        GITHUB_TOKEN: githubToken\n"
    )
    sync_forks = load_functions("t", tmp_path, environ={})["sync-forks"]
    assert sync_forks.environment == {"SYNC_FORKS": "a/b,c/d:dev"}
    assert sync_forks.missing_secrets == ["GITHUB_TOKEN"]
    from_host = load_functions("t", tmp_path, environ={"GITHUB_TOKEN": TOKEN})["sync-forks"]
    assert from_host.environment["GITHUB_TOKEN"] == TOKEN, "a secret comes from the environment"


def test_the_emulator_takes_pulumi_yamls_defaults_as_the_program_does(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: mine\nruntime: python\nconfig:\n"
        "  runtime:\n    type: string\n    default: custom.debian12\n"
        "  alicloud:region:\n    value: cn-beijing\n"
    )
    (tmp_path / "Pulumi.t.yaml").write_text(
        "config:\n  mine:functions:\n    hello: {}\n    other:\n      crate: hello\n"
        "      runtime: custom.debian10\n"
    )
    functions = load_functions("t", tmp_path, environ={})
    assert functions["hello"].runtime == "custom.debian12"
    assert functions["other"].runtime == "custom.debian10", "an entry's own value wins"
    assert functions["hello"].region == "cn-beijing"
    # Pulumi's short form, a bare value, is a default too.
    (tmp_path / "Pulumi.yaml").write_text("name: mine\nconfig:\n  runtime: custom.debian11\n")
    assert load_functions("t", tmp_path, environ={})["hello"].runtime == "custom.debian11"
    (tmp_path / "Pulumi.t.yaml").write_text(
        "config:\n  mine:runtime: custom\n  alicloud:region: cn-hangzhou\n"
        "  mine:functions:\n    hello: {}\n"
    )
    hello = load_functions("t", tmp_path, environ={})["hello"]
    assert (hello.runtime, hello.region) == ("custom", "cn-hangzhou"), "the stack's value wins"


def test_next_fire_follows_fc_cron_and_short_every() -> None:
    start = datetime(2024, 5, 1, 23, 59, 58, tzinfo=UTC)
    assert next_fire("@every 1s", start) == start + timedelta(seconds=1)
    assert next_fire("0 0 0 * * *", start) == datetime(2024, 5, 2, tzinfo=UTC)
    assert next_fire("CRON_TZ=Asia/Shanghai 0 0 8 * * *", start) == datetime(2024, 5, 2, tzinfo=UTC)
    with pytest.raises(ValueError, match="5 fields"):
        next_fire("0 0 * * *", start)


# -- serve and the demo ----------------------------------------------------------------------


class _Lines:
    """A subprocess's stdout, read in a thread so waits stay bounded."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self.lines.extend(line.rstrip("\n") for line in process.stdout)

    def text(self) -> str:
        return "\n".join(self.lines)


def test_serve_fires_every_second_and_stops_cleanly_on_ctrl_c(packages: dict[str, Path]) -> None:
    forks = {"me/behind": DoubleFork("behind")}
    with GitHubDouble(forks, token=TOKEN) as double:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "infra.local",
                "serve",
                "sync-forks",
                "--zip",
                str(packages["sync-forks"]),
                "--cron",
                "@every 1s",
                "--port",
                "0",
                "--env",
                f"GITHUB_API_URL={double.url}",
                "--env",
                f"GITHUB_TOKEN={TOKEN}",
                "--env",
                "SYNC_FORKS=me/behind",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output = _Lines(process)
        try:
            # Ctrl-C between two fires: right after the second invocation's report line, a
            # second before the next fire. (During an invocation the emulator cancels the call
            # and kills the instance, so it would have no pre-stop hook to call.)
            deadline = time.monotonic() + 30
            while (
                len(REPORT.findall(output.text())) < 2
                and time.monotonic() < deadline
                and process.poll() is None
            ):
                time.sleep(0.01)
            assert len(double.merge_calls()) >= 2, output.text()
            process.send_signal(signal.SIGINT)
            assert process.wait(30) == 0, output.text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
        outcomes = [outcome.merge_type for outcome in double.outcomes]
    text = output.text()
    assert outcomes[:2] == ["fast-forward", "none"], "the second fire sees the fork already synced"
    assert len(REPORT.findall(text)) >= 2
    pid = int(re.search(r"started sync-forks \(pid (\d+)\)", text).group(1))  # type: ignore[union-attr]
    assert "received SIGINT: stopping" in text
    assert "pre-stop: the function has no pre-stop hook (404)" in text
    assert f"stopped sync-forks (pid {pid})" in text
    assert gone(pid), "no orphan bootstrap after Ctrl-C"


def test_make_local_demo_prints_the_three_outcomes(packages: dict[str, Path]) -> None:
    assert packages  # built once: the demo's own build is a cache hit
    started = time.monotonic()
    offline = {k: v for k, v in os.environ.items() if k != "GITHUB_TOKEN"}
    demo = run_cli("demo", env=offline, module="stack")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert time.monotonic() - started < 30
    text = demo.stdout
    assert "newcomer/behind-fork was behind upstream: main synced (fast-forwarded)" in text
    assert "newcomer/current-fork was already up to date" in text
    assert "newcomer/conflicted-fork has a merge conflict with upstream" in text
    assert "FC counts this invocation as failed (x-fc-status 404)" in text
    # What FC would count, from the dev stack: the metric, no retry of a timer, no alert set.
    assert "CloudMonitor: FunctionFunctionErrors of sync-forks goes up by 1" in text
    assert "FC: no retry of this timer event" in text
    assert "alert: none set" in text
    assert REPORT.search(text)
    assert text.rstrip().splitlines()[-1].startswith("Duration: ")


# -- the container variant -------------------------------------------------------------------


@pytest.mark.docker
@pytest.mark.usefixtures("docker_engine")
def test_the_container_variant_speaks_the_same_protocol() -> None:
    builder = Builder()
    _, context = prepare_context(builder, "hello")
    dockerfile = str(builder.workspace.root / DOCKERFILE)
    tag = f"fc-local-test:{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["docker", "build", "-q", "-f", dockerfile, "-t", tag, str(context)],
        check=True,
        timeout=300,
    )
    try:
        with Instance(spec(), image=tag, echo=lambda _: None) as instance:
            result = instance.invoke(b'{"name": "Docker"}')
            failed = instance.invoke(b'{"fail": true}')
        assert json.loads(result.body)["message"] == "Hello, Docker!"
        assert (failed.status, failed.fc_status) == (404, 404)
        assert result.max_memory_mb > 0, "memory is read from the container's process"
        assert instance.container_name is not None
        listed = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"name={instance.container_name}"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        assert listed.stdout.strip() == "", "the container is removed on stop"
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False, timeout=60)
