"""The project's stack: its config mapped to the functions it deploys.

One mapping, used by the Pulumi program (`__main__.py`) and by the local emulator
(`python -m infra.local`), so what runs locally is what deploys.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Literal, cast

import pulumi
import yaml

from infra.alerts import AlertContacts
from infra.bootstrap.build import ROOT
from infra.container import RegistryNamespace
from infra.function import field_problems
from infra.limits import check_region

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from infra.container import RegistryArgs
    from infra.function import AsyncInvokeArgs, RustFunctionArgs
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


_FORK_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$")
_FORK_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_BRANCH_FORBIDDEN = re.compile(r"[\s~^:?*\[\\\x00-\x1f\x7f]")
BRANCH_MAX_LENGTH = 255


def _fork_problem(entry: object) -> str | None:  # noqa: PLR0911 - one reason per rule
    """Why sync-forks would refuse `entry`: its own rules (functions/sync-forks/src/config.rs)."""
    if not isinstance(entry, str):
        return f"fork {entry!r} must be a string 'owner/repo' or 'owner/repo:branch'"
    text = entry.strip()
    if not text or any(c == "," or c.isspace() for c in text):
        return f"fork {entry!r} must be one entry 'owner/repo' or 'owner/repo:branch', no spaces"
    repo, _, branch = text.partition(":")
    owner, slash, name = repo.partition("/")
    if not slash:
        return f"fork {entry!r}: expected owner/repo"
    if not _FORK_OWNER.match(owner):
        return f"fork {entry!r}: the owner must be 1-39 letters, digits or inner hyphens"
    if not _FORK_REPO.match(name) or name in (".", ".."):
        return f"fork {entry!r}: the repository must be 1-100 letters, digits, '-', '_' or '.'"
    if ":" in text and not _valid_branch(branch):
        return f"fork {entry!r}: the branch must be a non-empty git branch name"
    return None


def _valid_branch(branch: str) -> bool:
    """A plausible git branch name, as sync-forks accepts it."""
    return (
        0 < len(branch) <= BRANCH_MAX_LENGTH
        and not branch.startswith(("-", "/"))
        and not branch.endswith(("/", "."))
        and ".." not in branch
        and "@{" not in branch
        and _BRANCH_FORBIDDEN.search(branch) is None
    )


def check_forks(forks: object) -> list[str]:
    """The forks list as sync-forks will read it: not empty, and every entry one it accepts."""
    if not isinstance(forks, list):
        return [f"forks must be a list of 'owner/repo[:branch]', got {forks!r}"]
    if not forks:
        return [
            (
                "forks is empty: sync-forks would fail on every run with nothing to sync; "
                "list at least one fork as owner/repo or owner/repo:branch"
            )
        ]
    return [problem for entry in forks if (problem := _fork_problem(entry)) is not None]


COMMON_KEYS = {
    "runtime": "runtime",
    "fc_version": "fcVersion",
    "alias": "alias",
    "logs": "logRetentionDays",
    "workspace": "workspace",
    "variant": "variant",
    "registry.namespace": "registryNamespace",
    "registry.username": "registryUsername",
    "registry.password": "registryPassword",
}
"""Which stack config key sets each RustFunction argument that both functions share."""
FUNCTION_KEYS = {
    "sync-forks": {
        "memory_size": "syncMemorySize",
        "cpu": "syncMemorySize",  # the cpu follows the memory size
        "timeout": "syncTimeout",
        "timers": "syncSchedule",
        "environment": "forks",
        "pinned_version": "syncPinnedVersion",
        "async_invoke": "syncRetryAttempts",
        "alert": "alertContactGroup",
    },
    "hello": {
        "memory_size": "helloMemorySize",
        "cpu": "helloMemorySize",
        "pinned_version": "helloPinnedVersion",
    },
}
"""Which stack config key sets each function's own arguments."""


def config_key(function: str, argument: str) -> str | None:
    """The stack config key (without the project prefix) that sets `argument` of `function`."""
    return FUNCTION_KEYS.get(function, {}).get(argument) or COMMON_KEYS.get(argument)


def explain(function: str, argument: str, problem: str) -> str:
    """`problem` with the stack config key that caused it and the command that changes it."""
    key = config_key(function, argument)
    if key is None:
        return f"{function}: {problem}"
    return (
        f"{function}: {problem} (set by {PROJECT}:{key}; change it with "
        f"`pulumi config set {key} <value>`)"
    )


def check_stack(
    values: Mapping[str, object],
    functions: Mapping[str, RustFunctionArgs],
    region: str,
    defaults: Mapping[str, object] | None = None,
) -> list[str]:
    """Every problem of the stack, each naming the config key to change: before any resource.

    `values` is the stack's config as `function_args` takes it.
    """
    defaults = config_defaults() if defaults is None else defaults
    problems = [
        f"{p} (set by alicloud:region; change it with `pulumi config set alicloud:region <region>`)"
        for p in check_region(region)
    ]
    forks_key = FUNCTION_KEYS["sync-forks"]["environment"]
    problems += [
        f"sync-forks: {p} (set by {PROJECT}:{forks_key}; change it with "
        f"`pulumi config set --path '{forks_key}[0]' owner/repo`)"
        for p in check_forks(_value(values, defaults, forks_key))
    ]
    if _value(values, defaults, "alertEmails") and not _value(
        values, defaults, "alertContactGroup"
    ):
        problems.append(
            f"alertEmails needs the name of the contact group to create: set {PROJECT}:"
            "alertContactGroup (`pulumi config set alertContactGroup <name>`)"
        )
    for name, args in functions.items():
        problems += [
            explain(name, argument, problem) for argument, problem in field_problems(name, args)
        ]
    return problems


def _registry(get: Callable[[str], object], password: pulumi.Input[str] | None) -> RegistryArgs:
    """The container variant's ACR settings from the stack's `registry*` keys."""
    registry: RegistryArgs = {"namespace": str(get("registryNamespace"))}
    if get("registryExisting"):
        registry["existing"] = True
    if get("registryEndpoint"):
        registry["endpoint"] = str(get("registryEndpoint"))
    if get("registryVpcEndpoint"):
        registry["vpc_endpoint"] = str(get("registryVpcEndpoint"))
    if get("registryUsername") or password is not None:
        registry["username"] = str(get("registryUsername"))
        registry["password"] = password if password is not None else ""
    return registry


def _sync_retries(get: Callable[[str], object]) -> AsyncInvokeArgs:
    """sync-forks' asynchronous invocation settings from the stack's `sync*` keys (0 = unset)."""
    retries: AsyncInvokeArgs = {"max_retries": cast("int", get("syncRetryAttempts"))}
    if get("syncMaxEventAgeSeconds"):
        retries["max_event_age"] = cast("int", get("syncMaxEventAgeSeconds"))
    if get("syncFailureDestination"):
        retries["on_failure"] = str(get("syncFailureDestination"))
    return retries


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
        "runtime": str(get(COMMON_KEYS["runtime"])),
        # validate() rejects anything but "3.0" and "2.0", naming the value.
        "fc_version": cast("Literal['3.0', '2.0']", str(get(COMMON_KEYS["fc_version"]))),
        "logs": {"retention_days": cast("int", get(COMMON_KEYS["logs"]))},
    }
    if tags:
        common["tags"] = dict(tags)
    if get(COMMON_KEYS["workspace"]):
        common["workspace"] = str(get(COMMON_KEYS["workspace"]))
    if get(COMMON_KEYS["variant"]) != "zip":
        # validate() rejects anything but "zip" and "container", naming the value.
        common["variant"] = cast("Literal['zip', 'container']", str(get(COMMON_KEYS["variant"])))
        common.pop("runtime")
        common["registry"] = _registry(get, registry_password)
    sync_keys, hello_keys = FUNCTION_KEYS["sync-forks"], FUNCTION_KEYS["hello"]
    daily: TimerArgs = {
        "name": "daily",
        "cron": str(get(sync_keys["timers"])),
        "enabled": bool(get("syncEnabled")),
    }
    forks = get(sync_keys["environment"])
    timeout = cast("int", get(sync_keys["timeout"]))
    sync_forks: RustFunctionArgs = {
        **common,
        "crate": "sync-forks",
        "memory_size": cast("int", get(sync_keys["memory_size"])),
        "timeout": timeout,
        "environment": {
            "SYNC_FORKS": ",".join(map(str, forks)) if isinstance(forks, list) else str(forks),
            "SYNC_FORKS_BUDGET_SECS": str(max(1, timeout - BUDGET_MARGIN_SECONDS)),
        },
        "timers": [daily],
    }
    if github_token is not None:
        sync_forks["secret_environment"] = {"GITHUB_TOKEN": github_token}
    sync_forks["async_invoke"] = _sync_retries(get)
    if get("alertContactGroup"):
        sync_forks["alert"] = {"contact_group": str(get("alertContactGroup"))}
    hello: RustFunctionArgs = {
        **common,
        "crate": "hello",
        "memory_size": cast("int", get(hello_keys["memory_size"])),
    }
    if common["fc_version"] == "3.0":
        for args, keys in ((sync_forks, sync_keys), (hello, hello_keys)):
            args["alias"] = str(get(COMMON_KEYS["alias"]))
            if get(keys["pinned_version"]):
                args["pinned_version"] = str(get(keys["pinned_version"]))
    return {"sync-forks": sync_forks, "hello": hello}


def declare_shared(
    functions: Mapping[str, RustFunctionArgs],
    values: Mapping[str, object],
    defaults: Mapping[str, object] | None = None,
) -> None:
    """Declare what the stack's functions share, once: the ACR namespace, the alert contacts.

    Each is an id of its own (a namespace, a contact group name), so declaring it per function
    would fail on the second create. The functions' args are pointed at what was declared.
    """
    defaults = config_defaults() if defaults is None else defaults
    emails = _value(values, defaults, "alertEmails")
    if isinstance(emails, list) and emails:
        contacts = AlertContacts(
            "alert-contacts",
            {
                "group_name": str(_value(values, defaults, "alertContactGroup")),
                "emails": [str(email) for email in emails],
            },
        )
        for args in functions.values():
            if "alert" in args:
                args["alert"]["contact_group"] = contacts.group_name
    _declare_registry_namespace(functions)


def _declare_registry_namespace(functions: Mapping[str, RustFunctionArgs]) -> None:
    """Declare the stack's ACR namespace once and point every function's registry at it.

    The functions of a stack share one `registryNamespace`; each creates only its repository.
    With `registryExisting` nothing is created.
    """
    registries = [
        args["registry"]
        for args in functions.values()
        if "registry" in args and not args["registry"].get("existing", False)
    ]
    if not registries:
        return
    namespace = RegistryNamespace("registry", {"namespace": str(registries[0]["namespace"])})
    for registry in registries:
        registry["namespace"] = namespace.name
