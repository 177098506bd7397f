"""A stack's config mapped to its functions: the `functions` map and the project-wide keys.

One mapping, used by the Pulumi program (`infra.program.from_config`) and by the local emulator
(`python -m infra.local`), so what runs locally is what deploys. Every problem names the stack
config key that set the value and the command that changes it.

In a stack file (keys under the project's name, e.g. `fc-rust:`)::

    functions:
      sync-forks:                       # the component and FC function name
        crate: sync-forks               # default: the entry's name
        memorySize: 256
        timeout: 300
        environment: {SYNC_FORKS: octocat/Hello-World}
        secretEnvironment: {GITHUB_TOKEN: githubToken}   # variable -> secret config key
        timers: [{name: daily, cron: "0 0 0 * * *"}]
        alert: true                     # tell alertContactGroup when it fails
      hello: {}

Project-wide keys (`fcVersion`, `runtime`, `alias`, `variant`, `workspace`, `logRetentionDays`,
`registry*`, `alertContactGroup`, `alertEmails`) apply to every entry that does not set its own.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import yaml

from infra import spec as _spec
from infra.errors import StackError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    import pulumi

    from infra.args import RustFunctionArgs
    from infra.container import RegistryArgs

FUNCTIONS_KEY = "functions"

ENTRY_KEYS: dict[str, tuple[str, type]] = {
    "crate": ("crate", str),
    "functionName": ("function_name", str),
    "variant": ("variant", str),
    "runtime": ("runtime", str),
    "fcVersion": ("fc_version", str),
    "memorySize": ("memory_size", int),
    "cpu": ("cpu", float),
    "diskSize": ("disk_size", int),
    "timeout": ("timeout", int),
    "instanceConcurrency": ("instance_concurrency", int),
    "description": ("description", str),
    "environment": ("environment", dict),
    "secretEnvironment": ("secret_environment", dict),
    "timers": ("timers", list),
    "http": ("http", dict),
    "alias": ("alias", str),
    "pinnedVersion": ("pinned_version", str),
    "sizeBudget": ("size_budget", int),
    "image": ("image", str),
    "asyncInvoke": ("async_invoke", dict),
    "alert": ("alert", bool),
    "tags": ("tags", dict),
    "role": ("role", dict),
    "logs": ("logs", dict),
    "bucket": ("bucket", dict),
    "workspace": ("workspace", str),
}
"""A `functions` entry's keys: the `RustFunctionArgs` argument each sets and its type."""
_CONFIG_NAMES = {argument: key for key, (argument, _) in ENTRY_KEYS.items() if argument != key}
_ARGUMENT_NAMES = re.compile(r"\b(?:" + "|".join(_CONFIG_NAMES) + r")\b")

PROJECT_KEYS: dict[str, tuple[str, type]] = {
    "fcVersion": ("fc_version", str),
    "runtime": ("runtime", str),
    "alias": ("alias", str),
    "variant": ("variant", str),
    "workspace": ("workspace", str),
}
"""Project-wide keys that set an argument of every entry that leaves it unset."""
NESTED: dict[str, dict[str, str]] = {
    "asyncInvoke": {
        "maxRetries": "max_retries",
        "maxEventAge": "max_event_age",
        "onFailure": "on_failure",
    },
    "role": {"roleName": "role_name", "existingArn": "existing_arn", "skip": "skip"},
    "logs": {
        "projectName": "project_name",
        "logstoreName": "logstore_name",
        "retentionDays": "retention_days",
        "existingProject": "existing_project",
        "existingLogstore": "existing_logstore",
        "skip": "skip",
    },
    "bucket": {"bucketName": "bucket_name", "existingName": "existing_name", "skip": "skip"},
    "http": {
        "authType": "auth_type",
        "methods": "methods",
        "disableUrlInternet": "disable_url_internet",
    },
}
"""The keys of an entry's nested settings and the argument each sets."""
REGISTRY_KEYS = {
    "registryNamespace": "namespace",
    "registryEndpoint": "endpoint",
    "registryVpcEndpoint": "vpc_endpoint",
    "registryUsername": "username",
}
"""Project-wide keys of the container variant's registry (`registryExisting`, `registryPassword`
aside)."""

_ARGUMENT_KEYS = {argument: key for key, (argument, _) in ENTRY_KEYS.items()}


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


def project_name(root: Path) -> str:
    """The project's name from `root`'s `Pulumi.yaml`: the prefix of its config keys."""
    name = read_yaml(root / "Pulumi.yaml").get("name")
    if not isinstance(name, str) or not name:
        path = root / "Pulumi.yaml"
        raise StackError(f"{path} has no project `name`: is {root} a Pulumi program?")
    return name


def project_defaults(root: Path) -> dict[str, object]:
    """The `default` (or `value`) of each key `Pulumi.yaml` declares, by key as written there.

    pkg/workspace/config.go, mergeConfig: a declared key the stack does not set takes its
    default, so the program sees it as if the stack had set it (`fcVersion`, `alicloud:region`).
    """
    path = root / "Pulumi.yaml"
    schema = read_yaml(path).get("config") or {}
    if not isinstance(schema, dict):
        raise StackError(f"{path}: `config` must be a mapping")
    found = {}
    for key, declaration in schema.items():
        if not isinstance(declaration, dict):
            found[key] = declaration  # Pulumi's short form: the value is the default
        elif "default" in declaration or "value" in declaration:
            found[key] = declaration.get("default", declaration.get("value"))
    return found


def _coerce(raw: object, kind: type) -> object:
    """`raw` as `kind`: config set on the command line arrives as text, in a file as YAML.

    A ValueError when it is not one.
    """
    text = str(raw).strip()
    if kind is bool:
        if isinstance(raw, bool) or text.lower() in {"true", "false"}:
            return raw if isinstance(raw, bool) else text.lower() == "true"
    elif kind is int:
        if not isinstance(raw, bool) and re.fullmatch(r"-?[0-9]+", text):
            return int(text)
    elif kind is float:
        if not isinstance(raw, bool):
            return float(text)
    elif kind in {dict, list}:
        value = json.loads(raw) if isinstance(raw, str) else raw
        if isinstance(value, kind):
            return value
    elif not isinstance(raw, (dict, list)):
        return str(raw)
    raise ValueError(raw)


_KINDS = {bool: "true or false", int: "a whole number", float: "a number", dict: "a mapping"}


def _kind(kind: type) -> str:
    return _KINDS.get(kind, "a list" if kind is list else "a string")


@dataclass
class StackFunctions:
    """The functions a stack's config declares, and every problem found reading it."""

    functions: dict[str, RustFunctionArgs] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    missing_secrets: dict[str, list[str]] = field(default_factory=dict)
    """Per function, the secret variables whose config key is not set."""
    secret_variables: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per function, each secret variable and the config key that holds its value."""
    alert_emails: list[str] = field(default_factory=list)
    """Addresses of the contact group to create (`alertEmails`), if any."""
    sources: dict[tuple[str, str], str] = field(default_factory=dict)
    """(function, argument) -> the config key path that set it, for error messages."""

    def explain(self, function: str, argument: str, problem: str, project: str) -> str:
        """`problem` with the stack config key that caused it and the command that changes it.

        The problem names settings as the stack spells them (`memorySize`, not `memory_size`).
        """
        problem = _ARGUMENT_NAMES.sub(lambda found: _CONFIG_NAMES[found[0]], problem)
        path = self.sources.get((function, argument))
        if path is None:
            return f"{function}: {problem}"
        kind = ENTRY_KEYS.get(path.rsplit(".", 1)[-1], ("", str))[1]
        return f"{function}: {problem} ({where(project, path, kind)})"


def read_values(
    values: Mapping[str, object], kinds: Mapping[str, type], project: str
) -> tuple[dict[str, object], list[str]]:
    """The stack keys of `kinds` that are set, each as its kind; a problem for each that is not.

    A key that is unset or empty is left out.
    """
    read: dict[str, object] = {}
    problems = []
    for key, kind in kinds.items():
        raw = values.get(key)
        if raw is None or raw == "":
            continue
        try:
            read[key] = _coerce(raw, kind)
        except ValueError:
            problems.append(f"{key} must be {_kind(kind)}, got {raw!r} ({where(project, key)})")
    return read, problems


def where(project: str, path: str, kind: type = str) -> str:
    """Where a config value is set and how to change it (a list or map: one of its items)."""
    item = ".<key>" if kind is dict else "[0].<field>" if kind is list else ""
    command = (
        f"pulumi config set --path '{path}{item}' <value>"
        if "." in path or "[" in path
        else f"pulumi config set {path} <value>"
    )
    return f"set by {project}:{path}; change it with `{command}`"


def read_stack(  # noqa: PLR0913 - the stack's config and where it is evaluated
    values: Mapping[str, object],
    *,
    project: str,
    stack: str,
    region: str | None,
    secret: Callable[[str], pulumi.Input[str] | None],
    cwd: Path | None = None,
) -> StackFunctions:
    """The stack's functions from its config `values` (keys without the project prefix).

    `secret(key)` gives the secret a config key holds: the program reads it as a Pulumi secret;
    the emulator gives None and reads each secret variable from its own environment instead.
    With `region` None the rules that need it are left out.
    """
    out = StackFunctions()
    shared = _project_args(values, project, out)
    entries = values.get(FUNCTIONS_KEY)
    if isinstance(entries, str):
        try:
            entries = json.loads(entries)
        except ValueError:
            entries = None
    if not isinstance(entries, dict) or not entries:
        out.problems.append(
            f"{FUNCTIONS_KEY} must map each function's name to its settings, got {entries!r}; "
            f"add one with `pulumi config set --path '{FUNCTIONS_KEY}.<name>.crate' <crate>`"
        )
        return out
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            out.problems.append(
                f"{name}: its settings must be a mapping (use {{}} for all defaults), got "
                f"{entry!r} ({where(project, f'{FUNCTIONS_KEY}.{name}')})"
            )
            continue
        function = _entry(
            str(name), entry, shared=shared, values=values, project=project, secret=secret, out=out
        )
        out.functions[name] = function
        out.problems += [
            out.explain(name, argument, problem, project)
            for argument, problem in _spec.problems(
                name, function, project=project, stack=stack, region=region, cwd=cwd
            )
        ]
    return out


def _project_args(
    values: Mapping[str, object], project: str, out: StackFunctions
) -> dict[str, object]:
    """The project-wide arguments set, the log retention among them; the alert contacts."""
    # registryExisting is read by _registry; checked here so that "yes" is a problem, not false.
    checked = {"logRetentionDays": ("logs", int), "registryExisting": ("registry_existing", bool)}
    keys = {**PROJECT_KEYS, **checked}
    read, problems = read_values(values, {key: kind for key, (_, kind) in keys.items()}, project)
    out.problems += problems
    shared: dict[str, object] = {keys[key][0]: value for key, value in read.items()}
    emails = values.get("alertEmails") or []
    try:
        out.alert_emails = [str(email) for email in cast("list[object]", _coerce(emails, list))]
    except ValueError:
        out.problems.append(
            f"alertEmails must be a list of addresses, got {emails!r} "
            f"({where(project, 'alertEmails')})"
        )
    if out.alert_emails and not values.get("alertContactGroup"):
        out.problems.append(
            "alertEmails needs the name of the contact group to create: set "
            f"{project}:alertContactGroup (`pulumi config set alertContactGroup <name>`)"
        )
    return shared


def _entry(  # noqa: C901, PLR0913 - one entry, what it inherits, where problems go
    name: str,
    entry: Mapping[str, object],
    *,
    shared: Mapping[str, object],
    values: Mapping[str, object],
    project: str,
    secret: Callable[[str], pulumi.Input[str] | None],
    out: StackFunctions,
) -> RustFunctionArgs:
    """One `functions` entry as `RustFunctionArgs`, project-wide values under its own."""
    base = f"{FUNCTIONS_KEY}.{name}"
    args: dict[str, Any] = {"crate": name}
    fc2 = entry.get("fcVersion", shared.get("fc_version")) == "2.0"
    for key, (argument, _) in PROJECT_KEYS.items():
        # The project-wide alias (Pulumi passes its default too) is an FC 3.0 setting.
        if argument in shared and not (fc2 and argument == "alias"):
            args[argument] = shared[argument]
            out.sources[name, argument] = key
    args.update(_entry_values(name, entry, project, out))
    for argument in ("crate", "function_name"):
        out.sources.setdefault((name, argument), base)
    if (name, "memory_size") in out.sources:
        # The cpu follows the memory size unless set.
        out.sources.setdefault((name, "cpu"), out.sources[name, "memory_size"])
    if "logs" in shared and _spec.creates("logs", args.get("logs", {})):
        args["logs"] = {"retention_days": shared["logs"], **args.get("logs", {})}
        out.sources.setdefault((name, "logs"), "logRetentionDays")
    group = str(values.get("alertContactGroup") or "")
    if args.pop("alert", False):
        if group:
            args["alert"] = {"contact_group": group}
        else:
            out.problems.append(
                f"{name}: alert needs a contact group to tell: set {project}:alertContactGroup "
                "(`pulumi config set alertContactGroup <name>`)"
            )
    _secrets(name, args, secret, out)
    if args.get("variant") == "container" and "image" not in args:  # else FC pulls `image`
        args["registry"] = _registry(values, secret("registryPassword"))
        out.sources[name, "registry"] = "registryNamespace"
        for key, field in {**REGISTRY_KEYS, "registryPassword": "password"}.items():
            out.sources[name, f"registry.{field}"] = key
        if "runtime" not in entry:
            args.pop("runtime", None)
    return cast("RustFunctionArgs", args)


def _entry_values(
    name: str, entry: Mapping[str, object], project: str, out: StackFunctions
) -> dict[str, object]:
    """The entry's own settings as arguments; each unknown key or wrong type is a problem."""
    base = f"{FUNCTIONS_KEY}.{name}"
    args: dict[str, object] = {}
    for key, raw in entry.items():
        if key not in ENTRY_KEYS:
            out.problems.append(
                f"{name}: unknown setting {key!r} (remove it with `pulumi config rm --path "
                f"'{base}.{key}'`); allowed: {', '.join(sorted(ENTRY_KEYS))}"
            )
            continue
        argument, kind = ENTRY_KEYS[key]
        out.sources[name, argument] = f"{base}.{key}"
        try:
            value = _coerce(raw, kind)
        except ValueError:
            out.problems.append(
                f"{name}: {key} must be {_kind(kind)}, got {raw!r} "
                f"({where(project, f'{base}.{key}')})"
            )
            continue
        if key in NESTED:
            value = _nested(name, key, cast("dict[str, object]", value), out)
        args[argument] = value
    return args


def _nested(
    name: str, key: str, value: Mapping[str, object], out: StackFunctions
) -> dict[str, object]:
    """A nested setting (role, logs, ...) with its keys as arguments; unknown keys are problems."""
    keys = NESTED[key]
    path = f"{FUNCTIONS_KEY}.{name}.{key}"
    out.problems += [
        f"{name}: unknown setting {k!r} in {key} (remove it with `pulumi config rm --path "
        f"'{path}.{k}'`); allowed: {', '.join(sorted(keys))}"
        for k in value
        if k not in keys
    ]
    return {keys[k]: v for k, v in value.items() if k in keys}


def _secrets(
    name: str,
    args: dict[str, Any],
    secret: Callable[[str], pulumi.Input[str] | None],
    out: StackFunctions,
) -> None:
    """Replace the entry's secret variables (variable -> config key) by the secrets' values."""
    secrets = cast("dict[str, object]", args.pop("secret_environment", {}))
    out.secret_variables[name] = {str(k): str(v) for k, v in secrets.items()}
    resolved: dict[str, pulumi.Input[str]] = {}
    for variable, key in out.secret_variables[name].items():
        value = secret(key)
        if value is None:
            out.missing_secrets.setdefault(name, []).append(variable)
        else:
            resolved[variable] = value
    if resolved:
        args["secret_environment"] = resolved


def _registry(values: Mapping[str, object], password: pulumi.Input[str] | None) -> RegistryArgs:
    """The container variant's ACR settings from the stack's `registry*` keys."""
    registry = cast("RegistryArgs", {"namespace": str(values.get("registryNamespace") or "")})
    for key, argument in REGISTRY_KEYS.items():
        if values.get(key) and argument != "namespace":
            registry[argument] = str(values[key])  # type: ignore[literal-required]
    if str(values.get("registryExisting", "")).lower() == "true":
        registry["existing"] = True
    if "username" in registry or password is not None:
        registry.setdefault("username", "")
        registry["password"] = password if password is not None else ""
    return registry
