"""A stack's functions share one code bucket and one log project; quotas fail at preview.

The upgrade from one bucket and project per function is played in the lifecycle matrix
(`test_lifecycle.upgrades`); here: the graph, a stack of fifty, the layout the upgrade starts
from, the stack keys, and the quota rules.
"""

from __future__ import annotations

import json
import runpy
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import REPO, Evaluation, dev_config, evaluate, run_main

from infra import ConfigError, Sharing, declare_functions
from infra.quotas import QUOTAS

if TYPE_CHECKING:
    from infra.args import RustFunctionArgs
    from infra.timer import TimerArgs

pytestmark = pytest.mark.unit

BUCKET = "alicloud:oss/bucket:Bucket"
PROJECT = "alicloud:log/project:Project"
STORE = "alicloud:log/store:Store"
PER_FUNCTION_LAYOUT = Path(__file__).with_name("fixtures") / "per_function_layout.txt"


@pytest.fixture(autouse=True)
def _in_repo(in_repo: Path) -> None:
    del in_repo


def kinds(evaluation: Evaluation) -> Counter[str]:
    """How many custom resources of each type the evaluation declares."""
    return Counter(r.type for r in evaluation.resources if r.custom)


def test_the_dev_stack_has_one_bucket_and_one_log_project() -> None:
    evaluation = run_main()
    count = kinds(evaluation)
    assert (count[BUCKET], count[PROJECT], count[STORE]) == (1, 1, 3)
    bucket = evaluation.by_name("stack-code-bucket").state["bucket"]
    project = evaluation.by_name("stack-logs-project").state["projectName"]
    for name in ("sync-forks", "hello", "hello-http"):
        function = evaluation.by_name(f"{name}-function").plain()
        assert function["code"]["ossBucketName"] == bucket
        assert function["logConfig"] == {
            **function["logConfig"],
            "project": project,
            "logstore": f"{name}-logs",
        }
        # Each role may still write its own function's logstore only.
        policy = json.loads(evaluation.by_name(f"{name}-role-log-policy").plain()["policyDocument"])
        assert policy["Statement"][0]["Resource"] == [
            f"acs:log:*:*:project/{project}/logstore/{name}-logs"
        ]


def test_layout_per_function_declares_the_stack_as_it_was_before_sharing() -> None:
    # The upgrade's starting point: the same types, names and parents as the layout that
    # deployed stacks have (the fixture was written from the program before sharing).
    # With the other keys at the defaults Pulumi.yaml gives them, as Pulumi passes them.
    evaluation = run_main(
        layout="per-function",
        codeBucket="",
        logProject="",
        keepFunctionLogProjects="false",
        sharedRole="false",
    )
    found = sorted(f"{r.type} {r.name} {r.parent_name}" for r in evaluation.resources)
    expected = [
        line
        for line in PER_FUNCTION_LAYOUT.read_text(encoding="utf-8").splitlines()
        if not line.startswith("#")
    ]
    assert found == expected


def fifty(count: int = 50) -> dict[str, RustFunctionArgs]:
    """`count` functions of one crate, each with a daily timer."""
    return {
        f"fn-{index:02}": {"crate": "hello", "timers": [{"name": "daily", "cron": "0 0 0 * * *"}]}
        for index in range(count)
    }


PER_FUNCTION = {
    "alicloud:fc/v3Function:V3Function",
    "alicloud:fc/v3FunctionVersion:V3FunctionVersion",
    "alicloud:fc/v3Alias:V3Alias",
    "alicloud:fc/v3Trigger:V3Trigger",
    "alicloud:fc/v3AsyncInvokeConfig:V3AsyncInvokeConfig",
    "alicloud:ram/role:Role",
    "alicloud:ram/policy:Policy",
    "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
    STORE,
    "alicloud:oss/bucketObject:BucketObject",
}
"""What each function declares of its own: function, version, alias, timer, async configs,
role, log policy and its attachment, logstore, code object."""


def test_fifty_functions_declare_their_own_resources_and_a_constant_per_stack() -> None:
    evaluation = evaluate(
        lambda: declare_functions(fifty()), {"alicloud:region": "cn-hangzhou"}, stack="team"
    )
    count = kinds(evaluation)
    per_stack = {kind: n for kind, n in count.items() if kind not in PER_FUNCTION}
    # One bucket (with its ACL and public-access block) and one log project, whatever N.
    assert per_stack == {
        BUCKET: 1,
        "alicloud:oss/bucketAcl:BucketAcl": 1,
        "alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
        PROJECT: 1,
    }
    per_function = {kind: count[kind] / 50 for kind in PER_FUNCTION}
    # A timer's async config sits on LATEST and on the alias (`fc3`): two per function.
    assert per_function == {
        **dict.fromkeys(PER_FUNCTION, 1),
        "alicloud:fc/v3AsyncInvokeConfig:V3AsyncInvokeConfig": 2,
    }
    assert sum(count.values()) == 50 * 11 + 4


def test_a_stack_may_name_an_existing_bucket_and_log_project() -> None:
    evaluation = run_main(codeBucket="team-packages", logProject="team-logs")
    count = kinds(evaluation)
    assert (count[BUCKET], count[PROJECT], count[STORE]) == (0, 0, 3)
    function = evaluation.by_name("hello-function").plain()
    assert function["code"]["ossBucketName"] == "team-packages"
    assert function["logConfig"]["project"] == "team-logs"
    assert evaluation.by_name("hello-logstore").plain()["projectName"] == "team-logs"


def test_a_function_naming_its_own_bucket_or_project_keeps_them() -> None:
    evaluation = run_main(
        functions=json.dumps(
            {
                "hello": {"bucket": {"bucketName": "hello-packages"}},
                "greeter": {"crate": "hello", "logs": {"projectName": "greeter-logs"}},
            }
        )
    )
    buckets = sorted(r.plain().get("bucket", "") for r in evaluation.of_type(BUCKET))
    projects = sorted(r.state["projectName"] for r in evaluation.of_type(PROJECT))
    # hello's own bucket and greeter's share of the stack's; greeter's own project, hello's
    # logstore in the stack's.
    assert buckets == ["", "hello-packages"]
    assert len(projects) == 2
    assert "greeter-logs" in projects
    assert evaluation.by_name("greeter-logs-store").plain()["logstoreName"] == "function-logs"


def config_problems(**overrides: str) -> list[str]:
    """The problems the stack's config fails with."""
    with pytest.raises(ConfigError) as raised:
        evaluate(
            lambda: runpy.run_path(str(REPO / "__main__.py"), run_name="__main__"),
            dev_config(**overrides),
            ["fc-rust:githubToken"],
        )
    return raised.value.problems


def test_bad_layout_keys_fail_naming_the_key() -> None:
    (problem,) = config_problems(layout="shard")
    assert problem.startswith("layout must be one of shared, per-function, got 'shard'")
    assert "fc-rust:layout" in problem
    (problem,) = config_problems(layout="per-function", codeBucket="b")
    assert problem.startswith("codeBucket applies to layout shared")
    (problem,) = config_problems(keepFunctionLogProjects="yes")
    assert problem.startswith("keepFunctionLogProjects must be true or false, got 'yes'")


def test_two_functions_with_one_logstore_fail_naming_the_key() -> None:
    (problem,) = config_problems(functions=json.dumps({"Hello": {"crate": "hello"}, "hello": {}}))
    assert "logstore 'hello-logs'" in problem
    assert "functions.<name>.logs.logstoreName" in problem


def quota_problems(
    functions: dict[str, RustFunctionArgs], sharing: Sharing | None = None
) -> list[str]:
    """The problems `declare_functions` fails with, before any resource or build."""
    with pytest.raises(ConfigError) as raised:
        evaluate(
            lambda: declare_functions(functions, sharing=sharing),
            {"alicloud:region": "cn-hangzhou"},
        )
    return raised.value.problems


def test_a_stack_past_a_quota_fails_naming_it_its_source_and_how_to_raise_it() -> None:
    # 201 logstores in the stack's project: SLS allows 200 per project.
    (problem,) = quota_problems(fifty(201))
    assert problem.startswith(
        "the stack's log project declares 201 SLS logstores, over the quota of 200 per project"
    )
    assert QUOTAS["SLS logstores"].source in problem
    assert "raise it to 400 in the SLS console" in problem
    # Without sharing, 101 functions would need 101 buckets: OSS allows 100 per region.
    (problem,) = quota_problems(fifty(101), Sharing(enabled=False))
    assert problem.startswith("the stack declares 101 OSS buckets, over the quota of 100")
    assert "bucket-naming-conventions" in problem


def test_exactly_at_a_quota_passes() -> None:
    evaluation = evaluate(
        lambda: declare_functions(fifty(100), sharing=Sharing(enabled=False)),
        {"alicloud:region": "cn-hangzhou"},
    )
    assert kinds(evaluation)[BUCKET] == 100


def test_a_function_past_the_trigger_quota_fails() -> None:
    timers: list[TimerArgs] = [{"name": f"t{i}", "cron": "0 0 0 * * *"} for i in range(50)]
    functions: dict[str, RustFunctionArgs] = {
        "busy": {"crate": "hello", "timers": timers, "http": {"auth_type": "anonymous"}}
    }
    (problem,) = quota_problems(functions)
    assert problem.startswith("function busy declares 51 FC triggers, over the quota of 50")
    assert "Quota Center" in problem


@pytest.mark.parametrize("fc_version", ["3.0", "2.0"])
def test_a_stack_may_share_one_role_which_writes_each_functions_logstore(fc_version: str) -> None:
    evaluation = run_main(sharedRole="true", fcVersion=fc_version)
    (role,) = evaluation.of_type("alicloud:ram/role:Role")
    assert role.plain()["roleName"] == "fc-rust-dev-functions"
    project = evaluation.by_name("stack-logs-project").state["projectName"]
    policy = json.loads(evaluation.by_name("stack-role-log-policy").plain()["policyDocument"])
    assert policy["Statement"][0]["Resource"] == [
        f"acs:log:*:*:project/{project}/logstore/{name}-logs"
        for name in ("sync-forks", "hello", "hello-http")
    ]
    attachment = evaluation.by_name("stack-role-log-policy-attachment")
    for name in ("sync-forks", "hello", "hello-http"):
        # FC checks at create that the role may write the logstore (FC 2.0: the service's).
        checked = evaluation.by_name(
            f"{name}-function" if fc_version == "3.0" else f"{name}-service"
        )
        assert checked.plain()["role"] == "acs:ram::123456789:role/fc-rust-dev-functions"
        assert attachment.urn in checked.dependencies


def test_a_function_with_its_own_role_or_project_keeps_its_own_role() -> None:
    evaluation = run_main(
        sharedRole="true",
        functions=json.dumps(
            {"hello": {}, "greeter": {"crate": "hello", "logs": {"projectName": "greeter-logs"}}}
        ),
    )
    names = sorted(r.plain()["roleName"] for r in evaluation.of_type("alicloud:ram/role:Role"))
    assert names == ["fc-rust-dev-functions", "fc-rust-dev-greeter"]
