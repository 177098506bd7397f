"""The project's stack: its config mapped to the functions it deploys.

One mapping, used by the Pulumi program (`__main__.py`) and by the local emulator
(`python -m infra.local`), so what runs locally is what deploys.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Literal, cast

import pulumi
import yaml

from infra.bootstrap.build import ROOT

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from infra.container import RegistryArgs
    from infra.function import RustFunctionArgs
    from infra.timer import TimerArgs

PROJECT = "fc-rust"
BUDGET_MARGIN_SECONDS = 10
"""sync-forks stops starting GitHub calls this long before FC's timeout would kill it."""


class StackError(pulumi.RunError, ValueError):
    """The stack's config cannot be read, or a value has the wrong type.

    A `RunError`, so that `pulumi preview`/`up` print the message alone, not a traceback.
    """


def read_yaml(path: Path) -> dict[str, object]:
    """A YAML mapping from `path`, or a StackError naming the file and the problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise StackError(f"cannot read {path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise StackError(f"{path} is not valid YAML: {error}") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise StackError(f"{path} must be a YAML mapping")
    return cast("dict[str, object]", data)


def config_defaults(root: Path = ROOT) -> dict[str, object]:
    """The defaults of `Pulumi.yaml`'s config schema, by key without the project prefix."""
    schema = read_yaml(root / "Pulumi.yaml").get("config") or {}
    if not isinstance(schema, dict):
        raise StackError(f"{root / 'Pulumi.yaml'}: `config` must be a mapping")
    return {
        key: spec["default"]
        for key, spec in schema.items()
        if isinstance(spec, dict) and "default" in spec
    }


def _value(values: Mapping[str, object], defaults: Mapping[str, object], key: str) -> object:
    """`values[key]` converted to the type of its schema default (config arrives as text)."""
    default = defaults[key]
    raw = values.get(key)
    if raw is None or raw == "":
        return default
    try:
        if isinstance(default, bool):
            return raw if isinstance(raw, bool) else str(raw).strip().lower() == "true"
        if isinstance(default, int):
            return int(str(raw))
        if isinstance(default, list):
            return raw if isinstance(raw, list) else json.loads(str(raw))
    except ValueError as error:
        kind = type(default).__name__
        raise StackError(f"{PROJECT}:{key} must be a {kind}, got {raw!r}") from error
    return str(raw)


def _registry(get: Callable[[str], object], password: pulumi.Input[str] | None) -> RegistryArgs:
    """The container variant's ACR settings from the stack's `registry*` keys."""
    registry: RegistryArgs = {"namespace": str(get("registryNamespace"))}
    if get("registryEndpoint"):
        registry["endpoint"] = str(get("registryEndpoint"))
    if get("registryVpcEndpoint"):
        registry["vpc_endpoint"] = str(get("registryVpcEndpoint"))
    if get("registryUsername") or password is not None:
        registry["username"] = str(get("registryUsername"))
        registry["password"] = password if password is not None else ""
    return registry


def function_args(
    values: Mapping[str, object],
    *,
    github_token: pulumi.Input[str] | None,
    registry_password: pulumi.Input[str] | None = None,
    defaults: Mapping[str, object] | None = None,
    tags: Mapping[str, str] | None = None,
) -> dict[str, RustFunctionArgs]:
    """The stack's functions by component name: sync-forks on its daily timer, and hello.

    `values` holds the stack's config by key without the project prefix; absent keys take the
    schema's defaults. The GitHub token and the registry password are passed apart, as the
    secrets they are.
    """
    defaults = config_defaults() if defaults is None else defaults

    def get(key: str) -> object:
        return _value(values, defaults, key)

    common: RustFunctionArgs = {
        "crate": "",
        "runtime": str(get("runtime")),
        # validate() rejects anything but "3.0" and "2.0", naming the value.
        "fc_version": cast("Literal['3.0', '2.0']", str(get("fcVersion"))),
        "logs": {"retention_days": cast("int", get("logRetentionDays"))},
    }
    if tags:
        common["tags"] = dict(tags)
    if get("workspace"):
        common["workspace"] = str(get("workspace"))
    if get("variant") != "zip":
        # validate() rejects anything but "zip" and "container", naming the value.
        common["variant"] = cast("Literal['zip', 'container']", str(get("variant")))
        common.pop("runtime")
        common["registry"] = _registry(get, registry_password)
    daily: TimerArgs = {
        "name": "daily",
        "cron": str(get("syncSchedule")),
        "enabled": bool(get("syncEnabled")),
    }
    forks = get("forks")
    timeout = cast("int", get("syncTimeout"))
    sync_forks: RustFunctionArgs = {
        **common,
        "crate": "sync-forks",
        "memory_size": cast("int", get("syncMemorySize")),
        "timeout": timeout,
        "environment": {
            "SYNC_FORKS": ",".join(map(str, forks)) if isinstance(forks, list) else str(forks),
            "SYNC_FORKS_BUDGET_SECS": str(max(1, timeout - BUDGET_MARGIN_SECONDS)),
        },
        "timers": [daily],
    }
    if github_token is not None:
        sync_forks["secret_environment"] = {"GITHUB_TOKEN": github_token}
    hello: RustFunctionArgs = {
        **common,
        "crate": "hello",
        "memory_size": cast("int", get("helloMemorySize")),
    }
    if common["fc_version"] == "3.0":
        for args, key in ((sync_forks, "syncPinnedVersion"), (hello, "helloPinnedVersion")):
            args["alias"] = str(get("alias"))
            if get(key):
                args["pinned_version"] = str(get(key))
    return {"sync-forks": sync_forks, "hello": hello}
