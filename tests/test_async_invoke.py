"""Retries of asynchronous (timer) invocations: declared on purpose, on both FC versions.

A timer invokes asynchronously, and FC retries a failed asynchronous invocation 3 times unless
told otherwise: a sync-forks run with a fork in conflict would run four times per tick, each
counted as a failure. A function with timers gets no retries by default; the next tick runs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import conftest
import pytest
from conftest import Evaluation, entry, evaluate, run_main

from infra import ConfigError, RustFunction, RustFunctionArgs

if TYPE_CHECKING:
    from pathlib import Path

    from infra.timer import TimerArgs

pytestmark = pytest.mark.unit

V3 = "alicloud:fc/v3AsyncInvokeConfig:V3AsyncInvokeConfig"
V2 = "alicloud:fc/functionAsyncInvokeConfig:FunctionAsyncInvokeConfig"
DAILY: TimerArgs = {"name": "daily", "cron": "0 0 0 * * *"}


@pytest.fixture(autouse=True)
def _in_repo(in_repo: Path) -> None:
    del in_repo


def deploy(args: RustFunctionArgs) -> Evaluation:
    return evaluate(lambda: RustFunction("hello", args), {"alicloud:region": "cn-hangzhou"})


def test_fc3_timer_function_gets_no_retries_on_its_alias_and_on_latest() -> None:
    """The alias's config is what timers use; LATEST's is what the provider's Read finds.

    Mutation: declaring the alias's config alone fails the create (the provider's Read asks
    LATEST), which the lifecycle simulator reports; here the two configs must agree.
    """
    evaluation = deploy({"crate": "hello", "timers": [DAILY]})
    latest, on_alias = evaluation.of_type(V3)
    assert on_alias.plain() == {
        "functionName": "hello-dev",
        "qualifier": "live",
        "maxAsyncRetryAttempts": 0,
    }
    assert latest.plain() == {"functionName": "hello-dev", "maxAsyncRetryAttempts": 0}
    # The alias's config is written after LATEST's, so its Read sees LATEST's new values; a new
    # alias gets a new config, since the provider's Update sends nothing for a qualifier.
    assert latest.urn in on_alias.dependencies
    assert on_alias.replace_on_changes == ["qualifier"]
    # The first tick already finds the setting: the trigger waits for it.
    assert on_alias.urn in evaluation.by_name("hello-timer-daily").dependencies


def test_fc2_timer_function_gets_no_retries_on_latest() -> None:
    evaluation = deploy({"crate": "hello", "fc_version": "2.0", "timers": [DAILY]})
    (config,) = evaluation.of_type(V2)
    assert config.plain() == {
        "serviceName": "hello-dev",
        "functionName": "hello-dev",
        "qualifier": "LATEST",
        "maximumRetryAttempts": 0,
    }
    assert config.urn in evaluation.by_name("hello-timer-daily").dependencies


@pytest.mark.parametrize("fc_version", ["3.0", "2.0"])
def test_a_function_without_timers_keeps_fcs_defaults(fc_version: str) -> None:
    evaluation = deploy({"crate": "hello", "fc_version": fc_version})  # type: ignore[typeddict-item]
    assert evaluation.of_type(V3) == evaluation.of_type(V2) == []


@pytest.mark.parametrize(("fc_version", "type_"), [("3.0", V3), ("2.0", V2)])
def test_retries_event_age_and_failure_destination_as_given(fc_version: str, type_: str) -> None:
    destination = "acs:fc:cn-hangzhou:123456789:functions/on-failure"
    evaluation = deploy(
        {
            "crate": "hello",
            "fc_version": fc_version,  # type: ignore[typeddict-item]
            "async_invoke": {"max_retries": 2, "max_event_age": 3600, "on_failure": destination},
        }
    )
    config = evaluation.of_type(type_)[-1]
    inputs = config.plain()
    assert inputs["destinationConfig"] == {"onFailure": {"destination": destination}}
    if fc_version == "3.0":
        assert (inputs["maxAsyncRetryAttempts"], inputs["maxAsyncEventAgeInSeconds"]) == (2, 3600)
    else:
        assert (inputs["maximumRetryAttempts"], inputs["maximumEventAgeInSeconds"]) == (2, 3600)


@pytest.mark.parametrize(
    ("async_invoke", "fc_version", "message"),
    [
        ({"max_retries": 9}, "3.0", "async_invoke.max_retries must be 0-8, got 9"),
        ({"max_event_age": 90000}, "3.0", "must be 1-86400 seconds on FC 3.0, got 90000"),
        ({"max_event_age": 0}, "2.0", "must be 1-2592000 seconds on FC 2.0, got 0"),
        ({"retries": 1}, "3.0", "async_invoke has unknown keys retries"),
    ],
)
def test_bad_settings_fail_before_anything_registers(
    async_invoke: dict[str, int], fc_version: str, message: str
) -> None:
    args = {"crate": "hello", "fc_version": fc_version, "async_invoke": async_invoke}
    with pytest.raises(ConfigError, match=message):
        deploy(args)  # type: ignore[arg-type]
    assert conftest.LAST_EVALUATION.resources == []


def test_the_stack_sets_sync_forks_retries_from_its_entry() -> None:
    destination = "acs:fc:cn-hangzhou:123456789:functions/on-failure"
    settings = {"maxRetries": 1, "maxEventAge": 600, "onFailure": destination}
    evaluation = run_main(functions=entry("sync-forks", asyncInvoke=settings))
    for config in evaluation.of_type(V3):
        inputs = config.plain()
        assert inputs["functionName"] == "sync-forks-dev"
        assert (inputs["maxAsyncRetryAttempts"], inputs["maxAsyncEventAgeInSeconds"]) == (1, 600)
        assert inputs["destinationConfig"] == {"onFailure": {"destination": destination}}
    # The committed entry sets none: its timer alone gives it no retries; hello keeps FC's.
    default = run_main().of_type(V3)
    assert [
        (c.plain()["functionName"], c.plain().get("qualifier"), c.plain()["maxAsyncRetryAttempts"])
        for c in default
    ] == [("sync-forks-dev", None, 0), ("sync-forks-dev", "live", 0)]
