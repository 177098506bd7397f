"""The cloud test's stack, evaluated offline: it deploys, and its second preview is empty.

`tests/test_cloud.py` runs only with credentials, so nothing else would notice a config change
that breaks it (it once set a retired key and no `functions` map). Here its exact config goes
through the program under the mocks and the lifecycle simulator.
"""

from __future__ import annotations

import json
import runpy

import lifecycle
import pytest
from conftest import FAKE_TOKEN, REPO, Evaluation, evaluate, prior_state
from test_cloud import REGION, cloud_config

pytestmark = pytest.mark.unit


def deploy() -> Evaluation:
    config = {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in cloud_config(REGION).items()
    }
    config["fc-rust:githubToken"] = FAKE_TOKEN
    return evaluate(
        lambda: runpy.run_path(str(REPO / "__main__.py"), run_name="__main__"),
        config,
        ["fc-rust:githubToken"],
        stack="cloudtest",
    )


def test_the_cloud_stack_deploys_and_then_previews_no_change(in_repo: object) -> None:
    del in_repo
    first = deploy()
    created = lifecycle.plan(Evaluation([], {}), first)
    assert lifecycle.read_failures(first, created) == []
    with prior_state(first):
        second = deploy()
    steps = lifecycle.plan(first, second)
    assert lifecycle.table(steps) == []
    # What the cloud test reads from the outputs is there.
    hello = first.outputs["hello"]
    assert hello["alias"] == "live"
    assert hello["log_project"].startswith("fc-rust-cloudtest-")
    assert hello["logstore"] == "hello-logs"
    assert first.by_name("hello-timer-tick").plain()["triggerConfig"].count('"enable":false') == 1
