"""An alert when a run fails: a CloudMonitor alarm on the function's error metric.

FC publishes its metrics to CloudMonitor in the namespace `acs_fc`, aggregated per minute
(FC 3.0 "Monitoring data", https://help.aliyun.com/zh/functioncompute/fc/user-guide/monitoring-data;
FC 2.0 "Metrics", https://www.alibabacloud.com/help/en/functioncompute/fc-2-0/user-guide/metrics-data).
`FunctionFunctionErrors` counts the invocations whose handler failed: the runtime's answer with
`x-fc-status: 404` (FC's UnhandledInvocationError), which is how an fc-runtime handler error,
a panic or an invalid payload ends. Its dimensions are `region` and `functionName` (FC 3.0), plus
`serviceName` (FC 2.0), from the same pages. The statistic `Value` comes from CloudMonitor's
metric table for `acs_fc`; that an alarm on this metric accepts it is unconfirmed until the
`cloud` test runs against a real account.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud

from infra.errors import ConfigError

NAMESPACE = "acs_fc"
ERRORS_METRIC = "FunctionFunctionErrors"
STATISTICS = "Value"
PERIOD_S = 60
"""FC aggregates its metrics per minute."""
SILENCE_S = (300, 86400)
"""CloudMonitor's silence time between two notices (tf resource_alicloud_cms_alarm.go:72-76)."""
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AlertArgs(TypedDict):
    """Alert a contact group when the function fails."""

    contact_group: pulumi.Input[str]
    """CloudMonitor contact group to notify: an existing one, or an `AlertContacts` group."""
    threshold: NotRequired[int]
    """Failed invocations within a minute that raise the alert; default 1."""
    silence_seconds: NotRequired[int]
    """Quiet time after a notice, 300-86400 s; default 86400 (one notice a day for a daily job)."""


def check_alert(settings: AlertArgs) -> list[str]:
    """Problems with the alert settings, each naming the field and what is allowed."""
    problems = []
    unknown = sorted(set(settings) - {"contact_group", "threshold", "silence_seconds"})
    if unknown:
        problems.append(f"alert has unknown keys {', '.join(unknown)}")
    if not settings.get("contact_group"):
        problems.append("alert.contact_group must name a CloudMonitor contact group")
    threshold = settings.get("threshold", 1)
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
        problems.append(f"alert.threshold must be a whole number of at least 1, got {threshold!r}")
    silence = settings.get("silence_seconds", SILENCE_S[1])
    low, high = SILENCE_S
    if not isinstance(silence, int) or isinstance(silence, bool) or not low <= silence <= high:
        problems.append(f"alert.silence_seconds must be {low}-{high}, got {silence!r}")
    return problems


def metric_dimensions(region: str, function_name: str, service_name: str | None = None) -> str:
    """The alarm's `metric_dimensions`: a JSON array with the one function it watches."""
    dimensions = {"region": region, "functionName": function_name}
    if service_name is not None:
        dimensions["serviceName"] = service_name
    return json.dumps([dimensions], sort_keys=True, separators=(",", ":"))


def failure_alarm(
    name: str,
    settings: AlertArgs,
    *,
    function_name: str,
    dimensions: str,
    parent: pulumi.Resource,
) -> alicloud.cms.Alarm:
    """The alarm: at least `threshold` failed invocations in a minute notify the group."""
    return alicloud.cms.Alarm(
        f"{name}-failure-alarm",
        project=NAMESPACE,
        metric=ERRORS_METRIC,
        metric_dimensions=dimensions,
        period=PERIOD_S,
        contact_groups=[settings["contact_group"]],
        escalations_critical={
            "comparison_operator": ">=",  # tf resource_alicloud_cms_alarm.go:99-103
            "statistics": STATISTICS,
            "threshold": str(settings.get("threshold", 1)),
            "times": 1,
        },
        silence_time=settings.get("silence_seconds", SILENCE_S[1]),
        enabled=True,
        name=f"{function_name} failed",
        opts=pulumi.ResourceOptions(parent=parent),
    )


class AlertContactsArgs(TypedDict):
    """The contact group to create."""

    group_name: str
    """Name of the CloudMonitor contact group; the group is created as `<group_name>-<owner>`."""
    emails: list[str]
    """Who is told: one contact per address. CloudMonitor mails each a confirmation first."""
    owner: str
    """Whose contacts these are, `<project>/<stack>`: names in the account never collide."""


def contact_name(email: str, owner: str) -> str:
    """A contact's name from its address and its owner (project and stack), 2-40 characters.

    CloudMonitor names are the ids, unique in the account, and PutContact overwrites a contact
    of the same name (terraform-provider-alicloud resource_alicloud_cms_alarm_contact.go Create):
    two stacks telling the same address must each have their own contact, or one stack's
    destroy deletes the other's.
    """
    local = re.sub(r"[^A-Za-z0-9_-]+", "-", email.split("@", 1)[0]).strip("-")[:29] or "contact"
    digest = hashlib.sha256(f"{owner}\n{email.lower()}".encode()).hexdigest()[:8]
    return f"{local}-{digest}"


def group_name(name: str, owner: str) -> str:
    """The created contact group's name: `name` and its owner (project and stack).

    The group name is its id in the account and PutContactGroup overwrites by name
    (resource_alicloud_cms_alarm_contact_group.go Create), so the group a stack creates carries
    the stack; an existing group is named as given.
    """
    return f"{name}-{owner.replace('/', '-')}"


class AlertContacts(pulumi.ComponentResource):
    """A CloudMonitor contact group with an email contact per address; declare it once."""

    group_name: pulumi.Output[str]
    """The group's name, for `AlertArgs.contact_group`."""

    def __init__(
        self, name: str, args: AlertContactsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Validate the addresses, then declare each contact and the group."""
        problems = [
            f"alert email {email!r} is not an email address"
            for email in args["emails"]
            if not isinstance(email, str) or not _EMAIL.match(email)
        ]
        if not args["emails"]:
            problems.append("alert emails must list at least one address")
        if problems:
            raise ConfigError(name, problems)
        super().__init__("fcrust:index:AlertContacts", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        owner = args["owner"]
        contacts = [
            alicloud.cms.AlarmContact(
                f"{name}-{contact_name(email, owner)}",
                alarm_contact_name=contact_name(email, owner),
                describe=f"fc-rust alerts of {owner}: {email}",
                channels_mail=email,
                lang="en",
                # CloudMonitor reads the address back empty until its owner follows the
                # activation mail (the provider's cms_alarm_contact docs), and each `up` would
                # send it again, mailing a new link; a new address is a new contact anyway.
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["channelsMail"]),
            )
            for email in sorted(set(args["emails"]))
        ]
        group = alicloud.cms.AlarmContactGroup(
            f"{name}-group",
            alarm_contact_group_name=group_name(args["group_name"], owner),
            describe="Told when an fc-rust function fails",
            contacts=[contact.alarm_contact_name for contact in contacts],
            opts=child,
        )
        self.group_name = group.alarm_contact_group_name
        self.register_outputs({"group_name": self.group_name})
