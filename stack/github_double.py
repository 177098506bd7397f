"""A stand-in for the two GitHub REST calls sync-forks makes, served on loopback.

`make local` points sync-forks at it so a newcomer sees a real sync with no token and no network;
tests use it to see exactly what the function sent. Each fork has a state that decides GitHub's
answer to `POST /repos/{owner}/{repo}/merge-upstream`, with GitHub's status codes and fields.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal, Self

ForkState = Literal["behind", "up-to-date", "diverged", "conflict", "no-upstream"]
"""`behind`: fast-forward; `diverged`: merge commit; `conflict`: 409; `no-upstream`: 422."""


@dataclass
class DoubleFork:
    """A fork the double holds."""

    state: ForkState
    upstream_owner: str = "upstream"
    default_branch: str = "main"


@dataclass(frozen=True)
class RecordedRequest:
    """A request the double received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        """The body as JSON (None when empty)."""
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Outcome:
    """What the double answered to one merge-upstream call."""

    repo: str
    branch: str
    status: int
    merge_type: str | None
    """`fast-forward`, `merge` or `none` on 200; None otherwise."""


@dataclass
class GitHubDouble:
    """A threaded HTTP server on 127.0.0.1 answering like api.github.com for the given forks."""

    forks: dict[str, DoubleFork]
    """By `owner/repo`."""
    token: str | None = None
    """When set, requests without `Authorization: Bearer <token>` get 401."""
    requests: list[RecordedRequest] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        """The base URL to give the function as `GITHUB_API_URL`."""
        if self._server is None:
            raise RuntimeError("the GitHub double is not started: call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Self:
        """Listen on a free loopback port and serve in a background thread."""
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = RecordedRequest(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                status, answer = double.answer(request)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                """Quiet: the emulator prints what matters."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5.0)

    def __enter__(self) -> Self:
        """Start serving."""
        return self.start()

    def __exit__(self, *_: object) -> None:
        """Stop serving."""
        self.stop()

    def merge_calls(self) -> list[RecordedRequest]:
        """The merge-upstream requests received, in order."""
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/merge-upstream")]

    def answer(self, request: RecordedRequest) -> tuple[int, dict[str, object]]:
        """GitHub's status and JSON body for one request; records both."""
        with self._lock:
            self.requests.append(request)
            return self._answer(request)

    def _answer(self, request: RecordedRequest) -> tuple[int, dict[str, object]]:
        docs = "https://docs.github.com/rest"
        if (
            self.token is not None
            and request.headers.get("authorization") != f"Bearer {self.token}"
        ):
            return HTTPStatus.UNAUTHORIZED, {
                "message": "Bad credentials",
                "documentation_url": docs,
            }
        parts = request.path.split("?")[0].strip("/").split("/")
        not_found: dict[str, object] = {"message": "Not Found", "documentation_url": docs}
        if len(parts) < 3 or parts[0] != "repos":  # noqa: PLR2004 - repos/{owner}/{repo}
            return HTTPStatus.NOT_FOUND, not_found
        repo = f"{parts[1]}/{parts[2]}"
        fork = self.forks.get(repo)
        if fork is None:
            return HTTPStatus.NOT_FOUND, not_found
        if request.method == "GET" and len(parts) == 3:  # noqa: PLR2004
            return HTTPStatus.OK, {
                "full_name": repo,
                "fork": True,
                "default_branch": fork.default_branch,
                "parent": {"full_name": f"{fork.upstream_owner}/{parts[2]}"},
            }
        if request.method == "POST" and parts[3:] == ["merge-upstream"]:
            return self._merge_upstream(repo, fork, request)
        return HTTPStatus.NOT_FOUND, not_found

    def _merge_upstream(
        self, repo: str, fork: DoubleFork, request: RecordedRequest
    ) -> tuple[int, dict[str, object]]:
        try:
            body = request.json()
        except ValueError:
            body = None
        branch = body.get("branch") if isinstance(body, dict) else None
        if not isinstance(branch, str):
            return HTTPStatus.UNPROCESSABLE_ENTITY, {
                "message": "Invalid request: branch is missing"
            }
        if branch != fork.default_branch:
            self.outcomes.append(Outcome(repo, branch, HTTPStatus.UNPROCESSABLE_ENTITY, None))
            return HTTPStatus.UNPROCESSABLE_ENTITY, {"message": f"Branch {branch} not found"}
        base = f"{fork.upstream_owner}:{fork.default_branch}"
        if fork.state == "conflict":
            self.outcomes.append(Outcome(repo, branch, HTTPStatus.CONFLICT, None))
            return HTTPStatus.CONFLICT, {"message": "There are merge conflicts"}
        if fork.state == "no-upstream":
            self.outcomes.append(Outcome(repo, branch, HTTPStatus.UNPROCESSABLE_ENTITY, None))
            return HTTPStatus.UNPROCESSABLE_ENTITY, {"message": "This repository is not a fork"}
        merge_type, message = {
            "behind": (
                "fast-forward",
                f"Successfully fetched and fast-forwarded from upstream {base}.",
            ),
            "diverged": ("merge", f"Successfully fetched and merged from upstream {base}."),
            "up-to-date": ("none", f"This branch is not behind the upstream {base}."),
        }[fork.state]
        fork.state = "up-to-date"
        self.outcomes.append(Outcome(repo, branch, HTTPStatus.OK, merge_type))
        return HTTPStatus.OK, {"message": message, "merge_type": merge_type, "base_branch": base}


def demo_double(token: str) -> GitHubDouble:
    """The three forks of `make local`: one behind, one up to date, one in conflict."""
    return GitHubDouble(
        forks={
            "newcomer/behind-fork": DoubleFork("behind"),
            "newcomer/current-fork": DoubleFork("up-to-date"),
            "newcomer/conflicted-fork": DoubleFork("conflict"),
        },
        token=token,
    )
