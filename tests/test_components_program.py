"""The program (`__main__.py`) under mocks: the dev stack's graph for FC 3.0 and FC 2.0,
secrets, config defaults, the no-op property and a one-byte change.

Code packages come from the real build (cargo-zigbuild): the repository's for the graph, a
private copy of the workspace for the change.
"""

from __future__ import annotations

import hashlib
import json
import re
import runpy
from typing import TYPE_CHECKING, Any

import conftest
import pulumi
import pytest
import yaml
from conftest import (
    ACCOUNT_ID,
    FAKE_TOKEN,
    REPO,
    Evaluation,
    dev_config,
    entry,
    evaluate,
    is_secret,
    run_main,
)

from infra import ConfigError
from infra.bootstrap import BuildError
from infra.config import read_stack
from infra.errors import StackError
from infra.limits import check_region
from stack.forks import forks_problems

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

ACCOUNT = "acs:ram::123456789"


@pytest.fixture(autouse=True)
def _in_repo(in_repo: Path) -> None:
    del in_repo


def _crc64_xz_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xC96C5795D7870F42 if crc & 1 else 0)
        table.append(crc)
    return table


CRC64_XZ_TABLE = _crc64_xz_table()


def crc64_xz(data: bytes) -> str:
    """CRC-64/XZ (reflected ECMA-182 polynomial, all-ones start and end) computed here, from the
    definition: the graph's expected checksums do not come from the code under test."""
    crc = 0xFFFFFFFFFFFFFFFF
    for byte in data:
        crc = CRC64_XZ_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return str(crc ^ 0xFFFFFFFFFFFFFFFF)


def test_the_reference_crc64_gives_the_check_value_of_crc64_xz() -> None:
    # The catalogue's check value of CRC-64/XZ: the CRC of b"123456789" is 0x995DC9BBDF1939FA.
    assert crc64_xz(b"123456789") == str(0x995DC9BBDF1939FA)


def package_facts(workspace: Path, crate: str) -> tuple[str, str]:
    """sha256 and FC checksum of the zip the build left in `workspace`, both computed here.

    Mutation caught: `crc64_fc` computing another CRC (e.g. CRC-64/ECMA-182 without the
    reflection, or Go's crc64.ISO table), which a checksum from `crc64_fc` itself would repeat.
    """
    data = (workspace / "dist" / crate / "bootstrap.zip").read_bytes()
    return hashlib.sha256(data).hexdigest(), crc64_xz(data)


def inputs_by_name(evaluation: Evaluation) -> dict[str, tuple[str, Any]]:
    """Every resource's type and inputs (secret markers kept), keyed by name."""
    return {r.name: (r.type, r.inputs) for r in evaluation.resources}


def test_dev_stack_fc3_graph() -> None:  # noqa: PLR0915 - one graph, every wire of it
    evaluation = run_main()
    assert evaluation.calls == []
    for crate in ("sync-forks", "hello"):
        sha256, crc64 = package_facts(REPO, crate)
        function = evaluation.by_name(f"{crate}-function")
        assert function.type == "alicloud:fc/v3Function:V3Function"
        assert evaluation.ancestors(function.name) == [crate]
        assert evaluation.by_name(crate).type == "fcrust:index:RustFunction"
        inputs = function.plain()
        # Named for the stack too: another stack in this region has its own `hello`.
        assert inputs["functionName"] == f"{crate}-dev"
        assert inputs["runtime"] == "custom.debian10"
        assert inputs["customRuntimeConfig"] == {"port": 9000, "commands": ["/code/bootstrap"]}
        assert inputs["code"]["checksum"] == crc64
        assert inputs["code"]["ossObjectName"] == f"dev/{crate}/{sha256}.zip"
        assert "zipFile" not in inputs["code"]
        # One bucket and one log project for the stack, a package key and a logstore each.
        bucket = evaluation.by_name("stack-code-bucket")
        assert inputs["code"]["ossBucketName"] == bucket.state["bucket"]
        assert evaluation.by_name(f"{crate}-code").plain()["key"] == f"dev/{crate}/{sha256}.zip"
        # Log wiring: the function logs where the created project and store are, with its role.
        project = evaluation.by_name("stack-logs-project").plain()["projectName"]
        store = evaluation.by_name(f"{crate}-logstore").plain()
        # Named after the project, the stack and the account: two stacks never share one, nor
        # two accounts deploying the same template (the name is global).
        digest = hashlib.sha256(ACCOUNT_ID.encode()).hexdigest()[:6]
        assert project == f"fc-rust-dev-{digest}"
        assert store["projectName"] == project
        assert store["logstoreName"] == f"{crate}-logs"
        assert inputs["logConfig"]["project"] == project
        assert inputs["logConfig"]["logstore"] == store["logstoreName"]
        role = evaluation.by_name(f"{crate}-role-role").plain()
        role_name = f"fc-rust-dev-{crate}"
        assert (role["roleName"], inputs["role"]) == (role_name, f"{ACCOUNT}:role/{role_name}")
        assert inputs["tags"] == {"project": "fc-rust", "stack": "dev"}
        assert json.loads(role["assumeRolePolicyDocument"]) == {
            "Version": "1",
            "Statement": [
                {
                    "Action": "sts:AssumeRole",
                    "Effect": "Allow",
                    "Principal": {"Service": ["fc.aliyuncs.com"]},
                }
            ],
        }
        policy = evaluation.by_name(f"{crate}-role-log-policy").plain()
        assert json.loads(policy["policyDocument"]) == {
            "Version": "1",
            "Statement": [
                {
                    "Action": ["log:PostLogStoreLogs"],
                    "Effect": "Allow",
                    "Resource": [f"acs:log:*:*:project/{project}/logstore/{crate}-logs"],
                }
            ],
        }
        attachment = evaluation.by_name(f"{crate}-role-log-policy-attachment").plain()
        assert attachment == {
            "policyName": policy["policyName"],
            "policyType": "Custom",
            "roleName": role["roleName"],
        }
        alias = evaluation.by_name(f"{crate}-alias").plain()
        assert alias["aliasName"] == "live"
        assert alias["functionName"] == f"{crate}-dev"
        version = evaluation.by_name(f"{crate}-version")
        assert alias["versionId"] == evaluation.outputs[crate]["version"]
        assert not version.retain_on_delete
        # The version's description is the function's (the provider reads it from there),
        # and the function's carries the code and config it publishes.
        description = evaluation.by_name(f"{crate}-function").plain()["description"]
        assert version.plain()["description"] == description
        assert description.startswith(f"{crate} (Rust, fc-rust) [code {sha256[:16]} config ")
        assert evaluation.outputs[crate]["code_sha256"] == sha256
        assert evaluation.outputs[crate]["code_checksum"] == crc64
        assert (
            evaluation.outputs[crate]["function_arn"]
            == f"acs:fc:cn-hangzhou:123456789:functions/{crate}-dev"
        )
    timer = evaluation.by_name("sync-forks-timer-daily")
    assert timer.type == "alicloud:fc/v3Trigger:V3Trigger"
    assert timer.plain() == {
        "functionName": "sync-forks-dev",
        "triggerName": "daily",
        "triggerType": "timer",
        "qualifier": "live",
        "triggerConfig": '{"cronExpression":"0 0 0 * * *","enable":true,"payload":""}',
    }
    assert not [r for r in evaluation.resources if r.name.startswith("hello-timer")]
    assert evaluation.outputs["sync-forks"]["trigger_names"] == ["daily"]
    assert evaluation.outputs["hello"]["trigger_names"] == []


def test_each_function_gets_its_entrys_environment_and_no_other() -> None:
    evaluation = run_main()
    env = evaluation.by_name("sync-forks-function").plain()["environmentVariables"]
    # The entry's plain variables, and the secret one from its config key.
    assert env == {
        "SYNC_FORKS": "octocat/Hello-World",
        "SYNC_FORKS_BUDGET_SECS": "290",
        "GITHUB_TOKEN": FAKE_TOKEN,
    }
    assert evaluation.by_name("hello-function").plain().get("environmentVariables", {}) == {}


def test_dev_stack_fc2_graph() -> None:
    evaluation = run_main(fcVersion="2.0")
    assert not [r for r in evaluation.resources if r.type.startswith("alicloud:fc/v3")]
    for crate in ("sync-forks", "hello"):
        sha256, crc64 = package_facts(REPO, crate)
        service = evaluation.by_name(f"{crate}-service")
        assert service.type == "alicloud:fc/service:Service"
        project = evaluation.by_name("stack-logs-project").plain()["projectName"]
        role = evaluation.by_name(f"{crate}-role-role").plain()["roleName"]
        assert service.plain()["logConfig"] == {
            "project": project,
            "logstore": f"{crate}-logs",
            "enableRequestMetrics": True,
            "enableInstanceMetrics": True,
        }
        assert service.plain()["role"] == f"acs:ram::123456789:role/{role}"
        function = evaluation.by_name(f"{crate}-function")
        assert function.type == "alicloud:fc/function:Function"
        assert evaluation.ancestors(function.name) == [crate]
        inputs = function.plain()
        assert inputs["service"] == f"{crate}-dev"
        assert inputs["runtime"] == "custom.debian10"
        assert inputs["caPort"] == 9000
        assert inputs["codeChecksum"] == crc64
        assert inputs["ossKey"] == f"dev/{crate}/{sha256}.zip"
        assert "filename" not in inputs
        assert "cpu" not in inputs
        assert evaluation.outputs[crate]["alias"] == "LATEST"
    trigger = evaluation.by_name("sync-forks-timer-daily")
    assert trigger.type == "alicloud:fc/trigger:Trigger"
    assert trigger.plain() == {
        "service": "sync-forks-dev",
        "function": "sync-forks-dev",
        "name": "daily",
        "type": "timer",
        "config": '{"cronExpression":"0 0 0 * * *","enable":true,"payload":""}',
    }


def cli_config(**overrides: str) -> dict[str, str]:
    """The dev stack's config as the Pulumi CLI hands it over: with `Pulumi.yaml`'s defaults.

    The CLI gives the program every declared key with a default, as text (JSON for a list).
    """
    schema = yaml.safe_load((REPO / "Pulumi.yaml").read_text(encoding="utf-8"))["config"]
    defaults = {
        f"fc-rust:{key}": (
            json.dumps(spec["default"])
            if isinstance(spec["default"], (bool, list, dict))
            else str(spec["default"])
        )
        for key, spec in schema.items()
        if "default" in spec
    }
    return {**defaults, **dev_config(**overrides)}


@pytest.mark.parametrize(
    "fc_version",
    [
        "3.0",
        "2.0",
    ],
)
def test_the_defaults_pulumi_applies_change_nothing(fc_version: str) -> None:
    # The library's own defaults are Pulumi.yaml's: the graph is the same with them or without.
    with_defaults = evaluate(
        lambda: runpy.run_path(str(REPO / "__main__.py"), run_name="__main__"),
        cli_config(fcVersion=fc_version),
        ["fc-rust:githubToken"],
    )
    assert inputs_by_name(with_defaults) == inputs_by_name(run_main(fcVersion=fc_version))


def _plain_strings(value: Any) -> list[str]:  # noqa: ANN401 - any JSON-like value
    """Every string in `value` that is not inside a secret."""
    if is_secret(value):
        return []
    if isinstance(value, dict):
        return [s for v in value.values() for s in _plain_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _plain_strings(v)]
    return [value] if isinstance(value, str) else []


def test_github_token_stays_secret() -> None:
    evaluation = run_main()
    env = evaluation.by_name("sync-forks-function").inputs["environmentVariables"]
    assert is_secret(env)
    assert env["value"]["GITHUB_TOKEN"] == FAKE_TOKEN
    for resource in evaluation.resources:
        assert not any(FAKE_TOKEN in s for s in _plain_strings(resource.inputs)), resource.name
    assert FAKE_TOKEN not in json.dumps(evaluation.outputs)
    assert evaluation.outputs, "the stack has exports to check"


def test_unchanged_tree_is_a_no_op() -> None:
    first = inputs_by_name(run_main())
    second = inputs_by_name(run_main())
    assert first == second


def _flip_one_byte(source: Path) -> None:
    """Change the case of one letter inside the first string literal of a code line."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    for number, line in enumerate(lines):
        match = re.search(r'"([A-Za-z])', line)
        if match and not line.lstrip().startswith("//"):
            letter = match.group(1)
            start = match.start(1)
            lines[number] = line[:start] + letter.swapcase() + line[start + 1 :]
            source.write_text("".join(lines), encoding="utf-8")
            return
    pytest.fail(f"no string literal to change in {source}")


def test_one_byte_in_hello_changes_only_hellos_code(workspace_copy: Path) -> None:
    before = run_main(workspace=str(workspace_copy))
    _flip_one_byte(workspace_copy / "functions" / "hello" / "src" / "main.rs")
    after = run_main(workspace=str(workspace_copy))
    old, new = inputs_by_name(before), inputs_by_name(after)
    assert old.keys() == new.keys()
    changed = {name for name in old if old[name] != new[name]}
    assert changed == {"hello-code", "hello-function", "hello-version", "hello-alias"}
    code_old, code_new = old["hello-code"][1], new["hello-code"][1]
    # The key is the content address; the source is the matching immutable cache entry.
    assert {k for k in code_old if code_old[k] != code_new[k]} == {"key", "source"}
    function_old, function_new = old["hello-function"][1], new["hello-function"][1]
    # The description carries the code revision the version publishes (see fc3.declare).
    assert {k for k in function_old if function_old[k] != function_new[k]} == {
        "code",
        "description",
    }
    assert function_old["code"]["ossBucketName"] == function_new["code"]["ossBucketName"]
    assert function_old["code"]["checksum"] != function_new["code"]["checksum"]
    assert function_old["code"]["ossObjectName"] != function_new["code"]["ossObjectName"]
    alias_old, alias_new = old["hello-alias"][1], new["hello-alias"][1]
    assert {k for k in alias_old if alias_old[k] != alias_new[k]} == {"versionId"}
    sha256, _ = package_facts(workspace_copy, "hello")
    assert after.outputs["hello"]["code_sha256"] == sha256 != before.outputs["hello"]["code_sha256"]
    assert after.outputs["sync-forks"] == before.outputs["sync-forks"]


def test_misconfigured_stack_fails_before_any_resource_registers() -> None:
    daily = {"name": "daily", "cron": "0 0 * * *"}
    with pytest.raises(ConfigError) as caught:
        run_main(
            **{
                "alicloud:region": "mars-north-1",
                "functions": entry("sync-forks", memorySize=100, timers=[daily]),
            }
        )
    assert conftest.LAST_EVALUATION.resources == []
    problems = caught.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("region must be a Function Compute region")
    assert (
        "sync-forks: memorySize must be a multiple of 64 between 128 and 32768 MB, got 100 "
        "(set by fc-rust:functions.sync-forks.memorySize; change it with "
        "`pulumi config set --path 'functions.sync-forks.memorySize' <value>`)"
    ) in problems
    assert any(
        p.startswith("sync-forks: timer 'daily': cron '0 0 * * *' has 5 fields")
        and p.endswith(
            "(set by fc-rust:functions.sync-forks.timers; change it with "
            "`pulumi config set --path 'functions.sync-forks.timers[0].<field>' <value>`)"
        )
        for p in problems
    )


@pytest.mark.parametrize("error", [ConfigError, BuildError, StackError])
def test_a_users_mistake_reaches_pulumi_as_a_message_not_a_traceback(
    error: type[Exception],
) -> None:
    # Pulumi's language host prints a RunError's message alone, and any other exception as
    # "Program failed with an unhandled exception" followed by the Python traceback.
    assert issubclass(error, pulumi.RunError)


def test_pinning_a_version_is_one_config_line() -> None:
    evaluation = run_main(functions=entry("hello", pinnedVersion="2"))
    assert evaluation.by_name("hello-alias").plain()["versionId"] == "2"
    assert evaluation.outputs["hello"]["version"] == "2"


def test_config_schema_lets_stacks_without_the_token_run_and_uses_the_venv() -> None:
    # Not declared `secret`: Pulumi would refuse its empty default as an unencrypted secret;
    # the program refuses it in plain text instead (test_deployable).
    schema = yaml.safe_load((REPO / "Pulumi.yaml").read_text(encoding="utf-8"))
    assert schema["config"]["githubToken"].get("default") == ""
    assert "secret" not in schema["config"]["githubToken"]
    assert schema["runtime"]["options"]["virtualenv"] == ".venv"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_files_are_valid_config(stack: str) -> None:
    schema = yaml.safe_load((REPO / "Pulumi.yaml").read_text(encoding="utf-8"))["config"]
    config = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))["config"]
    region = config["alicloud:region"]
    assert check_region(region) == []
    assert "fc-rust:githubToken" not in config, "the token is set with --secret, never committed"
    # What the program reads: the schema's defaults under the stack's own values, the token set.
    values = {key: spec["default"] for key, spec in schema.items() if "default" in spec}
    values |= {key.removeprefix("fc-rust:"): value for key, value in config.items()}
    found = read_stack(
        values, project="fc-rust", stack=stack, region=region, secret=lambda key: f"<{key}>"
    )
    assert found.problems == forks_problems(found, "fc-rust") == []
    assert sorted(found.functions) == ["hello", "hello-http", "sync-forks"]
    assert found.secret_variables == {
        "sync-forks": {"GITHUB_TOKEN": "githubToken"},
        "hello": {},
        "hello-http": {},
    }


def test_a_stack_builds_once_and_no_function_builds_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # from_config builds every zip in one package_many; each RustBootstrap takes its package.
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a RustBootstrap built its function again")

    monkeypatch.setattr("infra.bootstrap.resource.Builder", refuse)
    evaluation = run_main()
    for crate in ("sync-forks", "hello"):
        sha256, _ = package_facts(REPO, crate)
        assert evaluation.by_name(f"{crate}-code").plain()["key"] == f"dev/{crate}/{sha256}.zip"
