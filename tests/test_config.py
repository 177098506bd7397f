"""A stack's config read into functions (`infra.config.read_stack`): each entry's settings, the
project-wide keys beneath them, and every problem naming the config key that sets it.

`read_stack` takes the config as the Pulumi CLI hands it to the program: a key set with
`pulumi config set` arrives as text, a structured value as JSON or as YAML from the stack file.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import conftest
import pytest
from conftest import REPO, entry, evaluate, run_main

from infra import ConfigError, from_config
from infra.config import (
    ENTRY_KEYS,
    StackFunctions,
    project_defaults,
    project_name,
    read_stack,
    read_yaml,
)
from infra.errors import StackError
from infra.logs import DEFAULT_RETENTION_DAYS
from infra.spec import FunctionSpec, resolve
from stack.retired import retired_problems

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

pytestmark = pytest.mark.unit

SECRETS = {"apiKey": "api-key-not-real", "registryPassword": "registry-password-not-real"}


def read(
    functions: object, secrets: Mapping[str, str] = SECRETS, **values: object
) -> StackFunctions:
    """A dev stack's functions in cn-hangzhou, from `functions` and the project-wide `values`."""
    return read_stack(
        {"functions": functions, **values},
        project="fc-rust",
        stack="dev",
        region="cn-hangzhou",
        secret=secrets.get,
        cwd=REPO,
    )


def spec(found: StackFunctions, name: str) -> FunctionSpec:
    """The resolved spec of one function read without problems."""
    assert found.problems == []
    return resolve(
        name, found.functions[name], project="fc-rust", stack="dev", region="cn-hangzhou", cwd=REPO
    )


def test_an_entry_takes_its_name_as_crate_and_function_name() -> None:
    """The FC name carries the stack: FC names are unique in a region, stacks share regions."""
    found = read({"hello": {}, "greeter": {"crate": "hello"}})
    assert (spec(found, "hello").crate, spec(found, "hello").function_name) == (
        "hello",
        "hello-dev",
    )
    assert (spec(found, "greeter").crate, spec(found, "greeter").function_name) == (
        "hello",
        "greeter-dev",
    )


def test_an_unknown_setting_names_its_key_path_and_the_allowed_keys() -> None:
    (problem,) = read({"hello": {"memory": 256}}).problems
    assert problem == (
        "hello: unknown setting 'memory' (remove it with `pulumi config rm --path "
        f"'functions.hello.memory'`); allowed: {', '.join(sorted(ENTRY_KEYS))}"
    )
    assert "memorySize" in ENTRY_KEYS


def test_an_unknown_nested_setting_lists_the_camel_case_keys() -> None:
    (problem,) = read({"hello": {"logs": {"retention_days": 7}}}).problems
    assert problem == (
        "hello: unknown setting 'retention_days' in logs (remove it with `pulumi config rm "
        "--path 'functions.hello.logs.retention_days'`); allowed: existingLogstore, "
        "existingProject, logstoreName, projectName, retentionDays, skip"
    )


def test_a_list_setting_names_an_item_to_change() -> None:
    (problem,) = read({"hello": {"timers": [{"name": "t", "cron": "0 0 * * *"}]}}).problems
    assert "`pulumi config set --path 'functions.hello.timers[0].<field>' <value>`" in problem


def test_a_value_of_the_wrong_type_names_its_key_path() -> None:
    (problem,) = read({"hello": {"memorySize": "abc"}}).problems
    assert problem == (
        "hello: memorySize must be a whole number, got 'abc' (set by "
        "fc-rust:functions.hello.memorySize; change it with "
        "`pulumi config set --path 'functions.hello.memorySize' <value>`)"
    )


def test_a_rule_broken_by_an_entry_names_the_entrys_key() -> None:
    (problem,) = read({"hello": {"timeout": 0}}).problems
    assert problem.startswith("hello: timeout must be")
    assert problem.endswith(
        "(set by fc-rust:functions.hello.timeout; change it with "
        "`pulumi config set --path 'functions.hello.timeout' <value>`)"
    )


def test_values_set_as_text_are_read_as_their_type() -> None:
    # `pulumi config set --path functions.hello.memorySize 256` stores the text "256".
    entry = {
        "memorySize": "256",
        "cpu": "0.25",
        "alert": "true",
        "timers": '[{"name": "t", "cron": "@every 1h"}]',
    }
    found = read(json.dumps({"hello": entry}), alertContactGroup="ops")
    hello = spec(found, "hello")
    assert (hello.memory_size, hello.cpu) == (256, 0.25)
    assert hello.alert == {"contact_group": "ops"}
    assert hello.timers == ({"name": "t", "cron": "@every 1h"},)


@pytest.mark.parametrize("text", ["yes", "no", "1", "on"])
def test_a_string_that_is_not_true_or_false_is_not_a_boolean(text: str) -> None:
    """`alert: "yes"` is refused, naming the key, rather than read as false (or true).

    Mutations caught: `_coerce` taking any string as a boolean (`text.lower() == "true"` without
    the check that it is "true" or "false"); a nested `skip` or `registryExisting` read as
    truthy or as false whatever it says.
    """
    (problem,) = read({"hello": {"alert": text}}, alertContactGroup="ops").problems
    assert problem == (
        f"hello: alert must be true or false, got {text!r} (set by "
        "fc-rust:functions.hello.alert; change it with "
        "`pulumi config set --path 'functions.hello.alert' <value>`)"
    )
    for key in ("role", "logs", "bucket"):
        (problem,) = read({"hello": {key: {"skip": text}}}).problems
        assert problem.startswith(f"hello: {key}.skip must be true or false, got {text!r} (")
        assert f"fc-rust:functions.hello.{key};" in problem
    (problem,) = read({"hello": {}}, registryExisting=text).problems
    assert problem.startswith(f"registryExisting must be true or false, got {text!r} (")


def test_the_project_wide_runtime_applies_unless_an_entry_sets_its_own() -> None:
    found = read(
        {"hello": {}, "newer": {"crate": "hello", "runtime": "custom.debian12"}},
        runtime="custom.debian11",
    )
    assert spec(found, "hello").runtime == "custom.debian11"
    assert spec(found, "newer").runtime == "custom.debian12"
    assert spec(read({"hello": {}}), "hello").runtime == "custom.debian10"


def test_a_bad_project_wide_value_names_the_project_key_for_each_function_it_reaches() -> None:
    found = read(
        {"hello": {}, "newer": {"crate": "hello", "runtime": "custom.debian12"}},
        runtime="custom.debian9",
    )
    (problem,) = found.problems
    assert problem.startswith("hello: runtime must be one of")
    assert problem.endswith(
        "(set by fc-rust:runtime; change it with `pulumi config set runtime <value>`)"
    )


def test_log_retention_applies_only_to_the_logs_a_function_creates() -> None:
    existing = {"existingProject": "shared-logs", "existingLogstore": "fc"}
    found = read(
        {
            "created": {"crate": "hello"},
            "own": {"crate": "hello", "logs": {"retentionDays": 7}},
            "existing": {"crate": "hello", "logs": existing},
            "skipped": {"crate": "hello", "logs": {"skip": True}},
        },
        logRetentionDays="90",
    )
    # A retention added to an existing or skipped logstore would be a mixed setting, a problem.
    assert spec(found, "created").logs["retention_days"] == 90
    assert spec(found, "own").logs["retention_days"] == 7
    assert spec(found, "existing").logs == {
        "existing_project": "shared-logs",
        "existing_logstore": "fc",
    }
    assert spec(found, "skipped").logs == {"skip": True}
    default = spec(read({"hello": {}}), "hello")
    assert default.logs["retention_days"] == DEFAULT_RETENTION_DAYS


def test_secret_environment_maps_a_variable_to_a_secret_config_key() -> None:
    found = read({"hello": {"secretEnvironment": {"API_KEY": "apiKey"}}})
    assert found.secret_variables == {"hello": {"API_KEY": "apiKey"}}
    assert found.missing_secrets == {}
    assert spec(found, "hello").secret_environment == {"API_KEY": SECRETS["apiKey"]}
    # Unset, it is no problem of the config: the emulator reads the variable from its own
    # environment, and the program reports it (below).
    unset = read({"hello": {"secretEnvironment": {"API_KEY": "apiKey"}}}, secrets={})
    assert unset.problems == []
    assert unset.missing_secrets == {"hello": ["API_KEY"]}
    assert "secret_environment" not in unset.functions["hello"]


def test_the_program_names_the_command_that_sets_a_missing_secret() -> None:
    functions = {"hello": {"secretEnvironment": {"API_KEY": "apiKey"}}}
    config = {"alicloud:region": "cn-hangzhou", "fc-rust:functions": json.dumps(functions)}
    with pytest.raises(ConfigError) as caught:
        evaluate(from_config, config)
    assert caught.value.problems == [
        (
            "hello: API_KEY takes the secret fc-rust:apiKey, which the stack does not set: "
            "`pulumi config set --secret apiKey <value>`"
        )
    ]
    assert conftest.LAST_EVALUATION.resources == []


def test_alert_without_a_contact_group_is_a_problem() -> None:
    problems = read({"hello": {"alert": True}}).problems
    assert problems[0] == (
        "hello: alert needs a contact group to tell: set fc-rust:alertContactGroup "
        "(`pulumi config set alertContactGroup <name>`)"
    )
    found = read({"hello": {"alert": True}, "quiet": {"crate": "hello"}}, alertContactGroup="ops")
    assert spec(found, "hello").alert == {"contact_group": "ops"}
    assert spec(found, "quiet").alert is None


def test_alert_emails_need_a_group_name() -> None:
    (problem,) = read({"hello": {}}, alertEmails='["ops@example.com"]').problems
    assert problem.startswith("alertEmails needs the name of the contact group to create")
    found = read({"hello": {}}, alertEmails='["ops@example.com"]', alertContactGroup="ops")
    assert found.alert_emails == ["ops@example.com"]


@pytest.mark.parametrize("functions", [{}, None, "", "{}", "not json", []])
def test_a_stack_without_functions_is_a_problem(functions: object) -> None:
    found = read(functions)
    (problem,) = found.problems
    assert problem.startswith("functions must map each function's name to its settings, got ")
    assert problem.endswith(
        "add one with `pulumi config set --path 'functions.<name>.crate' <crate>`"
    )
    assert found.functions == {}


def test_an_entry_that_is_not_a_mapping_names_its_key() -> None:
    (problem,) = read({"hello": "hello"}).problems
    assert problem.startswith("hello: its settings must be a mapping (use {} for all defaults)")
    assert "(set by fc-rust:functions.hello;" in problem


def test_the_container_variant_takes_the_registry_keys() -> None:
    found = read(
        {"hello": {}, "sync": {"crate": "sync-forks"}},
        variant="container",
        runtime="custom.debian11",  # a project-wide runtime: a zip's, not a container's
        registryNamespace="fcrust",
        registryEndpoint="crpi-x.cn-hangzhou.personal.cr.aliyuncs.com",
        registryVpcEndpoint="crpi-x-vpc.cn-hangzhou.personal.cr.aliyuncs.com",
        registryUsername="someone@example.com",
        registryExisting="true",
    )
    for name in ("hello", "sync"):
        container = spec(found, name)
        assert container.variant == "container"
        assert container.runtime == "custom-container"
        # A crpi- instance's namespace and repository are made in the console (registryExisting).
        assert container.registry == {
            "namespace": "fcrust",
            "existing": True,
            "endpoint": "crpi-x.cn-hangzhou.personal.cr.aliyuncs.com",
            "vpc_endpoint": "crpi-x-vpc.cn-hangzhou.personal.cr.aliyuncs.com",
            "username": "someone@example.com",
            "password": SECRETS["registryPassword"],
        }
    existing = read(
        {"hello": {}},
        variant="container",
        registryNamespace="fcrust",
        registryExisting="true",
        registryUsername="someone@example.com",
    )
    assert spec(existing, "hello").registry == {
        "namespace": "fcrust",
        "existing": True,
        "username": "someone@example.com",
        "password": SECRETS["registryPassword"],
    }


@pytest.mark.parametrize("existing", ["false", ""])
def test_a_registry_not_said_to_exist_is_created(existing: str) -> None:
    """registryExisting false or unset: the stack creates the namespace and repository."""
    found = read(
        {"hello": {}},
        variant="container",
        registryNamespace="fcrust",
        registryUsername="someone@example.com",
        registryExisting=existing,
    )
    assert spec(found, "hello").registry == {
        "namespace": "fcrust",
        "username": "someone@example.com",
        "password": SECRETS["registryPassword"],
    }


def test_an_entry_may_ship_as_a_zip_in_a_container_stack() -> None:
    found = read(
        {"hello": {"variant": "zip"}, "sync": {"crate": "sync-forks"}},
        variant="container",
        registryNamespace="fcrust",
        registryUsername="someone@example.com",
    )
    assert spec(found, "sync").variant == "container"
    zipped = spec(found, "hello")
    assert (zipped.variant, zipped.registry, zipped.runtime) == ("zip", None, "custom.debian10")


def test_a_registry_problem_names_the_registry_key_that_sets_it() -> None:
    username = read({"hello": {}}, variant="container", registryNamespace="fcrust", secrets={})
    (problem,) = username.problems
    assert "(set by fc-rust:registryUsername;" in problem
    namespace = read(
        {"hello": {}}, variant="container", registryNamespace="Bad_NS", registryUsername="x"
    )
    (problem,) = namespace.problems
    assert "(set by fc-rust:registryNamespace;" in problem


def test_a_bad_secret_variable_names_the_secret_environment_key() -> None:
    (problem,) = read({"hello": {"secretEnvironment": {"1BAD": "apiKey"}}}).problems
    assert problem.startswith("hello: environment key '1BAD' must start with a letter")
    assert "(set by fc-rust:functions.hello.secretEnvironment;" in problem


def test_a_retired_key_says_where_its_value_goes_now() -> None:
    set_keys = {"syncMemorySize": "256", "forks": '["octocat/Hello-World"]'}
    problems = retired_problems(set_keys.get, "fc-rust")
    assert problems == [
        (
            "fc-rust:forks is no longer read: move its value to fc-rust:functions.sync-forks."
            "environment.SYNC_FORKS (comma-separated) (`pulumi config rm forks`, then `pulumi "
            "config set --path 'functions.sync-forks.environment.SYNC_FORKS' <value>`)"
        ),
        (
            "fc-rust:syncMemorySize is no longer read: move its value to fc-rust:functions."
            "sync-forks.memorySize (`pulumi config rm syncMemorySize`, then `pulumi config set "
            "--path 'functions.sync-forks.memorySize' <value>`)"
        ),
    ]
    assert retired_problems(lambda _key: None, "fc-rust") == []


def test_a_stack_that_still_sets_a_retired_key_fails_at_preview() -> None:
    with pytest.raises(ConfigError) as caught:
        conftest.run_main(syncMemorySize="256")
    assert "fc-rust:syncMemorySize is no longer read" in str(caught.value)
    assert not conftest.LAST_EVALUATION.resources


@pytest.mark.parametrize(
    ("timer", "message"),
    [
        (
            {"name": "daily", "cron": "0 0 0 * * *", "enabeld": False},
            "timer 'daily': unknown setting 'enabeld'; allowed: cron, enabled, name, payload",
        ),
        (
            {"name": "daily", "schedule": "0 0 0 * * *"},
            "timer 'daily': unknown setting 'schedule' (the schedule's key is `cron`)",
        ),
    ],
)
def test_a_misspelt_timer_setting_is_refused_not_ignored(
    timer: dict[str, object], message: str
) -> None:
    """Mutation: without the check, `enabeld: false` deploys the timer enabled."""
    with pytest.raises(ConfigError) as caught:
        run_main(functions=entry("sync-forks", timers=[timer]))
    assert any(message in problem for problem in caught.value.problems), caught.value.problems
    assert conftest.LAST_EVALUATION.resources == []


def test_an_upper_case_function_name_deploys() -> None:
    """FC allows upper case in a function name; what the library derives from it is lower case."""
    evaluation = run_main(functions=json.dumps({"Greeter": {"crate": "hello"}}))
    assert evaluation.by_name("Greeter-function").plain()["functionName"] == "Greeter-dev"


# -- What the mutation campaign of infra/config.py found untested (mutants/REPORT.md) -------------


def test_every_problem_is_reported_not_only_the_first() -> None:
    """Mutation caught: a `continue` past a bad entry or key made `break`."""
    assert len(read({"a": 5, "b": 6}).problems) == 2
    assert len(read({"hello": {"memory": 1, "disk": 2}}).problems) == 2
    assert len(read({"hello": {"memorySize": "x", "timeout": "y"}}).problems) == 2


def test_false_given_as_text_is_false() -> None:
    """Mutations caught: "false" read as true (`== "true"` made `<=`), or the text returned
    as it is (a non-empty string, so true)."""
    found = read({"hello": {"alert": "false"}}, alertContactGroup="ops")
    assert found.problems == []
    assert spec(found, "hello").alert is None


def test_a_problem_names_the_config_key_not_the_argument() -> None:
    """Mutation caught: the argument names (memory_size) not replaced by the keys (memorySize)."""
    (problem,) = read({"hello": {"memorySize": 100}}).problems
    assert problem.startswith("hello: memorySize must be a multiple of 64")


def test_a_list_setting_of_the_wrong_type_says_a_list() -> None:
    """Mutation caught: the kind's name for a list setting ("a list") swapped for "a string"."""
    (problem,) = read({"hello": {"timers": 5}}).problems
    assert problem.startswith("hello: timers must be a list, got 5")


def test_project_wide_values_empty_or_numbers_and_bad_emails() -> None:
    """Mutations caught: an empty project-wide value taken (`raw == ""` made `<`), a number
    compared with text; alertEmails that are not a list raising instead of a problem."""
    assert read({"hello": {}}, runtime="", logRetentionDays=30).problems == []
    (problem,) = read({"hello": {}}, alertEmails="not json").problems
    assert problem.startswith("alertEmails must be a list of addresses, got 'not json'")


def test_the_project_wide_alias_reaches_fc3_entries_only() -> None:
    """Mutation caught: the FC 2.0 test inverted, or the alias exception widened to every key."""
    found = read(
        {"old": {"crate": "hello", "fcVersion": "2.0"}, "new": {"crate": "hello"}},
        alias="live",
        runtime="custom",
    )
    assert found.problems == []
    assert "alias" not in found.functions["old"]
    assert found.functions["new"]["alias"] == "live"
    assert found.functions["old"]["runtime"] == "custom"


def test_a_name_too_long_for_fc_names_the_entry() -> None:
    """The FC name is derived from the entry's name, so the entry's key is what to change."""
    name = "a" * 61
    (problem,) = read({name: {"crate": "hello"}}).problems
    assert problem.startswith(f"{name}: functionName must be 1-64 letters")
    assert problem.endswith(
        f"(set by fc-rust:functions.{name}; change it with "
        f"`pulumi config set --path 'functions.{name}' <value>`)"
    )


def test_the_emulator_reads_a_container_stack_without_its_secrets() -> None:
    """`python -m infra.local` reads no secret (None for each) and no region, and pushes no
    image: a registry username without its password is no problem there."""
    found = read_stack(
        {
            "functions": {"hello": {}},
            "variant": "container",
            "registryNamespace": "fcrust",
            "registryUsername": "someone@example.com",
        },
        project="fc-rust",
        stack="dev",
        region=None,
        secret=lambda _key: None,
        cwd=REPO,
    )
    assert found.problems == []


# -- The project's files: Pulumi.yaml's name and declared defaults, a stack file ------------------


def test_the_project_is_named_by_pulumi_yaml_and_its_declared_defaults_apply(
    tmp_path: Path,
) -> None:
    """Pulumi's forms of a declared key: `default`, `value`, or the value alone; a key without
    one is not set."""
    (tmp_path / "Pulumi.yaml").write_text(
        "name: shop\n"
        "config:\n"
        "  fcVersion: {type: string, default: '2.0'}\n"
        "  alias: {value: blue}\n"
        "  alicloud:region: cn-beijing\n"
        "  functions: {type: object}\n",
        encoding="utf-8",
    )
    assert project_name(tmp_path) == "shop"
    assert project_defaults(tmp_path) == {
        "fcVersion": "2.0",
        "alias": "blue",
        "alicloud:region": "cn-beijing",
    }
    (tmp_path / "Pulumi.yaml").write_text("name: shop\n", encoding="utf-8")
    assert project_defaults(tmp_path) == {}


@pytest.mark.parametrize("text", ["runtime: python\n", "name: ''\n", "name: [a]\n"])
def test_a_pulumi_yaml_without_a_name_is_no_project(tmp_path: Path, text: str) -> None:
    (tmp_path / "Pulumi.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(StackError) as caught:
        project_name(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'Pulumi.yaml'} has no project `name`: is {tmp_path} a Pulumi program?"
    )


def test_a_config_schema_that_is_not_a_mapping_is_named(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: shop\nconfig: [fcVersion]\n", encoding="utf-8")
    with pytest.raises(StackError) as caught:
        project_defaults(tmp_path)
    assert str(caught.value) == f"{tmp_path / 'Pulumi.yaml'}: `config` must be a mapping"


def test_a_stack_file_is_read_as_a_mapping_or_refused_naming_the_file(tmp_path: Path) -> None:
    """An empty file is an empty mapping; a missing, malformed or non-mapping file is a
    StackError that names it, not a traceback."""
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text("config:\n  fc-rust:alias: live\n", encoding="utf-8")
    assert read_yaml(path) == {"config": {"fc-rust:alias": "live"}}
    path.write_text("", encoding="utf-8")
    assert read_yaml(path) == {}
    for text, problem in [
        ("- a\n- b\n", f"{path} must be a YAML mapping"),
        ("config: [unclosed\n", f"{path} is not valid YAML: "),
    ]:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(StackError) as caught:
            read_yaml(path)
        assert str(caught.value).startswith(problem)
    missing = tmp_path / "Pulumi.prod.yaml"
    with pytest.raises(StackError) as caught:
        read_yaml(missing)
    assert str(caught.value) == f"cannot read {missing}: No such file or directory"
