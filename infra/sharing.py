"""What a stack's functions share: one code bucket and one SLS project, instead of one each.

A function that names no bucket of its own uploads its package to the stack's bucket (under its
own content key, `artifacts.object_key`), and one that names no log project writes to its own
logstore in the stack's project. Roles stay per function: each may write its own logstore only.

Stacks deployed before sharing hold one bucket and one project per function. Their next `up`
moves the first such function's bucket to the stack (an alias: the same bucket, renamed in the
state), uploads the other functions' packages to it and deletes their buckets; it creates the
stack's project and each function's logstore in it, and deletes the functions' own projects
with their logs, unless `keep_function_log_projects` keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import pulumi

from infra import quotas
from infra.access import FunctionRole, FunctionRoleArgs
from infra.artifacts import ArtifactBucket
from infra.config import read_values, where
from infra.logs import (
    ACCOUNT_SUFFIX_LENGTH,
    FunctionLogs,
    FunctionLogsArgs,
    LogProject,
    function_logstore,
)
from infra.spec import resource_name

if TYPE_CHECKING:
    from collections.abc import Mapping

    from infra.args import RustFunctionArgs
    from infra.spec import FunctionSpec

RUST_FUNCTION = "fcrust:index:RustFunction"
CODE_BUCKET = "stack-code"
"""Logical name of the stack's `ArtifactBucket`."""
LOG_PROJECT = "stack-logs"
"""Logical name of the stack's `LogProject`."""
SHARED_ROLE = "stack-role"
"""Logical name of the stack's `FunctionRole`, when it shares one (`Sharing.shared_role`)."""
OWN_LOG_SETTINGS = frozenset({"logstore_name", "retention_days"})
"""A function whose `logs` sets only these writes to the stack's project."""


@dataclass(frozen=True)
class Sharing:
    """What `declare_functions` shares between the functions it declares."""

    enabled: bool = True
    """False: each function creates its own bucket and project, as a `RustFunction` alone does
    (the layout of stacks deployed before sharing)."""
    code_bucket: str | None = None
    """An existing bucket for the packages, instead of creating the stack's."""
    log_project: str | None = None
    """An existing SLS project for the logstores, instead of creating the stack's."""
    keep_function_log_projects: bool = False
    """Keep each function's own log project (and its logs) as the earlier layout declared it,
    unused, until this is turned off: then the next `up` deletes them."""
    shared_role: bool = False
    """One execution role for the functions that would create their own and log to the stack's
    project (or not at all): fewer roles against RAM's quota, but each of those functions may
    then write every one of their logstores, not only its own."""


CONFIG_KEYS = {
    "layout": str,
    "codeBucket": str,
    "logProject": str,
    "keepFunctionLogProjects": bool,
    "sharedRole": bool,
}
"""The stack keys `sharing_from_config` reads."""
LAYOUTS = ("shared", "per-function")


def sharing_from_config(values: Mapping[str, object], project: str) -> tuple[Sharing, list[str]]:
    """The stack's sharing from its keys, and a problem for each bad value, naming its key."""
    read, problems = read_values(values, CONFIG_KEYS, project)
    layout = read.get("layout", "shared")
    if layout not in LAYOUTS:
        allowed = ", ".join(LAYOUTS)
        problems.append(
            f"layout must be one of {allowed}, got {layout!r} ({where(project, 'layout')})"
        )
    sharing = Sharing(
        enabled=layout != "per-function",
        code_bucket=cast("str | None", read.get("codeBucket")),
        log_project=cast("str | None", read.get("logProject")),
        keep_function_log_projects=bool(read.get("keepFunctionLogProjects", False)),
        shared_role=bool(read.get("sharedRole", False)),
    )
    if not sharing.enabled:
        problems += [
            f"{key} applies to layout shared, and layout is per-function ({where(project, key)})"
            for key in ("codeBucket", "logProject", "keepFunctionLogProjects", "sharedRole")
            if read.get(key)
        ]
    return sharing, problems


def bucket_users(specs: Mapping[str, FunctionSpec]) -> list[str]:
    """The functions that upload to the stack's bucket: zip functions naming no bucket."""
    return [name for name, spec in specs.items() if spec.variant == "zip" and not spec.bucket]


def log_users(
    functions: Mapping[str, RustFunctionArgs], specs: Mapping[str, FunctionSpec]
) -> list[str]:
    """The functions that log to the stack's project: creating logs, naming no project."""
    return [
        name
        for name, spec in specs.items()
        if spec.logs_mode == "create" and set(functions[name].get("logs", {})) <= OWN_LOG_SETTINGS
    ]


def role_users(
    functions: Mapping[str, RustFunctionArgs], specs: Mapping[str, FunctionSpec], sharing: Sharing
) -> list[str]:
    """The functions that take the stack's role.

    Those that would create one of their own, and log to the stack's project or not at all.
    """
    if not (sharing.enabled and sharing.shared_role):
        return []
    logging = set(log_users(functions, specs))
    return [
        name
        for name, spec in specs.items()
        if "role" not in functions[name] and (name in logging or spec.logs_mode == "skip")
    ]


def shared_role_name(project: str, stack: str) -> str:
    """`<project>-<stack>-functions`: the stack's role."""
    return f"{resource_name(project, stack, limit=64 - len('-functions-logs'))}-functions"


def stack_problems(
    functions: Mapping[str, RustFunctionArgs],
    specs: Mapping[str, FunctionSpec],
    sharing: Sharing,
    key: str,
) -> list[str]:
    """Two functions writing to one logstore of the stack's project; a quota exceeded.

    `key`: the config key that declares the functions, for the messages.
    """
    bucket_sharers = bucket_users(specs) if sharing.enabled else []
    log_sharers = log_users(functions, specs) if sharing.enabled else []
    role_sharers = role_users(functions, specs, sharing)
    counts = quotas.stack_counts(
        specs,
        bucket_sharers=bucket_sharers,
        log_sharers=log_sharers,
        role_sharers=role_sharers,
        shared=(
            bool(bucket_sharers) and sharing.code_bucket is None,
            bool(log_sharers) and sharing.log_project is None,
            bool(role_sharers),
        ),
    )
    problems = _logstore_problems(log_sharers, functions)
    if role_sharers:
        role = shared_role_name(pulumi.get_project(), pulumi.get_stack())
        problems += [
            f"{name}: its role name {role!r} is the stack's shared role's; give it another "
            f"functions.{name}.role.roleName"
            for name, spec in specs.items()
            if name not in role_sharers and spec.role.get("role_name") == role
        ]
    return problems + quotas.quota_problems(counts, key)


def _logstore_problems(
    log_sharers: list[str], functions: Mapping[str, RustFunctionArgs]
) -> list[str]:
    owners: dict[str, str] = {}
    problems = []
    for name in log_sharers:
        logstore = _shared_logstore(name, functions[name])
        if logstore in owners:
            problems.append(
                f"{name}: its logstore {logstore!r} in the stack's log project is also "
                f"{owners[logstore]}'s; give one of them another functions.<name>.logs.logstoreName"
            )
        owners.setdefault(logstore, name)
    return problems


def _shared_logstore(name: str, args: RustFunctionArgs) -> str:
    return str(args.get("logs", {}).get("logstore_name") or function_logstore(name))


def _moved_from(entry: str, name: str | None = None) -> pulumi.Alias:
    """A resource as the function `entry` declared it before sharing: its child `name`.

    Without `name`, the child had the resource's own name.
    """
    parent = pulumi.create_urn(entry, RUST_FUNCTION)
    return pulumi.Alias(parent=parent) if name is None else pulumi.Alias(name=name, parent=parent)


def share(
    functions: Mapping[str, RustFunctionArgs],
    specs: Mapping[str, FunctionSpec],
    sharing: Sharing,
) -> tuple[dict[str, RustFunctionArgs], dict[str, list[pulumi.Resource]]]:
    """The functions, pointed at the stack's bucket, log project and role, which this declares.

    And what each function must be created after: the shared role, whose policy FC checks.
    """
    out = dict(functions)
    if not sharing.enabled:
        return out, {}
    project, stack = pulumi.get_project(), pulumi.get_stack()
    tags = {"project": project, "stack": stack}
    uploading = bucket_users(specs)
    if uploading:
        bucket: pulumi.Input[str] = sharing.code_bucket or (
            ArtifactBucket(
                CODE_BUCKET,
                {"tags": tags},
                # The first function's bucket becomes the stack's: its children's aliases follow
                # from this one (`pulumi.runtime.resource.inherited_child_alias`).
                opts=pulumi.ResourceOptions(
                    aliases=[_moved_from(uploading[0], f"{uploading[0]}-artifacts")]
                ),
            ).bucket_name
        )
        for name in uploading:
            out[name] = cast("RustFunctionArgs", {**out[name], "bucket": {"existing_name": bucket}})
    logging = log_users(functions, specs)
    log_project: pulumi.Input[str] | None = None
    if logging:
        log_project = sharing.log_project or (
            LogProject(
                LOG_PROJECT,
                {
                    "project_name": resource_name(project, stack, limit=63 - ACCOUNT_SUFFIX_LENGTH),
                    "per_account": True,
                    "tags": tags,
                },
            ).project
        )
        for name in logging:
            logs = {**functions[name].get("logs", {}), "in_project": log_project}
            out[name] = cast("RustFunctionArgs", {**out[name], "logs": logs})
            if sharing.keep_function_log_projects:
                _keep_function_logs(name, specs[name])
    waits: dict[str, list[pulumi.Resource]] = {}
    taking = role_users(functions, specs, sharing)
    if taking:
        role_args: FunctionRoleArgs = {
            "role_name": shared_role_name(project, stack),
            "description": f"Execution role of the functions of stack {stack} (fc-rust)",
            "tags": tags,
            "image_pull": any(specs[name].variant == "container" for name in taking),
        }
        stores = [_shared_logstore(n, functions[n]) for n in taking if n in logging]
        if log_project is not None and stores:
            role_args |= {"log_project": log_project, "logstores": stores}
        role = FunctionRole(SHARED_ROLE, role_args)
        for name in taking:
            out[name] = cast("RustFunctionArgs", {**out[name], "role": {"existing_arn": role.arn}})
            waits[name] = [role]
    return out, waits


def _keep_function_logs(name: str, spec: FunctionSpec) -> None:
    """The log project and logstore `name` had before sharing, declared exactly as then."""
    FunctionLogs(
        f"{name}-logs",
        cast(
            "FunctionLogsArgs",
            {
                "project_name": spec.logs["project_name"],
                "logstore_name": spec.logs["logstore_name"],
                "retention_days": spec.logs["retention_days"],
                "tags": dict(spec.tags),
                "per_account": spec.log_project_per_account,
            },
        ),
        opts=pulumi.ResourceOptions(aliases=[_moved_from(name)]),
    )
