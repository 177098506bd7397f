"""`infra.spec` by itself: the defaults an entry gets, and the rules that join its settings.

Pure functions, no Pulumi program: `resolve` for the defaults, `problems` for the rules.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from infra import limits
from infra.bootstrap.build import DEFAULT_SIZE_BUDGET
from infra.http_trigger import TRIGGER_NAME as HTTP_TRIGGER_NAME
from infra.logs import ACCOUNT_SUFFIX_LENGTH, DEFAULT_RETENTION_DAYS
from infra.spec import FunctionSpec, problems, resolve, resource_name

pytestmark = pytest.mark.unit

REGISTRY = {"namespace": "fc-rust"}
NEEDS_REGION = (
    "variant 'container' with a registry needs the stack's region "
    "(`pulumi config set alicloud:region <region>`) to address the registry"
)
BOTH_PROJECTS = "logs gives project_name and in_project: create a project, or use one"
NO_BUCKET = "bucket skip=True leaves the zip variant no place to upload its code"


def found(args: dict[str, Any], region: str | None = "cn-hangzhou") -> list[tuple[str, str]]:
    """Every problem with an entry `hello` of `args` (crate `hello` unless given)."""
    entry = {"crate": "hello", **args}
    return problems("hello", entry, region=region, cwd=Path("/w"))  # type: ignore[arg-type]


def resolved(args: dict[str, Any], project: str = "p", stack: str = "dev") -> FunctionSpec:
    entry = {"crate": "hello", **args}
    return resolve("hello", entry, project=project, stack=stack, region="cn-hangzhou")  # type: ignore[arg-type]


def test_an_entry_that_sets_nothing_gets_the_documented_defaults() -> None:
    """The README's table of defaults. Mutations caught: TIMEOUT or INSTANCE_CONCURRENCY
    changed; the default cpu not following the memory size (`isinstance` negated); the created
    log project not marked as the one to make unique to the account (`&` of the keys made `-`
    or `|`, its `not` dropped)."""
    spec = resolved({})
    assert (spec.memory_size, spec.cpu, spec.disk_size) == (128, 0.1, 512)
    assert (spec.timeout, spec.instance_concurrency) == (60, 1)
    assert (spec.function_name, spec.alias, spec.variant) == ("hello-dev", "live", "zip")
    assert (spec.fc_version, spec.runtime) == ("3.0", limits.DEFAULT_RUNTIME)
    assert spec.description == "hello (Rust, fc-rust)"
    assert spec.size_budget == DEFAULT_SIZE_BUDGET
    assert spec.role == {"role_name": "p-dev-hello"}
    assert spec.logs == {
        "project_name": "p-dev-hello",
        "logstore_name": "function-logs",
        "retention_days": DEFAULT_RETENTION_DAYS,
    }
    assert spec.log_project_per_account is True
    assert resolved({"memory_size": 1024}).cpu == 0.25


@pytest.mark.parametrize(
    "logs",
    [
        {"project_name": "mine"},
        {"in_project": "shared"},
        {"existing_project": "p", "existing_logstore": "s"},
        {"skip": True, "existing_project": None},
    ],
    ids=["named", "in-a-project", "existing", "skipped"],
)
def test_only_a_created_project_of_the_default_name_is_made_unique(logs: dict[str, Any]) -> None:
    """A named project, a logstore in another project, existing logs and none: no project of
    the default name. Mutations caught: the `and` made `or`, the key test's `not` dropped."""
    logs = {k: v for k, v in logs.items() if v is not None}
    role = {"skip": True} if logs.get("skip") else {}
    assert resolved({"logs": logs, "role": role}).log_project_per_account is False


def test_a_spec_cannot_be_changed_once_resolved() -> None:
    """The backends, the config digest and the emulator read one spec. Mutation caught: the
    dataclass no longer frozen."""
    spec = resolved({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.timeout = 30  # type: ignore[misc]


@pytest.mark.parametrize(("bucket", "mode"), [({}, "create"), ({"existing_name": "b"}, "existing")])
def test_the_bucket_mode_is_read_from_its_settings(bucket: dict[str, Any], mode: str) -> None:
    """Mutations caught: bucket_mode's `@property` dropped, its `[0]` made `[1]` or `[-1]`."""
    assert resolved({"bucket": bucket}).bucket_mode == mode


def test_names_are_as_long_as_the_cloud_takes() -> None:
    """63 characters by default, 64 for a RAM role, and 63 less the account suffix for a log
    project (so that the suffix fits): names of long entries stay apart as long as they can.
    Mutations caught: each of the three limits moved by one."""
    long = "a" * 30
    assert len(resource_name(long, long, long)) == 63
    spec = resolved({}, project=long, stack=long)
    assert len(spec.role["role_name"]) == 64
    assert len(spec.logs["project_name"]) == 63 - ACCOUNT_SUFFIX_LENGTH
    assert limits.check_role_name(spec.role["role_name"]) == []


def test_a_container_registry_needs_the_stacks_region() -> None:
    """Only the container variant with a registry (not an image) needs it, and only while the
    region is unset. Mutations caught: `variant == "container"` made any other comparison or
    negated, `registry is not None` made `is None`."""
    container = {"variant": "container", "registry": REGISTRY}
    assert ("registry", NEEDS_REGION) in found(container, region="")
    assert ("registry", NEEDS_REGION) not in found(container)
    assert ("registry", NEEDS_REGION) not in found({**container, "registry": None}, region="")
    image = {"variant": "container", "image": "registry.example/hello:1"}
    assert found(image, region="") == []
    zip_with_registry = found({"registry": REGISTRY}, region="")
    assert zip_with_registry == [
        ("registry", "registry is only used by variant 'container'; remove it for 'zip'")
    ]


def test_a_container_with_an_image_and_no_registry_has_one_source() -> None:
    """Mutation caught: `(image is None) == (registry is None)` made `<=`."""
    assert found({"variant": "container", "image": "registry.example/hello:1"}) == []


def test_unknown_keys_are_named_with_the_allowed_ones() -> None:
    """Mutations caught: a `|` of the allowed keys made `&`."""
    assert found({"role": {"name": "r"}}) == [
        ("role", "role has unknown keys name; allowed: existing_arn, role_name, skip")
    ]


def test_a_mixed_role_is_one_problem_even_for_a_container() -> None:
    """Its mode is the first chosen (create), so the container's need for a role is not
    reported besides. Mutations caught: `chosen[0]` made `[1]` or `[-1]`."""
    container = {"variant": "container", "image": "registry.example/hello:1"}
    assert found({**container, "role": {"role_name": "r", "skip": True}}) == [
        (
            "role",
            (
                "role mixes create and skip: give settings to create one, existing_arn to use "
                "an existing one, or skip=True, not several"
            ),
        )
    ]


@pytest.mark.parametrize(
    ("logs", "refused"),
    [
        ({"project_name": "p-logs", "in_project": "shared"}, True),
        ({"project_name": "p-logs", "in_project": "shared", "logstore_name": "s-logs"}, True),
        ({"project_name": "p-logs"}, False),
        ({"in_project": "shared"}, False),
    ],
)
def test_a_created_logstore_is_in_a_new_project_or_a_given_one(
    logs: dict[str, Any], *, refused: bool
) -> None:
    """Mutations caught: `modes["logs"] == "create"` made `!=`, `<`, `>` or negated; the subset
    test of the two keys made `==`, `<`, `>` or `>=`."""
    assert (("logs", BOTH_PROJECTS) in found({"logs": logs})) is refused


def test_a_container_may_skip_the_bucket_it_does_not_use() -> None:
    """The rule that a zip needs a bucket is not applied to a container. Mutation caught:
    `variant == "zip"` made `<=`."""
    container = {"variant": "container", "image": "registry.example/hello:1"}
    bucket_problems = [
        m for k, m in found({**container, "bucket": {"skip": True}}) if k == "bucket"
    ]
    assert bucket_problems == [
        "bucket is only used by variant 'zip': the container variant uploads no code package"
    ]
    assert ("bucket", NO_BUCKET) in found({"bucket": {"skip": True}})


@pytest.mark.parametrize("crate", ["", 5])
def test_a_crate_is_a_name(crate: object) -> None:
    """Mutation caught: `or` made `and` (the empty name, or a number, let through)."""
    assert found({"crate": crate}) == [
        ("crate", f"crate must name a workspace crate such as 'hello', got {crate!r}")
    ]


@pytest.mark.parametrize("variant", ["bogus", "zzz", "Zip"])
def test_any_other_variant_is_refused_alone(variant: str) -> None:
    """Whatever it sorts as, and without the container's rules (a registry needs no region).
    Mutations caught: `variant == "container"` made `<=` (in the defaults and in the region
    rule), `variant != "zip"` made `<` or `>`."""
    refused = [("variant", f"variant must be 'zip' or 'container', got {variant!r}")]
    assert found({"variant": variant}) == refused
    assert found({"variant": variant, "registry": REGISTRY}, region="") == refused


@pytest.mark.parametrize(
    ("args", "cpu_problem"),
    [
        ({"memory_size": 100}, False),
        ({"memory_size": 70000}, False),  # whose default, 17.1 vCPU, is over 16
        ({"memory_size": 100, "cpu": 0.07}, True),
        ({"memory_size": 128, "cpu": 0.07}, True),
        ({"memory_size": 128}, False),
    ],
)
def test_the_cpu_is_checked_against_a_valid_memory_size_or_when_given(
    args: dict[str, Any], *, cpu_problem: bool
) -> None:
    """An invalid memory size is its own problem, not also the default cpu's. Mutations caught:
    `check_memory_size(...) == []` made `!=`, `>` or `>=` or negated, `or` made `and`."""
    assert any(key == "cpu" for key, _ in found(args)) is cpu_problem


def test_a_timer_may_not_take_the_http_triggers_name() -> None:
    """Mutations caught: `name == HTTP_TRIGGER_NAME` made any other comparison."""
    clash = f"timer name {HTTP_TRIGGER_NAME!r} is the HTTP trigger's; rename it"
    timers = [{"name": "daily", "cron": "0 0 0 * * *"}]
    assert found({"http": {}, "timers": timers}) == []
    named = [{"name": HTTP_TRIGGER_NAME, "cron": "0 0 0 * * *"}]
    assert ("timers", clash) in found({"http": {}, "timers": named})
    sorted_around = [{"name": n, "cron": "0 0 0 * * *"} for n in ("a", "zz")]
    assert found({"http": {}, "timers": sorted_around}) == []


@pytest.mark.parametrize(("key", "value"), [("k", 1), (1, "v")])
def test_tags_are_strings_both_sides(key: object, value: object) -> None:
    """Mutation caught: `or` made `and` (a key or a value alone not a string let through)."""
    assert found({"tags": {key: value}}) == [
        ("tags", f"tags must map strings to strings, got {key!r}: {value!r}")
    ]


def test_resolving_leaves_the_callers_settings_as_given() -> None:
    """Defaults are filled into copies. Mutation caught: `_copy`'s `isinstance` negated (the
    caller's role, logs and bucket dicts filled in)."""
    role: dict[str, Any] = {}
    logs: dict[str, Any] = {"retention_days": 7}
    resolved({"role": role, "logs": logs, "bucket": {}})
    assert (role, logs) == ({}, {"retention_days": 7})
