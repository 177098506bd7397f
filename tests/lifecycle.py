"""A lifecycle simulator: what Pulumi would do with a stack between two evaluations, and on destroy.

From the provider contract's ForceNew table and each resource's options it says, per resource,
whether a change leaves it unchanged, updates it in place, or replaces it (create-before-delete
unless `delete_before_replace`), and finds what the cloud would refuse: a new resource whose id
is still held by an old one, a replacement of a resource that must only be updated, and, on
`pulumi destroy`, a delete of a container that still holds something.

The diff is taken against the state the provider's Read wrote after the last `up`
(`behaviours`: a version's description is its function's, an async config reads LATEST's), not
against the inputs sent, so an unchanged program must plan no change at all; a change whose
input the provider's Update never sends is reported as a silent update, and a create whose
closing Read would not find what it made as a failure of the `up`.

The engine's rules it follows (pulumi/pulumi, pkg/resource/deploy/step_generator.go): a resource
is matched across evaluations by URN, or by one of its aliases when its URN is not in the state
(a moved resource keeps its id: nothing is created or deleted for it); it is replaced when the
provider's diff names a ForceNew input or a `replace_on_changes` input changed; a replacement
creates the new resource before deleting the old one unless `delete_before_replace` is set;
resources gone from the program are deleted after every create and update; a destroy deletes
dependents before their dependencies, and a `retain_on_delete` resource is dropped from the
state but left in the cloud.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from conftest import Evaluation, unwrap
from provider_contract import CONTRACT
from provider_contract.behaviour import top
from provider_contract.behaviours import BEHAVIOURS
from provider_contract.model import force_new_paths, identity
from provider_contract.rules import get

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from conftest import Registered
    from provider_contract.behaviour import World

Action = Literal["same", "update", "replace", "create", "delete"]

MUST_UPDATE_IN_PLACE = frozenset(
    {
        "alicloud:fc/v3Function:V3Function",
        "alicloud:fc/function:Function",
        "alicloud:fc/service:Service",
        "alicloud:oss/bucket:Bucket",
        "alicloud:log/project:Project",
        "alicloud:log/store:Store",
        "alicloud:ram/role:Role",
        "alicloud:ram/policy:Policy",
        "alicloud:cr/namespace:Namespace",
        "alicloud:cr/repo:Repo",
    }
)
"""Types whose replacement loses something (logs, an instance serving, the package store, a
role's grants): a change to them must be an update, or a deliberate rename (a new identity)."""

CONTAINMENT: tuple[tuple[str, str, str, str], ...] = (
    ("alicloud:oss/bucketObject:BucketObject", "bucket", "alicloud:oss/bucket:Bucket", "bucket"),
    (
        "alicloud:fc/v3FunctionVersion:V3FunctionVersion",
        "functionName",
        "alicloud:fc/v3Function:V3Function",
        "functionName",
    ),
    (
        "alicloud:fc/v3Alias:V3Alias",
        "functionName",
        "alicloud:fc/v3Function:V3Function",
        "functionName",
    ),
    (
        "alicloud:fc/v3Trigger:V3Trigger",
        "functionName",
        "alicloud:fc/v3Function:V3Function",
        "functionName",
    ),
    ("alicloud:fc/function:Function", "service", "alicloud:fc/service:Service", "name"),
    ("alicloud:fc/trigger:Trigger", "function", "alicloud:fc/function:Function", "name"),
    ("alicloud:log/store:Store", "projectName", "alicloud:log/project:Project", "projectName"),
    ("alicloud:cr/repo:Repo", "namespace", "alicloud:cr/namespace:Namespace", "name"),
    (
        "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
        "roleName",
        "alicloud:ram/role:Role",
        "roleName",
    ),
)
"""(child type, child input, container type, container input): the child lives inside the
container whose input has the same value (an object in its bucket, a trigger on its function)."""


@dataclass(frozen=True)
class Step:
    """What the engine does with one resource."""

    name: str
    type: str
    action: Action
    changed: tuple[str, ...] = ()
    """Input paths whose value changed."""
    replace_because: tuple[str, ...] = ()
    """The ForceNew or `replace_on_changes` paths among them."""
    delete_before_replace: bool = False
    moved_from: str = ""
    """The old name, when the resource was matched by an alias."""

    @property
    def old_name(self) -> str:
        """The name the resource has in the state before the step."""
        return self.moved_from or self.name


def _leaves(value: object, prefix: str = "") -> dict[str, object]:
    """Every leaf of `value` by path, list items by position."""
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, item in value.items():
            out.update(_leaves(item, f"{prefix}.{key}" if prefix else str(key)))
        return out or {prefix: {}}
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(_leaves(item, f"{prefix}[{index}]"))
        return out or {prefix: []}
    return {prefix: value}


_INDEX = re.compile(r"\[\d+\]")


def _top_paths(path: str) -> list[str]:
    """`path` in the contract's form (`[]` for items) and each enclosing path, outermost first."""
    general = _INDEX.sub("[]", path)
    parts = re.split(r"(?=\.)|(?=\[\])", general)
    return ["".join(parts[: i + 1]).lstrip(".") for i in range(len(parts))]


def changed_paths(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Input paths (with positions) whose value differs between two input sets."""
    old, new = _leaves(dict(before)), _leaves(dict(after))
    return sorted(path for path in set(old) | set(new) if old.get(path) != new.get(path))


def world(evaluation: Evaluation) -> World:
    """The declared resources of `evaluation`, as the provider's Read may look them up."""

    def find(type_: str, match: Mapping[str, object]) -> Mapping[str, Any] | None:
        for resource in evaluation.resources:
            if resource.type == type_ and all(
                get(resource.plain(), path) == value for path, value in match.items()
            ):
                return resource.plain()
        return None

    return find


def read_back(resource: Registered, evaluation: Evaluation) -> dict[str, Any]:
    """The resource's state after `pulumi up`: its inputs as the provider's Read writes them.

    Read ends every Create and Update, so this is what the next preview diffs against. A path
    that Read sets to None is left out, as the provider's `d.Set` of nil clears it.
    """
    state = resource.plain()
    behaviour = BEHAVIOURS.get(resource.type)
    if behaviour is None:
        return state
    found = world(evaluation)
    for read in behaviour.reads:
        value = read.value(resource.plain(), found)
        parent, _, leaf = read.path.rpartition(".")
        holder = get(state, parent) if parent else state
        if not isinstance(holder, dict):
            continue
        if value is None:
            holder.pop(leaf, None)
        else:
            holder[leaf] = value
    return state


def _suppressed(
    resource_type: str, path: str, state: Mapping[str, Any], new: Mapping[str, Any]
) -> bool:
    """Whether the provider's plan suppresses the difference at `path` (DiffSuppressFunc)."""
    behaviour = BEHAVIOURS.get(resource_type)
    if behaviour is None:
        return False
    return any(
        equivalent.same(get(state, equivalent.path), get(new, equivalent.path))
        for equivalent in behaviour.equivalent
        if equivalent.path in _top_paths(path)
    )


def _step(old: Registered, new: Registered, before: Evaluation) -> Step:
    state, inputs = read_back(old, before), new.plain()
    changed = [
        path
        for path in changed_paths(state, inputs)
        if not any(p in new.ignore_changes for p in _top_paths(path))
        and not _suppressed(new.type, path, state, inputs)
    ]
    if not changed:
        return Step(new.name, new.type, "same")
    force_new = force_new_paths(CONTRACT[new.type]) if new.type in CONTRACT else frozenset()
    replace_all = "*" in new.replace_on_changes
    because = tuple(
        path
        for path in changed
        if replace_all
        or any(p in force_new or p in new.replace_on_changes for p in _top_paths(path))
    )
    return Step(
        new.name,
        new.type,
        "replace" if because else "update",
        tuple(changed),
        because,
        new.delete_before_replace,
    )


def plan(before: Evaluation, after: Evaluation) -> list[Step]:
    """Every custom resource's step from `before` to `after`, matched by URN, else by an alias."""
    old = {r.urn: r for r in before.resources if r.custom}
    matched: set[str] = set()
    steps = []
    for resource in after.resources:
        if not resource.custom:
            continue
        urn = next(
            (u for u in (resource.urn, *resource.aliases) if u in old and u not in matched), None
        )
        if urn is None:
            steps.append(Step(resource.name, resource.type, "create"))
            continue
        matched.add(urn)
        step = _step(old[urn], resource, before)
        moved = old[urn].name if old[urn].name != resource.name else ""
        steps.append(dataclasses.replace(step, moved_from=moved))
    steps += [Step(r.name, r.type, "delete") for urn, r in old.items() if urn not in matched]
    return steps


def silent_updates(steps: Iterable[Step]) -> list[str]:
    """Updates whose change the provider's Update never sends: the state changes, FC does not.

    A changed input that is neither ForceNew (nor replaced on purpose) nor among the inputs the
    provider's Update sends (`Behaviour.updates`) would show as an update and do nothing.
    """
    problems = []
    for step in steps:
        behaviour = BEHAVIOURS.get(step.type)
        if step.action != "update" or behaviour is None:
            continue
        unsent = sorted({top(path) for path in step.changed} - behaviour.updates)
        if unsent:
            problems.append(
                f"{step.name}: {', '.join(unsent)} changed, but the provider's Update sends "
                f"none of it ({behaviour.update_source}): a silent update"
            )
    return problems


def read_failures(after: Evaluation, steps: Iterable[Step]) -> list[str]:
    """Creates whose closing Read would not find what they made: the `up` fails there."""
    by_name = {r.name: r for r in after.resources if r.custom}
    found = world(after)
    problems = []
    for step in steps:
        behaviour = BEHAVIOURS.get(step.type)
        if step.action not in ("create", "replace") or behaviour is None:
            continue
        if behaviour.read_after_create is None:
            continue
        problem = behaviour.read_after_create(by_name[step.name].plain(), found)
        if problem is not None:
            problems.append(f"{step.name} ({step.action}): {problem}")
    return problems


def _identity(resource: Registered) -> tuple[object, ...] | None:
    contract = CONTRACT.get(resource.type)
    return identity(contract, resource.plain()) if contract is not None else None


def collisions(before: Evaluation, after: Evaluation, steps: Iterable[Step]) -> list[str]:
    """Creates whose id an old resource still holds at that moment.

    Every old resource is still there when the new ones are created, except the old half of a
    delete-before-replace replacement.
    """
    old = {r.name: r for r in before.resources if r.custom}
    new = {r.name: r for r in after.resources if r.custom}
    steps = list(steps)
    gone_first = {s.old_name for s in steps if s.action == "replace" and s.delete_before_replace}
    held = {
        key: name
        for name, resource in old.items()
        if name not in gone_first and (key := _identity(resource)) is not None
    }
    problems = []
    for step in steps:
        if step.action not in ("create", "replace"):
            continue
        key = _identity(new[step.name])
        if key is not None and key in held:
            why = f"; replaced because of {', '.join(step.replace_because)}"
            problems.append(
                f"{step.name} ({step.action}) is created while {held[key]} still holds its id "
                f"{key[1:]}{why if step.replace_because else ''}"
            )
    return problems


def forbidden_replacements(
    before: Evaluation, after: Evaluation, steps: Iterable[Step]
) -> list[str]:
    """Replacements of resources that must only ever be updated in place.

    A replacement under a new identity is a rename the user asked for (a new function name, a
    new log project); under the same identity it would delete what it replaces.
    """
    old = {r.name: r for r in before.resources}
    new = {r.name: r for r in after.resources}
    return [
        f"{s.name} ({s.type}) would be replaced because of {', '.join(s.replace_because)}"
        for s in steps
        if s.action == "replace"
        and s.type in MUST_UPDATE_IN_PLACE
        and _identity(old[s.old_name]) == _identity(new[s.name])
    ]


def update_refusals(before: Evaluation, after: Evaluation, steps: Iterable[Step]) -> list[str]:
    """Deletes at the end of an update that the provider would refuse.

    The old resources that an update deletes (removed, or the old half of a replacement) go
    dependents first, while everything kept and everything new is still in the cloud.
    """
    steps = list(steps)
    removed = {s.old_name for s in steps if s.action in ("delete", "replace")}
    going = [r for r in before.resources if r.name in removed or not r.custom]
    staying = [r for r in before.resources if r.custom and r.name not in removed]
    created = {s.name for s in steps if s.action in ("create", "replace")}
    staying += [r for r in after.resources if r.custom and r.name in created]
    _, refusals = destroy(Evaluation(going, {}), staying)
    return refusals


def _value(resource: Registered, path: str) -> object:
    value: object = unwrap(resource.state) or resource.plain()
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _children(resource: Registered, candidates: Iterable[Registered]) -> list[Registered]:
    """The resources that live inside `resource` (CONTAINMENT)."""
    found = []
    for child_type, child_path, container_type, container_path in CONTAINMENT:
        if resource.type != container_type:
            continue
        key = _value(resource, container_path)
        found += [c for c in candidates if c.type == child_type and _value(c, child_path) == key]
    return found


def left_behind(before: Evaluation, steps: Iterable[Step]) -> list[Registered]:
    """Old resources an update drops from the state but leaves in the cloud (retained ones)."""
    gone = {s.old_name for s in steps if s.action in ("replace", "delete")}
    return [r for r in before.resources if r.custom and r.name in gone and r.retain_on_delete]


def _dependents(evaluation: Evaluation) -> dict[str, set[str]]:
    """For each custom resource, the custom resources that depend on it.

    A dependency on a component stands for every custom resource under it.
    """
    by_urn = {r.urn: r for r in evaluation.resources}

    def descendants(urn: str) -> list[str]:
        found = []
        for child in evaluation.resources:
            if child.parent == urn:
                found += [child.urn] if child.custom else descendants(child.urn)
        return found

    def needs(resource: Registered) -> set[str]:
        found: set[str] = set()
        for urn in resource.dependencies:
            other = by_urn.get(urn)
            if other is not None:
                found.update([urn] if other.custom else descendants(urn))
        return found - {resource.urn}

    custom = [r for r in evaluation.resources if r.custom]
    needed = {r.urn: needs(r) for r in custom}
    return {r.urn: {d.urn for d in custom if r.urn in needed[d.urn]} for r in custom}


def _refusal(resource: Registered, in_cloud: list[Registered]) -> str | None:
    """Why the provider would refuse to delete `resource` with `in_cloud` still there."""
    contract = CONTRACT.get(resource.type)
    if contract is None or contract.refuses_delete is None:
        return None
    inside = [c for c in _children(resource, in_cloud) if c is not resource]
    reason = contract.refuses_delete(resource.plain(), len(inside))
    if reason is None:
        return None
    return f"{resource.name}: {reason} (still inside: {', '.join(sorted(c.name for c in inside))})"


def destroy(evaluation: Evaluation, left: Iterable[Registered] = ()) -> tuple[list[str], list[str]]:
    """`pulumi destroy`: the order of deletes, and the deletes the provider would refuse.

    A resource is deleted once nothing that depends on it is left in the state; a retained
    resource leaves the state but stays in the cloud, inside its container, as do the resources
    earlier updates `left` behind.
    """
    by_urn = {r.urn: r for r in evaluation.resources}
    dependents = _dependents(evaluation)
    pending = set(dependents)
    in_cloud = [*(by_urn[u] for u in pending), *left]
    order: list[str] = []
    refusals: list[str] = []
    while pending:
        ready = sorted(u for u in pending if not dependents[u] & pending)
        if not ready:
            refusals.append(f"a dependency cycle among {sorted(by_urn[u].name for u in pending)}")
            break
        for urn in ready:
            resource = by_urn[urn]
            pending.discard(urn)
            order.append(resource.name)
            if resource.retain_on_delete:
                continue
            reason = _refusal(resource, in_cloud)
            if reason is not None:
                refusals.append(reason)
            in_cloud.remove(resource)
    return order, refusals


def table(steps: Iterable[Step]) -> list[str]:
    """One line per resource that does anything: action, name, and why."""
    lines = []
    for step in sorted(steps, key=lambda s: (s.action, s.name)):
        if step.action == "same" and not step.moved_from:
            continue
        detail = f" (was {step.moved_from})" if step.moved_from else ""
        if step.action == "replace":
            mode = "delete-before-create" if step.delete_before_replace else "create-before-delete"
            detail += f" ({mode}; {', '.join(step.replace_because)})"
        elif step.action == "update":
            detail += f" ({', '.join(step.changed)})"
        lines.append(f"{step.action:8} {step.name}{detail}")
    return lines
