"""RustFunction under mocks: validation before registration, the create/existing/none modes.

The code package comes from the real build of this repository's `hello` crate (a cache hit
after the first run).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import conftest
import pytest
from conftest import REPO, Evaluation, evaluate, is_secret

from infra import ConfigError, RustFunction, RustFunctionArgs
from infra.bootstrap import Builder

if TYPE_CHECKING:
    from infra.timer import TimerArgs

pytestmark = pytest.mark.unit


def deploy(args: RustFunctionArgs, name: str = "hello") -> Evaluation:
    """Evaluate one RustFunction from the project directory."""
    return evaluate(lambda: RustFunction(name, args))


def refused(args: RustFunctionArgs) -> tuple[ConfigError, Evaluation]:
    """The ConfigError `args` raises, and what was registered before it (should be nothing)."""
    with pytest.raises(ConfigError) as caught:
        deploy(args)
    return caught.value, conftest.LAST_EVALUATION


@pytest.fixture(autouse=True)
def _in_repo(in_repo: Path) -> None:
    del in_repo


def test_defaults_create_bucket_role_logs_function_version_alias() -> None:
    evaluation = deploy({"crate": "hello"})
    assert sorted(r.type for r in evaluation.resources) == sorted(
        [
            "fcrust:index:RustFunction",
            "fcrust:index:RustBootstrap",
            "fcrust:index:ArtifactBucket",
            "alicloud:oss/bucket:Bucket",
            "alicloud:oss/bucketAcl:BucketAcl",
            "alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "alicloud:oss/bucketObject:BucketObject",
            "fcrust:index:FunctionLogs",
            "alicloud:log/project:Project",
            "alicloud:log/store:Store",
            "fcrust:index:FunctionRole",
            "alicloud:ram/role:Role",
            "alicloud:ram/policy:Policy",
            "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
            "alicloud:fc/v3Function:V3Function",
            "alicloud:fc/v3FunctionVersion:V3FunctionVersion",
            "alicloud:fc/v3Alias:V3Alias",
        ]
    )
    for resource in evaluation.resources:
        if resource.name != "hello":
            assert "hello" in evaluation.ancestors(resource.name), (
                f"{resource.name} not under hello"
            )


def test_bucket_is_private_encrypted_and_never_expires_a_current_package() -> None:
    evaluation = deploy({"crate": "hello"})
    bucket = evaluation.by_name("hello-artifacts-bucket").plain()
    assert bucket["serverSideEncryptionRule"] == {"sseAlgorithm": "AES256"}
    assert bucket["forceDestroy"] is True, "pulumi destroy must be able to delete the bucket"
    (rule,) = bucket["lifecycleRules"]
    assert rule["enabled"] is True
    assert rule["abortMultipartUploads"] == [{"days": 1}]
    # FC 2.0 sends the package's location on every update: it must never expire under it.
    assert "expirations" not in rule
    assert evaluation.by_name("hello-artifacts-acl").plain()["acl"] == "private"
    assert (
        evaluation.by_name("hello-artifacts-public-access-block").plain()["blockPublicAccess"]
        is True
    )
    code = evaluation.by_name("hello-code")
    assert not code.retain_on_delete, "a superseded package is deleted, not left in the bucket"
    assert code.plain()["key"] == f"dev/hello/{Builder().package('hello').sha256}.zip"
    # The upload reads the immutable, content-addressed cache entry, by a project-relative path.
    fingerprint = Builder().package("hello").fingerprint
    source = code.plain()["source"]
    # target/fc-rust/cache, unless FCRUST_CACHE_DIR moves it (as the mutation campaigns do).
    cache = Path(os.path.relpath(Builder().cache_dir, REPO)).as_posix()
    if "FCRUST_CACHE_DIR" not in os.environ:
        assert cache == "target/fc-rust/cache"
    assert source == f"{cache}/hello/{fingerprint}/bootstrap.zip"
    assert (REPO / source).read_bytes() == (REPO / "dist/hello/bootstrap.zip").read_bytes()


def test_existing_role_logs_and_bucket_create_nothing_of_their_own() -> None:
    arn = "acs:ram::123456789:role/shared-fc-role"
    evaluation = deploy(
        {
            "crate": "hello",
            "role": {"existing_arn": arn},
            "logs": {"existing_project": "shared-logs", "existing_logstore": "functions"},
            "bucket": {"existing_name": "shared-code-bucket"},
        }
    )
    types = {r.type for r in evaluation.resources}
    assert not types & {
        "alicloud:ram/role:Role",
        "alicloud:log/project:Project",
        "alicloud:log/store:Store",
        "alicloud:oss/bucket:Bucket",
    }
    function = evaluation.by_name("hello-function").plain()
    assert function["role"] == arn
    assert function["logConfig"]["project"] == "shared-logs"
    assert function["logConfig"]["logstore"] == "functions"
    assert function["code"]["ossBucketName"] == "shared-code-bucket"
    assert evaluation.by_name("hello-code").plain()["bucket"] == "shared-code-bucket"


def test_no_role_and_no_logs() -> None:
    evaluation = deploy({"crate": "hello", "role": {"skip": True}, "logs": {"skip": True}})
    function = evaluation.by_name("hello-function").plain()
    assert "role" not in function
    assert "logConfig" not in function
    assert not evaluation.of_type("alicloud:ram/role:Role")


def test_created_role_without_logs_has_no_log_policy() -> None:
    evaluation = deploy({"crate": "hello", "logs": {"skip": True}})
    assert evaluation.of_type("alicloud:ram/role:Role")
    assert not evaluation.of_type("alicloud:ram/policy:Policy")


def test_timer_children_are_named_after_the_timer_not_its_position() -> None:
    timers: list[TimerArgs] = [
        {"name": "morning", "cron": "0 0 8 * * *"},
        {"name": "evening", "cron": "0 0 20 * * *", "enabled": False, "payload": "late"},
    ]
    first = deploy({"crate": "hello", "timers": timers})
    second = deploy({"crate": "hello", "timers": list(reversed(timers))})
    triggers = {r.name: r.plain() for r in first.of_type("alicloud:fc/v3Trigger:V3Trigger")}
    assert set(triggers) == {"hello-timer-morning", "hello-timer-evening"}
    assert triggers == {
        r.name: r.plain() for r in second.of_type("alicloud:fc/v3Trigger:V3Trigger")
    }
    assert json.loads(triggers["hello-timer-evening"]["triggerConfig"]) == {
        "cronExpression": "0 0 20 * * *",
        "enable": False,
        "payload": "late",
    }
    assert triggers["hello-timer-evening"]["qualifier"] == "live"


def test_pinned_version_points_the_alias_back_and_holds_the_published_one() -> None:
    evaluation = deploy({"crate": "hello", "pinned_version": "3", "alias": "prod"})
    alias = evaluation.by_name("hello-alias").plain()
    assert alias["versionId"] == "3"
    assert alias["aliasName"] == "prod"
    version = evaluation.by_name("hello-version")
    assert not version.retain_on_delete, "a retained version would block deleting the function"
    assert version.replace_on_changes == ["*"]
    assert version.ignore_changes == ["description"], "the held version must not be replaced"
    unpinned = deploy({"crate": "hello"}).by_name("hello-version")
    assert unpinned.ignore_changes == []


def test_version_follows_the_config_not_only_the_code() -> None:
    small = deploy({"crate": "hello"}).by_name("hello-version").plain()["description"]
    large = (
        deploy({"crate": "hello", "memory_size": 256})
        .by_name("hello-version")
        .plain()["description"]
    )
    assert small != large
    assert small.split(" config ")[0] == large.split(" config ")[0]


def test_every_taggable_resource_gets_the_tags() -> None:
    # The project and stack tags are the library's default; a tag given overrides one of them.
    evaluation = deploy({"crate": "hello", "tags": {"team": "infra", "stack": "blue"}})
    for name in (
        "hello-function",
        "hello-artifacts-bucket",
        "hello-role-role",
        "hello-logs-project",
    ):
        assert evaluation.by_name(name).plain()["tags"] == {
            "project": "fc-rust",
            "stack": "blue",
            "team": "infra",
        }, name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"variant": "container"}, "variant 'container' needs exactly one of registry"),
        (
            {"variant": "container", "image": "registry/x:1", "bucket": {"skip": True}},
            "bucket is only used by variant 'zip'",
        ),
        (
            {"variant": "container", "image": "registry/x:1", "role": {"skip": True}},
            "variant 'container' needs a role: FC pulls the image with it",
        ),
        ({"image": "registry/x:1"}, "image is only used by variant 'container'"),
        (
            {"memory_size": 100},
            "memory_size must be a multiple of 64 between 128 and 32768 MB, got 100",
        ),
        ({"cpu": 4}, "cpu:memory_size must be between 1:1 and 1:4"),
        ({"disk_size": 1000}, "disk_size must be 512 or 10240 MB, got 1000"),
        ({"timeout": 0}, "timeout must be between 1 and 86400 seconds, got 0"),
        ({"instance_concurrency": 500}, "instance_concurrency must be between 1 and 200, got 500"),
        ({"function_name": "9lives"}, "function_name must be 1-64 letters"),
        ({"runtime": "rust1.0"}, "runtime must be one of"),
        ({"environment": {"FC_SECRET": "x"}}, "the FC_ prefix is reserved"),
        ({"timers": [{"name": "t", "cron": "0 0 * * *"}]}, "has 5 fields (a crontab line)"),
        (
            {"role": {"existing_arn": "acs:ram::1:role/r", "skip": True}},
            "role mixes existing and skip",
        ),
        (
            {"role": {"role_name": "r", "existing_arn": "acs:ram::1:role/r"}},
            "role mixes create and existing",
        ),
        ({"role": {"skip": True}}, "logs need a role"),
        ({"logs": {"existing_project": "p"}}, "an existing logs also needs existing_logstore"),
        ({"bucket": {"skip": True}}, "bucket skip=True leaves the zip variant no place"),
        ({"bucket": {"name": "typo"}}, "bucket has unknown keys name"),
        (
            {"fc_version": "2.0", "cpu": 1.0},
            "cpu is an FC 3.0 setting; fc_version 2.0 does not support it",
        ),
        ({"fc_version": "2.0", "pinned_version": "2"}, "pinned_version is an FC 3.0 setting"),
        ({"pinned_version": "latest"}, "pinned_version must be a published version id"),
        ({"alias": "1st"}, "alias must be 1-128 letters"),
        ({"role": {"role_name": "team.fc"}}, "role.role_name must be 1-64 letters, digits and '-'"),
        ({"logs": {"project_name": "Logs"}}, "logs.project_name must be 3-63 lower-case"),
        ({"logs": {"logstore_name": "x"}}, "logs.logstore_name must be 3-63 lower-case"),
        ({"logs": {"retention_days": 0}}, "logs.retention_days must be 1-3650 days, got 0"),
        (
            {"fc_version": "2.0", "memory_size": 4096},
            "memory_size must be a multiple of 64 between 128 and 3072 MB",
        ),
        ({"fc_version": "2.0", "runtime": "custom.debian11"}, "runtime must be one of"),
        ({"alias": "LATEST"}, "alias"),
    ],
)
def test_invalid_args_fail_before_anything_registers(args: dict[str, object], message: str) -> None:
    full: RustFunctionArgs = {"crate": "hello", **args}  # type: ignore[typeddict-item]
    error, evaluation = refused(full)
    assert any(message in problem for problem in error.problems), error.problems
    assert evaluation.resources == []


@pytest.mark.parametrize("fc_version", ["3.0", "2.0"])
def test_a_plain_string_in_secret_environment_is_stored_as_a_secret(
    fc_version: Literal["3.0", "2.0"],
) -> None:
    """A library user may pass a plain string: the function's state still holds it as a secret.

    Mutation caught: `secret_environment` values passed on as given, without `Output.secret`.
    """
    value = "plain-value-not-a-secret"
    evaluation = deploy(
        {"crate": "hello", "fc_version": fc_version, "secret_environment": {"API_KEY": value}}
    )
    variables = evaluation.by_name("hello-function").state["environmentVariables"]
    assert is_secret(variables)
    assert variables["value"]["API_KEY"] == value
    for resource in evaluation.resources:
        assert value not in json.dumps(resource.state).replace(json.dumps(variables), ""), (
            resource.name
        )


def test_all_problems_are_reported_at_once() -> None:
    error, _ = refused({"crate": "hello", "memory_size": 100, "timeout": 0, "disk_size": 1})
    assert len(error.problems) == 3


def test_no_machine_path_in_any_input() -> None:
    evaluation = deploy({"crate": "hello", "timers": [{"name": "t", "cron": "@every 5m"}]})
    text = json.dumps([r.plain() for r in evaluation.resources])
    assert str(REPO) not in text
    assert "/tmp/" not in text  # noqa: S108 - looking for a leaked path, not making one
