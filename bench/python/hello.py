"""The hello function of fc-rust written in Python, for `make bench` to measure beside ours.

The standard library only (http.server), the same FC protocol (POST /invoke, the answer's
x-fc-status), the same JSON answer, and the same lines on stdout per invocation: FC's Start and
End markers around one log line carrying the time and the request id, each flushed as written.
Nagle's algorithm is off on every connection: with it, each answer written in two pieces waits
for the client's delayed ACK (about 40 ms on Linux) and the bench would measure that.
"""
# ruff: noqa: INP001 - a script run by path, not a package

from __future__ import annotations

import json
import os
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_stdout_lock = threading.Lock()


def print_line(line: str) -> None:
    """One whole line on stdout, flushed: FC reads stdout as the function's log."""
    with _stdout_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def log(request_id: str, text: str) -> None:
    """A line as fc-runtime prints it: `<RFC 3339 UTC time> <request id> [INFO] <text>`."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    print_line(f"{now} {request_id} [INFO] {text}")


def parse(body: bytes) -> str:
    """The name to greet from the payload `{"name": ...}` (every field optional)."""
    payload = json.loads(body or b"{}")
    if not isinstance(payload, dict) or set(payload) - {"name"}:
        raise ValueError(f"expected an object with at most `name`, got {body[:100]!r}")
    name = payload.get("name")
    return "world" if name is None else str(name)


class Handler(BaseHTTPRequestHandler):
    """POST /invoke: a greeting for the payload's `name`."""

    protocol_version = "HTTP/1.1"  # keep-alive, as FC's connections to the instance are
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        """Answer one invocation."""
        if self.path != "/invoke":
            self.answer(404, {"errorMessage": f"no route {self.path}"}, "404")
            return
        request_id = self.headers.get("x-fc-request-id", "")
        print_line(f"FC Invoke Start RequestId: {request_id}")
        try:
            length = int(self.headers.get("Content-Length", "0"))
            try:
                name = parse(self.rfile.read(length))
            except ValueError as error:
                self.answer(404, {"errorMessage": str(error), "errorType": "BadRequest"}, "404")
                return
            log(request_id, f"greeting {name}")
            self.answer(200, {"message": f"Hello, {name}!", "request_id": request_id}, "200")
        finally:
            print_line(f"FC Invoke End RequestId: {request_id}")

    def answer(self, status: int, body: dict[str, str], fc_status: str) -> None:
        """The JSON answer with FC's x-fc-status."""
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-fc-status", fc_status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        """No access log: the invocation's lines above are its log."""


class Server(ThreadingHTTPServer):
    """A thread per connection."""

    # socketserver's default backlog of 5 drops the SYNs of a burst of new connections (16 from
    # the bench at once), and each dropped one waits a second for its retry.
    request_queue_size = 128


def main() -> None:
    """Serve on FC's port until killed."""
    port = int(os.environ.get("FC_CUSTOM_LISTEN_PORT") or os.environ.get("FC_SERVER_PORT") or 9000)
    server = Server(("0.0.0.0", port), Handler)  # noqa: S104 - FC connects from outside
    log("-", f"listening on 0.0.0.0:{port}")
    server.serve_forever()


if __name__ == "__main__":
    main()
