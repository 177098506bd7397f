"""`serve`: one instance kept up, each enabled timer fired on its schedule, until SIGINT/SIGTERM.

`serve_domains` (`serve --domain`): a stack's custom domains on one port, an instance of each
function their routes name, each request routed as FC routes it (`infra.local.domains`).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

from infra.bootstrap import BuildError
from infra.errors import StackError
from infra.local.domains import not_found, pick_domain, unknown_host
from infra.local.http_invoke import Forwarded, read_chunked, refusal
from infra.local.invocation import (
    PAYLOAD_ERROR,
    SYNC_PAYLOAD_MAX_BYTES,
    refused_payload,
    timer_event,
)
from infra.local.runner import builder, cargo_said_it, print_invocation, say, start_instance
from infra.local.watch import Live, Watcher, quick_package
from infra.timer import next_fire_times, parse_every

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from types import FrameType

    from infra.bootstrap import Builder
    from infra.local.domains import Domain
    from infra.local.http_invoke import Gate, Refusal
    from infra.local.instance import Instance
    from infra.local.invocation import Invocation
    from infra.local.stack import LocalFunction
    from infra.timer import TimerArgs

DEFAULT_PORT = 9000
"""The front's port unless told (FC's own default CAPort; the instance itself gets a free one)."""


def _short_every(cron: str) -> timedelta | None:
    """An `@every` interval, for the sub-minute ones FC refuses but a local run may want."""
    every = parse_every(cron.strip())
    return every or None


def next_fire(cron: str, after: datetime) -> datetime:
    """The first fire time strictly after `after`, by `infra.timer`'s FC cron evaluation.

    `@every` below FC's 1-minute minimum is allowed here (counted from `after`) so that a local
    loop can be fast; FC itself would refuse the trigger, which `serve` says once.
    """
    try:
        return next_fire_times(cron, after, 1)[0]
    except ValueError:
        every = _short_every(cron)
        if every is None:
            raise
        return after + every


class _Stop:
    """SIGINT and SIGTERM set an event instead of raising, so shutdown runs in one place."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        say(f"received {signal.Signals(signum).name}: stopping")
        self.event.set()

    def __enter__(self) -> threading.Event:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self.event

    def __exit__(self, *_: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]


def serve(  # noqa: PLR0913 - one option each
    function: LocalFunction,
    *,
    zip_path: Path | None = None,
    image: str | None = None,
    start_timeout: float,
    initializer: bool = False,
    port: int | None = None,
    watch: bool = False,
) -> int:
    """Run until SIGINT/SIGTERM; 0 after a clean stop, 1 when the instance cannot start.

    With `port`, `POST /invoke` on 127.0.0.1:`port` invokes the function (0: a free port). With
    `watch`, a change to the function's sources is built and swapped in (`infra.local.watch`).
    """
    timers: list[TimerArgs] = [t for t in function.timers if t.get("enabled", True)]
    for timer in timers:
        try:
            next_fire_times(timer["cron"], datetime.now(UTC), 1)
        except ValueError as error:
            if _short_every(timer["cron"]) is None:
                say(f"timer {timer['name']!r}: {error}")
                return 2
            say(
                f"timer {timer['name']!r}: {error}; FC would refuse it, the emulator runs it anyway"
            )
    with _Stop() as stop:
        instance = _start(function, zip_path, image, start_timeout, initializer=initializer)
        if instance is None:
            return 1
        live = Live(instance)
        starter = _Starter(function, zip_path, image, start_timeout, initializer=initializer)
        front = _listen(port, lambda: _Server(port, live, starter)) if port is not None else None
        rebuild = _Rebuild(function, live, starter, stop)
        watcher = Watcher(function, rebuild, stop, say) if watch else None
        try:
            if front is not None:
                threading.Thread(target=front.serve_forever, daemon=True).start()
                url = f"http://127.0.0.1:{front.server_address[1]}"
                say(f"serving {function.name} on {url}/invoke (POST the event)")
                if function.http is not None:
                    say(
                        f"serving {function.name}'s HTTP trigger on {url}/ (auth type "
                        f"{function.http.get('auth_type', 'function')}; any path but POST /invoke)"
                    )
            if watcher is not None:
                watcher.thread.start()
                say(f"watching {function.name}'s sources: a saved change is built and swapped in")
            return _fire_timers(function, timers, live, starter, stop)
        finally:
            stop.set()
            if front is not None:
                front.shutdown()
            if watcher is not None:
                rebuild.cancel()
                watcher.thread.join()
            live.idle(float(function.timeout))
            _shutdown(live.current)
            rebuild.close()


def _fire_timers(
    function: LocalFunction,
    timers: list[TimerArgs],
    live: Live,
    starter: _Starter,
    stop: threading.Event,
) -> int:
    """Fire each timer on its schedule until `stop`; 1 when a dead instance cannot be replaced."""
    now = datetime.now(UTC)
    schedule = {t["name"]: next_fire(t["cron"], now) for t in timers}
    if not timers:
        say(f"{function.name} has no enabled timer: serving until Ctrl-C")
    for timer in timers:
        say(
            f"timer {timer['name']!r} ({timer['cron']}) fires first at "
            f"{_iso(schedule[timer['name']])}"
        )
    while not stop.is_set():
        if not timers:
            stop.wait()
            break
        timer = min(timers, key=lambda t: schedule[t["name"]])
        due = schedule[timer["name"]]
        if stop.wait(max(0.0, (due - datetime.now(UTC)).total_seconds())):
            break
        if not starter.revive(live):
            return 1
        say(f"timer {timer['name']!r} fires ({_iso(due)})")
        with live.use() as instance:
            invocation = instance.invoke(
                timer_event(timer["name"], timer.get("payload", ""), due),
                stop,
                asynchronous=True,  # a timer invokes asynchronously: FC's 128 KB limit
            )
        print_invocation(invocation)
        schedule[timer["name"]] = next_fire(timer["cron"], max(due, datetime.now(UTC)))
    return 0


class _Starter:
    """Starts instances of the function: the first, after a death, after a rebuild."""

    def __init__(
        self,
        function: LocalFunction,
        zip_path: Path | None,
        image: str | None,
        start_timeout: float,
        *,
        initializer: bool,
    ) -> None:
        self.function = function
        self.zip_path = zip_path
        self.image = image
        self.start_timeout = start_timeout
        self.initializer = initializer
        self._reviving = threading.Lock()

    def start(self) -> Instance | None:
        """A new instance of the current package, or None after saying why it did not start."""
        return _start(
            self.function,
            self.zip_path,
            self.image,
            self.start_timeout,
            initializer=self.initializer,
        )

    def revive(self, live: Live) -> bool:
        """Replace a dead instance (timeout or memory breach) as FC does; False if none starts."""
        with self._reviving:
            if live.current.alive():
                return True
            say("the instance is gone (timeout or memory breach): starting a new one, as FC does")
            replacement = self.start()
            if replacement is None:
                return False
            live.swap(replacement).stop(pre_stop=False)
            return True


class _Rebuild:
    """Build the changed sources and swap the new instance in; a failure keeps the old one."""

    def __init__(
        self, function: LocalFunction, live: Live, starter: _Starter, stop: threading.Event
    ) -> None:
        self.function = function
        self.live = live
        self.starter = starter
        self.stop = stop
        self.directory = Path(tempfile.mkdtemp(prefix=f"fc-local-{function.name}-builds-"))
        """The packages of the builds: the one serving, the one starting."""
        self._builds = 0
        self._builder: Builder | None = None

    def __call__(self) -> None:
        """Run in the watcher's thread, one at a time."""
        started = time.monotonic()
        name = self.function.name
        self._builds += 1
        try:
            self._builder = builder(self.function)
            with cargo_said_it():
                zip_path = quick_package(
                    self.function, self._builder, self.directory / f"build-{self._builds}.zip"
                )
        except (BuildError, StackError) as error:
            if not self.stop.is_set():
                say(f"{error}\nfc-local: the build failed: {name} keeps serving the last build")
            return
        finally:
            self._builder = None
        previous, self.starter.zip_path = self.starter.zip_path, zip_path
        replacement = None if self.stop.is_set() else self.starter.start()
        if replacement is None:
            self.starter.zip_path = previous
            zip_path.unlink()
            if not self.stop.is_set():
                say(f"the new build did not start: {name} keeps serving the last build")
            return
        old = self.live.swap(replacement)
        say(
            f"swapped in the new build of {name} (pid {replacement.pid}), "
            f"{time.monotonic() - started:.2f} s after the change was seen"
        )
        _shutdown(old)
        if previous is not None and previous.is_relative_to(self.directory):
            previous.unlink()

    def cancel(self) -> None:
        """Stop the build under way, if any: cargo's whole process group."""
        building = self._builder
        if building is not None and building.cargo_pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(building.cargo_pid, signal.SIGTERM)

    def close(self) -> None:
        """Remove the builds' packages (every instance unpacked its own copy)."""
        shutil.rmtree(self.directory, ignore_errors=True)


class _Server(ThreadingHTTPServer):
    """The front: `POST /invoke` on loopback invokes the instance that `live` holds now."""

    daemon_threads = True

    def __init__(self, port: int, live: Live, starter: _Starter) -> None:
        self.live = live
        self.starter = starter
        super().__init__(("127.0.0.1", port), _Handler)


class _Front(BaseHTTPRequestHandler):
    """What both fronts do: forward a request as FC forwards it, answer FC's failures."""

    protocol_version = "HTTP/1.1"

    def _forward(self, live: Live, starter: _Starter, gate: Gate | None) -> None:
        """The client's request forwarded as FC forwards it, answer streamed.

        `gate`: the methods and auth type that apply (the function's HTTP trigger's when None).
        """
        function = live.current.function
        headers = list(self.headers.items())
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        declared = 0 if chunked else int(self.headers.get("Content-Length") or 0)
        refused = refusal(function, self.command, self.path, headers, declared, gate=gate)
        if refused is None and chunked:
            # A chunked body is read as it comes, up to one byte past FC's limit.
            body = read_chunked(self.rfile, SYNC_PAYLOAD_MAX_BYTES + 1)
            if body is None:
                self.close_connection = True
                self._answer(400, b'{"errorType":"InvalidArgument","errorMessage":"bad chunk"}', {})
                return
            refused = refusal(function, self.command, self.path, headers, len(body), gate=gate)
        else:
            body = b""
        if refused is not None:  # refused unread (a chunked body: read to the limit), as FC does
            self._refuse(refused)
            return
        if not chunked:
            body = self.rfile.read(declared)
        if not starter.revive(live):
            self._answer(502, b'{"errorType":"FunctionNotStarted"}', {})
            return
        with live.use() as instance:
            try:
                forwarded = Forwarded(instance, self.command, self.path, headers, body)
            except (OSError, http.client.HTTPException) as error:
                message = f"the connection to the bootstrap failed: {error}"
                self._answer(
                    502,
                    json.dumps({"errorType": "ConnectionError", "errorMessage": message}).encode(),
                    {},
                )
                return
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._relay(forwarded)
        forwarded.report(self.command, self.path)

    def _refuse(self, refused: Refusal) -> None:
        """FC's refusal, said; the connection closes (a body may be left unread)."""
        self.close_connection = True
        say(f"{self.command} {self.path}: refused, HTTP {refused.status} {refused.error_type}")
        headers = {"x-fc-error-type": refused.error_type, "Connection": "close"}
        self._answer(refused.status, refused.body(), headers)

    def _relay(self, forwarded: Forwarded) -> None:
        """The function's answer to the client: chunked as it comes when it streams."""
        self.send_response_only(forwarded.invocation.status or 502)
        headers = forwarded.headers()
        for key, value in headers:
            self.send_header(key, value)
        chunked = forwarded.chunked()
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif not any(key.lower() == "content-length" for key, _ in headers):
            self.close_connection = True  # its end is the connection's
        self.end_headers()
        for piece in forwarded.pieces():
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _failed(self, invocation: Invocation) -> None:
        """The platform's failure (timeout, payload, crash) as JSON, its type in a header."""
        error = invocation.error() or {}
        status = 413 if error.get("errorType") == PAYLOAD_ERROR else 502
        headers = {
            "x-fc-request-id": invocation.request_id,
            "x-fc-error-type": error.get("errorType", ""),
        }
        self._answer(status, json.dumps(error).encode(), headers)

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - its signature
        """Quiet: each invocation is reported by `print_invocation`."""
        del format, args


class _Handler(_Front):
    server: _Server

    def do_POST(self) -> None:
        """One invocation: the event is the body; the answer is the function's."""
        live, starter = self.server.live, self.server.starter
        if self.path.split("?", 1)[0] != "/invoke":
            self._trigger()
            return
        length = int(self.headers.get("Content-Length") or 0)
        refused = refused_payload(
            b"", live.current.function.memory_size, asynchronous=False, size=length
        )
        if refused is not None:  # refused unread, as FC does
            self.close_connection = True
            self._failed(refused)
            return
        event = self.rfile.read(length)
        if not starter.revive(live):
            self._answer(502, b'{"errorType":"FunctionNotStarted"}', {})
            return
        with live.use() as instance:
            invocation = instance.invoke(event)
        print_invocation(invocation, body=False)
        if invocation.status is None:
            self._failed(invocation)
            return
        headers = {"x-fc-request-id": invocation.request_id}
        if invocation.fc_status is not None:
            headers["x-fc-status"] = str(invocation.fc_status)
        self._answer(invocation.status, invocation.body, headers)

    def _trigger(self) -> None:
        """A client's request to the HTTP trigger, forwarded as FC forwards it."""
        live, starter = self.server.live, self.server.starter
        if live.current.function.http is None:
            self._answer(404, b'{"errorType":"NotFound","errorMessage":"POST /invoke"}', {})
            return
        self._forward(live, starter, None)

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _trigger  # noqa: N815 - BaseHTTPRequestHandler's names


class _DomainServer(ThreadingHTTPServer):
    """The front of custom domains: each request to its route's function (`infra.local.domains`)."""

    daemon_threads = True

    def __init__(
        self, port: int, domains: Sequence[Domain], backends: Mapping[str, tuple[Live, _Starter]]
    ) -> None:
        self.domains = domains
        self.backends = backends
        """Each routed function's instance and starter, by its entry's name."""
        super().__init__(("127.0.0.1", port), _DomainHandler)


class _DomainHandler(_Front):
    server: _DomainServer

    def _route(self) -> None:
        """Pick the domain by `Host`, the route by path, then forward as the trigger does."""
        host = self.headers.get("Host")
        domain = pick_domain(self.server.domains, host)
        if domain is None:
            self._refuse(unknown_host(self.server.domains, host))
            return
        route = domain.route(self.path)
        if route is None:
            self._refuse(not_found(domain, self.command, self.path))
            return
        say(f"{domain.name}: {self.command} {self.path} -> route {route.path} ({route.function})")
        live, starter = self.server.backends[route.function]
        self._forward(live, starter, domain.gate(route))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _route  # noqa: N815 - BaseHTTPRequestHandler's names


def _listen(port: int, make: Callable[[], ThreadingHTTPServer]) -> ThreadingHTTPServer:
    """A front on 127.0.0.1:`port` (0: a free port), made by `make`."""
    try:
        return make()
    except OSError as error:
        raise StackError(
            f"cannot serve on 127.0.0.1:{port} ({error.strerror}): choose another --port "
            "(0 picks a free one)"
        ) from error


def serve_domains(  # noqa: PLR0913 - one option each
    domains: Sequence[Domain],
    functions: Mapping[str, LocalFunction],
    zip_paths: Mapping[str, Path],
    *,
    start_timeout: float,
    initializer: bool = False,
    port: int,
) -> int:
    """Serve `domains` on 127.0.0.1:`port` until SIGINT/SIGTERM: an instance per routed function.

    0 after a clean stop, 1 when an instance cannot start. Timers are not fired (`serve`
    fires a function's).
    """
    names = list(dict.fromkeys(route.function for d in domains for route in d.routes))
    backends: dict[str, tuple[Live, _Starter]] = {}
    front: ThreadingHTTPServer | None = None
    with _Stop() as stop:
        try:
            for name in names:
                starter = _Starter(
                    functions[name], zip_paths[name], None, start_timeout, initializer=initializer
                )
                instance = starter.start()
                if instance is None:
                    return 1
                backends[name] = (Live(instance), starter)
            front = _listen(port, lambda: _DomainServer(port, domains, backends))
            threading.Thread(target=front.serve_forever, daemon=True).start()
            url = f"http://127.0.0.1:{front.server_address[1]}"
            for domain in domains:
                routes = "; ".join(
                    f"{r.path} -> {r.function} ({', '.join(r.methods)})" for r in domain.routes
                )
                say(
                    f"serving domain {domain.name} on {url}/ (auth type {domain.auth_type}; "
                    f"routes {routes})"
                )
            if len(domains) > 1:
                say("the Host header picks the domain (curl -H 'Host: <domain>' ...)")
            stop.wait()
            return 0
        finally:
            stop.set()
            if front is not None:
                front.shutdown()
            for live, _ in backends.values():
                live.idle(float(live.current.function.timeout))
                _shutdown(live.current)


def _start(
    function: LocalFunction,
    zip_path: Path | None,
    image: str | None,
    start_timeout: float,
    *,
    initializer: bool,
) -> Instance | None:
    instance = start_instance(function, zip_path=zip_path, image=image, start_timeout=start_timeout)
    if instance is not None and initializer:
        invocation = instance.initialize()
        print_invocation(invocation)
        if not invocation.succeeded:
            instance.stop(pre_stop=False)
            return None
    return instance


def _shutdown(instance: Instance) -> None:
    """`GET /pre-stop`, then SIGTERM to the bootstrap's group; says how it went."""
    pid = instance.pid
    hook = instance.stop(pre_stop=True)
    if hook is not None:
        if hook.status == 404 and hook.error_type is None:  # noqa: PLR2004 - no hook configured
            say("pre-stop: the function has no pre-stop hook (404)")
        else:
            print_invocation(hook)
    say(f"stopped {instance.function.name} (pid {pid})")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
