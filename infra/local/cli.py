"""`python -m infra.local invoke|serve`: run a program's functions as FC runs them.

The program is the directory given by `--dir` (default: the current one): its `Pulumi.yaml`,
`Pulumi.<stack>.yaml` and the Cargo workspace its functions build in.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import replace
from pathlib import Path

from infra.errors import BuildError, ConfigError, StackError
from infra.local.instance import FC_HEALTH_CHECK_S
from infra.local.invocation import timer_event
from infra.local.runner import package_zip, print_invocation, say, start_instance, with_overrides
from infra.local.serve import serve
from infra.local.stack import LocalFunction, load_function

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
    invoke.add_argument(
        "--async",
        dest="asynchronous",
        action="store_true",
        help="invoke asynchronously, as a timer does (FC's 128 KB payload limit, not 32 MB)",
    )
    common(invoke)

    serve_cmd = commands.add_parser(
        "serve", help="keep an instance up and fire its timers until Ctrl-C"
    )
    serve_cmd.add_argument("function", help="function name from the stack's config")
    serve_cmd.add_argument(
        "--cron", help="fire this schedule instead of the stack's timers (e.g. '@every 1m')"
    )
    serve_cmd.add_argument(
        "--timer-name", default="local", help="trigger name for --cron (default: local)"
    )
    serve_cmd.add_argument("--payload", default="", help="timer payload for --cron")
    common(serve_cmd)
    return parser


def _function(args: argparse.Namespace) -> LocalFunction:
    root = args.dir.resolve()
    if not (root / "Pulumi.yaml").is_file():
        raise StackError(
            f"no Pulumi.yaml in {root}: run in the program's directory or pass --dir DIR"
        )
    function = load_function(args.function, args.stack, root, os.environ)
    return with_overrides(
        function,
        timeout=args.timeout,
        memory=args.memory,
        environment=dict(args.env),
    )


def _event(args: argparse.Namespace, function: LocalFunction) -> bytes:
    if args.timer is not None:
        for timer in function.timers:
            if timer["name"] == args.timer:
                return timer_event(timer["name"], timer.get("payload", ""))
        known = ", ".join(t["name"] for t in function.timers) or "none"
        raise StackError(f"{function.name} has no timer {args.timer!r} (timers: {known})")
    if args.event == "-":
        return sys.stdin.buffer.read()
    if args.event is not None:
        try:
            return Path(args.event).read_bytes()
        except OSError as error:
            raise StackError(
                f"cannot read the event file {args.event}: {error.strerror}"
            ) from error
    return b""


def _invoke(args: argparse.Namespace) -> int:
    function = _function(args)
    event = _event(args, function)
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
            print_invocation(init)
            if not init.succeeded:
                return 1
        invocation = instance.invoke(
            event, asynchronous=args.asynchronous or args.timer is not None
        )
    finally:
        instance.stop(pre_stop=False)
    print_invocation(invocation)
    return 0 if invocation.succeeded else 1


def _serve(args: argparse.Namespace) -> int:
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
    )


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit status is 0 on success, 1 when the function failed."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "invoke":
            return _invoke(args)
        return _serve(args)
    except (StackError, ConfigError, BuildError) as error:
        say(str(error))
        return 2
    except KeyboardInterrupt:
        say("interrupted")
        return 130
