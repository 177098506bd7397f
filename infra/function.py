"""RustFunction: a Rust bootstrap on Function Compute with its code, role, logs and timers."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud

from infra import access, alerts, artifacts, container, limits, logs, timer
from infra import bootstrap as _bootstrap
from infra.limits import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

DEFAULTS = {
    "runtime": limits.DEFAULT_RUNTIME,
    "memory_size": 128,
    "disk_size": 512,
    "timeout": 60,
    "instance_concurrency": 1,
    "fc_version": limits.DEFAULT_FC_VERSION,
    "alias": "live",
}
"""Defaults of the optional sizing keys: the smallest function FC 3.0 accepts, 60 s.

The cpu default follows the memory (`default_cpu`): a fixed 0.1 vCPU would refuse every
memory size above 384 MB under FC 3.0's cpu:memory ratio."""

HANDLER = "index.handler"
"""FC requires a handler; custom runtimes ignore it (Serverless Devs writes the same)."""
BOOTSTRAP_COMMAND = "/code/bootstrap"
"""Where FC unpacks the zip's `bootstrap`; stated explicitly so a console edit cannot drift."""


class RoleArgs(TypedDict, total=False):
    """The execution role: omit to create one, or give exactly one of these keys."""

    existing_arn: pulumi.Input[str]
    """Use this role (`acs:ram::<account>:role/<name>`); it must allow writing the logs."""
    skip: bool
    """No role: the function gets no credentials and cannot write logs."""
    role_name: str
    """Name of the role to create (1-64 letters, digits and `-`); default
    `fcrust-<stack>-<function_name>`."""


class LogsArgs(TypedDict, total=False):
    """Where stdout goes: omit to create a project and logstore, or give one form only."""

    existing_project: pulumi.Input[str]
    """Use this SLS project (with `existing_logstore`)."""
    existing_logstore: pulumi.Input[str]
    """Use this logstore of `existing_project`."""
    skip: bool
    """No logs: FC discards the function's output."""
    project_name: str
    """Name of the project to create; default `fcrust-<stack>-<function_name>` in lower case."""
    logstore_name: str
    """Name of the logstore to create; default `function-logs`."""
    retention_days: int
    """Retention of the created logstore; default 30 days."""


class BucketArgs(TypedDict, total=False):
    """Where code packages are uploaded: omit to create a bucket, or give one form only."""

    existing_name: pulumi.Input[str]
    """Upload to this bucket (e.g. an `ArtifactBucket` shared by several functions)."""
    skip: bool
    """No bucket; only valid for the container variant, which has no zip to upload."""
    bucket_name: str
    """Name of the bucket to create; default: a unique name chosen by the provider."""


class AsyncInvokeArgs(TypedDict, total=False):
    """What FC does with a failed asynchronous invocation (timers invoke asynchronously)."""

    max_retries: int
    """Retries of a failed invocation, 0-8. Default 0 for a function with timers: the next tick
    runs it again, and a retried sync-forks would count each try as a failure. FC's own
    default, for a function without this setting, is 3."""
    max_event_age: int
    """Seconds an event may wait before FC drops it (FC 3.0: 1-86400; FC 2.0: 1-2592000);
    default: FC's (86400 on FC 3.0)."""
    on_failure: pulumi.Input[str]
    """ARN of a destination for events that failed every try (an FC function, an MNS queue or
    topic, an EventBridge bus); default: none."""


class RustFunctionArgs(TypedDict):
    """Everything about one function; only `crate` is required."""

    crate: str
    """The workspace crate to build into `bootstrap`, e.g. `sync-forks`."""
    variant: NotRequired[Literal["zip", "container"]]
    """`zip` (default): a code package from OSS on a custom runtime. `container`: the crate's
    static bootstrap in a `FROM scratch` image on the custom-container runtime."""
    registry: NotRequired[container.RegistryArgs]
    """Container variant: build the crate's image and push it to this ACR repository."""
    image: NotRequired[pulumi.Input[str]]
    """Container variant: run this image (an address FC can pull) instead of building one."""
    workspace: NotRequired[str]
    """Cargo workspace root; default: the repository that holds `infra/`."""
    size_budget: NotRequired[int]
    """Largest acceptable zip in bytes; the build fails above it."""
    function_name: NotRequired[str]
    """FC function name; default: the component name."""
    runtime: NotRequired[str]
    """`custom.debian10` (default), `custom.debian11`, `custom.debian12` or `custom`."""
    memory_size: NotRequired[int]
    """MB, a multiple of 64 in [128, 32768]; default 128."""
    cpu: NotRequired[float]
    """vCPU, a multiple of 0.05 in [0.05, 16], memory(GB)/cpu in [1, 4]; default: the least
    that the memory size allows, at least 0.1 (FC 3.0)."""
    disk_size: NotRequired[int]
    """MB of /tmp, 512 (default) or 10240. FC 3.0 only."""
    timeout: NotRequired[int]
    """Seconds per invocation, 1-86400; default 60."""
    instance_concurrency: NotRequired[int]
    """Requests one instance serves at a time, 1-200; default 1."""
    environment: NotRequired[dict[str, str]]
    """Plain environment variables (not `FC_*`), stored and shown in previews as they are."""
    secret_environment: NotRequired[Mapping[str, pulumi.Input[str]]]
    """Environment variables whose values are Pulumi secrets (tokens): encrypted in state."""
    timers: NotRequired[Sequence[timer.TimerArgs]]
    """Timer triggers; each fires the alias (FC 3.0) or the function (FC 2.0)."""
    role: NotRequired[RoleArgs]
    """The execution role; default: create one that may write the function's logstore."""
    logs: NotRequired[LogsArgs]
    """The log destination; default: create an SLS project and logstore."""
    bucket: NotRequired[BucketArgs]
    """The code bucket; default: create a private one."""
    fc_version: NotRequired[Literal["3.0", "2.0"]]
    """`3.0` (default) or the legacy `2.0` API (service + function, no versions)."""
    description: NotRequired[str]
    """Function description."""
    tags: NotRequired[dict[str, str]]
    """Tags on every taggable resource created."""
    alias: NotRequired[str]
    """Alias the timers invoke; default `live`. FC 3.0 only."""
    alert: NotRequired[alerts.AlertArgs]
    """Alert a CloudMonitor contact group when the function fails; default: no alert."""
    async_invoke: NotRequired[AsyncInvokeArgs]
    """Retries, event age and failure destination of asynchronous invocations; default for a
    function with timers: no retries. Without timers and without this key, FC's defaults."""
    pinned_version: NotRequired[str]
    """Hold the alias on this published version (FC 3.0 only). While pinned, new code and config
    reach LATEST but publish no version, and the version the stack last published is kept, so
    the alias can stay on it or on a version published outside the stack. Unpinning publishes
    the newest and deletes the held one."""


_MODES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "role": (frozenset({"role_name"}), frozenset({"existing_arn"})),
    "logs": (
        frozenset({"project_name", "logstore_name", "retention_days"}),
        frozenset({"existing_project", "existing_logstore"}),
    ),
    "bucket": (frozenset({"bucket_name"}), frozenset({"existing_name"})),
}


def _mode(field: str, value: Mapping[str, object]) -> tuple[str, list[str]]:
    """`create`, `existing` or `skip` for a role/logs/bucket setting, and any mix-up in it."""
    create_keys, existing_keys = _MODES[field]
    unknown = sorted(set(value) - create_keys - existing_keys - {"skip"})
    if unknown:
        allowed = ", ".join(sorted(create_keys | existing_keys | {"skip"}))
        return "create", [f"{field} has unknown keys {', '.join(unknown)}; allowed: {allowed}"]
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


def _check_container(args: RustFunctionArgs) -> list[tuple[str, str]]:
    """The container variant's own rules: one image source, no code bucket, a role to pull."""
    problems: list[tuple[str, str]] = []
    if ("image" in args) == ("registry" in args):
        problems.append(
            (
                "variant",
                (
                    "variant 'container' needs exactly one of registry (build and push the "
                    "crate's image) or image (an image FC can pull already)"
                ),
            )
        )
    if "registry" in args:
        problems += container.registry_problems(args["registry"], args.get("crate", ""))
    problems.extend(
        (key, f"{key} is only used by variant 'zip': the container variant uploads no code package")
        for key in ("bucket", "size_budget")
        if key in args
    )
    if args.get("role", {}).get("skip"):
        problems.append(("role", "variant 'container' needs a role: FC pulls the image with it"))
    if "runtime" in args:
        problems.append(
            (
                "runtime",
                (
                    "runtime is custom-container for variant 'container'; remove runtime "
                    f"(got {args['runtime']!r})"
                ),
            )
        )
    return problems


def default_cpu(memory_size: int) -> float:
    """The least vCPU that FC 3.0 allows with `memory_size` MB, and at least 0.1.

    FC 3.0 needs memory(GB) between 1 and 4 times the vCPU (`limits.check_cpu`), so above
    384 MB the floor of 0.1 vCPU is too little: 512 MB takes 0.15, 1024 MB 0.25.
    """
    return float(max(Decimal("0.1"), limits.least_cpu(memory_size)))


def resolved_async_invoke(args: RustFunctionArgs) -> AsyncInvokeArgs | None:
    """The asynchronous invocation config to declare, or None to leave FC's defaults.

    As given; else no retries for a function with timers.
    """
    if "async_invoke" in args:
        return args["async_invoke"]
    return {"max_retries": 0} if args.get("timers") else None


def resolved_cpu(args: RustFunctionArgs) -> float:
    """The function's vCPU: as given, or the default for its memory size."""
    return args.get("cpu", default_cpu(args.get("memory_size", 128)))


def _dependency_problems(args: RustFunctionArgs, variant: str) -> list[tuple[str, str]]:
    """Problems of the role, logs and bucket settings: their modes, names and combinations."""
    problems: list[tuple[str, str]] = []

    def add(field: str, found: list[str]) -> None:
        problems.extend((field, message) for message in found)

    modes = {}
    for key in ("role", "logs", "bucket"):
        setting = args.get(key, {})
        if not isinstance(setting, dict):
            add(key, [f"{key} must be a dict, got {type(setting).__name__}"])
            continue
        modes[key], found = _mode(key, setting)
        add(key, found)
    if modes.get("role") == "create" and "role_name" in args.get("role", {}):
        add("role", limits.check_role_name(args["role"]["role_name"]))
    if modes.get("logs") == "create":
        setting = args.get("logs", {})
        add(
            "logs",
            limits.check_log_names(
                setting.get("project_name"),
                setting.get("logstore_name"),
                setting.get("retention_days"),
            ),
        )
    if modes.get("role") == "skip" and modes.get("logs") != "skip":
        add(
            "role",
            [
                (
                    "logs need a role: FC writes the function's logs with its role; "
                    "with role skip=True also set logs skip=True, or give role existing_arn"
                )
            ],
        )
    if modes.get("bucket") == "skip" and variant == "zip":
        add("bucket", ["bucket skip=True leaves the zip variant no place to upload its code"])
    return problems


def field_problems(name: str, args: RustFunctionArgs) -> list[tuple[str, str]]:  # noqa: C901, PLR0912 - one branch per rule
    """Every problem with `args` as (argument, message).

    The message names the value and what is allowed; the argument says where it was set, so
    that a caller can name its own config key.
    """
    problems: list[tuple[str, str]] = []

    def add(field: str, found: list[str]) -> None:
        problems.extend((field, message) for message in found)

    if not isinstance(args.get("crate"), str) or not args.get("crate"):
        add(
            "crate",
            [f"crate must name a workspace crate such as 'hello', got {args.get('crate')!r}"],
        )
    variant = args.get("variant", "zip")
    if variant == "container":
        problems += _check_container(args)
    elif variant != "zip":
        add("variant", [f"variant must be 'zip' or 'container', got {variant!r}"])
    else:
        for key in ("image", "registry"):
            if key in args:
                add(
                    key, [f"{key} is only used by variant 'container'; remove it for variant 'zip'"]
                )
    fc_version = str(args.get("fc_version", DEFAULTS["fc_version"]))
    add("fc_version", limits.check_fc_version(fc_version))
    on = {"fc_version": fc_version}
    add("function_name", limits.check_function_name(args.get("function_name", name), **on))
    if variant != "container":
        add("runtime", limits.check_runtime(args.get("runtime", str(DEFAULTS["runtime"])), **on))
    memory_size = args.get("memory_size", 128)
    add("memory_size", limits.check_memory_size(memory_size, **on))
    add("timeout", limits.check_timeout(args.get("timeout", 60)))
    add(
        "instance_concurrency",
        limits.check_instance_concurrency(args.get("instance_concurrency", 1)),
    )
    if fc_version == "2.0":
        for key in ("cpu", "disk_size", "alias", "pinned_version"):
            if key in args:
                add(key, [f"{key} is an FC 3.0 setting; fc_version 2.0 does not support it"])
    else:
        if limits.check_memory_size(memory_size) == [] or "cpu" in args:
            add("cpu", limits.check_cpu(resolved_cpu(args), memory_size))
        add("disk_size", limits.check_disk_size(args.get("disk_size", 512)))
        add("alias", limits.check_alias_name(args.get("alias", "live")))
        if "pinned_version" in args:
            add("pinned_version", limits.check_version_id(args["pinned_version"]))
    add(
        "environment",
        limits.check_environment(
            args.get("environment", {}), list(args.get("secret_environment", {})), **on
        ),
    )
    add("timers", timer.check_timers(list(args.get("timers", []))))
    if "alert" in args:
        add("alert", alerts.check_alert(args["alert"]))
    async_invoke = args.get("async_invoke", {})
    unknown = sorted(set(async_invoke) - {"max_retries", "max_event_age", "on_failure"})
    if unknown:
        add("async_invoke", [f"async_invoke has unknown keys {', '.join(unknown)}"])
    add(
        "async_invoke",
        limits.check_async_invoke(
            async_invoke.get("max_retries"), async_invoke.get("max_event_age"), **on
        ),
    )
    problems += _dependency_problems(args, variant)
    add(
        "tags",
        [
            f"tags must map strings to strings, got {key!r}: {value!r}"
            for key, value in args.get("tags", {}).items()
            if not isinstance(key, str) or not isinstance(value, str)
        ],
    )
    return problems


def validate(name: str, args: RustFunctionArgs) -> list[str]:
    """Every problem with `args`, as messages naming the field, the value and what is allowed."""
    return [message for _, message in field_problems(name, args)]


def _resource_name(*parts: str, limit: int = 63) -> str:
    """A cloud-side name from parts: lower case, `-` separated, at most `limit` characters."""
    text = re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")
    return text[:limit].rstrip("-")


def _known(output: pulumi.Output[str | None], default: str) -> pulumi.Output[str]:
    """`output`, typed as always set: the provider fills these in, `default` covers a None."""

    def or_default(value: str | None) -> str:
        return value if value is not None else default

    return output.apply(or_default)


def _runtime(args: RustFunctionArgs, source: _Source) -> str:
    """The FC runtime: the chosen custom runtime for a zip, custom-container for an image."""
    if source.image is not None:
        return container.CONTAINER_RUNTIME
    return args.get("runtime", limits.DEFAULT_RUNTIME)


def _digest(document: object) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class _Source:
    """Where the function's code comes from: a zip in OSS, or a container image."""

    revision: pulumi.Input[str]
    """Short content id of the code, part of the published version's description."""
    package: _bootstrap.Package | None = None
    code: alicloud.oss.BucketObject | None = None
    image: pulumi.Input[str] | None = None
    acr_instance_id: str | None = None
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    """Resources FC needs before the function: the pushed image."""


@dataclass(frozen=True)
class _Plan:
    """Everything either FC backend declares the function from."""

    function_name: str
    args: RustFunctionArgs
    source: _Source
    environment: dict[str, pulumi.Input[str]]
    role_arn: pulumi.Input[str] | None
    log_project: pulumi.Input[str] | None
    logstore: pulumi.Input[str] | None
    depends_on: list[pulumi.Resource]
    """What FC needs in place before the function: the pushed image, the role's policies."""
    region: str
    """The stack's region (`alicloud:region`), which CloudMonitor's dimensions name."""


def _trigger_options(
    parent: pulumi.Resource, async_config: pulumi.Resource | None
) -> pulumi.ResourceOptions:
    """Options of a timer trigger: after the retry settings, delete before replace.

    The first tick must already find the retry settings in place. A trigger's name is unique
    within its function and some of its inputs are ForceNew (FC 3.0 `qualifier`, FC 2.0
    `service` and `function`), so a create-before-delete replacement would collide with the
    trigger it replaces.
    """
    return pulumi.ResourceOptions(
        parent=parent,
        delete_before_replace=True,
        depends_on=[async_config] if async_config is not None else [],
    )


class RustFunction(pulumi.ComponentResource):
    """A Rust function on FC: build, upload, function, version and alias, timers, role, logs."""

    function_name: pulumi.Output[str]
    """The FC function name."""
    function_arn: pulumi.Output[str]
    """The function's ARN."""
    alias: pulumi.Output[str]
    """The qualifier timers invoke: the alias (FC 3.0) or `LATEST` (FC 2.0)."""
    version: pulumi.Output[str]
    """The version the alias points at (FC 3.0), or `LATEST` (FC 2.0)."""
    published_version: pulumi.Output[str]
    """The newest version published for this code and config, even when the alias is pinned."""
    code_sha256: pulumi.Output[str]
    """SHA-256 (hex) of the code package; empty for the container variant."""
    code_checksum: pulumi.Output[str]
    """FC's checksum of the package: CRC-64/XZ as a decimal string; empty for containers."""
    code_size: pulumi.Output[int]
    """Size of the zip in bytes; 0 for the container variant."""
    object_key: pulumi.Output[str]
    """OSS key of the package: `<stack>/<function_name>/<sha256>.zip`; empty for containers."""
    bucket_name: pulumi.Output[str]
    """The bucket holding the package; empty for containers."""
    role_arn: pulumi.Output[str | None]
    """The execution role, if any."""
    log_project: pulumi.Output[str | None]
    """The SLS project the function logs to, if any."""
    logstore: pulumi.Output[str | None]
    """The logstore the function logs to, if any."""
    trigger_names: pulumi.Output[list[str]]
    """Names of the timer triggers."""
    image: pulumi.Output[str]
    """The image FC runs (its VPC address); empty for the zip variant."""
    package: _bootstrap.Package | None
    """The built zip package (plain values, known during preview); None for containers."""

    def __init__(
        self, name: str, args: RustFunctionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Validate `args` (raising `ConfigError` before anything is registered), then declare."""
        problems = validate(name, args)
        region = pulumi.Config("alicloud").get("region") or ""
        if args.get("variant") == "container" and "registry" in args and not region:
            problems.append(
                "variant 'container' with a registry needs the stack's region "
                "(`pulumi config set alicloud:region <region>`) to address the registry"
            )
        if "alert" in args and not region:
            problems.append(
                "alert needs the stack's region (`pulumi config set alicloud:region <region>`): "
                "CloudMonitor watches a function by region and name"
            )
        if problems:
            raise ConfigError(name, problems)
        super().__init__("fcrust:index:RustFunction", name, None, opts)
        function_name = args.get("function_name", name)
        stack = pulumi.get_stack()
        tags = args.get("tags", {})

        variant = args.get("variant", "zip")
        log_project, logstore = self._logs(name, function_name, stack, args.get("logs", {}), tags)
        role = self._role(
            name,
            function_name=function_name,
            stack=stack,
            args=args,
            log_project=log_project,
            logstore=logstore,
            tags=tags,
        )
        role_setting = args.get("role", {})
        role_arn: pulumi.Input[str] | None = (
            role.arn if role is not None else role_setting.get("existing_arn")
        )
        source = (
            self._container_source(name, args, region)
            if variant == "container"
            else self._zip_source(name, args, function_name, tags)
        )
        self.package = source.package
        self.image = pulumi.Output.from_input(source.image or "")
        self.code_sha256 = pulumi.Output.from_input(source.package.sha256 if source.package else "")
        self.code_checksum = pulumi.Output.from_input(
            source.package.crc64 if source.package else ""
        )
        self.code_size = pulumi.Output.from_input(source.package.size if source.package else 0)
        self.object_key = source.code.key if source.code else pulumi.Output.from_input("")
        self.bucket_name = source.code.bucket if source.code else pulumi.Output.from_input("")
        self.role_arn = pulumi.Output.from_input(role_arn)
        self.log_project = pulumi.Output.from_input(log_project)
        self.logstore = pulumi.Output.from_input(logstore)
        timers = list(args.get("timers", []))
        self.trigger_names = pulumi.Output.from_input([t["name"] for t in timers])

        environment: dict[str, pulumi.Input[str]] = dict(args.get("environment", {}))
        for key, value in args.get("secret_environment", {}).items():
            environment[key] = pulumi.Output.secret(value)

        plan = _Plan(
            function_name,
            args,
            source,
            environment,
            role_arn,
            log_project,
            logstore,
            # FC checks at create time that the role may write the logstore: the function waits
            # for the policy attachment (a child of the role component), not only for the ARN.
            depends_on=[*source.depends_on, *([role] if role is not None else [])],
            region=region,
        )
        backend = self._fc2 if args.get("fc_version", "3.0") == "2.0" else self._fc3
        backend(name, plan)
        self.register_outputs(
            {
                "function_name": self.function_name,
                "function_arn": self.function_arn,
                "image": self.image,
                "alias": self.alias,
                "version": self.version,
                "published_version": self.published_version,
                "code_sha256": self.code_sha256,
                "code_checksum": self.code_checksum,
                "code_size": self.code_size,
                "object_key": self.object_key,
                "bucket_name": self.bucket_name,
                "role_arn": self.role_arn,
                "log_project": self.log_project,
                "logstore": self.logstore,
                "trigger_names": self.trigger_names,
            }
        )

    def _zip_source(
        self, name: str, args: RustFunctionArgs, function_name: str, tags: dict[str, str]
    ) -> _Source:
        """Build the zip and upload it under its content key."""
        build_args: _bootstrap.RustBootstrapArgs = {
            "crate": args["crate"],
            "runtime": args.get("runtime", limits.DEFAULT_RUNTIME),
        }
        if "workspace" in args:
            build_args["workspace"] = args["workspace"]
        if "size_budget" in args:
            build_args["size_budget"] = args["size_budget"]
        child = pulumi.ResourceOptions(parent=self)
        package = _bootstrap.RustBootstrap(f"{name}-bootstrap", build_args, opts=child).package
        bucket_name = self._bucket(name, args.get("bucket", {}), tags)
        key = artifacts.object_key(package, stack=pulumi.get_stack(), function_name=function_name)
        code = artifacts.code_object(name, bucket_name, key, package, self)
        return _Source(revision=package.sha256[:16], package=package, code=code)

    def _container_source(self, name: str, args: RustFunctionArgs, region: str) -> _Source:
        """Build and push the crate's image, or take the image given."""
        if "image" in args:
            image = pulumi.Output.from_input(args["image"])
            return _Source(revision=image.apply(lambda ref: _digest(ref)[:16]), image=image)
        registry = args["registry"]
        image_args: container.ContainerImageArgs = {
            "crate": args["crate"],
            "registry": registry,
            "region": region,
        }
        if "workspace" in args:
            image_args["workspace"] = args["workspace"]
        built = container.ContainerImage(
            f"{name}-image", image_args, opts=pulumi.ResourceOptions(parent=self)
        )
        return _Source(
            revision=built.tag,
            image=built.vpc_image,
            acr_instance_id=registry.get("instance_id"),
            depends_on=[built],
        )

    def _bucket(self, name: str, setting: BucketArgs, tags: dict[str, str]) -> pulumi.Input[str]:
        if "existing_name" in setting:
            return setting["existing_name"]
        bucket_args: artifacts.ArtifactBucketArgs = {"tags": tags}
        if "bucket_name" in setting:
            bucket_args["bucket_name"] = setting["bucket_name"]
        bucket = artifacts.ArtifactBucket(
            f"{name}-artifacts", bucket_args, opts=pulumi.ResourceOptions(parent=self)
        )
        return bucket.bucket_name

    def _logs(
        self, name: str, function_name: str, stack: str, setting: LogsArgs, tags: dict[str, str]
    ) -> tuple[pulumi.Input[str] | None, pulumi.Input[str] | None]:
        if setting.get("skip"):
            return None, None
        if "existing_project" in setting:
            return setting["existing_project"], setting["existing_logstore"]
        created = logs.FunctionLogs(
            f"{name}-logs",
            {
                "project_name": setting.get(
                    "project_name", _resource_name("fcrust", stack, function_name)
                ),
                "logstore_name": setting.get("logstore_name", "function-logs"),
                "retention_days": setting.get("retention_days", logs.DEFAULT_RETENTION_DAYS),
                "tags": tags,
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        return created.project, created.logstore

    def _role(  # noqa: PLR0913 - the role depends on each of these
        self,
        name: str,
        *,
        function_name: str,
        stack: str,
        args: RustFunctionArgs,
        log_project: pulumi.Input[str] | None,
        logstore: pulumi.Input[str] | None,
        tags: dict[str, str],
    ) -> access.FunctionRole | None:
        """The role to create, or None when the function has none or uses an existing one."""
        setting = args.get("role", {})
        if setting.get("skip") or "existing_arn" in setting:
            return None
        role_args: access.FunctionRoleArgs = {
            "role_name": setting.get(
                "role_name", _resource_name("fcrust", stack, function_name, limit=64)
            ),
            "description": f"Execution role of FC function {function_name} (fc-rust)",
            "tags": tags,
            "image_pull": args.get("variant") == "container",
        }
        if log_project is not None and logstore is not None:
            role_args["log_project"] = log_project
            role_args["logstore"] = logstore
        return access.FunctionRole(
            f"{name}-role", role_args, opts=pulumi.ResourceOptions(parent=self)
        )

    @staticmethod
    def _config_digest(plan: _Plan) -> pulumi.Output[str]:
        """A digest of everything a published version snapshots besides the code.

        Secret values take part (a rotated token must reach the alias), so the digest of a
        function with secret environment is itself a secret: nothing derived from a secret is
        ever stored in plain text.
        """
        args, environment = plan.args, plan.environment
        keys = sorted(environment)
        return pulumi.Output.all(
            plan.role_arn, plan.log_project, plan.logstore, *[environment[k] for k in keys]
        ).apply(
            lambda values: _digest(
                {
                    "settings": {
                        "cpu": resolved_cpu(args),
                        **{
                            key: args.get(key, DEFAULTS.get(key))
                            for key in (
                                "runtime",
                                "memory_size",
                                "disk_size",
                                "timeout",
                                "instance_concurrency",
                                "description",
                            )
                        },
                    },
                    "role": values[0],
                    "logs": [values[1], values[2]],
                    "environment": dict(zip(keys, values[3:], strict=True)),
                }
            )
        )

    def _fc3(self, name: str, plan: _Plan) -> None:
        """FC 3.0: function, published version, alias, timers on the alias."""
        function_name, args, source = plan.function_name, plan.args, plan.source
        environment, role_arn = plan.environment, plan.role_arn
        log_project, logstore = plan.log_project, plan.logstore
        child = pulumi.ResourceOptions(parent=self)
        log_config: alicloud.fc.V3FunctionLogConfigArgsDict | None = None
        if log_project is not None and logstore is not None:
            log_config = {
                "project": log_project,
                "logstore": logstore,
                "enable_request_metrics": True,
                "enable_instance_metrics": True,
                "log_begin_rule": "None",
            }
        function = alicloud.fc.V3Function(
            f"{name}-function",
            function_name=function_name,
            description=args.get("description", f"{args['crate']} (Rust, fc-rust)"),
            runtime=_runtime(args, source),
            handler=HANDLER,
            code=(
                {
                    "oss_bucket_name": source.code.bucket,
                    "oss_object_name": source.code.key,
                    "checksum": source.package.crc64,
                }
                if source.code and source.package
                else None
            ),
            custom_runtime_config=(
                {"port": limits.CUSTOM_RUNTIME_PORT, "commands": [BOOTSTRAP_COMMAND]}
                if source.code
                else None
            ),
            custom_container_config=(
                {
                    "image": source.image,
                    "port": limits.CUSTOM_RUNTIME_PORT,
                    "entrypoints": [container.ENTRYPOINT],
                    "acr_instance_id": source.acr_instance_id,
                }
                if source.image is not None
                else None
            ),
            memory_size=args.get("memory_size", 128),
            cpu=resolved_cpu(args),
            disk_size=args.get("disk_size", 512),
            timeout=args.get("timeout", 60),
            instance_concurrency=args.get("instance_concurrency", 1),
            environment_variables=environment,
            internet_access=True,
            role=role_arn,
            log_config=log_config,
            tags=args.get("tags") or None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=plan.depends_on),
        )
        digest = self._config_digest(plan)
        published = alicloud.fc.V3FunctionVersion(
            f"{name}-version",
            function_name=function.function_name,
            description=pulumi.Output.all(source.revision, digest).apply(
                lambda parts: f"{args['crate']} code {parts[0]} config {parts[1][:16]}"
            ),
            # A version is immutable: new code or config publishes a new one (replace) and the
            # superseded one is deleted once the alias has moved on. Versions are not retained:
            # the provider's delete sends DeleteFunction alone, and FC refuses a function that
            # still has versions (Serverless Devs deletes them first; FC's FunctionNotEmpty; not
            # stated on FC 3.0's DeleteFunction page), so a retained version would make
            # `pulumi destroy` and a rename fail. While the alias is pinned, the
            # version held is kept as it is (ignore_changes), so that the version the alias may
            # point at is never deleted under it.
            opts=pulumi.ResourceOptions(
                parent=self,
                replace_on_changes=["*"],
                ignore_changes=["description"] if "pinned_version" in args else None,
                depends_on=[function],
            ),
        )
        alias_name = args.get("alias", "live")
        pinned = args.get("pinned_version")
        alias = alicloud.fc.V3Alias(
            f"{name}-alias",
            function_name=function.function_name,
            alias_name=alias_name,
            version_id=pinned if pinned is not None else published.version_id,
            description=f"pinned to version {pinned}" if pinned else "newest published version",
            opts=child,
        )
        retries = resolved_async_invoke(args)
        async_config = (
            alicloud.fc.V3AsyncInvokeConfig(
                f"{name}-async-invoke",
                function_name=function.function_name,
                # Timers invoke the alias, and FC keeps one such config per qualifier.
                qualifier=alias.alias_name,
                max_async_retry_attempts=retries.get("max_retries"),
                max_async_event_age_in_seconds=retries.get("max_event_age"),
                destination_config=(
                    {"on_failure": {"destination": retries["on_failure"]}}
                    if "on_failure" in retries
                    else None
                ),
                opts=child,
            )
            if retries is not None
            else None
        )
        trigger_opts = _trigger_options(self, async_config)
        for spec in args.get("timers", []):
            alicloud.fc.V3Trigger(
                f"{name}-timer-{spec['name']}",
                function_name=function.function_name,
                trigger_name=spec["name"],
                trigger_type="timer",
                qualifier=alias.alias_name,
                trigger_config=timer.trigger_config(spec),
                opts=trigger_opts,
            )
        if "alert" in args:
            alerts.failure_alarm(
                name,
                args["alert"],
                function_name=function_name,
                dimensions=alerts.metric_dimensions(plan.region, function_name),
                parent=self,
            )
        self.function_name = function.function_name
        self.function_arn = function.function_arn
        self.alias = alias.alias_name
        self.version = _known(alias.version_id, pinned or "")
        self.published_version = _known(published.version_id, "")

    def _fc2(self, name: str, plan: _Plan) -> None:
        """FC 2.0: service, function, timers on LATEST."""
        function_name, args, source = plan.function_name, plan.args, plan.source
        environment, role_arn = plan.environment, plan.role_arn
        log_project, logstore = plan.log_project, plan.logstore
        description = args.get("description", f"{args['crate']} (Rust, fc-rust)")
        log_config: alicloud.fc.ServiceLogConfigArgsDict | None = None
        if log_project is not None and logstore is not None:
            log_config = {
                "project": log_project,
                "logstore": logstore,
                "enable_request_metrics": True,
                "enable_instance_metrics": True,
            }
        service = alicloud.fc.Service(
            f"{name}-service",
            name=function_name,
            description=description,
            role=role_arn,
            log_config=log_config,
            internet_access=True,
            publish=False,
            tags=args.get("tags") or None,
            # FC 2.0 checks the log config against the role when the service is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=plan.depends_on),
        )
        function = alicloud.fc.Function(
            f"{name}-function",
            service=service.name,
            name=function_name,
            description=description,
            runtime=_runtime(args, source),
            handler=HANDLER,
            oss_bucket=source.code.bucket if source.code else None,
            oss_key=source.code.key if source.code else None,
            code_checksum=source.package.crc64 if source.package else None,
            custom_container_config=(
                {"image": source.image, "command": json.dumps([container.ENTRYPOINT])}
                if source.image is not None
                else None
            ),
            # The provider sends ca_port on create only for the runtimes `custom` and
            # `custom-container` (tf resource_alicloud_fc_function.go:222-225); the other custom
            # runtimes get FC's default, 9000. Declaring exactly that default keeps the created
            # function, the state and the bootstrap's port in agreement.
            ca_port=limits.CUSTOM_RUNTIME_PORT,
            memory_size=args.get("memory_size", 128),
            timeout=args.get("timeout", 60),
            instance_concurrency=args.get("instance_concurrency", 1),
            environment_variables=environment,
            opts=pulumi.ResourceOptions(parent=self, depends_on=plan.depends_on),
        )
        retries = resolved_async_invoke(args)
        async_config = (
            alicloud.fc.FunctionAsyncInvokeConfig(
                f"{name}-async-invoke",
                service_name=service.name,
                function_name=function.name,
                # FC 2.0 timers invoke LATEST; the qualifier is part of the config's id.
                qualifier="LATEST",
                maximum_retry_attempts=retries.get("max_retries"),
                maximum_event_age_in_seconds=retries.get("max_event_age"),
                destination_config=(
                    {"on_failure": {"destination": retries["on_failure"]}}
                    if "on_failure" in retries
                    else None
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            if retries is not None
            else None
        )
        trigger_opts = _trigger_options(self, async_config)
        for spec in args.get("timers", []):
            alicloud.fc.Trigger(
                f"{name}-timer-{spec['name']}",
                service=service.name,
                function=function.name,
                name=spec["name"],
                type="timer",
                config=timer.trigger_config(spec),
                opts=trigger_opts,
            )
        if "alert" in args:
            alerts.failure_alarm(
                name,
                args["alert"],
                function_name=function_name,
                # The service carries the function's name (see the Service above).
                dimensions=alerts.metric_dimensions(plan.region, function_name, function_name),
                parent=self,
            )
        self.function_name = _known(function.name, function_name)
        self.function_arn = function.function_arn
        self.alias = pulumi.Output.from_input("LATEST")
        self.version = pulumi.Output.from_input("LATEST")
        self.published_version = pulumi.Output.from_input("LATEST")
