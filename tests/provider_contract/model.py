"""The provider contract: what pulumi-alicloud's Terraform provider and FC accept, one rule a line.

Each resource type the library declares has a `Resource` entry: every input path the library may
set (a path the contract does not know is itself a violation), which are required, their types,
lengths, patterns, allowed values and ranges, which are ForceNew, cross-field rules, and the
inputs whose values form the id the provider sets (unique in the account, so two resources with
the same identity collide). Every rule carries its source: the provider's file and line, or the
FC documentation page.

Source of the provider rules: `aliyun/terraform-provider-alicloud` at commit 81c43b6 (the
1.290.0 development head of 2026-08-21), the newest source reachable here. pulumi-alicloud 4.0.0
bridges a later release that cannot be named exactly from here: its SDK's docstrings mention
resources "available since v1.295.0" and none later, and the newest pulumi-alicloud source
reachable here is v3.105.0, which bridges v1.285.0 (provider/go.mod). So every rule, and every
Read and Update rule in `behaviours`, is checked at 81c43b6 and unconfirmed at the bridged
release. One change after 81c43b6 is known by its title only: PR #10298 (merged 2026-08-26,
"alicloud_fcv3_async_invoke_config: Fixed the create error caused by field destination_config");
its diff is not reachable here. The library does not depend on the behaviour it fixed: it
declares a config on LATEST beside the alias's (see `infra.fc3`), which the Read at 81c43b6
needs, and which stays correct if a later Read asks for the config's own qualifier.

Paths use Pulumi's input names (camelCase), `.` into a nested object and `[]` into list items:
`code.ossBucketName`, `lifecycleRules[].expirations[].days`. A field of kind `map` (tags,
environment variables) holds arbitrary keys and is not descended into.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["string", "int", "float", "bool", "list", "map", "object"]

PROVIDER = "terraform-provider-alicloud@81c43b6 alicloud/"
"""Prefix of provider sources: `PROVIDER + 'resource_alicloud_fcv3_function.go:303'`."""


@dataclass(frozen=True)
class Field:
    """One input of a resource and the rules the provider applies to it."""

    path: str
    kind: Kind
    source: str
    required: bool = False
    force_new: bool = False
    pattern: str | None = None
    """A regular expression the whole value must match."""
    allowed: tuple[object, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    multiple_of: float | None = None


@dataclass(frozen=True)
class Rule:
    """A rule across fields (ConflictsWith, ExactlyOneOf, a ratio); `check` returns a problem."""

    description: str
    source: str
    check: Callable[[Mapping[str, Any]], str | None]


@dataclass(frozen=True)
class Resource:
    """What the provider accepts for one Pulumi resource type."""

    type: str
    """The Pulumi type token, e.g. `alicloud:fc/v3Function:V3Function`."""
    terraform: str
    """The Terraform resource it bridges, e.g. `alicloud_fcv3_function`."""
    fields: tuple[Field, ...]
    identity: tuple[str, ...]
    """Input paths whose values make the resource's id or unique name; empty: provider-made."""
    identity_source: str
    rules: tuple[Rule, ...] = ()
    identity_defaults: tuple[tuple[str, object], ...] = ()
    """Values an identity path takes when the input leaves it unset (a qualifier's LATEST)."""
    scope: Literal["global", "account", "region", "parent"] = "parent"
    """Where the identity must be unique: across Alibaba Cloud (an SLS project, an OSS bucket),
    in the account (a RAM role), in the account's region (an FC function), or only inside the
    resource that holds it (a trigger in its function, a logstore in its project)."""
    refuses_delete: Callable[[Mapping[str, Any], int], str | None] | None = None
    """Given the inputs and the number of resources still inside it (e.g. objects in a bucket)
    when it is deleted, the reason the provider's delete fails, or None."""


def paths(value: Mapping[str, Any], resource: Resource) -> dict[str, list[object]]:
    """Every input path present in `value` with all its values (one per list item)."""
    maps = frozenset(f.path for f in resource.fields if f.kind == "map")
    found: dict[str, list[object]] = {}

    def walk(item: object, prefix: str) -> None:
        if prefix:
            found.setdefault(prefix, []).append(item)
        if prefix in maps:
            return
        if isinstance(item, Mapping):
            for key, child in item.items():
                if child is not None:
                    walk(child, f"{prefix}.{key}" if prefix else str(key))
        elif isinstance(item, list):
            for child in item:
                walk(child, f"{prefix}[]")

    walk(value, "")
    return found


def _kind_problem(field: Field, value: object) -> str | None:
    checks: dict[Kind, Callable[[object], bool]] = {
        "string": lambda v: isinstance(v, str),
        "int": lambda v: (
            isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer()
        ),
        "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "list": lambda v: isinstance(v, list),
        "map": lambda v: isinstance(v, Mapping),
        "object": lambda v: isinstance(v, Mapping),
    }
    if checks[field.kind](value):
        return None
    return f"{field.path} must be a {field.kind}, got {value!r}"


def _value_problems(field: Field, value: object) -> list[str]:  # noqa: C901 - one branch per rule
    kind = _kind_problem(field, value)
    if kind is not None:
        return [kind]
    problems = []
    if field.allowed is not None and value not in field.allowed:
        problems.append(f"{field.path} must be one of {list(field.allowed)}, got {value!r}")
    if field.pattern is not None and (
        not isinstance(value, str) or re.fullmatch(field.pattern, value) is None
    ):
        problems.append(f"{field.path} must match {field.pattern}, got {value!r}")
    if isinstance(value, str | list):
        if field.min_length is not None and len(value) < field.min_length:
            problems.append(f"{field.path} must have at least {field.min_length}, got {value!r}")
        if field.max_length is not None and len(value) > field.max_length:
            problems.append(f"{field.path} must have at most {field.max_length}, got {value!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if field.minimum is not None and value < field.minimum:
            problems.append(f"{field.path} must be at least {field.minimum}, got {value!r}")
        if field.maximum is not None and value > field.maximum:
            problems.append(f"{field.path} must be at most {field.maximum}, got {value!r}")
        if field.multiple_of is not None:
            ratio = round(value / field.multiple_of, 6)
            if not ratio.is_integer():
                problems.append(
                    f"{field.path} must be a multiple of {field.multiple_of}, got {value!r}"
                )
    return problems


def violations(resource: Resource, inputs: Mapping[str, Any]) -> list[str]:
    """Every rule of `resource` that `inputs` (plain, secrets unwrapped) break."""
    present = paths(inputs, resource)
    known = {f.path: f for f in resource.fields}
    problems = [
        f"{path} is not an input of {resource.terraform} in the contract"
        for path in sorted(present)
        if path not in known
    ]
    for field in resource.fields:
        values = present.get(field.path, [])
        parent = field.path.rsplit(".", 1)[0] if "." in field.path else ""
        parent_present = not parent or parent in present
        if field.required and parent_present and not values:
            problems.append(f"{field.path} is required ({field.source})")
        for value in values:
            problems.extend(f"{p} ({field.source})" for p in _value_problems(field, value))
    for rule in resource.rules:
        problem = rule.check(inputs)
        if problem is not None:
            problems.append(f"{problem} ({rule.source})")
    return problems


def identity(resource: Resource, inputs: Mapping[str, Any]) -> tuple[object, ...] | None:
    """The values that make the resource's id, or None when the provider makes it unique."""
    if not resource.identity:
        return None
    values = []
    defaults = dict(resource.identity_defaults)
    for path in resource.identity:
        value: object = inputs
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is None or value == "":
            value = defaults.get(path)
        if value is None:
            return None
        values.append(value)
    return (resource.type, *values)


def force_new_paths(resource: Resource) -> frozenset[str]:
    """The input paths whose change makes the provider replace the resource."""
    return frozenset(f.path for f in resource.fields if f.force_new)
