"""What a user gives to declare a function: `RustFunctionArgs` and its nested settings.

Only `crate` is required; `infra.spec.resolve` checks the rest and applies every default once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, NotRequired, TypedDict

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import pulumi

    from infra.alerts import AlertArgs
    from infra.container import RegistryArgs
    from infra.http_trigger import HttpArgs
    from infra.timer import TimerArgs


class RoleArgs(TypedDict, total=False):
    """The execution role: omit to create one, or give exactly one of these keys."""

    existing_arn: pulumi.Input[str]
    """Use this role (`acs:ram::<account>:role/<name>`); it must allow writing the logs."""
    skip: bool
    """No role: the function gets no credentials and cannot write logs."""
    role_name: str
    """Name of the role to create (1-64 letters, digits and `-`); default
    `<project>-<stack>-<component name>`."""


class LogsArgs(TypedDict, total=False):
    """Where stdout goes: omit to create a project and logstore, or give one form only."""

    existing_project: pulumi.Input[str]
    """Use this SLS project (with `existing_logstore`)."""
    existing_logstore: pulumi.Input[str]
    """Use this logstore of `existing_project`."""
    skip: bool
    """No logs: FC discards the function's output."""
    project_name: str
    """Name of the project to create; default `<project>-<stack>-<component name>-<account digest>`
    in lower case (SLS project names are global)."""
    logstore_name: str
    """Name of the logstore to create; default `function-logs`, or `<name>-logs` in
    `in_project`."""
    in_project: pulumi.Input[str]
    """Create only the logstore, in this project (a stack's `LogProject`, which
    `declare_functions` shares between its functions), instead of a project of its own."""
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
    registry: NotRequired[RegistryArgs]
    """Container variant: build the crate's image and push it to this ACR repository."""
    image: NotRequired[pulumi.Input[str]]
    """Container variant: run this image (an address FC can pull) instead of building one."""
    workspace: NotRequired[str]
    """Cargo workspace root, relative to the program's directory or absolute; default: the
    program's directory (where Pulumi runs the program)."""
    size_budget: NotRequired[int]
    """Largest acceptable zip in bytes; the build fails above it."""
    function_name: NotRequired[str]
    """FC function name; default `<component name>-<stack>` (`spec.default_function_name`)."""
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
    timers: NotRequired[Sequence[TimerArgs]]
    """Timer triggers; each fires the alias (FC 3.0) or the function (FC 2.0)."""
    http: NotRequired[HttpArgs]
    """An HTTP trigger on the alias (FC 3.0) or the function (FC 2.0); default: none."""
    role: NotRequired[RoleArgs]
    """The execution role; default: create one that may write the function's logstore."""
    logs: NotRequired[LogsArgs]
    """The log destination; default: create an SLS project and logstore."""
    bucket: NotRequired[BucketArgs]
    """The code bucket; default: create a private one."""
    fc_version: NotRequired[Literal["3.0", "2.0"]]
    """`3.0` (default) or the legacy `2.0` API (service + function, no versions)."""
    description: NotRequired[str]
    """Function description; default `<crate> (Rust, fc-rust)`."""
    tags: NotRequired[dict[str, str]]
    """Tags on every taggable resource created, over the default `project` and `stack` tags."""
    alias: NotRequired[str]
    """Alias the timers invoke; default `live`. FC 3.0 only."""
    alert: NotRequired[AlertArgs]
    """Alert a CloudMonitor contact group when the function fails; default: no alert."""
    async_invoke: NotRequired[AsyncInvokeArgs]
    """Retries, event age and failure destination of asynchronous invocations; default for a
    function with timers: no retries. Without timers and without this key, FC's defaults."""
    pinned_version: NotRequired[str]
    """Hold the alias on this published version (FC 3.0 only). While pinned, new code and config
    reach LATEST but publish no version, and the version the stack last published is kept, so
    the alias can stay on it or on a version published outside the stack. Unpinning publishes
    the newest and deletes the held one."""
