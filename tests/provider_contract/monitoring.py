"""CloudMonitor (CMS): the alarm rule on a function's metric, its contact group and contacts.

Provider sources: `resource_alicloud_cms_alarm.go`, `resource_alicloud_cms_alarm_contact_group.go`
and `resource_alicloud_cms_alarm_contact.go` at the commit named in `model`, with the constants
of `extension_cms.go`. `git log v1.280.0..81c43b6` lists no commit touching any of them (the
newest, e011481e7 "sort imports", is in v1.269.0), so these are the schemas of every release
from 1.280.0 to the mirrored head. pulumi-alicloud flattens the `MaxItems: 1` blocks to objects
(`escalationsCritical`, `compositeExpression`) and names list blocks in the plural
(`prometheus` -> `prometheuses`, `expression_list` -> `expressionLists`), as
`pulumi_alicloud/cms/_inputs.py` spells them.

Left out, so setting one is a violation: `status` (computed only) and the fields the schema
marks `Removed` (`operator`, `statistics`, `threshold`, `triggered_count` since 1.216.0,
`notify_type` since 1.50.0; cms_alarm.go:333-365), which the plugin SDK refuses outright.

How the provider talks to CMS, worth knowing when reading the rules below:

- The alarm's id is made by the provider (`resource.UniqueId()`, cms_alarm.go:371), then Create
  is Update: one PutResourceMetricRule call with that RuleId (cms_alarm.go:606-848), then
  Enable/DisableMetricRules, then PutMetricRuleTargets when `targets` changed.
- `contactGroups` are contact group *names*, joined with "," into one ContactGroups string
  (cms_alarm.go:614) and split on "," when read back (:391).
- `metricDimensions` is sent as the Resources string as it is (:616-617); when it is unset,
  `dimensions` is turned into `[{"k": "v1"}, {"k": "v2"}, ...]`, one object per comma-separated
  value (:619-640). Every read unmarshals Resources into a list of objects (:541-546).
- `effectiveInterval` has a default ("00:00-23:59", :64), so the `startTime`/`endTime` branch of
  :645-651 is never reached: both are accepted and ignored.
- Only the first `prometheuses` item is sent (:736-737).
- PutContactGroup and PutContact create *or modify* (CMS API directory, help.aliyun.com/zh/cms/
  developer-reference/api-cms-2019-01-01-dir-alert-contacts): a second resource with a name
  already taken in the account silently takes the first one over instead of failing.

Deleting: none of the three refuses. The alarm's delete is one DeleteMetricRules
(cms_alarm.go:987-1028). The group's and the contact's deletes send DeleteContactGroup /
DeleteContact alone (contact_group.go:161-193, contact.go:166-186), whose documented errors are
only 400 InvalidParameterValue, 403 InvalidAuthorization, 404 ContactNotExists and 500
(alibabacloud.com/help/en/cms/developer-reference/api-deletecontactgroup, alibabacloud.com/help/
tc/cms/cloudmonitor-1-0/developer-reference/api-cms-2019-01-01-deletecontact): no "still used by
an alarm rule" or "still in a group" error is documented. Whether CMS refuses to delete a group
an alarm rule still names is unconfirmed (no page or issue found says either way); Pulumi
deletes the alarm first anyway when it takes the group's name from the group resource.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from provider_contract.model import PROVIDER, Field, Resource
from provider_contract.rules import at_least_one, conflicts, length, matches, rule

ALARM = PROVIDER + "resource_alicloud_cms_alarm.go:"
GROUP = PROVIDER + "resource_alicloud_cms_alarm_contact_group.go:"
CONTACT = PROVIDER + "resource_alicloud_cms_alarm_contact.go:"
DOCS = PROVIDER.removesuffix("alicloud/") + "website/docs/r/"
ALARM_DOC = DOCS + "cms_alarm.html.markdown:"
CONTACT_DOC = DOCS + "cms_alarm_contact.html.markdown:"

PUT_RULE_DOC = (
    "CMS API PutResourceMetricRule (alibabacloud.com/help/en/cloudmonitor/latest/"
    "putresourcemetricrule: ContactGroups, MetricName, Namespace, Resources required; "
    'Resources like [{"instanceId":"i-..."}] or [{"userId":"..."}])'
)
STATISTICS_DOC = (
    "since 2024-08-15 CMS accepts only the metric's own statistics (CMS API "
    "PutResourceMetricRule, alibabacloud.com/help/en/cms/cloudmonitor-1-0/developer-reference/"
    "api-cms-2019-01-01-putresourcemetricrule); which those are for acs_fc is unconfirmed"
)
PUT_RULES_DOC = (
    "CMS API PutResourceMetricRules (alibabacloud.com/help/ja/cms/developer-reference/"
    'api-414265: "You must select at least one of the Critical, Warn, and Info alert levels and '
    "specify the Statistics, ComparisonOperator, Threshold, and Times parameters for the "
    'selected alert level"); for PutResourceMetricRule, which the provider calls, unconfirmed '
    "beyond aliyun/alibabacloud-sdk cms-20190101 PutResourceMetricRuleRequest.cs marking "
    "Escalations Required=true"
)

COMPARISON_OPERATORS = (
    ">",
    ">=",
    "<",
    "<=",
    "!=",
    "==",
    "GreaterThanYesterday",
    "LessThanYesterday",
    "GreaterThanLastWeek",
    "LessThanLastWeek",
    "GreaterThanLastPeriod",
    "LessThanLastPeriod",
)
"""cms_alarm.go:99-103 (the symbols are extension_cms.go:15-20); the provider sends the symbols
as GreaterThanThreshold, ... (convertCmsAlarmComparisonOperator, :1030-1059)."""

LEVELS = ("Critical", "Warn", "Info")
ESCALATIONS = ("escalationsCritical", "escalationsWarn", "escalationsInfo")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
HOUR_MINUTE = r"([01]?\d|2[0-3]):[0-5]\d"

# --- AlarmContactGroup --------------------------------------------------------------------------

ALARM_CONTACT_GROUP = Resource(
    type="alicloud:cms/alarmContactGroup:AlarmContactGroup",
    terraform="alicloud_cms_alarm_contact_group",
    fields=(
        Field(
            "alarmContactGroupName",
            "string",
            GROUP + "25 Required, ForceNew (no ValidateFunc)",
            required=True,
            force_new=True,
        ),
        Field("contacts", "list", GROUP + "30 (TypeSet of contact names)"),
        Field("contacts[]", "string", GROUP + "34"),
        Field("describe", "string", GROUP + "37"),
        Field("enableSubscribed", "bool", GROUP + "41 (Optional, Computed)"),
    ),
    identity=("alarmContactGroupName",),
    scope="account",
    identity_source=(
        GROUP + "91 d.SetId(ContactGroupName): a name is unique in the account; PutContactGroup "
        "creates or modifies, so a second group of the same name takes the first one over"
    ),
)

# --- AlarmContact -------------------------------------------------------------------------------

ALARM_CONTACT = Resource(
    type="alicloud:cms/alarmContact:AlarmContact",
    terraform="alicloud_cms_alarm_contact",
    fields=(
        Field(
            "alarmContactName",
            "string",
            CONTACT + "23 Required, ForceNew (no ValidateFunc)",
            required=True,
            force_new=True,
        ),
        Field("channelsAliim", "string", CONTACT + "28"),
        Field("channelsDingWebHook", "string", CONTACT + "32"),
        Field(
            "channelsMail",
            "string",
            CONTACT + "36 (the address is used only once its owner follows the activation "
            "mail: " + CONTACT_DOC + "47; the doc's example ignores its changes, :33)",
        ),
        Field("channelsSms", "string", CONTACT + "40"),
        Field("describe", "string", CONTACT + "44 Required", required=True),
        Field(
            "lang",
            "string",
            CONTACT + "48 StringInSlice(en, zh-cn) (:51)",
            allowed=("en", "zh-cn"),
        ),
    ),
    identity=("alarmContactName",),
    scope="account",
    identity_source=(
        CONTACT + "95 d.SetId(ContactName): a name is unique in the account; PutContact creates "
        "or modifies, so a second contact of the same name takes the first one over"
    ),
    rules=(
        length(
            "alarmContactName",
            2,
            40,
            CONTACT_DOC + "44",
            note="documented by the provider, not checked by it",
        ),
        at_least_one(
            ("channelsAliim", "channelsDingWebHook", "channelsMail", "channelsSms"),
            CONTACT_DOC + "52 (documented, not checked by the provider)",
        ),
    ),
)

# --- Alarm --------------------------------------------------------------------------------------


def _escalation_fields(path: str, first_line: int) -> tuple[Field, ...]:
    """The four sub-fields of one `escalations_*` block, whose first sub-field is at `first_line`.

    The three blocks (critical :88, info :122, warn :156) list them in the same order and
    spacing: comparison_operator, statistics (+10), threshold (+15), times (+19).
    """
    return (
        Field(path, "object", ALARM + f"{first_line - 7} (MaxItems 1, Optional, Computed)"),
        Field(
            f"{path}.comparisonOperator",
            "string",
            ALARM + f"{first_line} Default '>', StringInSlice ({first_line + 4}-{first_line + 8})",
            allowed=COMPARISON_OPERATORS,
        ),
        Field(
            f"{path}.statistics",
            "string",
            ALARM + f"{first_line + 10} Default Average (no ValidateFunc); " + STATISTICS_DOC,
        ),
        Field(
            f"{path}.threshold",
            "string",
            ALARM + f"{first_line + 15} (TypeString, no default)",
        ),
        Field(f"{path}.times", "int", ALARM + f"{first_line + 19} Default 3"),
    )


_ALARM_FIELDS: tuple[Field, ...] = (
    Field(
        "name",
        "string",
        ALARM + "32 Required; pulumi-alicloud autonames it (provider/resources.go "
        'SetAutonaming(255, "-")), so the SDK has it Optional (cms/alarm.py:36) and the provider '
        "plugin fills <resource name>-<random> when it is unset",
    ),
    Field("project", "string", ALARM + "36 Required, ForceNew", required=True, force_new=True),
    Field("metric", "string", ALARM + "41 Required, ForceNew", required=True, force_new=True),
    Field(
        "contactGroups",
        "list",
        ALARM + "46 Required (contact group names, no MinItems)",
        required=True,
    ),
    Field("contactGroups[]", "string", ALARM + "49"),
    Field(
        "metricDimensions",
        "string",
        ALARM + "51 Optional, Computed (a JSON array of objects; DiffSuppressFunc compares it as "
        "one, :56-59)",
    ),
    Field("effectiveInterval", "string", ALARM + '61 Default "00:00-23:59"'),
    Field("period", "int", ALARM + "67 Default 300 (seconds, no ValidateFunc)"),
    Field(
        "silenceTime",
        "int",
        ALARM + "72 Default 86400, IntBetween(300, 86400) (:76)",
        minimum=300,
        maximum=86400,
    ),
    Field("webhook", "string", ALARM + "78"),
    Field("enabled", "bool", ALARM + "82 Default true"),
    Field("tags", "map", ALARM + "87 tagsSchema(): TypeMap, Optional (tags.go:28)"),
    *_escalation_fields("escalationsCritical", 95),
    *_escalation_fields("escalationsInfo", 129),
    *_escalation_fields("escalationsWarn", 163),
    Field(
        "prometheuses",
        "list",
        ALARM + "190 (prometheus; Optional, Computed, no MaxItems, but only the first item is "
        "sent: :736-737)",
        max_length=1,
    ),
    Field("prometheuses[]", "object", ALARM + "194"),
    Field("prometheuses[].promQl", "string", ALARM + "196"),
    Field(
        "prometheuses[].level",
        "string",
        ALARM + "200 StringInSlice(Critical, Warn, Info) (:204)",
        allowed=LEVELS,
    ),
    Field("prometheuses[].times", "int", ALARM + "206"),
    Field("prometheuses[].annotations", "map", ALARM + "211 TypeMap of TypeString"),
    Field("targets", "list", ALARM + "219 (TypeSet, Optional, Computed)"),
    Field("targets[]", "object", ALARM + "223"),
    Field("targets[].targetId", "string", ALARM + "225"),
    Field("targets[].jsonParams", "string", ALARM + "229"),
    Field(
        "targets[].level",
        "string",
        ALARM + "233 StringInSlice(Critical, Warn, Info) (:236)",
        allowed=LEVELS,
    ),
    Field("targets[].arn", "string", ALARM + "238"),
    Field("compositeExpression", "object", ALARM + "245 (MaxItems 1)"),
    Field(
        "compositeExpression.level",
        "string",
        ALARM + "251 StringInSlice(CRITICAL, WARN, INFO) (:254)",
        allowed=("CRITICAL", "WARN", "INFO"),
    ),
    Field("compositeExpression.times", "int", ALARM + "256"),
    Field("compositeExpression.expressionRaw", "string", ALARM + "260"),
    Field(
        "compositeExpression.expressionListJoin",
        "string",
        ALARM + "264 StringInSlice(&&, ||) (:267)",
        allowed=("&&", "||"),
    ),
    Field("compositeExpression.expressionLists", "list", ALARM + "269 (expression_list)"),
    Field("compositeExpression.expressionLists[]", "object", ALARM + "272"),
    Field("compositeExpression.expressionLists[].metricName", "string", ALARM + "274"),
    Field(
        "compositeExpression.expressionLists[].comparisonOperator",
        "string",
        ALARM + "278 StringInSlice (:281-285), no default",
        allowed=COMPARISON_OPERATORS,
    ),
    Field("compositeExpression.expressionLists[].statistics", "string", ALARM + "287"),
    Field("compositeExpression.expressionLists[].threshold", "string", ALARM + "291"),
    Field(
        "compositeExpression.expressionLists[].period",
        "string",
        ALARM + "295 (TypeString, seconds)",
    ),
    Field(
        "dimensions",
        "map",
        ALARM + "309 TypeMap of TypeString, Optional, Computed (Deprecated since 1.173.0: use "
        "metric_dimensions); a value's commas split it into several resources (:622)",
    ),
    Field(
        "startTime",
        "int",
        ALARM + "317 (Deprecated since 1.50.0; ignored: effective_interval's default wins, :643)",
    ),
    Field(
        "endTime",
        "int",
        ALARM + "325 (Deprecated since 1.50.0; ignored: effective_interval's default wins, :643)",
    ),
)


def _json_object_list(path: str, text: str) -> str | None:
    """Why `text` is not a JSON array of objects with string values, or None."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return f"{path} must be a JSON array of objects, got {text!r}"
    if not isinstance(parsed, list) or not all(isinstance(item, dict) for item in parsed):
        return f"{path} must be a JSON array of objects, got {text!r}"
    for item in parsed:
        for key, value in item.items():
            if not isinstance(value, str):
                return f"{path}: dimension {key!r} must be a string, got {value!r}"
    return None


@rule(
    "metricDimensions: a JSON array of objects whose values are strings",
    ALARM + "541-546 (every read unmarshals Resources into []map[string]interface{}, so anything "
    "else fails the read after the rule is made) and :56-59; " + PUT_RULE_DOC,
)
def _metric_dimensions(inputs: Mapping[str, Any]) -> str | None:
    text = inputs.get("metricDimensions")
    if not isinstance(text, str):
        return None
    return _json_object_list("metricDimensions", text)


@rule(
    "contactGroups: no name contains ','",
    ALARM + "614 (joined with ',' into ContactGroups) and :391 (split on ',' when read back)",
)
def _contact_group_commas(inputs: Mapping[str, Any]) -> str | None:
    groups = inputs.get("contactGroups")
    if not isinstance(groups, list):
        return None
    bad = [group for group in groups if isinstance(group, str) and "," in group]
    return f"contactGroups names must not contain ',', got {bad}" if bad else None


@rule(
    "each escalation block set has a numeric threshold (statistics, comparisonOperator and "
    "times have provider defaults, threshold has none)",
    ALARM_DOC + '143, 152, 161 ("must be a numeric value"); ' + PUT_RULES_DOC,
)
def _escalation_thresholds(inputs: Mapping[str, Any]) -> str | None:
    for path in ESCALATIONS:
        block = inputs.get(path)
        if not isinstance(block, Mapping):
            continue
        threshold = block.get("threshold")
        if threshold is None:
            return f"{path}.threshold is not set: CMS needs a threshold for every level sent"
        if isinstance(threshold, str) and NUMBER.fullmatch(threshold.strip()) is None:
            return f"{path}.threshold must be a number, got {threshold!r}"
    return None


@rule(
    "contactGroups: not empty",
    ALARM + "614 (an empty list sends ContactGroups=''); " + PUT_RULE_DOC,
)
def _contact_groups_present(inputs: Mapping[str, Any]) -> str | None:
    groups = inputs.get("contactGroups")
    if not isinstance(groups, list) or any(isinstance(g, str) and g.strip() for g in groups):
        return None
    return f"contactGroups needs at least one non-empty group name, got {groups!r}"


ALARM_RESOURCE = Resource(
    type="alicloud:cms/alarm:Alarm",
    terraform="alicloud_cms_alarm",
    fields=_ALARM_FIELDS,
    identity=(),
    identity_source=(
        ALARM + "371 d.SetId(resource.UniqueId()): the provider makes the rule id, so two "
        "alarms never collide (whether CMS refuses a second rule of the same name is unconfirmed)"
    ),
    rules=(
        conflicts(
            "metricDimensions",
            ("dimensions",),
            ALARM + "55 and :314 (ConflictsWith both ways)",
        ),
        conflicts(
            "effectiveInterval",
            ("startTime", "endTime"),
            ALARM + "65, :322 and :330 (ConflictsWith both ways)",
        ),
        at_least_one(
            (*ESCALATIONS, "compositeExpression", "prometheuses"),
            PUT_RULES_DOC + "; the provider's own tests create rules with only "
            "composite_expression (resource_alicloud_cms_alarm_test.go:688-700) or only "
            "prometheus (:432-443)",
        ),
        _escalation_thresholds,
        _metric_dimensions,
        _contact_group_commas,
        _contact_groups_present,
        matches(
            "effectiveInterval",
            f"{HOUR_MINUTE}-{HOUR_MINUTE}",
            'hh:mm-hh:mm, like "0:00-4:00"',
            ALARM_DOC + "114",
            note="documented by the provider, not checked by it",
        ),
    ),
)

RESOURCES: tuple[Resource, ...] = (ALARM_CONTACT_GROUP, ALARM_CONTACT, ALARM_RESOURCE)
