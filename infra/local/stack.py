"""The stack's functions as the emulator needs them, from `Pulumi.yaml` + `Pulumi.<stack>.yaml`.

The config is mapped by `infra.stack.function_args`, the same function the Pulumi program uses,
without the Pulumi runtime, so `python -m infra.local` works with no CLI and no state. Secrets are
encrypted in the stack file and never read here: `GITHUB_TOKEN` comes from the process environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from infra.bootstrap.build import ROOT
from infra.function import DEFAULTS, resolved_async_invoke
from infra.stack import PROJECT, StackError, config_defaults, function_args, read_yaml

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from infra.timer import TimerArgs

DEFAULT_REGION = "cn-hangzhou"
ASYNC_DEFAULT_RETRIES = 3
"""FC's retries of a failed asynchronous invocation when a function sets none (FC 3.0 API
PutAsyncInvokeConfigInput.maxAsyncRetryAttempts: "the default number of retries is 3")."""


@dataclass(frozen=True)
class FunctionSpec:
    """One function as the emulator runs it: FC's settings, the environment, the timers."""

    name: str
    """FC function name (the component name, as `__main__.py` leaves `function_name` unset)."""
    crate: str
    """The Rust crate that is the bootstrap."""
    runtime: str = "custom.debian10"
    memory_size: int = 128
    """MB."""
    timeout: int = int(str(DEFAULTS["timeout"]))
    """Seconds."""
    region: str = DEFAULT_REGION
    environment: dict[str, str] = field(default_factory=dict)
    """The function's own variables: plain ones from the stack, secrets from the process env."""
    timers: list[TimerArgs] = field(default_factory=list)
    missing_secrets: list[str] = field(default_factory=list)
    """Secret variables the stack declares that the process environment does not provide."""
    retries: int = ASYNC_DEFAULT_RETRIES
    """How often FC retries a failed asynchronous (timer) invocation of this function."""
    alert_group: str | None = None
    """The CloudMonitor contact group told when it fails, if any."""


def stack_config(stack: str, root: Path = ROOT) -> dict[str, object]:
    """The config `Pulumi.<stack>.yaml` sets, keys as Pulumi writes them (`fc-rust:forks`).

    Secure values (`{"secure": ...}`) are dropped: they are ciphertext.
    """
    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise StackError(
            f"no stack {stack!r}: {stack_file} is missing (stacks: {', '.join(stacks)})"
        )
    values = read_yaml(stack_file).get("config") or {}
    if not isinstance(values, dict):
        raise StackError(f"{stack_file}: `config` must be a mapping")
    return {
        key if ":" in key else f"{PROJECT}:{key}": value
        for key, value in values.items()
        if not (isinstance(value, dict) and "secure" in value)
    }


def load_functions(
    stack: str = "dev",
    root: Path = ROOT,
    environ: Mapping[str, str] | None = None,
) -> dict[str, FunctionSpec]:
    """The stack's functions by name, mapped from config exactly as the Pulumi program maps them."""
    environ = os.environ if environ is None else environ
    config = stack_config(stack, root)
    prefix = f"{PROJECT}:"
    values = {key.removeprefix(prefix): value for key, value in config.items()}
    token = environ.get("GITHUB_TOKEN") or None
    region = str(config.get("alicloud:region") or DEFAULT_REGION)
    functions = function_args(values, github_token=token, defaults=config_defaults(root))
    return {
        name: FunctionSpec(
            name=name,
            crate=args["crate"],
            runtime=args.get("runtime", FunctionSpec.runtime),
            memory_size=args.get("memory_size", FunctionSpec.memory_size),
            timeout=args.get("timeout", FunctionSpec.timeout),
            region=region,
            environment=dict(args.get("environment", {}))
            | ({"GITHUB_TOKEN": token} if token and "secret_environment" in args else {}),
            timers=list(args.get("timers", [])),
            missing_secrets=[] if token or name != "sync-forks" else ["GITHUB_TOKEN"],
            retries=(resolved_async_invoke(args) or {}).get("max_retries", ASYNC_DEFAULT_RETRIES),
            alert_group=str(args["alert"]["contact_group"]) if "alert" in args else None,
        )
        for name, args in functions.items()
    }


def load_function(
    name: str,
    stack: str = "dev",
    root: Path = ROOT,
    environ: Mapping[str, str] | None = None,
) -> FunctionSpec:
    """One function of the stack; an unknown name lists the known ones."""
    functions = load_functions(stack, root, environ)
    if name not in functions:
        known = ", ".join(sorted(functions))
        raise StackError(f"stack {stack!r} has no function {name!r} (functions: {known})")
    return functions[name]
