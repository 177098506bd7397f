"""An alert when a run fails: the CloudMonitor alarm, on and off, on both FC versions."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import conftest
import pytest
from conftest import entry, evaluate, run_main

from infra import ConfigError, RustFunction, RustFunctionArgs
from infra.alerts import AlertContacts, AlertContactsArgs, contact_name

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

ALARM = "alicloud:cms/alarm:Alarm"
GROUP = "alicloud:cms/alarmContactGroup:AlarmContactGroup"
CONTACT = "alicloud:cms/alarmContact:AlarmContact"


@pytest.fixture(autouse=True)
def _in_repo(in_repo: Path) -> None:
    del in_repo


@pytest.mark.parametrize("fc_version", ["3.0", "2.0"])
def test_off_by_default(fc_version: str) -> None:
    evaluation = run_main(fcVersion=fc_version)
    assert not [r for r in evaluation.resources if r.type.startswith("alicloud:cms/")]
    # A contact group alone alerts nobody: each function's entry chooses to be watched.
    evaluation = run_main(fcVersion=fc_version, alertContactGroup="ops")
    assert not [r for r in evaluation.resources if r.type.startswith("alicloud:cms/")]


@pytest.mark.parametrize(
    ("fc_version", "dimensions"),
    [
        ("3.0", [{"functionName": "sync-forks-dev", "region": "cn-hangzhou"}]),
        (
            "2.0",
            [
                {
                    "functionName": "sync-forks-dev",
                    "region": "cn-hangzhou",
                    "serviceName": "sync-forks-dev",
                }
            ],
        ),
    ],
)
def test_an_entry_alerts_an_existing_group_when_sync_forks_fails(
    fc_version: str, dimensions: list[dict[str, str]]
) -> None:
    evaluation = run_main(
        fcVersion=fc_version, alertContactGroup="ops", functions=entry("sync-forks", alert=True)
    )
    (alarm,) = evaluation.of_type(ALARM)
    assert alarm.name == "sync-forks-failure-alarm"
    inputs = alarm.plain()
    assert (inputs["project"], inputs["metric"]) == ("acs_fc", "FunctionFunctionErrors")
    assert json.loads(inputs["metricDimensions"]) == dimensions
    assert inputs["contactGroups"] == ["ops"]
    assert inputs["escalationsCritical"] == {
        "comparisonOperator": ">=",
        "statistics": "Value",
        "threshold": "1",
        "times": 1,
    }
    assert inputs["period"] == 60
    assert inputs["silenceTime"] == 86400
    assert evaluation.of_type(GROUP) == evaluation.of_type(CONTACT) == []


def test_emails_create_the_group_once_with_a_contact_each() -> None:
    evaluation = run_main(
        alertContactGroup="fc-rust-dev-alerts",
        alertEmails='["ops@example.com", "oncall@example.org"]',
        functions=entry("sync-forks", alert=True),
    )
    (group,) = evaluation.of_type(GROUP)
    contacts = evaluation.of_type(CONTACT)
    assert sorted(c.plain()["channelsMail"] for c in contacts) == [
        "oncall@example.org",
        "ops@example.com",
    ]
    assert sorted(group.plain()["contacts"]) == sorted(
        contact_name(e, "fc-rust/dev") for e in ("ops@example.com", "oncall@example.org")
    )
    # The group the stack creates carries the stack: another stack's group is another group.
    assert group.plain()["alarmContactGroupName"] == "fc-rust-dev-alerts-fc-rust-dev"
    (alarm,) = evaluation.of_type(ALARM)
    assert alarm.plain()["contactGroups"] == ["fc-rust-dev-alerts-fc-rust-dev"]
    assert group.urn in alarm.dependencies


def _contacts(emails: list[str]) -> dict[str, tuple[str, str]]:
    """Each address's contact: its logical name and its CloudMonitor name."""
    args: AlertContactsArgs = {"group_name": "ops", "emails": emails, "owner": "fc-rust/dev"}
    evaluation = evaluate(lambda: AlertContacts("alerts", args), {"alicloud:region": "cn-hangzhou"})
    return {
        c.plain()["channelsMail"]: (c.name, c.plain()["alarmContactName"])
        for c in evaluation.of_type(CONTACT)
    }


def test_contact_names_come_from_the_address_not_its_position() -> None:
    """An address added ahead of the others replaces no existing contact.

    Mutation caught: contacts named by their index in the list (`f"{name}-contact-{i}"`).
    """
    before = _contacts(["ops@example.com", "oncall@example.org"])
    after = _contacts(["new@example.net", "oncall@example.org", "ops@example.com"])
    assert {email: after[email] for email in before} == before
    assert len({name for _, name in after.values()}) == 3


def test_contact_names_come_from_the_address_and_the_stack_not_a_position() -> None:
    """Mutation: a name from the address alone lets two stacks overwrite each other's contact."""
    names = {
        contact_name(email, owner)
        for email in ("ops@example.com", "ops@example.org")
        for owner in ("fc-rust/dev", "fc-rust/prod")
    }
    assert len(names) == 4
    # The digest ignores the address's case, as mail does.
    assert (
        contact_name("Ops@Example.com", "fc-rust/dev")[-8:]
        == (contact_name("ops@example.com", "fc-rust/dev")[-8:])
    )
    assert 2 <= len(contact_name("a" * 80 + "@example.com", "fc-rust/dev")) <= 40


def test_emails_without_a_group_name_fail_at_preview() -> None:
    with pytest.raises(ConfigError, match="alertEmails needs the name of the contact group"):
        run_main(alertEmails='["ops@example.com"]')
    assert conftest.LAST_EVALUATION.resources == []


@pytest.mark.parametrize(
    ("alert", "message"),
    [
        ({"contact_group": ""}, "alert.contact_group must name"),
        ({"contact_group": "ops", "threshold": 0}, "alert.threshold must be a whole number"),
        (
            {"contact_group": "ops", "silence_seconds": 60},
            "alert.silence_seconds must be 300-86400",
        ),
        ({"contact_group": "ops", "email": "x"}, "alert has unknown keys email"),
    ],
)
def test_bad_alert_settings_fail_before_anything_registers(
    alert: dict[str, object], message: str
) -> None:
    args = {"crate": "hello", "alert": alert}
    with pytest.raises(ConfigError, match=message):
        evaluate(
            lambda: RustFunction("hello", args),  # type: ignore[arg-type]
            {"alicloud:region": "cn-hangzhou"},
        )
    assert conftest.LAST_EVALUATION.resources == []


def test_the_library_alarm_names_the_function_it_watches() -> None:
    args: RustFunctionArgs = {
        "crate": "hello",
        "function_name": "greeter",
        "alert": {"contact_group": "ops", "threshold": 3, "silence_seconds": 3600},
    }
    evaluation = evaluate(lambda: RustFunction("hello", args), {"alicloud:region": "cn-shanghai"})
    inputs = evaluation.by_name("hello-failure-alarm").plain()
    assert json.loads(inputs["metricDimensions"]) == [
        {"functionName": "greeter", "region": "cn-shanghai"}
    ]
    assert inputs["escalationsCritical"]["threshold"] == "3"
    assert inputs["silenceTime"] == 3600
