"""FC's HTTP trigger in front of an instance: the client's request forwarded as FC forwards it.

FC passes an HTTP-trigger request to the function's server as it came (method, path, query,
headers, body), adds its common `x-fc-*` headers and `x-fc-control-path: /http-invoke`, and
returns the server's answer to the client, streamed when it is chunked (FC docs, "HTTP functions
in a custom runtime"). Before that it refuses what its trigger (or a custom domain's route,
`infra.local.domains`) does not pass: a method it does not list, an unsigned request when its
auth type is `function`, a client's own `x-fc-*` headers and a request over FC's limits.
Signatures are not checked: any `Authorization` passes.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from infra.http_trigger import METHODS
from infra.local.invocation import Invocation, refused_payload, request_headers
from infra.local.runner import say

if TYPE_CHECKING:
    import io
    from collections.abc import Iterator, Sequence
    from typing import IO

    from infra.local.instance import Instance
    from infra.local.stack import LocalFunction

HEADERS_MAX_BYTES = 4 * 1024
"""FC's limit on a request's headers (all names and values together), 4 KB; PATH_MAX_BYTES: its
path with the query, 4 KB; over either FC answers 400 `InvalidArgument`. Source: FC doc "Code
development for Custom Container runtimes", section "Limits on HTTP requests"
(https://www.alibabacloud.com/help/en/functioncompute/code-development-in-custom-container-runtimes),
which applies to HTTP triggers and custom domains; FC 2.0's "HTTP handlers" page gives the same.
Whether FC's KB is 1024 or 1000 bytes is not stated: 1024 here. The body's limit is FC's 32 MB
payload limit (`infra.local.invocation.SYNC_PAYLOAD_MAX_BYTES`)."""
PATH_MAX_BYTES = 4 * 1024
BAD_REQUEST = 400
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "upgrade"})
"""Headers of one connection, not of the request: each side sets its own."""


@dataclass
class Refusal:
    """A request FC's trigger refuses before it reaches the function: its status and error."""

    status: int
    error_type: str
    message: str

    def body(self) -> bytes:
        """FC's error shape, as the emulator answers a refused event."""
        return json.dumps({"errorType": self.error_type, "errorMessage": self.message}).encode()


@dataclass(frozen=True)
class Gate:
    """What FC checks of a request before forwarding it: the methods passed and the auth type.

    An HTTP trigger's come from the function's `http` (`trigger_gate`); a custom domain's route
    has its own (`infra.local.domains.Domain.gate`).
    """

    methods: Sequence[str]
    auth_type: str
    name: str
    """What refuses, for the message: `the HTTP trigger`, `route /api/* of api.example.com`."""
    methods_from: str
    """Where the methods are set, for the message."""
    auth_from: str
    """Where the auth type is set, for the message."""


def trigger_gate(function: LocalFunction) -> Gate:
    """The function's HTTP trigger's gate, from its `http` setting (FC's defaults otherwise)."""
    settings = function.http or {}
    return Gate(
        methods=settings.get("methods", list(METHODS)),
        auth_type=settings.get("auth_type", "function"),
        name="the HTTP trigger",
        methods_from="the function's `http.methods` in the stack config",
        auth_from="the function's `http.authType` in the stack config",
    )


def refusal(  # noqa: PLR0911, PLR0913 - one answer per rule FC applies; the request
    function: LocalFunction,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    length: int,
    *,
    gate: Gate | None = None,
) -> Refusal | None:
    """Why FC refuses this request, or None when it passes it on to `function`.

    `length` is the body's declared size (it is refused unread). `gate`: the methods and auth
    type that apply, the function's HTTP trigger's unless told (a custom domain's route).
    """
    gate = trigger_gate(function) if gate is None else gate
    if method not in gate.methods:
        return Refusal(
            405,
            "MethodNotAllowed",
            f"{method} is not among the methods of {gate.name} ({', '.join(gate.methods)}); "
            f"set by {gate.methods_from}",
        )
    reserved = sorted({name.lower() for name, _ in headers if name.lower().startswith("x-fc-")})
    if reserved:
        return Refusal(
            BAD_REQUEST,
            "InvalidArgument",
            f"the request sets {', '.join(reserved)}: headers starting with x-fc- are FC's own",
        )
    header_bytes = sum(len(name) + len(value) for name, value in headers)
    if header_bytes > HEADERS_MAX_BYTES:
        return Refusal(
            BAD_REQUEST,
            "InvalidArgument",
            f"the request's headers are {header_bytes} bytes, over FC's limit of "
            f"{HEADERS_MAX_BYTES}",
        )
    if len(target.encode()) > PATH_MAX_BYTES:
        return Refusal(
            BAD_REQUEST,
            "InvalidArgument",
            f"the path with its query is {len(target.encode())} bytes, over FC's limit of "
            f"{PATH_MAX_BYTES}",
        )
    too_large = refused_payload(b"", function.memory_size, asynchronous=False, size=length)
    if too_large is not None:
        return Refusal(BAD_REQUEST, str(too_large.error_type), str(too_large.error_message))
    signed = any(name.lower() == "authorization" for name, _ in headers)
    if gate.auth_type == "function" and not signed:
        return Refusal(
            401,
            "SignatureNotFound",
            f"the auth type of {gate.name} is `function`: the request needs an Authorization "
            f"header (the emulator does not check the signature itself); set by {gate.auth_from}",
        )
    return None


def read_chunked(stream: io.BufferedIOBase | IO[bytes], limit: int) -> bytes | None:
    """A chunked request body (RFC 9112, section 7.1), at most `limit` bytes of it.

    Reading stops at `limit`, so that a body past FC's payload limit is refused for its size
    without being read whole; None when the chunks are malformed or cut short.
    """
    body = bytearray()
    while len(body) < limit:
        size_text = stream.readline(LINE_MAX).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return None
        if size < 0:
            return None
        if size == 0:
            while stream.readline(LINE_MAX) not in (b"\r\n", b"\n", b""):
                pass  # a trailer field: not passed on
            return bytes(body)
        wanted = min(size, limit - len(body))
        data = stream.read(wanted)
        body += data
        if len(data) < wanted:
            return None
        if len(body) < limit and stream.readline(LINE_MAX) not in (b"\r\n", b"\n"):
            return None
    return bytes(body)


LINE_MAX = 8192
"""The longest chunk-size or trailer line read."""


class Forwarded:
    """One request forwarded to the instance; its answer read piece by piece as it comes."""

    def __init__(
        self,
        instance: Instance,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> None:
        """Send the request with FC's headers and read the answer's head."""
        self.instance = instance
        self.request_id = str(uuid.uuid4())
        self.invocation = Invocation("Invoke", self.request_id, instance.function.memory_size)
        fc_headers = request_headers(instance.function, self.request_id, "Invoke")
        del fc_headers["Content-Type"]  # the client's own, if any
        fc_headers["x-fc-control-path"] = "/http-invoke"
        self.started = time.monotonic()
        self.connection = http.client.HTTPConnection(
            "127.0.0.1", instance.port, timeout=float(instance.function.timeout)
        )
        self.connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.connection.putheader(name, value)
        for name, value in fc_headers.items():
            self.connection.putheader(name, value)
        self.connection.putheader("Content-Length", str(len(body)))
        self.connection.endheaders(body)
        self.response = self.connection.getresponse()
        self.invocation.status = self.response.status

    def headers(self) -> list[tuple[str, str]]:
        """The answer's headers, without those of the connection."""
        return [(k, v) for k, v in self.response.getheaders() if k.lower() not in HOP_BY_HOP]

    def chunked(self) -> bool:
        """Whether the answer streams (FC streams an answer sent chunked)."""
        return bool(self.response.chunked)

    def pieces(self) -> Iterator[bytes]:
        """The answer's body as it arrives; then the call is measured and the connection closed."""
        try:
            while piece := self.response.read1(1 << 16):
                yield piece
        finally:
            self.connection.close()
            self.invocation.duration_ms = (time.monotonic() - self.started) * 1000
            self.invocation.max_memory_mb = self.instance.max_memory_mb()

    def report(self, method: str, target: str) -> None:
        """The request and its status, then FC's report line, as for an event."""
        say(f"{method} {target} (request {self.request_id}): HTTP {self.invocation.status}")
        sys.stdout.write(self.invocation.report_line() + "\n")
        sys.stdout.flush()
