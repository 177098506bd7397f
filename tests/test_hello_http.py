"""The packaged hello-http, started as FC starts it and sent what FC's HTTP trigger sends.

FC forwards a client's request to the instance as it came, adds its `x-fc-*` headers and
`x-fc-control-path: /http-invoke`, and returns the answer to the client (FC docs, "HTTP functions
in a custom runtime"). These tests are that front end, over real sockets, on one keep-alive
connection each as FC keeps its own. A handler panic is provoked in fc-runtime's own tests
(crates/fc-runtime/src/http_tests.rs): the example has no route that panics.
"""

from __future__ import annotations

import http.client
import itertools
import json
import shutil
import time
import uuid
from typing import TYPE_CHECKING

import pytest
from test_local import Echo, spec

from infra.bootstrap import Builder
from infra.local import Instance
from infra.local.invocation import SYNC_PAYLOAD_MAX_BYTES

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

pytestmark = pytest.mark.unit

FUNCTION = "hello-http"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """hello-http's zip as the build resource makes it (copied: other builds may replace dist/)."""
    path = tmp_path_factory.mktemp("packages") / f"{FUNCTION}.zip"
    shutil.copyfile(Builder().package(FUNCTION).zip_path, path)
    return path


@pytest.fixture
def instance(package: Path) -> Iterator[tuple[Instance, Echo]]:
    """A running instance of hello-http and its output."""
    lines = Echo()
    with Instance(spec(FUNCTION), zip_path=package, echo=lines) as running:
        yield running, lines


class FrontEnd:
    """FC's front end on one keep-alive connection to the instance."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.connection.connect()
        self.socket = self.connection.sock

    def send(
        self,
        method: str,
        path: str,
        body: bytes | Iterable[bytes] = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[str, http.client.HTTPResponse]:
        """Forward a client's request with FC's headers; the request id and the answer's head."""
        request_id = f"req-{uuid.uuid4().hex[:12]}"
        fc_headers = {
            "x-fc-request-id": request_id,
            "x-fc-function-name": FUNCTION,
            "x-fc-region": "cn-hangzhou",
            "x-fc-control-path": "/http-invoke",
        }
        self.connection.request(method, path, body=body, headers={**fc_headers, **(headers or {})})
        return request_id, self.connection.getresponse()

    def same_connection(self) -> bool:
        """Whether every request so far went over the connection first opened."""
        return self.connection.sock is self.socket


def test_each_route_answers_as_the_issue_says_over_one_connection(
    instance: tuple[Instance, Echo],
) -> None:
    running, lines = instance
    front = FrontEnd(running.port)

    hello_id, answer = front.send("GET", "/hello/J%C3%BCrgen%20O%27Neil")
    assert (answer.status, answer.getheader("content-type")) == (200, "application/json")
    assert json.loads(answer.read()) == {"message": "Hello, Jürgen O'Neil!"}

    _, answer = front.send("POST", "/echo", b'{"a": 1}', {"content-type": "application/json"})
    assert (answer.status, answer.getheader("content-type")) == (200, "application/json")
    assert answer.read() == b'{"a": 1}'

    context_id, answer = front.send("GET", "/context")
    assert answer.status == 200
    assert json.loads(answer.read()) == {"request_id": context_id, "function_name": FUNCTION}

    for path in ("/", "/nowhere", "/hello", "/hello/a/b"):
        _, answer = front.send("GET", path)
        answer.read()
        assert answer.status == 404, path

    # No header FC reserves comes back from the function.
    assert not [name for name, _ in answer.getheaders() if name.lower().startswith("x-fc-")]

    # An event, on the same connection: FC's own POST /invoke, without the control path.
    front.connection.request(
        "POST", "/invoke", body=b'{"name": "Ada"}', headers={"x-fc-request-id": "req-event"}
    )
    answer = front.connection.getresponse()
    assert (answer.status, answer.getheader("x-fc-status")) == (200, "200")
    assert json.loads(answer.read()) == {"message": "Hello, Ada!"}

    assert front.same_connection(), "the instance closed the keep-alive connection"
    for request_id in (hello_id, context_id, "req-event"):
        end = f"FC Invoke End RequestId: {request_id}"
        lines.wait_for(end)
        assert lines.lines.index(f"FC Invoke Start RequestId: {request_id}") < lines.lines.index(
            end
        )


def test_a_mebibyte_of_binary_comes_back_byte_for_byte(instance: tuple[Instance, Echo]) -> None:
    running, _ = instance
    front = FrontEnd(running.port)
    body = bytes(range(256)) * (MIB // 256)
    for content_type in ("application/octet-stream", "image/png"):
        _, answer = front.send("POST", "/echo", body, {"content-type": content_type})
        assert (answer.status, answer.getheader("content-type")) == (200, content_type)
        assert answer.read() == body
    assert front.same_connection()


def test_events_arrive_one_by_one_as_they_are_produced(instance: tuple[Instance, Echo]) -> None:
    running, lines = instance
    front = FrontEnd(running.port)
    request_id, answer = front.send("GET", "/events")
    assert answer.status == 200
    assert answer.getheader("content-type") == "text/event-stream"
    # Chunked: FC streams a response sent with Transfer-Encoding: chunked.
    assert answer.getheader("transfer-encoding") == "chunked"
    arrivals: list[tuple[float, bytes]] = []
    while chunk := answer.read1():
        arrivals.append((time.monotonic(), chunk))
    assert b"".join(chunk for _, chunk in arrivals) == (
        b"data: event 1\n\ndata: event 2\n\ndata: event 3\n\n"
    )
    assert [chunk for _, chunk in arrivals] == [
        b"data: event 1\n\n",
        b"data: event 2\n\n",
        b"data: event 3\n\n",
    ]
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(arrivals)]
    assert all(gap >= 0.08 for gap in gaps), gaps
    # The invocation ends with its stream, not when the answer's head is sent.
    lines.wait_for(f"FC Invoke End RequestId: {request_id}")
    _, answer = front.send("GET", "/hello/again")
    assert answer.status == 200
    answer.read()
    assert front.same_connection()


def test_a_body_over_32_mib_is_refused_with_413(instance: tuple[Instance, Echo]) -> None:
    running, _ = instance
    over = SYNC_PAYLOAD_MAX_BYTES + 1
    # Declared: refused from its content-length, before any of it is sent.
    front = FrontEnd(running.port)
    front.connection.putrequest("POST", "/echo")
    for name, value in {
        "x-fc-request-id": "req-declared",
        "x-fc-control-path": "/http-invoke",
        "content-length": str(over),
    }.items():
        front.connection.putheader(name, value)
    front.connection.endheaders()
    answer = front.connection.getresponse()
    assert answer.status == 413
    assert f"{SYNC_PAYLOAD_MAX_BYTES} bytes".encode() in answer.read()
    # Chunked, no length said: refused once the 32 MiB are past.
    front = FrontEnd(running.port)
    pieces = (b"x" * MIB for _ in range(over // MIB + 1))
    _, answer = front.send("POST", "/echo", pieces)  # no length: http.client sends it chunked
    assert answer.status == 413
    answer.read()
    # Within the limit still echoes.
    front = FrontEnd(running.port)
    _, answer = front.send("POST", "/echo", b"x" * (8 * MIB))
    assert answer.status == 200
    assert len(answer.read()) == 8 * MIB
