"""SLS (Simple Log Service): the function's log project and its logstore.

Provider sources: `resource_alicloud_log_project.go` (`resourceAliCloudSlsProject`) and
`resource_alicloud_log_store.go` (`resourceAliCloudSlsLogStore`) at the commit named in `model`.
Since 1.280.0 only the logstore's metric-store path changed (81c43b6: `telemetry_type =
"Metrics"` uses the metric store V2 API); no schema change.

The provider checks the project name only against `^[0-9a-zA-Z_-]+$`; its own message on that
line states the stricter naming rule the SLS API applies. The logstore name and retention are not
checked by the provider at all; their API rules are `Rule`s sourced from the SLS documentation.

Deleting: `DeleteProject` removes the project with every logstore and all data in it ("After you
delete a project, all logs stored in the project and the configurations of the project are
deleted": SLS API DeleteProject, alibabacloud.com/help/tc/sls/developer-reference/
api-sls-2020-12-30-deleteproject), so a project with logstores does not refuse; the provider's
Delete (log_project.go:262-293) only retries throttling. `DeleteLogStore` removes its shards and
indexes (api-sls-2020-12-30-deletelogstore). Neither refuses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from provider_contract.model import PROVIDER, Field, Resource, Rule
from provider_contract.rules import between, exactly_one, matches

if TYPE_CHECKING:
    from collections.abc import Mapping

PROJECT = PROVIDER + "resource_alicloud_log_project.go:"
STORE = PROVIDER + "resource_alicloud_log_store.go:"

LOGSTORE_DOC = (
    "SLS Logstore naming rules (alibabacloud.com/help/en/sls/developer-reference/logstores)"
)
CREATE_LOGSTORE_DOC = (
    "SLS create_logstore --ttl (alibabacloud.com/help/doc-detail/257837.htm): 1-3650 days, "
    "3650 keeps data forever"
)

PROVIDER_PROJECT_NAME = r"[0-9a-zA-Z_-]+"
"""What the provider's ValidateFunc accepts (log_project.go:44)."""
PROJECT_NAME = r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]"
"""The documented rule, stated in the same line's message: 3-63 lowercase letters, digits and
`-`, starting and ending with a letter or digit. The name is also unique across Alibaba Cloud
(per region), not only in the account: another account may already hold it."""
LOGSTORE_NAME = r"[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]"
"""3-63 lowercase letters, digits, `-` and `_`, starting and ending with a letter or digit."""


def _split_needs_maximum(inputs: Mapping[str, object]) -> str | None:
    if inputs.get("autoSplit") is not True:
        return None
    maximum = inputs.get("maxSplitShardCount")
    if isinstance(maximum, int | float) and not isinstance(maximum, bool) and maximum >= 1:
        return None
    return f"autoSplit=true needs maxSplitShardCount of at least 1, got {maximum!r}"


PROJECT_RULE_SOURCE = PROJECT + "44 (the ValidateFunc message; its regex is looser)"

PROJECT_RESOURCE = Resource(
    type="alicloud:log/project:Project",
    terraform="alicloud_log_project",
    fields=(
        Field("description", "string", PROJECT + "34"),
        Field(
            "projectName",
            "string",
            PROJECT + "38 (ValidateFunc StringMatch at :44)",
            force_new=True,
            pattern=PROVIDER_PROJECT_NAME,
        ),
        Field("resourceGroupId", "string", PROJECT + "46"),
        Field("policy", "string", PROJECT + "55"),
        Field("tags", "map", PROJECT + "59 (tagsSchema, tags.go:28)"),
        Field(
            "name",
            "string",
            PROJECT + "60 (Deprecated since 1.223.0: use project_name)",
            force_new=True,
            pattern=PROVIDER_PROJECT_NAME,
        ),
    ),
    identity=("projectName",),
    scope="global",
    identity_source=(
        PROJECT + "116 d.SetId(projectName): the name is unique in the region across all "
        "accounts (the message at :44: 'globally unique in Alibaba Cloud')"
    ),
    rules=(
        exactly_one(("projectName", "name"), PROJECT + "42"),
        *(
            matches(
                path,
                PROJECT_NAME,
                "3-63 lowercase letters, digits and `-`, starting and ending with a letter or "
                "digit",
                source,
            )
            for path, source in (
                ("projectName", PROJECT_RULE_SOURCE),
                ("name", PROJECT + "66 (the ValidateFunc message; its regex is looser)"),
            )
        ),
    ),
)

STORE_RESOURCE = Resource(
    type="alicloud:log/store:Store",
    terraform="alicloud_log_store",
    fields=(
        Field("appendMeta", "bool", STORE + "32 (Default true)"),
        Field("autoSplit", "bool", STORE + "37"),
        Field("enableWebTracking", "bool", STORE + "45"),
        Field("encryptConf", "object", STORE + "49 (MaxItems 1)"),
        Field("encryptConf.encryptType", "string", STORE + "56", force_new=True),
        Field("encryptConf.enable", "bool", STORE + "62"),
        Field("encryptConf.userCmkInfo", "object", STORE + "67 (MaxItems 1)", force_new=True),
        Field("encryptConf.userCmkInfo.cmkKeyId", "string", STORE + "75", force_new=True),
        Field("encryptConf.userCmkInfo.regionId", "string", STORE + "81", force_new=True),
        Field("encryptConf.userCmkInfo.arn", "string", STORE + "87", force_new=True),
        Field("hotTtl", "int", STORE + "99"),
        Field("infrequentAccessTtl", "int", STORE + "103"),
        Field("logstoreName", "string", STORE + "107", force_new=True),
        Field(
            "maxSplitShardCount",
            "int",
            STORE + "114 (IntBetween(0, 256) at :117)",
            minimum=0,
            maximum=256,
        ),
        Field("meteringMode", "string", STORE + "119"),
        Field("mode", "string", STORE + "124 (an empty value is diff-suppressed)"),
        Field("projectName", "string", STORE + "135", force_new=True),
        Field("retentionPeriod", "int", STORE + "142 (Default 30; sent as ttl)"),
        Field(
            "shardCount",
            "int",
            STORE + "147 (Default 2; ForceNew, but its DiffSuppressFunc at :151-156 hides "
            "every change once created, so in practice a change is ignored, never a replace)",
            force_new=True,
        ),
        Field("telemetryType", "string", STORE + "159", force_new=True),
        Field(
            "project",
            "string",
            STORE + "164 (Deprecated since 1.215.0: use project_name)",
            force_new=True,
        ),
        Field(
            "name",
            "string",
            STORE + "171 (Deprecated since 1.215.0: use logstore_name)",
            force_new=True,
        ),
    ),
    identity=("projectName", "logstoreName"),
    identity_source=(
        STORE + "352 d.SetId('<project>:<logstoreName>') (:241 for Metrics stores): "
        "a logstore name is unique in its project"
    ),
    rules=(
        exactly_one(("logstoreName", "name"), STORE + "111"),
        exactly_one(("projectName", "project"), STORE + "139"),
        *(
            matches(
                path,
                LOGSTORE_NAME,
                "3-63 lowercase letters, digits, `-` and `_`, starting and ending with a letter "
                "or digit",
                LOGSTORE_DOC + "; not checked by the provider",
            )
            for path in ("logstoreName", "name")
        ),
        between("retentionPeriod", 1, 3650, CREATE_LOGSTORE_DOC + "; not checked by the provider"),
        Rule(
            "autoSplit=true needs maxSplitShardCount",
            LOGSTORE_DOC + " ('must be specified if autoSplit is true'); not checked by the "
            "provider, unconfirmed against the current API",
            _split_needs_maximum,
        ),
    ),
)

RESOURCES: tuple[Resource, ...] = (PROJECT_RESOURCE, STORE_RESOURCE)
"""The SLS resource types the library declares (infra/logs.py)."""
