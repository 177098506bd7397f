"""What `invoke`, `serve` and a program's own commands share: package, instance, report."""

from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from infra.bootstrap import Builder, BuildError
from infra.bootstrap.process import CommandFailedError
from infra.errors import StackError
from infra.local.instance import FunctionStartError, Instance

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from infra.local.invocation import Invocation
    from infra.local.stack import LocalFunction

PREFIX = "fc-local:"
"""Lines the emulator prints start with this; everything else is the function's own output."""


def say(text: str) -> None:
    """One line of the emulator's own output, on stdout between the function's lines."""
    sys.stdout.write(f"{PREFIX} {text}\n")
    sys.stdout.flush()


def builder(function: LocalFunction) -> Builder:
    """The builder of the function's workspace, once its crate is known to be there."""
    found = Builder(function.workspace)
    if function.crate not in found.workspace.crates:
        known = ", ".join(sorted(found.workspace.crates)) or "none"
        raise StackError(
            f"{function.name}: crate {function.crate!r} is not in the Cargo workspace at "
            f"{found.workspace.root} (crates: {known}); set by the stack key "
            f"functions.{function.name}.crate (default: the entry's name): change it with "
            f"`pulumi config set --path 'functions.{function.name}.crate' <crate>`, or create "
            f"the crate with `python -m infra new {function.name}`"
        )
    return found


@contextlib.contextmanager
def cargo_said_it() -> Iterator[None]:
    """A failed cargo run's error says what failed, once: cargo's own output was streamed above.

    (The build's error repeats cargo's error lines without their source lines, for a log where
    cargo's output does not show; the emulator's terminal shows it.)
    """
    try:
        yield
    except BuildError as error:
        failed = error if isinstance(error, CommandFailedError) else error.__cause__
        if not isinstance(failed, CommandFailedError):
            raise
        said = str(failed)
        what = said.splitlines()[0].rstrip(":")
        advice = str(error).removeprefix(said).strip()  # what the build adds to cargo's words
        raise BuildError(f"{what}; cargo's output is above\n{advice}".strip()) from None


def package_zip(function: LocalFunction, zip_path: Path | None) -> Path:
    """The given zip, or the function's package from the build (a cache hit when unchanged)."""
    if zip_path is not None:
        if not zip_path.is_file():
            raise BuildError(
                f"code package {zip_path} does not exist: build it with `make package`"
            )
        return zip_path
    found = builder(function)
    say(
        f"packaging {function.crate} for {function.runtime} "
        "(the first build compiles; later ones hit the cache)"
    )
    with cargo_said_it():
        return found.package(function.crate, runtime=function.runtime).zip_path


def with_overrides(
    function: LocalFunction,
    *,
    timeout: int | None = None,
    memory: int | None = None,
    environment: dict[str, str] | None = None,
) -> LocalFunction:
    """The function with command-line settings applied over the stack's."""
    return replace(
        function,
        timeout=function.timeout if timeout is None else timeout,
        memory_size=function.memory_size if memory is None else memory,
        environment={**function.environment, **(environment or {})},
    )


def start_instance(
    function: LocalFunction,
    *,
    zip_path: Path | None = None,
    image: str | None = None,
    start_timeout: float,
) -> Instance | None:
    """A started instance, or None after saying why it could not start (as FC would)."""
    instance = Instance(function, zip_path=zip_path, image=image, start_timeout=start_timeout)
    try:
        instance.start()
    except FunctionStartError as error:
        say(f"the instance did not start. {error}")
        return None
    say(
        f"started {function.name} (pid {instance.pid}) on port {instance.port}: "
        f"memory {function.memory_size} MB, timeout {function.timeout} s"
    )
    return instance


def _pretty(body: bytes) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body.decode(errors="replace")


def print_invocation(invocation: Invocation, *, report: bool = True, body: bool = True) -> None:
    """The result or the failure, the answer's body, then FC's report line.

    `body` and `report` off leave those to the caller (the demo tells the result in words).
    """
    label = {"Invoke": "invocation", "Initialize": "initializer", "PreStop": "pre-stop hook"}
    what = f"{label.get(invocation.kind, invocation.kind)} {invocation.request_id}"
    answer = f"HTTP {invocation.status}, x-fc-status {invocation.fc_status or 'absent'}"
    error = invocation.error() or {}
    if invocation.succeeded:
        say(f"{what} succeeded ({answer})" + ("; result:" if body and invocation.body else ""))
    elif invocation.error_type is not None:
        say(f"{what} failed: {invocation.error_type}: {invocation.error_message}")
    else:
        say(
            f"{what} failed ({answer}): FC reports UnhandledInvocationError, "
            f"{error.get('errorType')}: {error.get('errorMessage')}"
        )
    if body and invocation.body and invocation.error_type is None:
        sys.stdout.write(_pretty(invocation.body) + "\n")
    if report:
        sys.stdout.write(invocation.report_line() + "\n")
    sys.stdout.flush()
