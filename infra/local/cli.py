"""`python -m infra.local invoke|serve`: run a program's functions as FC runs them.

The program is the directory given by `--dir` (default: the current one): its `Pulumi.yaml`,
`Pulumi.<stack>.yaml` and the Cargo workspace its functions build in.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import stat
import sys
from dataclasses import replace
from pathlib import Path
from typing import IO, TYPE_CHECKING

from infra.errors import BuildError, ConfigError, StackError
from infra.local.domains import chosen_domains
from infra.local.http_invoke import Forwarded, refusal
from infra.local.instance import FC_HEALTH_CHECK_S
from infra.local.invocation import read_event, refused_payload, timer_event
from infra.local.runner import package_zip, print_invocation, say, start_instance, with_overrides
from infra.local.serve import DEFAULT_PORT, serve, serve_domains
from infra.local.stack import LocalFunction, load_function, load_functions

if TYPE_CHECKING:
    from infra.local.invocation import Invocation

HTTP_SERVER_ERROR = 500
_ENV_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _env_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not _ENV_NAME.match(key):
        raise argparse.ArgumentTypeError(
            "--env takes NAME=VALUE, NAME of letters, digits and _ starting with a letter; "
            f"got {text!r}"
        )
    if key.startswith("FC_"):
        raise argparse.ArgumentTypeError(f"{key}: the FC_ prefix is reserved for the platform")
    return key, value


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local",
        description="Run a program's functions locally, exactly as Function Compute runs them.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--dir",
            type=Path,
            default=Path(),
            metavar="DIR",
            help="the program's directory, holding Pulumi.yaml and Pulumi.<stack>.yaml "
            "(default: the current directory)",
        )
        sub.add_argument("--stack", default="dev", help="stack whose config to use (default: dev)")
        source = sub.add_mutually_exclusive_group()
        source.add_argument("--zip", type=Path, help="run this code package instead of building")
        source.add_argument("--image", help="run this local container image with `docker run`")
        sub.add_argument("--timeout", type=_positive, help="override the function's timeout (s)")
        sub.add_argument("--memory", type=_positive, help="override the memory size (MB)")
        sub.add_argument(
            "--env",
            type=_env_pair,
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="set or override one of the function's environment variables (repeatable)",
        )
        sub.add_argument("--initializer", action="store_true", help="call POST /initialize first")
        sub.add_argument(
            "--start-timeout",
            type=float,
            default=FC_HEALTH_CHECK_S,
            metavar="S",
            help=f"health check limit for the port (default: FC's {FC_HEALTH_CHECK_S:g} s)",
        )

    invoke = commands.add_parser("invoke", help="start an instance and invoke it once")
    invoke.add_argument("function", help="function name from the stack's config")
    event = invoke.add_mutually_exclusive_group()
    event.add_argument("--event", help="event file, or - for stdin (default: empty event)")
    event.add_argument("--timer", help="send the event of this timer of the stack (e.g. daily)")
    event.add_argument(
        "--http",
        metavar="'METHOD /PATH'",
        help="send one request through the function's HTTP trigger (e.g. 'GET /hello/Ada'): "
        "the answer's body on stdout, its status and headers on stderr",
    )
    invoke.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="with --http: a request header (repeatable)",
    )
    invoke.add_argument("--data", default="", help="with --http: the request body")
    invoke.add_argument(
        "--output",
        choices=("text", "json"),
        default="text",
        help="text: the result on stdout, the logs and the report on stderr; json: one JSON "
        "object on stdout (result, status, duration, memory, logs)",
    )
    invoke.add_argument(
        "--async",
        dest="asynchronous",
        action="store_true",
        help="invoke asynchronously, as a timer does (FC's 128 KB payload limit, not 32 MB)",
    )
    common(invoke)

    serve_cmd = commands.add_parser(
        "serve",
        help="keep an instance up and fire its timers until Ctrl-C; or serve custom domains",
        description="Keep an instance of the function up, fire its timers and answer POST /invoke "
        "(and its HTTP trigger) until Ctrl-C; or, with --domain, serve custom domains of the "
        "stack: each request goes to the function of the route it matches, as FC routes it.",
    )
    serve_cmd.add_argument(
        "function", nargs="?", help="function name from the stack's config (not with --domain)"
    )
    serve_cmd.add_argument(
        "--domain",
        action="append",
        default=[],
        metavar="DOMAIN",
        help="serve this custom domain of the stack's `domains` instead of one function "
        "(repeatable; several share the port and the Host header picks one): an instance per "
        "routed function, exact paths and '/prefix/*' matched as FC matches them",
    )
    serve_cmd.add_argument(
        "--cron", help="fire this schedule instead of the stack's timers (e.g. '@every 1m')"
    )
    serve_cmd.add_argument(
        "--timer-name", default="local", help="trigger name for --cron (default: local)"
    )
    serve_cmd.add_argument("--payload", default="", help="timer payload for --cron")
    serve_cmd.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"POST /invoke on 127.0.0.1:PORT invokes the function; with --domain, the domains "
        f"are served there (default: {DEFAULT_PORT}; 0: a free port)",
    )
    serve_cmd.add_argument(
        "--watch",
        action="store_true",
        help="rebuild when the function's sources change and swap the new build in, "
        "losing no call in flight",
    )
    common(serve_cmd)
    return parser


def _root(args: argparse.Namespace) -> Path:
    root: Path = args.dir.resolve()
    if not (root / "Pulumi.yaml").is_file():
        raise StackError(
            f"no Pulumi.yaml in {root}: run in the program's directory or pass --dir DIR"
        )
    return root


def _function(args: argparse.Namespace) -> LocalFunction:
    function = load_function(args.function, args.stack, _root(args), os.environ)
    return with_overrides(
        function,
        timeout=args.timeout,
        memory=args.memory,
        environment=dict(args.env),
    )


def _event(args: argparse.Namespace, function: LocalFunction) -> tuple[bytes, int | None]:
    """The event, read at most one byte past FC's limit; with a file's whole size when known."""
    asynchronous = args.asynchronous or args.timer is not None
    if args.timer is not None:
        for timer in function.timers:
            if timer["name"] == args.timer:
                return timer_event(timer["name"], timer.get("payload", "")), None
        known = ", ".join(t["name"] for t in function.timers) or "none"
        raise StackError(f"{function.name} has no timer {args.timer!r} (timers: {known})")
    if args.event == "-":
        return read_event(sys.stdin.buffer, asynchronous=asynchronous), None
    if args.event is not None:
        try:
            with Path(args.event).open("rb") as stream:
                info = os.fstat(stream.fileno())
                size = info.st_size if stat.S_ISREG(info.st_mode) else None
                return read_event(stream, asynchronous=asynchronous), size
        except OSError as error:
            raise StackError(
                f"cannot read the event file {args.event}: {error.strerror}"
            ) from error
    return b"", None


def _http_request(args: argparse.Namespace) -> tuple[str, str, list[tuple[str, str]]]:
    """`--http 'GET /path'` and `--header`s: the method, the path with its query, the headers."""
    method, _, target = args.http.strip().partition(" ")
    target = target.strip()
    if not target.startswith("/") or " " in target:
        raise StackError(f"--http takes 'METHOD /PATH', e.g. 'GET /hello/Ada'; got {args.http!r}")
    headers = []
    for header in args.header:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise StackError(f"--header takes 'NAME: VALUE', got {header!r}")
        headers.append((name.strip(), value.strip()))
    return method.upper(), target, headers


def _invoke_http(args: argparse.Namespace, function: LocalFunction, result: IO[bytes]) -> int:
    """One request through the HTTP trigger; 1 when refused, unanswered or answered 5xx."""
    if function.http is None:
        raise StackError(
            f"{function.name} has no HTTP trigger: set its `http` in the stack config, "
            "e.g. `http: {authType: anonymous}`"
        )
    method, target, headers = _http_request(args)
    body = args.data.encode()
    refused = refusal(function, method, target, headers, len(body))
    if refused is not None:
        say(f"{method} {target}: refused, HTTP {refused.status}")
        result.write(refused.body() + b"\n")
        return 1
    zip_path = None if args.image else package_zip(function, args.zip)
    instance = start_instance(
        function, zip_path=zip_path, image=args.image, start_timeout=args.start_timeout
    )
    if instance is None:
        return 1
    try:
        forwarded = Forwarded(instance, method, target, headers, body)
        say(f"HTTP {forwarded.invocation.status}")
        for name, value in forwarded.headers():
            say(f"{name}: {value}")
        for piece in forwarded.pieces():
            result.write(piece)
            result.flush()
        forwarded.report(method, target)
    except (OSError, http.client.HTTPException) as error:
        say(f"{method} {target}: the connection to the bootstrap failed: {error}")
        return 1
    finally:
        instance.stop(pre_stop=False)
    return 1 if (forwarded.invocation.status or 500) >= HTTP_SERVER_ERROR else 0


def _invoke(args: argparse.Namespace, result: IO[bytes]) -> int:
    """Everything but the result goes to stderr (this runs with stdout redirected there)."""
    function = _function(args)
    if args.http is not None:
        return _invoke_http(args, function, result)
    asynchronous = args.asynchronous or args.timer is not None
    event, size = _event(args, function)
    refused = refused_payload(event, function.memory_size, asynchronous=asynchronous, size=size)
    if refused is not None:  # FC refuses it before any instance: so does the emulator
        return _report(args, refused, result)
    if function.missing_secrets:
        say(
            f"{', '.join(function.missing_secrets)} not set in the environment: "
            "the function runs without it"
        )
    zip_path = None if args.image else package_zip(function, args.zip)
    instance = start_instance(
        function, zip_path=zip_path, image=args.image, start_timeout=args.start_timeout
    )
    if instance is None:
        return 1
    try:
        if args.initializer:
            init = instance.initialize()
            print_invocation(init, body=False)
            if not init.succeeded:
                return _report(args, init, result)
        invocation = instance.invoke(event, asynchronous=asynchronous)
    finally:
        instance.stop(pre_stop=False)
    return _report(args, invocation, result)


def _report(args: argparse.Namespace, invocation: Invocation, result: IO[bytes]) -> int:
    """The report on stderr; on `result` (stdout) the answer's body, or the JSON summary."""
    print_invocation(invocation, body=False)
    if args.output == "json":
        result.write(json.dumps(invocation.summary(), ensure_ascii=False).encode() + b"\n")
    elif invocation.status is not None:
        result.write(invocation.body)
        if invocation.body and not invocation.body.endswith(b"\n") and result.isatty():
            result.write(b"\n")
    result.flush()
    return 0 if invocation.succeeded else 1


def _serve(args: argparse.Namespace) -> int:
    if args.domain:
        return _serve_domains(args)
    if args.function is None:
        raise StackError("serve takes a function's name, or --domain DOMAIN")
    if args.watch and (args.zip or args.image):
        raise StackError("--watch rebuilds from the sources: drop --zip and --image")
    function = _function(args)
    if args.cron is not None:
        function = replace(
            function,
            timers=[{"name": args.timer_name, "cron": args.cron, "payload": args.payload}],
        )
    zip_path = None if args.image else package_zip(function, args.zip)
    return serve(
        function,
        zip_path=zip_path,
        image=args.image,
        start_timeout=args.start_timeout,
        initializer=args.initializer,
        port=args.port,
        watch=args.watch,
    )


def _serve_domains(args: argparse.Namespace) -> int:
    """`serve --domain D ...`: every function the domains route to, behind one front."""
    chosen = {
        "a function's name": args.function,
        "--watch": args.watch,
        "--image": args.image,
        "--cron": args.cron,
    }
    extra = [option for option, value in chosen.items() if value]
    if extra:
        raise StackError(f"--domain serves the routes' functions: drop {', '.join(extra)}")
    root = _root(args)
    functions = {
        name: with_overrides(
            function, timeout=args.timeout, memory=args.memory, environment=dict(args.env)
        )
        for name, function in load_functions(args.stack, root, os.environ).items()
    }
    domains = chosen_domains(args.domain, args.stack, root, functions)
    routed = [functions[name] for name in {r.function: None for d in domains for r in d.routes}]
    crates = {(f.workspace, f.crate) for f in routed}
    if args.zip is not None and len(crates) > 1:
        names = ", ".join(f"{f.name} ({f.crate})" for f in routed)
        raise StackError(
            f"--zip is one package, but the routes' functions build from different crates "
            f"({names}): drop --zip to build each"
        )
    packages: dict[tuple[Path, str], Path] = {}
    for function in routed:  # each crate built (or its package found) once
        if (function.workspace, function.crate) not in packages:
            packages[function.workspace, function.crate] = package_zip(function, args.zip)
    return serve_domains(
        domains,
        functions,
        {f.name: packages[f.workspace, f.crate] for f in routed},
        start_timeout=args.start_timeout,
        initializer=args.initializer,
        port=args.port,
    )


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit status is 0 on success, 1 when the function failed.

    `invoke` writes the result alone on stdout, for `| jq`: the emulator's lines, the function's
    logs and the report go to stderr.
    """
    args = _parser().parse_args(argv)
    result = sys.stdout.buffer
    to_stderr = args.command == "invoke"
    with contextlib.redirect_stdout(sys.stderr) if to_stderr else contextlib.nullcontext():
        try:
            return _invoke(args, result) if args.command == "invoke" else _serve(args)
        except (StackError, ConfigError, BuildError) as error:
            say(str(error))
            return 2
        except KeyboardInterrupt:
            say("interrupted")
            return 130
