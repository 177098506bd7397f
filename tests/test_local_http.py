"""`serve` and `invoke --http` in front of the packaged hello-http, as FC's HTTP trigger is.

The committed stacks give hello-http `http: {authType: anonymous, methods: [GET, POST]}`; the
emulator forwards a client's request to the instance with FC's headers and refuses what the
trigger would refuse. Driven over real sockets; each wait is for a line or a port, never a sleep.
"""

from __future__ import annotations

import http.client
import io
import itertools
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING

import pytest
from test_local import ROOT, run_cli, spec

from infra.bootstrap import Builder
from infra.local.http_invoke import HEADERS_MAX_BYTES, PATH_MAX_BYTES, read_chunked, refusal

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

pytestmark = pytest.mark.unit

FUNCTION = "hello-http"
TRIGGER_LINE = re.compile(r"HTTP trigger on http://127\.0\.0\.1:(?P<port>\d+)/")
WAIT_S = 60.0


def copy_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """hello-http's zip as the build resource makes it (copied: other builds may replace dist/)."""
    path = tmp_path_factory.mktemp("packages") / f"{FUNCTION}.zip"
    shutil.copyfile(Builder().package(FUNCTION).zip_path, path)
    return path


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_package(tmp_path_factory)


class Served:
    """`python -m infra.local serve ARGUMENTS --port 0`: its output, read as it comes."""

    def __init__(self, arguments: Sequence[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infra.local", "serve", *arguments, "--port", "0"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._added = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._added:
                self.lines.append(line.rstrip("\n"))
                self._added.notify_all()
        with self._added:
            self._added.notify_all()

    def wait_for(self, pattern: re.Pattern[str] | str) -> re.Match[str]:
        """The first line matching `pattern`, once printed (fails after WAIT_S or on exit)."""
        found: list[re.Match[str]] = []

        def seen() -> bool:
            found[:] = [m for line in self.lines if (m := re.search(pattern, line))][:1]
            return bool(found) or self.process.poll() is not None

        with self._added:
            self._added.wait_for(seen, WAIT_S)
        assert found, "\n".join(self.lines)
        return found[0]

    def connect(self, line: re.Pattern[str] = TRIGGER_LINE) -> http.client.HTTPConnection:
        """A client's connection to the port `line` names, once `serve` prints that line."""
        port = int(self.wait_for(line).group("port"))
        return http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def stop(self) -> None:
        """SIGTERM, as Ctrl-C would, and wait for the clean stop."""
        self.process.terminate()
        self.process.wait(30)


@pytest.fixture
def served(package: Path) -> Iterator[Served]:
    running = Served([FUNCTION, "--zip", str(package)])
    try:
        yield running
    finally:
        running.stop()


def test_a_get_is_forwarded_and_answered_with_the_report_line(served: Served) -> None:
    client = served.connect()
    client.request("GET", "/hello/Ada?x=1")
    answer = client.getresponse()
    assert (answer.status, answer.getheader("content-type")) == (200, "application/json")
    assert json.loads(answer.read()) == {"message": "Hello, Ada!"}
    # The request reached the function as an HTTP-trigger request, with FC's request id.
    client.request("GET", "/context")
    context = json.loads(client.getresponse().read())
    assert context["function_name"] == "hello-http-dev"
    line = served.wait_for(r"GET /context \(request ([0-9a-f-]+)\): HTTP 200")
    assert line.group(1) == context["request_id"]
    served.wait_for(r"^Duration: [\d.]+ ms, Billed Duration: \d+ ms, Memory Size: \d+ MB")


def test_a_method_the_trigger_does_not_list_is_refused_with_405(served: Served) -> None:
    client = served.connect()
    client.request("PUT", "/echo", body=b"x")
    answer = client.getresponse()
    assert answer.status == 405
    assert json.loads(answer.read())["errorType"] == "MethodNotAllowed"
    served.wait_for(r"PUT /echo: refused, HTTP 405")


def test_a_clients_own_fc_header_is_refused_with_400(served: Served) -> None:
    client = served.connect()
    client.request("GET", "/hello/Ada", headers={"X-Fc-Request-Id": "mine"})
    answer = client.getresponse()
    assert answer.status == 400
    error = json.loads(answer.read())
    assert error["errorType"] == "InvalidArgument"
    assert "x-fc-request-id" in error["errorMessage"]


def test_events_arrive_through_the_front_one_by_one(served: Served) -> None:
    client = served.connect()
    client.request("GET", "/events")
    answer = client.getresponse()
    assert answer.status == 200
    assert answer.getheader("content-type") == "text/event-stream"
    arrivals: list[tuple[float, bytes]] = []
    while chunk := answer.read1():
        arrivals.append((time.monotonic(), chunk))
    assert [chunk for _, chunk in arrivals] == [
        b"data: event 1\n\n",
        b"data: event 2\n\n",
        b"data: event 3\n\n",
    ]
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(arrivals)]
    assert all(gap >= 0.08 for gap in gaps), gaps  # the function sends them 100 ms apart


def test_invoke_http_prints_the_body_and_the_status_apart(package: Path) -> None:
    done = run_cli("invoke", FUNCTION, "--zip", str(package), "--http", "GET /hello/Ada")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"message": "Hello, Ada!"}
    assert "fc-local: HTTP 200" in done.stderr
    refused = run_cli("invoke", FUNCTION, "--zip", str(package), "--http", "DELETE /hello/Ada")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["errorType"] == "MethodNotAllowed"


def test_an_unsigned_request_is_refused_with_401_under_auth_type_function() -> None:
    signed_only = spec(FUNCTION, http={"auth_type": "function"})
    refused = refusal(signed_only, "GET", "/hello/Ada", [], 0)
    assert refused is not None
    assert (refused.status, refused.error_type) == (401, "SignatureNotFound")
    # Any Authorization passes: the signature itself is not checked.
    assert refusal(signed_only, "GET", "/hello/Ada", [("Authorization", "anything")], 0) is None
    assert refusal(spec(FUNCTION, http={"auth_type": "anonymous"}), "GET", "/", [], 0) is None


def test_headers_and_path_are_held_to_fcs_4_kb_each() -> None:
    # FC refuses headers (names and values) or a path with its query over 4 KB with 400
    # InvalidArgument. Mutations: the old 8 KB header limit passes 4 KB + 1; `>=` refuses 4 KB.
    function = spec(FUNCTION, http={"auth_type": "anonymous"})
    name = "X-Padding"
    at_limit = [(name, "v" * (HEADERS_MAX_BYTES - len(name)))]
    assert refusal(function, "GET", "/", at_limit, 0) is None
    over = [(name, "v" * (HEADERS_MAX_BYTES - len(name) + 1))]
    refused = refusal(function, "GET", "/", over, 0)
    assert refused is not None
    assert (refused.status, refused.error_type) == (400, "InvalidArgument")
    assert f"headers are {HEADERS_MAX_BYTES + 1} bytes" in refused.message
    path = "/" + "p" * (PATH_MAX_BYTES - 3) + "?q"
    assert refusal(function, "GET", path, [], 0) is None
    refused = refusal(function, "GET", path + "x", [], 0)
    assert refused is not None
    assert (refused.status, refused.error_type) == (400, "InvalidArgument")
    assert HEADERS_MAX_BYTES == PATH_MAX_BYTES == 4096


def test_a_chunked_body_is_read_and_forwarded_whole(served: Served) -> None:
    client = served.connect()
    client.putrequest("POST", "/echo")
    client.putheader("Transfer-Encoding", "chunked")
    client.putheader("Content-Type", "text/plain")
    client.endheaders()
    client.send(b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
    answer = client.getresponse()
    assert (answer.status, answer.read()) == (200, b"hello world")


@pytest.mark.parametrize(
    ("wire", "limit", "expected"),
    [
        (b"3\r\nabc\r\n0\r\n\r\n", 100, b"abc"),
        (b"A\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n", 100, b"0123456789"),
        (b"3\r\nabc\r\n0\r\n", 100, b"abc"),  # the last CRLF never comes: the body is whole
        # Past the limit, reading stops there: the caller refuses the request for its size.
        (b"A\r\n0123456789\r\n0\r\n\r\n", 4, b"0123"),
        (b"zz\r\nabc\r\n0\r\n\r\n", 100, None),  # not a hex size
        (b"-3\r\nabc\r\n0\r\n\r\n", 100, None),
        (b"5\r\nabc", 100, None),  # cut short
        (b"3\r\nabcXY0\r\n\r\n", 100, None),  # no CRLF after the data
    ],
)
def test_read_chunked(wire: bytes, limit: int, expected: bytes | None) -> None:
    assert read_chunked(io.BytesIO(wire), limit) == expected
