"""FC's HTTP calls into an instance: the headers, the payload limits, the timer event, the answer.

What goes over the wire and what FC makes of what comes back (`Invocation`); the instance
(`infra.local.instance`) sends the calls and enforces the timeout and the memory size.
"""

from __future__ import annotations

import contextlib
import http
import http.client
import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from infra.local.processes import exit_text

if TYPE_CHECKING:
    from typing import BinaryIO

    from infra.local.stack import LocalFunction

ACCOUNT_ID = "1234567890123456"
"""A made-up account id: the emulator has no account."""
QUALIFIER = "LATEST"
HANDLER = "index.handler"
MIB = 1024 * 1024

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
    `CALL_OUTPUT_MAX_LINES` / `CALL_OUTPUT_MAX_BYTES` (`infra.local.output`): the first and the
    last half, with a `... K lines dropped` line between (all of it was echoed)."""

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

    def summary(self) -> dict[str, object]:
        """The call as `invoke --output json` prints it: result, status, duration, memory, logs.

        `result` is the answer's body as JSON when it parses, else as text (None when no answer).
        """
        result: object = None
        if self.status is not None:
            try:
                result = json.loads(self.body)
            except ValueError:
                result = self.body.decode(errors="replace")
        return {
            "requestId": self.request_id,
            "succeeded": self.succeeded,
            "status": self.status,
            "fcStatus": self.fc_status,
            "error": self.error(),
            "result": result,
            "durationMs": round(self.duration_ms, 2),
            "billedDurationMs": max(1, math.ceil(self.duration_ms)),
            "memorySizeMb": self.memory_size,
            "maxMemoryUsedMb": self.max_memory_mb,
            "logs": self.output,
        }

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


def read_event(stream: BinaryIO, *, asynchronous: bool) -> bytes:
    """The event from `stream`, read up to one byte past FC's payload limit and no further.

    So `/dev/zero` or a 200 MB pipe is refused after 32 MiB + 1 bytes, not read whole; a MiB is
    read at a time.
    """
    wanted = payload_limit(asynchronous=asynchronous) + 1
    chunks: list[bytes] = []
    while wanted > 0 and (chunk := stream.read(min(wanted, MIB))):
        chunks.append(chunk)
        wanted -= len(chunk)
    return b"".join(chunks)


def timer_event(name: str, payload: str = "", now: datetime | None = None) -> bytes:
    """The event FC posts for a timer trigger: RFC 3339 UTC time to the second, compact JSON."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    event = {
        "triggerTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "triggerName": name,
        "payload": payload,
    }
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def request_headers(function: LocalFunction, request_id: str, kind: str) -> dict[str, str]:
    """FC's request headers for one call of `kind` (`Initialize` adds the initializer's)."""
    headers = {
        "x-fc-request-id": request_id,
        "x-fc-function-name": function.fc_name,
        "x-fc-function-handler": HANDLER,
        "x-fc-region": function.region,
        "x-fc-account-id": ACCOUNT_ID,
        "x-fc-qualifier": QUALIFIER,
        "x-fc-version-id": QUALIFIER,
        "x-fc-function-memory": str(function.memory_size),
        "x-fc-function-timeout": str(function.timeout),
        "Content-Type": "application/octet-stream",
    }
    if kind == "Initialize":
        headers["x-fc-function-initializer"] = "index.initializer"
        headers["x-fc-initialization-timeout"] = str(function.timeout)
    return headers


def payload_limit(*, asynchronous: bool) -> int:
    """FC's payload limit: 32 MiB, or 128 KiB when `asynchronous` (as a timer's invocation is)."""
    return ASYNC_PAYLOAD_MAX_BYTES if asynchronous else SYNC_PAYLOAD_MAX_BYTES


def refused_payload(
    event: bytes, memory_size: int, *, asynchronous: bool, size: int | None = None
) -> Invocation | None:
    """The invocation FC refuses for an event over its payload limit; None when within it.

    `size` is the event's whole size when only its first bytes were read (`read_event`), or
    none of them; None means `event` is all of it, or, past the limit, that the rest is of
    unknown length.
    """
    limit = payload_limit(asynchronous=asynchronous)
    whole = len(event) if size is None else size
    if whole <= limit:
        return None
    if size is None and len(event) == limit + 1:
        told = f"more than {size_text(limit)} (reading stopped there)"
    else:
        told = size_text(whole)
    refused = Invocation("Invoke", str(uuid.uuid4()), memory_size)
    refused.error_type = PAYLOAD_ERROR
    refused.error_message = (
        f"payload too large: the event is {told}, over FC's limit of "
        f"{size_text(limit)} for {'an asynchronous' if asynchronous else 'a synchronous'} "
        "invocation (FC: payload size exceeds maximum allowed size); FC refuses it "
        "before it reaches the function"
    )
    return refused


@dataclass
class Answer:
    """What the worker thread of one call received."""

    body: bytes = b""
    status: int | None = None
    fc_status: str | None = None
    error: Exception | None = None
    send_error: OSError | None = None
    """The connection broke while the body was being sent: the bootstrap stopped reading it."""


def send(  # noqa: PLR0913 - one HTTP exchange, run in a worker thread
    answer: Answer,
    port: int,
    *,
    method: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
) -> None:
    """One HTTP request to the bootstrap on 127.0.0.1:`port`; what came back goes to `answer`."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
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


def read_answer(result: Invocation, answer: Answer, sent: int, exit_code: int | None) -> None:
    """Fill `result` from the answer to a `sent`-byte body, or say why none came.

    `exit_code` is the bootstrap's (as `Popen.poll` gives it) when it exited: the call died with it.
    """
    if answer.error is not None:
        if exit_code is not None:
            result.error_type = "ProcessExited"
            result.error_message = (
                f"Process exited unexpectedly before completing request ({exit_text(exit_code)})"
            )
        elif answer.send_error is not None:
            result.error_type = PAYLOAD_ERROR
            result.error_message = (
                f"payload too large: the bootstrap closed the connection before reading all "
                f"of the {size_text(sent)} body ({answer.send_error.strerror}); FC itself "
                f"refuses a body over {size_text(SYNC_PAYLOAD_MAX_BYTES)}"
            )
        else:
            result.error_type = "ConnectionError"
            result.error_message = f"the connection to the bootstrap failed: {answer.error}"
        return
    result.body = answer.body
    result.status = answer.status
    fc_status = answer.fc_status
    result.fc_status = int(fc_status) if fc_status and fc_status.isdigit() else None
    if result.status == http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
        result.error_type = PAYLOAD_ERROR
        result.error_message = (
            f"payload too large: the bootstrap answered HTTP 413 to the {size_text(sent)} "
            f"body; FC itself refuses a body over {size_text(SYNC_PAYLOAD_MAX_BYTES)}"
        )


def size_text(size: int) -> str:
    """`41943040 bytes (40 MiB)`: exact, and readable."""
    for unit, scale in (("MiB", MIB), ("KiB", 1024)):
        if size >= scale:
            return f"{size} bytes ({size / scale:g} {unit})"
    return f"{size} bytes"
