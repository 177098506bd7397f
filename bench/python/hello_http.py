"""hello-http's `GET /hello/{name}` written in Python, for `make bench` to measure beside ours.

The standard library only (http.server): FC's HTTP-trigger requests as FC forwards them (the
client's method and path, FC's x-fc-* headers added) answered with `{"message":"Hello, {name}!"}`,
the name percent-decoded, with FC's Start and End markers on stdout around each request, as
fc-runtime prints them. Nagle's algorithm is off, as in hello.py.
"""
# ruff: noqa: INP001 - a script run by path, not a package

from __future__ import annotations

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

PREFIX = "/hello/"
_stdout_lock = threading.Lock()


def print_line(line: str) -> None:
    """One whole line on stdout, flushed: FC reads stdout as the function's log."""
    with _stdout_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Handler(BaseHTTPRequestHandler):
    """GET /hello/{name}: a greeting; anything else 404."""

    protocol_version = "HTTP/1.1"  # keep-alive, as FC's connections to the instance are
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        """Answer one request."""
        request_id = self.headers.get("x-fc-request-id", "")
        print_line(f"FC Invoke Start RequestId: {request_id}")
        try:
            name = self.path.split("?", 1)[0].removeprefix(PREFIX)
            if not self.path.startswith(PREFIX) or not name or "/" in name:
                self.answer(404, {"message": f"no route {self.path}"})
                return
            self.answer(200, {"message": f"Hello, {unquote(name)}!"})
        finally:
            print_line(f"FC Invoke End RequestId: {request_id}")

    def answer(self, status: int, body: dict[str, str]) -> None:
        """The JSON answer."""
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        """No access log, as ours and Go's print none."""


class Server(ThreadingHTTPServer):
    """A thread per connection; a backlog for 16 connections at once (see hello.py)."""

    request_queue_size = 128


def main() -> None:
    """Serve on FC's port until killed."""
    port = int(os.environ.get("FC_CUSTOM_LISTEN_PORT") or os.environ.get("FC_SERVER_PORT") or 9000)
    Server(("0.0.0.0", port), Handler).serve_forever()  # noqa: S104 - FC connects from outside


if __name__ == "__main__":
    main()
