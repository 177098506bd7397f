"""`RustFunctionArgs` resolved: every default and every rule in one place.

The FC 3.0 and FC 2.0 backends, the config digest, the container path and the local emulator
all read the `FunctionSpec` that `resolve` returns, and nothing else, so what runs locally and
what deploys cannot disagree about a default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, cast

from infra import alerts, container, limits, timer
from infra.bootstrap.build import DEFAULT_SIZE_BUDGET
from infra.errors import ConfigError
from infra.http_trigger import TRIGGER_NAME as HTTP_TRIGGER_NAME
from infra.http_trigger import check_http
from infra.logs import ACCOUNT_SUFFIX_LENGTH, DEFAULT_RETENTION_DAYS, function_logstore

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pulumi

    from infra.args import AsyncInvokeArgs, BucketArgs, LogsArgs, RoleArgs, RustFunctionArgs
    from infra.http_trigger import HttpArgs

MEMORY_SIZE = 128
"""MB: the smallest function FC accepts (`limits.MEMORY_MIN_MB`)."""
DISK_SIZE = 512
"""MB of /tmp: FC 3.0's smaller choice (`limits.DISK_SIZES_MB`)."""
TIMEOUT = 60
"""Seconds per invocation."""
INSTANCE_CONCURRENCY = 1
"""One request per instance at a time: FC's default."""
ALIAS = "live"
LOGSTORE = "function-logs"


@dataclass(frozen=True)
class FunctionSpec:
    """One function with every default applied: all that the backends and the emulator read."""

    name: str
    """The component name (Pulumi children are named after it)."""
    crate: str
    function_name: str
    workspace: Path
    """The Cargo workspace root, absolute."""
    variant: str
    """`zip` or `container`."""
    fc_version: str
    runtime: str
    """The custom runtime of a zip; `custom-container` for the container variant."""
    memory_size: int
    cpu: float
    """vCPU (FC 3.0; FC 2.0 derives it from the memory size)."""
    disk_size: int
    timeout: int
    instance_concurrency: int
    description: str
    environment: Mapping[str, str]
    secret_environment: Mapping[str, pulumi.Input[str]]
    timers: tuple[timer.TimerArgs, ...]
    http: HttpArgs | None
    """The HTTP trigger's settings, or None for no HTTP trigger."""
    async_invoke: AsyncInvokeArgs | None
    """The asynchronous invocation config to declare, or None to leave FC's defaults."""
    alias: str
    pinned_version: str | None
    alert: alerts.AlertArgs | None
    tags: Mapping[str, str]
    role: RoleArgs
    """As given, with `role_name` filled in when the role is created."""
    logs: LogsArgs
    """As given, with the project, logstore and retention filled in when they are created."""
    log_project_per_account: bool
    """The created project's name is the default, to be made unique to the account."""
    bucket: BucketArgs
    registry: container.RegistryArgs | None
    image: pulumi.Input[str] | None
    size_budget: int
    project: str
    stack: str
    region: str
    """The stack's region (`alicloud:region`), which registries and CloudMonitor name."""

    @property
    def role_mode(self) -> str:
        """`create`, `existing` or `skip`."""
        return _mode("role", self.role)[0]

    @property
    def logs_mode(self) -> str:
        """`create`, `existing` or `skip`."""
        return _mode("logs", self.logs)[0]

    @property
    def bucket_mode(self) -> str:
        """`create`, `existing` or `skip`."""
        return _mode("bucket", self.bucket)[0]


def _copy(value: object) -> object:
    """A dict's shallow copy, for defaults to fill in; anything else as it is, for the checks."""
    return dict(value) if isinstance(value, dict) else value


def resource_name(*parts: str, limit: int = 63) -> str:
    """A cloud-side name from parts: lower case, `-` separated, at most `limit` characters."""
    text = re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")
    return text[:limit].rstrip("-")


def default_function_name(name: str, stack: str) -> str:
    """`<name>-<stack>`, the FC function name of an entry that sets none.

    FC function names are unique in the account's region, so two stacks of one project there
    (dev and staging) must not both name a function `hello`.
    """
    return f"{name}-{re.sub(r'[^A-Za-z0-9_-]+', '-', stack)}"


def default_cpu(memory_size: int) -> float:
    """The least vCPU that FC 3.0 allows with `memory_size` MB, and at least 0.1.

    FC 3.0 needs memory(GB) between 1 and 4 times the vCPU (`limits.check_cpu`), so above
    384 MB the floor of 0.1 vCPU is too little: 512 MB takes 0.15, 1024 MB 0.25.
    """
    return float(max(Decimal("0.1"), limits.least_cpu(memory_size)))


def _defaults(  # noqa: PLR0913 - where the function is declared: each part names its resources
    name: str, args: RustFunctionArgs, *, project: str, stack: str, region: str, cwd: Path
) -> FunctionSpec:
    """`args` with every default applied; no rule checked (`problems` does that)."""
    function_name = args.get("function_name", default_function_name(name, stack))
    variant = args.get("variant", "zip")
    memory_size = args.get("memory_size", MEMORY_SIZE)
    role = cast("RoleArgs", _copy(args.get("role", {})))
    if creates("role", role):
        role.setdefault("role_name", resource_name(project, stack, name, limit=64))
    logs = cast("LogsArgs", _copy(args.get("logs", {})))
    per_account = creates("logs", logs) and not {"project_name", "in_project"} & set(logs)
    if creates("logs", logs):
        if "in_project" in logs:
            logs.setdefault("logstore_name", function_logstore(name))
        else:
            logs.setdefault(
                "project_name",
                resource_name(project, stack, name, limit=63 - ACCOUNT_SUFFIX_LENGTH),
            )
            logs.setdefault("logstore_name", LOGSTORE)
        logs.setdefault("retention_days", DEFAULT_RETENTION_DAYS)
    timers = tuple(args.get("timers", []))
    async_invoke = args.get("async_invoke")
    if async_invoke is None and timers:
        # A timer fires again on its next tick: FC's default of 3 retries would run the job
        # four times and count each failure (see `AsyncInvokeArgs.max_retries`).
        async_invoke = {"max_retries": 0}
    return FunctionSpec(
        name=name,
        crate=args.get("crate", ""),
        function_name=function_name,
        workspace=(cwd / args.get("workspace", ".")).resolve(),
        variant=variant,
        fc_version=args.get("fc_version", limits.DEFAULT_FC_VERSION),
        runtime=(
            container.CONTAINER_RUNTIME
            if variant == "container"
            else args.get("runtime", limits.DEFAULT_RUNTIME)
        ),
        memory_size=memory_size,
        cpu=args.get("cpu", default_cpu(memory_size) if isinstance(memory_size, int) else 0.1),
        disk_size=args.get("disk_size", DISK_SIZE),
        timeout=args.get("timeout", TIMEOUT),
        instance_concurrency=args.get("instance_concurrency", INSTANCE_CONCURRENCY),
        description=args.get("description", f"{args.get('crate', '')} (Rust, fc-rust)"),
        environment=dict(args.get("environment", {})),
        secret_environment=dict(args.get("secret_environment", {})),
        timers=timers,
        http=args.get("http"),
        async_invoke=async_invoke,
        alias=args.get("alias", ALIAS),
        pinned_version=args.get("pinned_version"),
        alert=args.get("alert"),
        tags={"project": project, "stack": stack, **args.get("tags", {})},
        role=role,
        logs=logs,
        log_project_per_account=per_account,
        bucket=cast("BucketArgs", _copy(args.get("bucket", {}))),
        registry=args.get("registry"),
        image=args.get("image"),
        size_budget=args.get("size_budget", DEFAULT_SIZE_BUDGET),
        project=project,
        stack=stack,
        region=region,
    )


def resolve(  # noqa: PLR0913 - where the function is declared: each part names its resources
    name: str,
    args: RustFunctionArgs,
    *,
    project: str,
    stack: str,
    region: str,
    cwd: Path | None = None,
) -> FunctionSpec:
    """The spec of `args`, or a `ConfigError` listing every problem, before anything registers.

    `cwd` is the program's directory (default: the current one), against which a relative
    `workspace` is read.
    """
    found = problems(name, args, project=project, stack=stack, region=region, cwd=cwd)
    if found:
        raise ConfigError(name, [message for _, message in found])
    return _defaults(name, args, project=project, stack=stack, region=region, cwd=cwd or Path.cwd())


def problems(  # noqa: PLR0913 - where the function is declared: each part names its resources
    name: str,
    args: RustFunctionArgs,
    *,
    project: str = "fc-rust",
    stack: str = "dev",
    region: str | None = None,
    cwd: Path | None = None,
) -> list[tuple[str, str]]:
    """Every problem with `args` as (argument, message).

    The message names the value and what is allowed; the argument says where it was set, so that
    a caller can name its own config key. With `region` None (not known yet), the rules that
    need the stack's region are left out.
    """
    spec = _defaults(
        name, args, project=project, stack=stack, region=region or "", cwd=cwd or Path.cwd()
    )
    found = _field_problems(spec, args)
    if region is None:
        return found
    if spec.variant == "container" and spec.registry is not None and not region:
        found.append(
            (
                "registry",
                (
                    "variant 'container' with a registry needs the stack's region "
                    "(`pulumi config set alicloud:region <region>`) to address the registry"
                ),
            )
        )
    if spec.alert is not None and not region:
        found.append(
            (
                "alert",
                (
                    "alert needs the stack's region (`pulumi config set alicloud:region "
                    "<region>`): CloudMonitor watches a function by region and name"
                ),
            )
        )
    return found


def validate(name: str, args: RustFunctionArgs) -> list[str]:
    """Every problem with `args` (the region aside), as messages naming field, value and rule."""
    return [message for _, message in problems(name, args)]


_MODES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "role": (frozenset({"role_name"}), frozenset({"existing_arn"})),
    "logs": (
        frozenset({"project_name", "in_project", "logstore_name", "retention_days"}),
        frozenset({"existing_project", "existing_logstore"}),
    ),
    "bucket": (frozenset({"bucket_name"}), frozenset({"existing_name"})),
}


def _mode(field: str, value: Mapping[str, object]) -> tuple[str, list[str]]:
    """`create`, `existing` or `skip` for a role/logs/bucket setting, and any mix-up in it."""
    create_keys, existing_keys = _MODES[field]
    if not isinstance(value, dict):
        return "create", [f"{field} must be a dict, got {type(value).__name__}"]
    unknown = sorted(set(value) - create_keys - existing_keys - {"skip"})
    if unknown:
        allowed = ", ".join(sorted(create_keys | existing_keys | {"skip"}))
        return "create", [f"{field} has unknown keys {', '.join(unknown)}; allowed: {allowed}"]
    if not isinstance(value.get("skip", False), bool):
        return "create", [f"{field}.skip must be true or false, got {value['skip']!r}"]
    chosen = []
    if set(value) & create_keys:
        chosen.append("create")
    if set(value) & existing_keys:
        chosen.append("existing")
    if value.get("skip"):
        chosen.append("skip")
    if len(chosen) > 1:
        return chosen[0], [
            (
                f"{field} mixes {' and '.join(chosen)}: give settings to create one, "
                f"{' + '.join(sorted(existing_keys))} to use an existing one, "
                "or skip=True, not several"
            )
        ]
    mode = chosen[0] if chosen else "create"
    if mode == "existing" and set(value) & existing_keys != existing_keys:
        missing = ", ".join(sorted(existing_keys - set(value)))
        return mode, [f"{field}: an existing {field} also needs {missing}"]
    return mode, []


def creates(field: str, value: object) -> bool:
    """Whether a role/logs/bucket setting asks for one to be created (and is well formed)."""
    return isinstance(value, dict) and _mode(field, value) == ("create", [])


def _container_problems(spec: FunctionSpec, args: RustFunctionArgs) -> list[tuple[str, str]]:
    """The container variant's own rules: one image source, no code bucket, a role to pull."""
    found: list[tuple[str, str]] = []
    if (spec.image is None) == (spec.registry is None):
        found.append(
            (
                "variant",
                (
                    "variant 'container' needs exactly one of registry (build and push the "
                    "crate's image) or image (an image FC can pull already)"
                ),
            )
        )
    if spec.registry is not None:
        found += container.registry_problems(spec.registry, spec.crate)
    found.extend(
        (key, f"{key} is only used by variant 'zip': the container variant uploads no code package")
        for key in ("bucket", "size_budget")
        if key in args
    )
    if spec.role_mode == "skip":
        found.append(("role", "variant 'container' needs a role: FC pulls the image with it"))
    if "runtime" in args:
        found.append(
            (
                "runtime",
                (
                    "runtime is custom-container for variant 'container'; remove runtime "
                    f"(got {args['runtime']!r})"
                ),
            )
        )
    return found


def _dependency_problems(spec: FunctionSpec) -> list[tuple[str, str]]:
    """Problems of the role, logs and bucket settings: their modes, names and combinations."""
    found: list[tuple[str, str]] = []
    modes = {}
    for field in ("role", "logs", "bucket"):
        modes[field], mode_problems = _mode(field, getattr(spec, field))
        found += [(field, message) for message in mode_problems]
    if found:
        return found
    if modes["role"] == "create":
        found += [("role", m) for m in limits.check_role_name(spec.role["role_name"])]
    if modes["logs"] == "create" and {"project_name", "in_project"} <= set(spec.logs):
        found.append(
            ("logs", "logs gives project_name and in_project: create a project, or use one")
        )
    if modes["logs"] == "create":
        found += [
            ("logs", m)
            for m in limits.check_log_names(
                spec.logs.get("project_name"),
                spec.logs.get("logstore_name"),
                spec.logs.get("retention_days"),
            )
        ]
    if modes["role"] == "skip" and modes["logs"] != "skip":
        found.append(
            (
                "role",
                (
                    "logs need a role: FC writes the function's logs with its role; "
                    "with role skip=True also set logs skip=True, or give role existing_arn"
                ),
            )
        )
    if modes["bucket"] == "skip" and spec.variant == "zip":
        found.append(
            ("bucket", "bucket skip=True leaves the zip variant no place to upload its code")
        )
    return found


def _field_problems(spec: FunctionSpec, args: RustFunctionArgs) -> list[tuple[str, str]]:  # noqa: C901, PLR0912 - one branch per rule
    found: list[tuple[str, str]] = []

    def add(field: str, messages: list[str]) -> None:
        found.extend((field, message) for message in messages)

    if not isinstance(spec.crate, str) or not spec.crate:
        add("crate", [f"crate must name a workspace crate such as 'hello', got {spec.crate!r}"])
    if spec.variant == "container":
        found += _container_problems(spec, args)
    elif spec.variant != "zip":
        add("variant", [f"variant must be 'zip' or 'container', got {spec.variant!r}"])
    else:
        for key in ("image", "registry"):
            if key in args:
                add(key, [f"{key} is only used by variant 'container'; remove it for 'zip'"])
    add("fc_version", limits.check_fc_version(spec.fc_version))
    on = {"fc_version": spec.fc_version}
    add("function_name", limits.check_function_name(spec.function_name, **on))
    if spec.variant != "container":
        add("runtime", limits.check_runtime(spec.runtime, **on))
    add("memory_size", limits.check_memory_size(spec.memory_size, **on))
    add("timeout", limits.check_timeout(spec.timeout))
    add("description", limits.check_description(spec.description))
    add("instance_concurrency", limits.check_instance_concurrency(spec.instance_concurrency))
    if spec.fc_version == "2.0":
        for key in ("cpu", "disk_size", "alias", "pinned_version"):
            if key in args:
                add(key, [f"{key} is an FC 3.0 setting; fc_version 2.0 does not support it"])
    else:
        if limits.check_memory_size(spec.memory_size) == [] or "cpu" in args:
            add("cpu", limits.check_cpu(spec.cpu, spec.memory_size))
        add("disk_size", limits.check_disk_size(spec.disk_size))
        add("alias", limits.check_alias_name(spec.alias))
        if spec.pinned_version is not None:
            add("pinned_version", limits.check_version_id(spec.pinned_version))
    secret_keys = list(spec.secret_environment)
    key_problems = {key: limits.environment_key_problem(key, **on) for key in secret_keys}
    add("secret_environment", [p for p in key_problems.values() if p is not None])
    valid_secret_keys = [key for key, problem in key_problems.items() if problem is None]
    add(
        "environment",
        limits.check_environment(dict(spec.environment), valid_secret_keys, **on),
    )
    add("timers", timer.check_timers(list(spec.timers)))
    if spec.http is not None:
        add("http", check_http(spec.http, fc_version=spec.fc_version))
        if any(t.get("name") == HTTP_TRIGGER_NAME for t in spec.timers):
            add("timers", [f"timer name {HTTP_TRIGGER_NAME!r} is the HTTP trigger's; rename it"])
    if spec.alert is not None:
        add("alert", alerts.check_alert(spec.alert))
    async_invoke = cast("dict[str, object]", args.get("async_invoke", {}))
    unknown = sorted(set(async_invoke) - {"max_retries", "max_event_age", "on_failure"})
    if unknown:
        add("async_invoke", [f"async_invoke has unknown keys {', '.join(unknown)}"])
    add(
        "async_invoke",
        limits.check_async_invoke(
            async_invoke.get("max_retries"),
            async_invoke.get("max_event_age"),
            **on,
        ),
    )
    found += _dependency_problems(spec)
    add(
        "tags",
        [
            f"tags must map strings to strings, got {key!r}: {value!r}"
            for key, value in spec.tags.items()
            if not isinstance(key, str) or not isinstance(value, str)
        ],
    )
    return found
