"""What each FC backend sends for one RustFunction, input by input, under mocks (seconds a run).

The graph tests (test_components_program.py) check the same inputs on the dev stack but take
minutes; these are the ones the mutation campaign of infra/fc3.py and infra/fc2.py runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from conftest import Evaluation, evaluate

from infra import RustFunction, RustFunctionArgs
from infra.fc3 import digest
from infra.limits import DESCRIPTION_MAX, DESCRIPTION_ROOM

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _in_repo(in_repo: Path) -> None:
    del in_repo


def deploy(**args: Any) -> Evaluation:  # noqa: ANN401 - RustFunctionArgs' values
    function: RustFunctionArgs = {"crate": "hello", **args}  # type: ignore[typeddict-item]
    return evaluate(lambda: RustFunction("hello", function), {"alicloud:region": "cn-hangzhou"})


def description(evaluation: Evaluation) -> str:
    """The FC 3.0 version's description: the code and a digest of the config it snapshots."""
    text: str = evaluation.by_name("hello-version").plain()["description"]
    return text


@pytest.mark.parametrize(("fc_version", "holder"), [("3.0", "function"), ("2.0", "service")])
def test_logs_with_metrics_internet_access_and_tags_are_sent(fc_version: str, holder: str) -> None:
    """Mutations caught: the log config sent without its project or store, or a metrics switch
    off; internet access off; the tags dropped (`or None` made `and None`)."""
    evaluation = deploy(fc_version=fc_version, tags={"team": "core"})
    inputs = evaluation.by_name(f"hello-{holder}").plain()
    log_config = inputs["logConfig"]
    assert log_config["project"] == evaluation.by_name("hello-logs-project").plain()["projectName"]
    assert log_config["logstore"] == evaluation.by_name("hello-logs-store").plain()["logstoreName"]
    assert (log_config["enableRequestMetrics"], log_config["enableInstanceMetrics"]) == (True, True)
    assert inputs["internetAccess"] is True
    assert inputs["tags"]["team"] == "core"
    skipped = deploy(fc_version=fc_version, role={"skip": True}, logs={"skip": True})
    assert "logConfig" not in skipped.by_name(f"hello-{holder}").plain()


def test_fc2_sends_the_code_checksum_and_an_unpublished_service() -> None:
    """Mutations caught: `code_checksum` sent only without a package; the service published."""
    evaluation = deploy(fc_version="2.0")
    function = evaluation.by_name("hello-function").plain()
    assert function["codeChecksum"].isdigit()
    assert evaluation.by_name("hello-service").plain()["publish"] is False


def test_fc3_runs_the_bootstrap_on_port_9000() -> None:
    """Mutations caught: the custom runtime config sent only without code; its port moved."""
    inputs = deploy().by_name("hello-function").plain()
    assert inputs["customRuntimeConfig"] == {"port": 9000, "commands": ["/code/bootstrap"]}
    assert inputs["code"]["checksum"].isdigit()


def test_the_version_description_follows_the_role_the_logstore_and_the_environment() -> None:
    """Each snapshotted setting alone publishes a new version, named by its code. Mutations
    caught: the config digest reading the role or the logs from the wrong place (`values[0]`,
    `values[1]`, `values[2]`); the config digest written where the code's belongs."""
    evaluation = deploy()
    base = description(evaluation)
    assert description(deploy()) == base
    role = description(deploy(role={"existing_arn": "acs:ram::123456789:role/other"}))
    project = description(deploy(logs={"project_name": "other-project"}))
    logstore = description(deploy(logs={"logstore_name": "other-store"}))
    environment = description(deploy(environment={"A": "1"}))
    assert len({base, role, project, logstore, environment}) == 5
    key = evaluation.by_name("hello-function").plain()["code"]["ossObjectName"]
    sha256 = key.rsplit("/", 1)[1].removesuffix(".zip")
    # The version's description is the function's: its own, then the code and config it
    # publishes (the provider reads a version's description from the function).
    assert base.startswith(f"hello (Rust, fc-rust) [code {sha256[:16]} config ")
    assert len(base.rsplit(" config ", 1)[1]) == len("0123456789abcdef]")


def test_the_config_digest_does_not_depend_on_the_order_of_the_environment() -> None:
    """The same settings give the same version, whatever order the environment is given in."""
    first = description(deploy(environment={"A": "1", "B": "2"}))
    assert description(deploy(environment={"B": "2", "A": "1"})) == first


def test_the_digest_is_of_canonical_json() -> None:
    """Equal documents, whatever order their keys were written in, give one digest: moving a
    setting within the config digest's document publishes no new version."""
    assert digest({"a": 1, "b": {"c": 2, "d": 3}}) == digest({"b": {"d": 3, "c": 2}, "a": 1})


@pytest.mark.parametrize(
    "variant",
    [
        {},
        # A built image's revision is its tag, longer than the 16 characters the description shows.
        {
            "variant": "container",
            "registry": {"namespace": "fcrust", "username": "someone", "password": "not-real"},
        },
    ],
)
def test_the_longest_description_allowed_fits_fcs_limit_once_published(
    variant: dict[str, Any],
) -> None:
    """The user's description may take DESCRIPTION_ROOM characters: what the version appends
    (` [code <16> config <16>]`) fills FC's 256 exactly, for a zip and for a built image."""
    evaluation = deploy(description="d" * DESCRIPTION_ROOM, **variant)
    text: str = evaluation.by_name("hello-function").plain()["description"]
    assert len(text) == DESCRIPTION_MAX
    assert description(evaluation) == text


def test_a_pinned_alias_keeps_its_version_and_says_so() -> None:
    """Mutations caught: the version's description not ignored while pinned, or ignored when
    not; the alias's description or the reported version taken the wrong way round."""
    pinned = deploy(pinned_version="3")
    assert pinned.by_name("hello-version").ignore_changes == ["description"]
    alias = pinned.by_name("hello-alias").plain()
    assert (alias["versionId"], alias["description"]) == ("3", "pinned to version 3")
    newest = deploy()
    assert newest.by_name("hello-version").ignore_changes == []
    assert newest.by_name("hello-alias").plain()["description"] == "newest published version"
