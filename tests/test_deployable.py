"""The mistakes a real `pulumi up` would have hit, each held to the provider's or Pulumi's rules.

Each test failed before its fix: the mocks now enforce the provider contract
(`tests/provider_contract/`), and the lifecycle simulator (`tests/lifecycle.py`) plays a change
and a destroy as the engine and the provider would.
"""

from __future__ import annotations

import runpy
from typing import TYPE_CHECKING

import conftest
import lifecycle
import pulumi_alicloud as alicloud
import pytest
import yaml
from conftest import (
    REPO,
    Evaluation,
    dev_config,
    dev_functions,
    entry,
    evaluate,
    functions,
    run_main,
)

from infra import ConfigError
from infra.access import trust_policy
from infra.spec import default_cpu

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

FAKE_PASSWORD = "test-registry-password-not-real"  # noqa: S105 - a fake value


@pytest.fixture(autouse=True)
def _in_repo(in_repo: Path) -> None:
    del in_repo


def main_program() -> None:
    runpy.run_path(str(REPO / "__main__.py"), run_name="__main__")


def run_stack(config: dict[str, str], secrets: list[str] | None = None) -> Evaluation:
    return evaluate(main_program, config, ["fc-rust:githubToken", *(secrets or [])])


def test_every_declared_key_without_a_default_is_one_the_program_needs() -> None:
    # 1. Pulumi refuses a stack that lacks a declared key without a default: the zip stacks
    # must not need the container variant's registry password.
    schema = yaml.safe_load((REPO / "Pulumi.yaml").read_text())["config"]
    without_default = sorted(key for key, spec in schema.items() if "default" not in spec)
    assert without_default == ["functions"]  # every committed stack sets functions
    run_main()  # the dev stack evaluates with the registry password unset


def test_a_stack_without_sync_forks_needs_no_github_token() -> None:
    # Before: githubToken was declared without a default, so Pulumi refused every stack that did
    # not set it, even one deploying only its own functions. Pulumi now applies its default "".
    config = dev_config(functions=functions(**{"sync-forks": None}), githubToken="")
    names = {resource.name for resource in run_stack(config, secrets=[]).resources}
    assert "hello-function" in names
    assert "sync-forks-function" not in names


def test_an_empty_github_token_is_missing_for_the_entry_that_takes_it() -> None:
    # Mutation: treating the default "" as set deploys sync-forks with an empty token.
    with pytest.raises(ConfigError) as caught:
        run_stack(dev_config(githubToken=""))
    (problem,) = caught.value.problems
    assert problem == (
        "sync-forks: GITHUB_TOKEN takes the secret fc-rust:githubToken, which the stack does not "
        "set: `pulumi config set --secret githubToken <value>`"
    )
    assert conftest.LAST_EVALUATION.resources == []


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({}, "githubToken"),
        ({"variant": "container", "registryNamespace": "fcrust"}, "registryPassword"),
    ],
)
def test_a_secret_set_in_plain_text_is_refused(overrides: dict[str, str], key: str) -> None:
    # Pulumi checks encryption only for keys declared `secret`, and these cannot be (their
    # default "" would be refused): the program checks it. Mutation: dropping the check lets a
    # plaintext token deploy from a stack file that holds it unencrypted.
    config = dev_config(registryPassword=FAKE_PASSWORD, **overrides)
    encrypted = ["fc-rust:githubToken", "fc-rust:registryPassword"]
    with pytest.raises(ConfigError) as caught:
        evaluate(main_program, config, [k for k in encrypted if k != f"fc-rust:{key}"])
    (problem,) = caught.value.problems
    assert problem == (
        f"fc-rust:{key} is in the stack file in plain text, but it is a secret: set it encrypted "
        f"with `pulumi config set --secret {key} <value>`"
    )
    assert conftest.LAST_EVALUATION.resources == []


def test_container_stack_declares_its_namespace_once() -> None:
    # 2. Before: one alicloud_cr_namespace per function, the second a duplicate id.
    evaluation = run_stack(
        dev_config(
            variant="container",
            registryNamespace="fcrust",
            registryUsername="someone@example.com",
            registryPassword=FAKE_PASSWORD,
        ),
        ["fc-rust:registryPassword"],
    )
    assert len(evaluation.of_type("alicloud:cr/namespace:Namespace")) == 1
    assert len(evaluation.of_type("alicloud:cr/repo:Repo")) == 3  # one per function


def test_container_stack_with_an_existing_namespace_creates_no_registry_resources() -> None:
    evaluation = run_stack(
        dev_config(
            variant="container",
            registryNamespace="fcrust",
            registryExisting="true",
            registryUsername="someone@example.com",
            registryPassword=FAKE_PASSWORD,
        ),
        ["fc-rust:registryPassword"],
    )
    assert not [r for r in evaluation.resources if r.type.startswith("alicloud:cr/")]
    image = evaluation.by_name("hello-image-image").plain()
    assert image["imageName"].startswith("registry.cn-hangzhou.aliyuncs.com/fcrust/hello:")


def test_changing_the_alias_replaces_the_trigger_without_a_name_collision() -> None:
    # 3. qualifier is ForceNew and the trigger's id is function + trigger name.
    before, after = run_main(), run_main(alias="prod")
    steps = lifecycle.plan(before, after)
    (trigger,) = [s for s in steps if s.name == "sync-forks-timer-daily"]
    assert trigger.action == "replace"
    assert "qualifier" in trigger.replace_because
    assert trigger.delete_before_replace
    assert lifecycle.collisions(before, after, steps) == []


def test_destroy_after_a_code_change_empties_and_deletes_the_bucket(
    workspace_copy: Path,
) -> None:
    # 4. Before: packages were retained on delete and the bucket had no force_destroy.
    before = run_main(workspace=str(workspace_copy))
    source = workspace_copy / "functions" / "hello" / "src" / "main.rs"
    source.write_text(source.read_text().replace("Hello, {name}!", "Hello, {name}."))
    after = run_main(workspace=str(workspace_copy))
    steps = lifecycle.plan(before, after)
    left = lifecycle.left_behind(before, steps)
    assert [r.name for r in left if r.type == "alicloud:oss/bucketObject:BucketObject"] == []
    order, refusals = lifecycle.destroy(after, left)
    assert refusals == []
    assert order.index("hello-code") < order.index("stack-code-bucket")


def test_bucket_refuses_destroy_without_force_destroy_while_a_package_remains() -> None:
    # The simulator's own check: a non-empty bucket without force_destroy is refused.
    evaluation = run_main()
    bucket = evaluation.by_name("stack-code-bucket")
    code = evaluation.by_name("hello-code")
    bucket.inputs = {**bucket.inputs, "forceDestroy": False}
    code.retain_on_delete = True
    _, refusals = lifecycle.destroy(evaluation)
    assert any(r.startswith("stack-code-bucket:") for r in refusals), refusals


@pytest.mark.parametrize("memory_size", [512, 1024, 4096])
def test_memory_above_384_mb_deploys_with_a_cpu_that_fits(memory_size: int) -> None:
    # 5. Before: cpu stayed 0.1, and FC 3.0 refuses memory above 4 GB per vCPU.
    evaluation = run_main(functions=entry("sync-forks", memorySize=memory_size))
    function = evaluation.by_name("sync-forks-function").plain()
    assert function["memorySize"] == memory_size
    assert function["cpu"] == default_cpu(memory_size)
    assert function["cpu"] <= memory_size / 1024 <= 4 * function["cpu"]


def test_default_cpu_is_the_least_fc_allows_and_at_least_a_tenth() -> None:
    assert [default_cpu(m) for m in (128, 384, 448, 512, 1024, 32768)] == [
        0.1,
        0.1,
        0.15,
        0.15,
        0.25,
        8.0,
    ]


def test_fc2_environment_change_after_a_long_time_finds_its_package() -> None:
    # 6. FC 2.0's update sends oss_bucket/oss_key again: the current package must still be
    # there. Nothing expires it, and an environment change leaves the object as it is.
    before = run_main(fcVersion="2.0")
    forks = {
        **dev_functions()["sync-forks"]["environment"],
        "SYNC_FORKS": "octocat/Hello-World,octocat/Spoon-Knife",
    }
    after = run_main(fcVersion="2.0", functions=entry("sync-forks", environment=forks))
    steps = {s.name: s for s in lifecycle.plan(before, after)}
    assert steps["sync-forks-function"].action == "update"
    assert steps["sync-forks-function"].changed == ("environmentVariables.SYNC_FORKS",)
    assert steps["sync-forks-code"].action == "same"
    (rule,) = after.by_name("stack-code-bucket").plain()["lifecycleRules"]
    assert "expirations" not in rule


@pytest.mark.parametrize("fc_version", ["3.0", "2.0"])
def test_function_waits_for_the_log_policy_attachment(fc_version: str) -> None:
    # 7. FC checks at create that the role may write the logstore.
    # FC 3.0 checks it when the function is created, FC 2.0 when the service is.
    evaluation = run_main(fcVersion=fc_version)
    for crate in ("sync-forks", "hello"):
        attachment = evaluation.by_name(f"{crate}-role-log-policy-attachment")
        checked = f"{crate}-function" if fc_version == "3.0" else f"{crate}-service"
        assert attachment.urn in evaluation.by_name(checked).dependencies


@pytest.mark.parametrize(
    ("forks", "message"),
    [
        ("not a repo", "fork 'not': expected owner/repo"),  # whitespace separates entries
        ("octocat", "fork 'octocat': expected owner/repo"),
        ("-bad/repo", "the owner must be 1-39 letters"),
        ("octocat/Hello-World:bad..branch", "the branch must be a non-empty git branch"),
        ("", "SYNC_FORKS is empty"),
        (" , ", "SYNC_FORKS is empty"),
    ],
)
def test_bad_forks_fail_at_preview_naming_the_key(forks: str, message: str) -> None:
    # 8. Before: a typo deployed and failed only when the timer fired.
    with pytest.raises(ConfigError) as caught:
        run_main(functions=entry("sync-forks", environment={"SYNC_FORKS": forks}))
    assert message in str(caught.value)
    assert "fc-rust:functions.sync-forks.environment.SYNC_FORKS" in str(caught.value)
    assert (
        "`pulumi config set --path 'functions.sync-forks.environment.SYNC_FORKS' <value>`"
        in str(caught.value)
    )
    assert conftest.LAST_EVALUATION.resources == []


def test_the_forks_check_follows_the_crate_not_the_entrys_name() -> None:
    # A second sync-forks entry, under another name, is checked as well; hello is not.
    copy = {"crate": "sync-forks", "environment": {"SYNC_FORKS": "octocat"}}
    with pytest.raises(ConfigError) as caught:
        run_main(functions=functions(mirror=copy, hello={"environment": {"SYNC_FORKS": "x"}}))
    (problem,) = caught.value.problems
    assert problem.startswith("mirror: fork 'octocat': expected owner/repo")


def test_a_misconfigured_key_is_named_with_the_command_that_fixes_it() -> None:
    with pytest.raises(ConfigError) as caught:
        run_main(
            functions=functions(**{"sync-forks": {"memorySize": 100}, "hello": {"memorySize": 200}})
        )
    text = str(caught.value)
    assert "sync-forks: memorySize must be a multiple of 64" in text
    assert "fc-rust:functions.sync-forks.memorySize" in text
    assert "`pulumi config set --path 'functions.sync-forks.memorySize' <value>`" in text
    assert "fc-rust:functions.hello.memorySize" in text
    assert conftest.LAST_EVALUATION.resources == []


def test_a_resource_the_provider_refuses_fails_the_mocks() -> None:
    # The contract in the mocks: what a preview would refuse fails here too.
    def program() -> None:
        alicloud.fc.V3Trigger(
            "bad",
            function_name="hello",
            trigger_name="daily timer",
            trigger_type="timer",
            qualifier="live",
            trigger_config='{"cronExpression":"0 0 0 * * *","enable":true}',
        )

    with pytest.raises(Exception, match="breaks the provider contract") as caught:
        evaluate(program)
    assert "triggerName" in str(caught.value)


def test_two_resources_with_one_id_fail_the_mocks() -> None:
    def program() -> None:
        for name in ("first", "second"):
            alicloud.ram.Role(
                name,
                role_name="same-name",
                assume_role_policy_document=trust_policy(),
            )

    with pytest.raises(Exception, match="already taken by first"):
        evaluate(program)


def test_a_container_stack_without_a_password_names_the_registry_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        run_stack(dev_config(variant="container", registryNamespace="fcrust"))
    text = str(caught.value)
    assert "registry.username and registry.password are required" in text
    assert "(set by fc-rust:registryUsername;" in text
