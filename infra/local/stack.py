"""The stack's functions as the emulator needs them, from `Pulumi.yaml` + `Pulumi.<stack>.yaml`.

This mirrors `_function_args` in the repository's `__main__.py` (config key -> function setting)
without the Pulumi runtime, so `python -m infra.local` works with no CLI and no state. Secrets are
encrypted in the stack file and never read here: `GITHUB_TOKEN` comes from the process environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import yaml

from infra.bootstrap.build import ROOT

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from infra.timer import TimerArgs

PROJECT = "fc-rust"
DEFAULT_REGION = "cn-hangzhou"
DEFAULT_TIMEOUT = 60
"""RustFunction's timeout when the stack sets none (`infra/function.py` DEFAULTS)."""


class StackError(Exception):
    """The stack's YAML cannot be read or names an unknown function."""


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
    timeout: int = DEFAULT_TIMEOUT
    """Seconds."""
    region: str = DEFAULT_REGION
    environment: dict[str, str] = field(default_factory=dict)
    """The function's own variables: plain ones from the stack, secrets from the process env."""
    timers: list[TimerArgs] = field(default_factory=list)
    missing_secrets: list[str] = field(default_factory=list)
    """Secret variables the stack declares that the process environment does not provide."""


def _load_yaml(path: Path) -> dict[str, object]:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as error:
        raise StackError(f"cannot read {path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise StackError(f"{path} is not valid YAML: {error}") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise StackError(f"{path} must be a YAML mapping")
    return cast("dict[str, object]", data)


def stack_config(stack: str, root: Path = ROOT) -> dict[str, object]:
    """The stack's effective config: Pulumi.yaml's defaults overlaid with Pulumi.<stack>.yaml.

    Keys are as Pulumi writes them (`fc-rust:forks`, `alicloud:region`). Secure values
    (`{"secure": ...}`) are dropped: they are ciphertext.
    """
    project = _load_yaml(root / "Pulumi.yaml")
    schema = project.get("config") or {}
    config: dict[str, object] = {}
    if isinstance(schema, dict):
        for key, spec in schema.items():
            if isinstance(spec, dict) and "default" in spec:
                full = key if ":" in key else f"{PROJECT}:{key}"
                config[full] = spec["default"]
    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise StackError(
            f"no stack {stack!r}: {stack_file} is missing (stacks: {', '.join(stacks)})"
        )
    values = _load_yaml(stack_file).get("config") or {}
    if isinstance(values, dict):
        for key, value in values.items():
            if isinstance(value, dict) and "secure" in value:
                continue
            config[key if ":" in key else f"{PROJECT}:{key}"] = value
    return config


def _forks_text(forks: object) -> str:
    """`SYNC_FORKS` from the `forks` config, as `__main__.py` joins it."""
    if isinstance(forks, list):
        return ",".join(str(fork) for fork in forks)
    return str(forks)


def load_functions(
    stack: str = "dev",
    root: Path = ROOT,
    environ: Mapping[str, str] | None = None,
) -> dict[str, FunctionSpec]:
    """The stack's functions by name, mapped from config exactly as `__main__.py` maps them."""
    environ = os.environ if environ is None else environ
    config = stack_config(stack, root)

    def value(key: str) -> object:
        return config.get(f"{PROJECT}:{key}")

    def number(key: str, default: int) -> int:
        raw = value(key)
        try:
            return default if raw is None else int(str(raw))
        except ValueError as error:
            raise StackError(f"{PROJECT}:{key} must be a whole number, got {raw!r}") from error

    def flag(key: str, *, default: bool) -> bool:
        raw = value(key)
        if isinstance(raw, str):
            return raw.strip().lower() == "true"
        return default if raw is None else bool(raw)

    runtime = str(value("runtime") or "custom.debian10")
    region = str(config.get("alicloud:region") or DEFAULT_REGION)
    token = environ.get("GITHUB_TOKEN", "")
    daily: TimerArgs = {
        "name": "daily",
        "cron": str(value("syncSchedule") or "0 0 0 * * *"),
        "enabled": flag("syncEnabled", default=True),
    }
    sync_forks = FunctionSpec(
        name="sync-forks",
        crate="sync-forks",
        runtime=runtime,
        memory_size=number("syncMemorySize", 128),
        timeout=number("syncTimeout", 300),
        region=region,
        environment={"SYNC_FORKS": _forks_text(value("forks") or [])}
        | ({"GITHUB_TOKEN": token} if token else {}),
        timers=[daily],
        missing_secrets=[] if token else ["GITHUB_TOKEN"],
    )
    hello = FunctionSpec(
        name="hello",
        crate="hello",
        runtime=runtime,
        memory_size=number("helloMemorySize", 128),
        timeout=DEFAULT_TIMEOUT,
        region=region,
    )
    return {"sync-forks": sync_forks, "hello": hello}


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
