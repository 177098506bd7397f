"""What each resource type's provider does after it accepts an input: `Behaviour`, by type token.

One entry per type in `CONTRACT`, read from the provider's Create, Read, Update and Delete and its
service's Describe at `model.PROVIDER` (the pulumi-docker image from its 5.2.0 Python SDK). A
`Read` is listed only where the provider's Read can write a value other than the one the program
sent: another API object's field, a normalised form, a server-side default or a value read from a
differently scoped GET. `updates` holds the top-level inputs whose change reaches the API in
Update; `force`-style inputs that only the provider's own Delete reads are listed too, since their
change is complete once the state holds it (each says so).

Conventions of the value functions: they get the resource's own plain inputs (Pulumi camelCase)
and `world`, which finds another declared resource by type and inputs; a lookup value of None
matches a resource that leaves that input unset. A string the API returns empty where the program
sent nothing is given as "" (the plugin SDK stores an unset string as "", so the two are one).

History: `git log --all` of the provider's mirror (every branch and pull request fetched with it,
49 commits touching the two files) holds no version of `DescribeFcv3AsyncInvokeConfig` or
`resourceAliCloudFcv3AsyncInvokeConfigRead` that sends a qualifier: every one reads LATEST's
config. pulumi-alicloud 4.0.0 bridges a later release whose source is not reachable here; the
rules below are those of 81c43b6 and each is unconfirmed at that later release.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from provider_contract.behaviour import Behaviour, Equivalent, Read, World
from provider_contract.model import PROVIDER

# --- files and citations ------------------------------------------------------------------------

_FC3_FUNCTION_GO = "resource_alicloud_fcv3_function.go"
_FC3_VERSION_GO = "resource_alicloud_fcv3_function_version.go"
_FC3_ALIAS_GO = "resource_alicloud_fcv3_alias.go"
_FC3_ASYNC_GO = "resource_alicloud_fcv3_async_invoke_config.go"
_FC3_TRIGGER_GO = "resource_alicloud_fcv3_trigger.go"
_FC3_SERVICE_GO = "service_alicloud_fcv3_v2.go"
_FC2_FUNCTION_GO = "resource_alicloud_fc_function.go"
_FC2_SERVICE_GO = "resource_alicloud_fc_service.go"
_FC2_TRIGGER_GO = "resource_alicloud_fc_trigger.go"
_FC2_ASYNC_GO = "resource_alicloud_fc_function_async_invoke_config.go"
_BUCKET_GO = "resource_alicloud_oss_bucket.go"
_BUCKET_ACL_GO = "resource_alicloud_oss_bucket_acl.go"
_BUCKET_OBJECT_GO = "resource_alicloud_oss_bucket_object.go"
_PUBLIC_ACCESS_GO = "resource_alicloud_oss_bucket_public_access_block.go"
_RAM_ROLE_GO = "resource_alicloud_ram_role.go"
_RAM_POLICY_GO = "resource_alicloud_ram_policy.go"
_RAM_ATTACHMENT_GO = "resource_alicloud_ram_role_policy_attachment.go"
_LOG_PROJECT_GO = "resource_alicloud_log_project.go"
_LOG_STORE_GO = "resource_alicloud_log_store.go"
_ALARM_GO = "resource_alicloud_cms_alarm.go"
_CONTACT_GO = "resource_alicloud_cms_alarm_contact.go"
_CONTACT_GROUP_GO = "resource_alicloud_cms_alarm_contact_group.go"
_CR_NAMESPACE_GO = "resource_alicloud_cr_namespace.go"
_CR_REPO_GO = "resource_alicloud_cr_repo.go"
_CR_EE_NAMESPACE_GO = "resource_alicloud_cr_ee_namespace.go"
_CR_EE_REPO_GO = "resource_alicloud_cr_ee_repo.go"
_CR_EE_SERVICE_GO = "service_alicloud_cr_ee.go"
_DOCKER = "pulumi-docker 5.2.0 "


def _at(file: str, line: int | str, function: str) -> str:
    """A provider source: `PROVIDER + 'resource_alicloud_x.go:LINE FunctionName'`."""
    return f"{PROVIDER}{file}:{line} {function}"


_TAGS_TO_MAP = _at("tags.go", "97-166", "tagsToMap, tagIgnored")
_JSON_OBJECT_EQUIVALENT = _at("common.go", 750, "compareJsonTemplateAreEquivalent")
_JSON_ARRAY_EQUIVALENT = _at("common.go", 775, "compareArrayJsonTemplateAreEquivalent")

_FC3_FUNCTION = "alicloud:fc/v3Function:V3Function"
_FC3_ASYNC = "alicloud:fc/v3AsyncInvokeConfig:V3AsyncInvokeConfig"

# --- helpers ------------------------------------------------------------------------------------

_IGNORED_TAG = re.compile(r"^aliyun|^acs:|^http://|^https://|^sae.do.not.delete")
"""Tag keys `tagIgnored` drops when Read turns the API's tags into the state's (tags.go:156)."""


def _tags_read(inputs: Mapping[str, Any], _world: World) -> object:
    """The tags as `tagsToMap` reads them back: keys the provider deems Alibaba's own dropped."""
    tags = inputs.get("tags")
    if not isinstance(tags, Mapping):
        return tags
    return {key: value for key, value in tags.items() if not _IGNORED_TAG.match(str(key))}


def _tags(line: int, function: str, file: str) -> Read:
    return Read(
        path="tags",
        api="the API's tags through tagsToMap, which drops keys starting aliyun, acs:, http://, "
        f"https:// or sae.do.not.delete ({_TAGS_TO_MAP}): such a tag is a diff at every preview",
        source=_at(file, line, function),
        value=_tags_read,
    )


def _loads(text: object) -> object:
    """`text` parsed as JSON, or None when it is not a string of valid JSON.

    Numbers are parsed as floats, as Go's json.Unmarshal into interface{} does: 1 and 1.0 are
    one value, while true and 1 stay apart once dumped (`_canonical`).
    """
    if not isinstance(text, str):
        return None
    try:
        parsed: object = json.loads(text, parse_int=float)
    except ValueError:
        return None
    return parsed


def _canonical(value: object) -> str:
    """json.Marshal of a parsed value: map keys sorted, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _normalised_json(inputs: Mapping[str, Any], path: str) -> object:
    """The input at `path` as the API stores JSON: same content, its own key order and spacing.

    The exact serialisation is the API's (unconfirmed); compact with sorted keys stands for any
    form that differs from the program's text but not in content.
    """
    text = inputs.get(path)
    parsed = _loads(text)
    if parsed is None:
        return text
    return _canonical(parsed)


def _same_json_object(state: object, new: object) -> bool:
    """compareJsonTemplateAreEquivalent: both parse as JSON objects with equal content."""
    old_value, new_value = _loads(state), _loads(new)
    if not isinstance(old_value, dict) or not isinstance(new_value, dict):
        return False
    return _canonical(old_value) == _canonical(new_value)


def _same_json_array(state: object, new: object) -> bool:
    """compareArrayJsonTemplateAreEquivalent: both parse as JSON arrays of objects, equal."""
    old_value, new_value = _loads(state), _loads(new)
    if not isinstance(old_value, list) or not isinstance(new_value, list):
        return False
    return _canonical(old_value) == _canonical(new_value)


def _fc2_timer_config(text: object) -> object:
    """FC 2.0's timer `config` as its DiffSuppressFunc compares it.

    removeSpaceAndEnter deletes every space, tab and newline, inside strings too (a cron that
    differs only in spacing is no change), then delEmptyPayloadIfExist drops `"payload": ""` and
    re-marshals with sorted keys; text that is not a JSON object stays as stripped.
    """
    if not isinstance(text, str):
        return text
    stripped = text.strip(" ")
    if stripped:
        stripped = text.replace(" ", "").replace("\n", "").replace("\t", "")
    parsed = _loads(stripped)
    if not isinstance(parsed, dict):
        return stripped
    if parsed.get("payload") == "":
        del parsed["payload"]
    return _canonical(parsed)


def _same_fc2_timer_config(state: object, new: object) -> bool:
    return _fc2_timer_config(state) == _fc2_timer_config(new)


def _same_set(state: object, new: object) -> bool:
    """A TypeSet: the same members in any order."""
    if not isinstance(state, list) or not isinstance(new, list):
        return state == new
    return sorted(map(str, state)) == sorted(map(str, new))


# --- FC 3.0 ------------------------------------------------------------------------------------


def _function_description(inputs: Mapping[str, Any], world: World) -> object:
    """GetFunction?qualifier=<version> returns the function's configuration as published."""
    function = world(_FC3_FUNCTION, {"functionName": inputs.get("functionName")})
    if function is None:
        return inputs.get("description")
    description = function.get("description")
    return description if isinstance(description, str) else ""


_LATEST = (None, "", "LATEST")
"""Qualifiers that name LATEST: the provider sends no qualifier for None or "" (GetOk)."""


def _latest_async_config(inputs: Mapping[str, Any], world: World) -> Mapping[str, Any] | None:
    """The config the provider's Read finds for this one: the function's config on LATEST."""
    if inputs.get("qualifier") in _LATEST:
        return inputs
    for qualifier in _LATEST:
        found = world(
            _FC3_ASYNC, {"functionName": inputs.get("functionName"), "qualifier": qualifier}
        )
        if found is not None:
            return found
    return None


_ASYNC_READ = _at(_FC3_ASYNC_GO, 177, "resourceAliCloudFcv3AsyncInvokeConfigRead") + (
    "; " + _at(_FC3_SERVICE_GO, "296-329", "DescribeFcv3AsyncInvokeConfig")
)


def _async_read(path: str, api_field: str, line: int) -> Read:
    """A field Read takes from LATEST's config, whatever the qualifier this config was put on."""

    def value(inputs: Mapping[str, Any], world: World) -> object:
        latest = _latest_async_config(inputs, world)
        if latest is None or latest.get(path) is None:
            return inputs.get(path)
        return latest.get(path)

    return Read(
        path=path,
        api=f"GET /2023-03-30/functions/<name>/async-invoke-config {api_field}, sent without a "
        "qualifier (DescribeFcv3AsyncInvokeConfig builds an empty query), so FC answers with "
        "LATEST's config (fc-20230330 GetAsyncInvokeConfigRequest: qualifier omitted means "
        "LATEST; not verified here); unset there, Read keeps the sent value",
        source=_at(_FC3_ASYNC_GO, line, "resourceAliCloudFcv3AsyncInvokeConfigRead")
        + "; "
        + _at(_FC3_SERVICE_GO, "302-304", "DescribeFcv3AsyncInvokeConfig"),
        value=value,
    )


def _async_not_found(inputs: Mapping[str, Any], world: World) -> str | None:
    if _latest_async_config(inputs, world) is not None:
        return None
    qualifier, function = inputs.get("qualifier"), inputs.get("functionName")
    return (
        f"Create PUTs the config with ?qualifier={qualifier} "
        f"({_at(_FC3_ASYNC_GO, '149-151', 'resourceAliCloudFcv3AsyncInvokeConfigCreate')}) and "
        "its Read GETs /functions/<name>/async-invoke-config with no qualifier, i.e. LATEST's "
        f"config ({_at(_FC3_SERVICE_GO, '302-304', 'DescribeFcv3AsyncInvokeConfig')}); function "
        f"{function!r} declares no config on LATEST, so FC answers AsyncConfigNotExists and a "
        f"not-found while the resource is new is an error "
        f"({_at(_FC3_ASYNC_GO, '182-188', 'resourceAliCloudFcv3AsyncInvokeConfigRead')})"
    )


_FC3 = (
    Behaviour(
        type=_FC3_FUNCTION,
        read_source=_at(_FC3_FUNCTION_GO, 997, "resourceAliCloudFcv3FunctionRead")
        + "; "
        + _at(_FC3_SERVICE_GO, 20, "DescribeFcv3Function"),
        update_source=_at(_FC3_FUNCTION_GO, 1369, "resourceAliCloudFcv3FunctionUpdate"),
        updates=frozenset(
            {
                # :1379 only a change of invocation_restriction.0.disable calls invoke/enable or
                # invoke/disable; a change of the reason alone reaches no API.
                "invocationRestriction",
                "gpuConfig",  # :1461
                "logConfig",  # :1479
                "nasConfig",  # :1509
                "instanceConcurrency",  # :1547
                "instanceIsolationMode",  # :1552
                "customRuntimeConfig",  # :1557
                "customContainerConfig",  # :1608
                "customDns",  # :1671
                "instanceLifecycleConfig",  # :1708
                "internetAccess",  # :1748
                "ossMountConfig",  # :1753
                "runtime",  # :1784
                "environmentVariables",  # :1788
                "code",  # :1793
                "role",  # :1819
                "layers",  # :1824
                "timeout",  # :1833
                "sessionAffinity",  # :1838
                "sessionAffinityConfig",  # :1843
                "cpu",  # :1848
                "diskSize",  # :1853
                "vpcConfig",  # :1858
                "description",  # :1885
                "handler",  # :1890
                "memorySize",  # :1894
                "resourceGroupId",  # :1925 (only when the new value is set)
                "tags",  # :1951 SetResourceTags
            }
        ),
        id_format="<function_name>, from CreateFunction's response "
        + _at(_FC3_FUNCTION_GO, 992, "resourceAliCloudFcv3FunctionCreate"),
        delete_tolerates_missing=True,
        delete_source=_at(_FC3_FUNCTION_GO, 1987, "resourceAliCloudFcv3FunctionDelete")
        + " (FunctionNotFound or any not-found is success)",
        reads=(_tags(1326, "resourceAliCloudFcv3FunctionRead", _FC3_FUNCTION_GO),),
        notes=(
            "Read never sets `code` (zip_file, oss_bucket_name, oss_object_name, checksum): "
            "the state keeps what was sent, so new code is a diff only when one of those inputs "
            "changes, and a change of any of them PUTs the whole code block ("
            + _at(_FC3_FUNCTION_GO, "1793-1817", "resourceAliCloudFcv3FunctionUpdate")
            + "). `layers` is not read back either.",
            "Read writes environment_variables, description, role, runtime, handler, timeout and "
            "log_config as GetFunction returns them, which is as sent; cpu, memory_size, "
            "disk_size, instance_concurrency, internet_access, custom_runtime_config.port and "
            "its health_check_config, log_config.log_begin_rule and the two log_config metrics "
            "flags are Optional+Computed, so a server default fills them without a diff ("
            + _at(_FC3_FUNCTION_GO, 1011, "resourceAliCloudFcv3FunctionRead")
            + "). Whether FC returns a non-empty logConfig for a function sent without one "
            "(log_config is not Computed, which would be a diff) is unconfirmed.",
            "custom_container_config.acr_instance_id is Optional, not Computed, Deprecated "
            "since 1.228.0 and read back from GetFunction's customContainerConfig.acrInstanceId ("
            + _at(_FC3_FUNCTION_GO, 1047, "resourceAliCloudFcv3FunctionRead")
            + "): if FC no longer echoes it, a function given one shows a diff at every preview "
            "(unconfirmed).",
            "Create sends tags as `Tags` of {Key, Value} ("
            + _at(_FC3_FUNCTION_GO, "918-921", "resourceAliCloudFcv3FunctionCreate")
            + ") and then calls Update, whose HasChange(tags) tags the new function through "
            "TagResources (:994, :1951): the tags arrive either way.",
            (
                "idle_timeout is ForceNew in the schema (:328-332), so Update's HasChange branch "
                "for it (:1880) never runs; it is left out of `updates`."
            ),
        ),
    ),
    Behaviour(
        type="alicloud:fc/v3FunctionVersion:V3FunctionVersion",
        read_source=_at(_FC3_VERSION_GO, 94, "resourceAliCloudFcv3FunctionVersionRead")
        + "; "
        + _at(_FC3_SERVICE_GO, 166, "DescribeFcv3FunctionVersion"),
        update_source="none: function_name and description are both ForceNew "
        + _at(_FC3_VERSION_GO, "32-41", "resourceAliCloudFcv3FunctionVersion"),
        updates=frozenset(),
        id_format="<function_name>:<version_id>, the version id from PublishFunctionVersion's "
        "response " + _at(_FC3_VERSION_GO, 89, "resourceAliCloudFcv3FunctionVersionCreate"),
        delete_tolerates_missing=True,
        delete_source=_at(_FC3_VERSION_GO, 156, "resourceAliCloudFcv3FunctionVersionDelete"),
        reads=(
            Read(
                path="description",
                api="GET /2023-03-30/functions/<name>?qualifier=<version_id> .description: the "
                "function's configuration as published in that version, i.e. the FUNCTION's "
                "description at publish time, not the description given to PublishFunctionVersion",
                source=_at(_FC3_VERSION_GO, "111-113", "resourceAliCloudFcv3FunctionVersionRead")
                + "; "
                + _at(_FC3_SERVICE_GO, "176-179", "DescribeFcv3FunctionVersion"),
                value=_function_description,
            ),
        ),
        notes=(
            (
                "description is Optional and ForceNew (:32-36) and Create ends with Read (:91): a "
                "version whose description differs from its function's is replaced at every later "
                "`up` (a new version published, the alias moved), and every preview shows it."
            ),
            "function_name is read back from GetFunction's functionName (:117-119), as sent.",
        ),
    ),
    Behaviour(
        type="alicloud:fc/v3Alias:V3Alias",
        read_source=_at(_FC3_ALIAS_GO, 112, "resourceAliCloudFcv3AliasRead")
        + "; "
        + _at(_FC3_SERVICE_GO, 231, "DescribeFcv3Alias"),
        update_source=_at(_FC3_ALIAS_GO, 151, "resourceAliCloudFcv3AliasUpdate"),
        updates=frozenset(
            {
                "description",  # :167
                "versionId",  # :172
                "additionalVersionWeight",  # :177
            }
        ),
        id_format="<function_name>:<alias_name>, the alias name from CreateAlias's response "
        + _at(_FC3_ALIAS_GO, 107, "resourceAliCloudFcv3AliasCreate"),
        delete_tolerates_missing=True,
        delete_source=_at(_FC3_ALIAS_GO, 234, "resourceAliCloudFcv3AliasDelete"),
        notes=(
            (
                "Read writes description, version_id and additional_version_weight from GetAlias "
                "(:126-143), which returns them as sent: nothing differs from the input."
            ),
        ),
    ),
    Behaviour(
        type=_FC3_ASYNC,
        read_source=_ASYNC_READ,
        update_source=_at(_FC3_ASYNC_GO, 255, "resourceAliCloudFcv3AsyncInvokeConfigUpdate"),
        updates=frozenset(
            {
                "asyncTask",  # :270
                "destinationConfig",  # :275
                "maxAsyncEventAgeInSeconds",  # :299
                "maxAsyncRetryAttempts",  # :304
            }
        ),
        id_format="<function_name>, without the qualifier: two configs of one function share "
        "it " + _at(_FC3_ASYNC_GO, 172, "resourceAliCloudFcv3AsyncInvokeConfigCreate"),
        delete_tolerates_missing=True,
        delete_source=_at(_FC3_ASYNC_GO, 368, "resourceAliCloudFcv3AsyncInvokeConfigDelete")
        + " (DELETE with ?qualifier=<state's qualifier>, :348-350)",
        reads=(
            _async_read("maxAsyncRetryAttempts", ".maxAsyncRetryAttempts", 207),
            _async_read("maxAsyncEventAgeInSeconds", ".maxAsyncEventAgeInSeconds", 204),
            _async_read("asyncTask", ".asyncTask", 192),
            _async_read("destinationConfig", ".destinationConfig", 245),
        ),
        read_after_create=_async_not_found,
        notes=(
            (
                "qualifier is Optional and not ForceNew (:95-98); Update sends its PUT only when "
                "async_task, destination_config or a max_* field changes (`update` stays false "
                "otherwise, :314), so a change of the qualifier alone reaches no API: the old "
                "qualifier keeps its config, the new one has FC's defaults (3 retries), and a "
                "later Delete removes the config on the NEW qualifier (:348-350), orphaning the "
                "old one."
            ),
            (
                "When another field changes with the qualifier, the PUT goes to the new qualifier "
                "(:309-311) and the old qualifier's config is left behind."
            ),
            (
                "A config on a qualifier other than LATEST is read back from LATEST's config: "
                "right after Create it is not found (see read_after_create) unless LATEST has one, "
                "and then LATEST's values are what Read writes, a diff at every preview whenever "
                "they differ, which each `up` 'fixes' by PUTting to the qualifier and reading "
                "LATEST again."
            ),
            (
                "max_async_event_age_in_seconds is sent on Create only when > 0 (:143); an unset "
                "value reads back whatever FC returns, and whether FC returns a default there "
                "(not Computed: a diff) is unconfirmed."
            ),
        ),
    ),
    Behaviour(
        type="alicloud:fc/v3Trigger:V3Trigger",
        read_source=_at(_FC3_TRIGGER_GO, 171, "resourceAliCloudFcv3TriggerRead")
        + "; "
        + _at(_FC3_SERVICE_GO, 418, "DescribeFcv3Trigger"),
        update_source=_at(_FC3_TRIGGER_GO, 222, "resourceAliCloudFcv3TriggerUpdate"),
        updates=frozenset(
            {
                "invocationRole",  # :239
                "triggerConfig",  # :244
                "description",  # :249
            }
        ),
        id_format="<function_name>:<trigger_name>, the name from CreateTrigger's response "
        + _at(_FC3_TRIGGER_GO, 160, "resourceAliCloudFcv3TriggerCreate"),
        delete_tolerates_missing=True,
        delete_source=_at(_FC3_TRIGGER_GO, 306, "resourceAliCloudFcv3TriggerDelete"),
        reads=(
            Read(
                path="triggerConfig",
                api="GetTrigger .triggerConfig: the JSON FC stores, in its own key order and "
                "spacing (whether FC adds keys to a timer's config is unconfirmed)",
                source=_at(_FC3_TRIGGER_GO, 193, "resourceAliCloudFcv3TriggerRead"),
                value=lambda inputs, _world: _normalised_json(inputs, "triggerConfig"),
            ),
        ),
        equivalent=(
            Equivalent(
                path="triggerConfig",
                source=_at(_FC3_TRIGGER_GO, "89-92", "DiffSuppressFunc")
                + "; "
                + _JSON_OBJECT_EQUIVALENT,
                same=_same_json_object,
            ),
        ),
        notes=(
            (
                "qualifier, description and invocation_role are read back as GetTrigger returns "
                "them (:186-189), as sent; qualifier is Required and ForceNew (:67-71), so a "
                "trigger moved to another alias is replaced, not updated."
            ),
            (
                "trigger_config's DiffSuppressFunc compares parsed JSON objects: key order and "
                "spacing are no change, but a value's type is ('true' vs true), and text that is "
                "not a JSON object never compares equal, even to itself."
            ),
        ),
    ),
)

# --- FC 2.0 -------------------------------------------------------------------------------------


def _fc2_ca_port(inputs: Mapping[str, Any], _world: World) -> object:
    """Create sends ca_port only for the runtimes custom and custom-container (:222-225)."""
    if str(inputs.get("runtime", "")).lower() in ("custom", "custom-container"):
        return inputs.get("caPort")
    return 9000


_FC2 = (
    Behaviour(
        type="alicloud:fc/function:Function",
        read_source=_at(_FC2_FUNCTION_GO, 266, "resourceAlicloudFCFunctionRead")
        + "; "
        + _at("service_alicloud_fc.go", 67, "DescribeFcFunction"),
        update_source=_at(_FC2_FUNCTION_GO, 320, "resourceAlicloudFCFunctionUpdate"),
        updates=frozenset(
            {
                # :326 any of the four sends the code again (not for custom-container, :402)
                "filename",
                "ossBucket",
                "ossKey",
                "codeChecksum",
                "description",  # :329
                "handler",  # :333
                "memorySize",  # :337
                "timeout",  # :341
                "runtime",  # :346
                "environmentVariables",  # :350
                "initializer",  # :361
                "initializationTimeout",  # :365
                "instanceConcurrency",  # :369
                "instanceType",  # :373
                "caPort",  # :377
                "customContainerConfig",  # :381
                "layers",  # :389
            }
        ),
        id_format="<service>:<function name> "
        + _at(_FC2_FUNCTION_GO, 261, "resourceAlicloudFCFunctionCreate"),
        delete_tolerates_missing=True,
        delete_source=_at(_FC2_FUNCTION_GO, 438, "resourceAlicloudFCFunctionDelete")
        + " (ServiceNotFound, FunctionNotFound)",
        reads=(
            Read(
                path="caPort",
                api="GetFunction .caPort: for a runtime other than custom and custom-container "
                "Create never sends ca_port, so FC's default port (9000, FC 2.0 CreateFunction "
                "caPort; unconfirmed for non-custom runtimes) is what Read writes",
                source=_at(_FC2_FUNCTION_GO, 303, "resourceAlicloudFCFunctionRead")
                + "; "
                + _at(_FC2_FUNCTION_GO, "222-225", "resourceAlicloudFCFunctionCreate"),
                value=_fc2_ca_port,
            ),
        ),
        notes=(
            (
                "code_checksum is Optional+Computed and Read writes FC's CodeChecksum (:284): it "
                "equals the input only when the input is FC's own CRC-64 (ECMA) of the package; "
                "any other value is a diff at every preview and an UpdateFunction at every `up`."
            ),
            "oss_bucket, oss_key and filename are never read: the state keeps what was sent.",
            (
                "Read has no IsNewResource guard (:271-275): a function not found right after "
                "Create empties the id instead of failing."
            ),
            (
                "A ca_port other than 9000 on a custom.* runtime is not sent on Create, read back "
                "as 9000, and only reaches FC at the next `up` through Update's HasChange(ca_port)."
            ),
        ),
    ),
    Behaviour(
        type="alicloud:fc/service:Service",
        read_source=_at(_FC2_SERVICE_GO, 292, "resourceAlicloudFCServiceRead"),
        update_source=_at(_FC2_SERVICE_GO, 400, "resourceAlicloudFCServiceUpdate"),
        updates=frozenset(
            {
                "tags",  # :404 SetResourceTags
                "role",  # :419
                "internetAccess",  # :423
                "description",  # :427
                "logConfig",  # :431
                "vpcConfig",  # :445
                "nasConfig",  # :454
                "tracingConfig",  # :463
                # UpdateService is called on every Update (`request` is never nil, :472), then
                # PublishServiceVersion when publish is true (:498).
                "publish",
            }
        ),
        id_format="<service name> " + _at(_FC2_SERVICE_GO, 250, "resourceAlicloudFCServiceCreate"),
        delete_tolerates_missing=False,
        delete_source=_at(_FC2_SERVICE_GO, 544, "resourceAlicloudFCServiceDelete")
        + " (ListServiceVersions runs first and any error fails the delete; only DeleteService's"
        " own ServiceNotFound, :578, is tolerated)",
        reads=(_tags(311, "resourceAlicloudFCServiceRead", _FC2_SERVICE_GO),),
        notes=(
            (
                "log_config is read only when its project is non-empty, and nas_config only with "
                "mount points (:313-352); both come back as sent."
            ),
        ),
    ),
    Behaviour(
        type="alicloud:fc/trigger:Trigger",
        read_source=_at(_FC2_TRIGGER_GO, 202, "resourceAlicloudFCTriggerRead"),
        update_source=_at(_FC2_TRIGGER_GO, 247, "resourceAlicloudFCTriggerUpdate"),
        updates=frozenset({"role", "config"}),  # :256, :259
        id_format="<service>:<function>:<trigger name> "
        + _at(_FC2_TRIGGER_GO, 197, "resourceAlicloudFCTriggerCreate"),
        delete_tolerates_missing=True,
        delete_source=_at(_FC2_TRIGGER_GO, 298, "resourceAlicloudFCTriggerDelete")
        + " (ServiceNotFound, FunctionNotFound, TriggerNotFound)",
        reads=(
            Read(
                path="config",
                api="GetTrigger .triggerConfig marshalled from FC's raw JSON: compact, FC's key "
                'order, with a "payload":"" FC may add',
                source=_at(_FC2_TRIGGER_GO, "226-237", "resourceAlicloudFCTriggerRead"),
                value=lambda inputs, _world: _normalised_json(inputs, "config"),
            ),
        ),
        equivalent=(
            Equivalent(
                path="config",
                source=_at(_FC2_TRIGGER_GO, "79-98", "DiffSuppressFunc (timer branch, :83-87)")
                + "; "
                + _at(
                    "service_alicloud_fc.go",
                    "189-218",
                    "removeSpaceAndEnter, delEmptyPayloadIfExist",
                ),
                same=_same_fc2_timer_config,
            ),
        ),
        notes=(
            (
                "The suppress function branches on type: `same` here is the timer branch, the only "
                "type this library declares (mns_topic: always equal; eventbridge and the others "
                "compare the re-marshalled JSON)."
            ),
            (
                "Spaces are deleted inside strings too: a cron change that only moves spaces ('0 5 "
                "* * * *' to '05 * * * *', both '05****' once stripped) is suppressed and never "
                "sent."
            ),
        ),
    ),
    Behaviour(
        type="alicloud:fc/functionAsyncInvokeConfig:FunctionAsyncInvokeConfig",
        read_source=_at(_FC2_ASYNC_GO, 174, "resourceAlicloudFCAsyncInvokeConfigRead")
        + " (GetFunctionAsyncInvokeConfig with the id's qualifier, service_alicloud_fc.go:399)",
        update_source=_at(_FC2_ASYNC_GO, 204, "resourceAlicloudFCAsyncInvokeConfigUpdate"),
        updates=frozenset(
            {
                # Update PUTs every field on any change (:217-228)
                "maximumRetryAttempts",
                "maximumEventAgeInSeconds",
                "destinationConfig",
                "statefulInvocation",
            }
        ),
        id_format="<service_name>:<function_name>:<qualifier> "
        + _at(_FC2_ASYNC_GO, "120, 169", "resourceAlicloudFCAsyncInvokeConfigCreate"),
        delete_tolerates_missing=True,
        delete_source=_at(_FC2_ASYNC_GO, 274, "resourceAlicloudFCAsyncInvokeConfigDelete")
        + " (AsyncConfigNotExists only; a missing service or function fails)",
        notes=(
            (
                "qualifier defaults to LATEST and is ForceNew (:40-46); Read uses the qualifier "
                "from the id, so unlike FC 3.0 the config read is the one written."
            ),
            (
                "maximum_retry_attempts defaults to 2 in the schema (:52-57), not to FC's 3: an "
                "unset value sends 2."
            ),
        ),
    ),
)

# --- OSS ----------------------------------------------------------------------------------------

_OSS = (
    Behaviour(
        type="alicloud:oss/bucket:Bucket",
        read_source=_at(_BUCKET_GO, 596, "resourceAlicloudOssBucketRead"),
        update_source=_at(_BUCKET_GO, 991, "resourceAlicloudOssBucketUpdate"),
        updates=frozenset(
            {
                "acl",  # :996 (not on create)
                "corsRules",  # :1010
                "website",  # :1017
                "logging",  # :1024
                "refererConfig",  # :1031
                "accessMonitor",  # :1040
                "lifecycleRules",  # :1047
                "policy",  # :1062
                "serverSideEncryptionRule",  # :1069 (on create: a CreateBucket header, :543)
                "tags",  # :1076
                "versioning",  # :1083
                "transferAcceleration",  # :1090
                "resourceGroupId",  # :1097
                # state-only: Delete reads it from the state (:1758), no API call is needed
                "forceDestroy",
            }
        ),
        id_format="<bucket name> " + _at(_BUCKET_GO, 591, "resourceAlicloudOssBucketCreate"),
        delete_tolerates_missing=True,
        delete_source=_at(_BUCKET_GO, 1748, "resourceAlicloudOssBucketDelete")
        + " (IsBucketExist false: done)",
        notes=(
            "Create refuses a name that exists anywhere in OSS: 'The bucket namespace is shared "
            "by all users of the OSS system' ("
            + _at(_BUCKET_GO, 518, "resourceAlicloudOssBucketCreate")
            + ").",
            (
                "acl is Optional+Computed (deprecated for alicloud_oss_bucket_acl, :36-42): Read "
                "writes the bucket's ACL (:610) without a diff when the bucket leaves it unset."
            ),
            "tags are read back unfiltered from GetBucketTagging (:936-951).",
            (
                "lifecycle_rule_allow_same_action_overlap is sent only with a lifecycle_rule "
                "change (:1522): changed alone it reaches no API. logging_isenable is deprecated "
                "and never sent."
            ),
        ),
    ),
    Behaviour(
        type="alicloud:oss/bucketAcl:BucketAcl",
        read_source=_at(_BUCKET_ACL_GO, 85, "resourceAliCloudOssBucketAclRead"),
        update_source=_at(_BUCKET_ACL_GO, 106, "resourceAliCloudOssBucketAclUpdate"),
        updates=frozenset({"acl"}),  # :121
        id_format="<bucket name> " + _at(_BUCKET_ACL_GO, 80, "resourceAliCloudOssBucketAclCreate"),
        delete_tolerates_missing=True,
        delete_source=_at(_BUCKET_ACL_GO, "151-153", "resourceAliCloudOssBucketAclDelete")
        + " (does nothing: the bucket keeps its ACL)",
        notes=("Deleting it leaves the ACL on the bucket as it was (:152).",),
    ),
    Behaviour(
        type="alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock",
        read_source=_at(_PUBLIC_ACCESS_GO, 87, "resourceAliCloudOssBucketPublicAccessBlockRead"),
        update_source=_at(
            _PUBLIC_ACCESS_GO, 114, "resourceAliCloudOssBucketPublicAccessBlockUpdate"
        ),
        updates=frozenset({"blockPublicAccess"}),  # :128
        id_format="<bucket name> "
        + _at(_PUBLIC_ACCESS_GO, 82, "resourceAliCloudOssBucketPublicAccessBlockCreate"),
        delete_tolerates_missing=False,
        delete_source=_at(
            _PUBLIC_ACCESS_GO, "160-192", "resourceAliCloudOssBucketPublicAccessBlockDelete"
        )
        + " (no not-found case: a bucket already gone fails the delete)",
    ),
    Behaviour(
        type="alicloud:oss/bucketObject:BucketObject",
        read_source=_at(_BUCKET_OBJECT_GO, 268, "resourceAlicloudOssBucketObjectRead"),
        update_source=_at(_BUCKET_OBJECT_GO, 163, "resourceAlicloudOssBucketObjectUpdate"),
        updates=frozenset(
            {
                # :345-363 hasObjectContentChanges: any of these uploads the object again
                "source",
                "content",
                "contentType",
                "cacheControl",
                "contentDisposition",
                "contentEncoding",
                "contentMd5",
                "expires",
                "serverSideEncryption",
                "kmsKeyId",
                "acl",  # :172 SetObjectACL
                "objectWormMode",  # :185 PutObjectRetention
                "objectWormRetainUntilDate",
            }
        ),
        id_format="<key> alone, not the bucket "
        + _at(_BUCKET_OBJECT_GO, 264, "resourceAlicloudOssBucketObjectUpload"),
        delete_tolerates_missing=True,
        delete_source=_at(_BUCKET_OBJECT_GO, 335, "resourceAlicloudOssBucketObjectDelete")
        + " (a missing key is done; a missing bucket fails)",
        notes=(
            (
                "`source` is a path and only the path is compared: new bytes under the same path "
                "are no change and are never uploaded (content-addressed keys avoid this)."
            ),
            (
                "Read sets content_type and the other headers from the object's metadata "
                "(:305-314), as uploaded."
            ),
        ),
    ),
)

# --- RAM ----------------------------------------------------------------------------------------

_RAM = (
    Behaviour(
        type="alicloud:ram/role:Role",
        read_source=_at(_RAM_ROLE_GO, 207, "resourceAliCloudRamRoleRead"),
        update_source=_at(_RAM_ROLE_GO, 264, "resourceAliCloudRamRoleUpdate"),
        updates=frozenset(
            {
                "description",  # :277
                "maxSessionDuration",  # :282
                "assumeRolePolicyDocument",  # :290
                "document",  # :295
                "ramUsers",  # :300 (rebuilds the document)
                "services",
                "version",
                "tags",  # :331
                "force",  # state-only: Delete reads it (:351)
            }
        ),
        id_format="<role name> " + _at(_RAM_ROLE_GO, 202, "resourceAliCloudRamRoleCreate"),
        delete_tolerates_missing=True,
        delete_source=_at(_RAM_ROLE_GO, 433, "resourceAliCloudRamRoleDelete"),
        reads=(
            Read(
                path="assumeRolePolicyDocument",
                api="GetRole .Role.AssumeRolePolicyDocument: the document as RAM stores it "
                "(its formatting; unconfirmed whether RAM rewrites it)",
                source=_at(_RAM_ROLE_GO, 222, "resourceAliCloudRamRoleRead"),
                value=lambda inputs, _world: _normalised_json(inputs, "assumeRolePolicyDocument"),
            ),
            _tags(259, "resourceAliCloudRamRoleRead", _RAM_ROLE_GO),
        ),
        equivalent=(
            Equivalent(
                path="assumeRolePolicyDocument",
                source=_at(_RAM_ROLE_GO, "40-43", "DiffSuppressFunc")
                + "; "
                + _JSON_OBJECT_EQUIVALENT,
                same=_same_json_object,
            ),
        ),
        notes=(
            (
                "Read also fills the deprecated document, version, ram_users and services from the "
                "document (:229-251); all are Computed, so no diff arises from them."
            ),
            (
                "An equivalent document with a string where a list was sent ('Service': 'x' vs "
                "['x']) is NOT equivalent to the suppress function: the JSON is compared as parsed."
            ),
        ),
    ),
    Behaviour(
        type="alicloud:ram/policy:Policy",
        read_source=_at(_RAM_POLICY_GO, 214, "resourceAliCloudRamPolicyRead"),
        update_source=_at(_RAM_POLICY_GO, 268, "resourceAliCloudRamPolicyUpdate"),
        updates=frozenset(
            {
                "policyDocument",  # :284 CreatePolicyVersion, SetAsDefault
                "document",  # :288
                "statements",  # :292
                "version",
                "description",  # :330 UpdatePolicyDescription
                "tags",  # :354
                "force",  # state-only: Delete reads it (:377)
            }
        ),
        id_format="<policy name> " + _at(_RAM_POLICY_GO, 209, "resourceAliCloudRamPolicyCreate"),
        delete_tolerates_missing=True,
        delete_source=_at(_RAM_POLICY_GO, 592, "resourceAliCloudRamPolicyDelete")
        + " (EntityNotExist; DeletePolicy with CascadingDelete=true, :375)",
        reads=(
            Read(
                path="policyDocument",
                api="GetPolicy .DefaultPolicyVersion.PolicyDocument: the default version's "
                "document as RAM stores it (its formatting; unconfirmed whether RAM rewrites it)",
                source=_at(_RAM_POLICY_GO, 233, "resourceAliCloudRamPolicyRead"),
                value=lambda inputs, _world: _normalised_json(inputs, "policyDocument"),
            ),
            _tags(263, "resourceAliCloudRamPolicyRead", _RAM_POLICY_GO),
        ),
        equivalent=(
            Equivalent(
                path="policyDocument",
                source=_at(_RAM_POLICY_GO, "44-47", "DiffSuppressFunc")
                + "; "
                + _JSON_OBJECT_EQUIVALENT,
                same=_same_json_object,
            ),
        ),
        notes=(
            (
                "Every document change is a CreatePolicyVersion (:277-304) and RAM keeps at most 5 "
                "versions of a policy: the provider sends RotateStrategy only when rotate_strategy "
                "is set (:302-304), and rotate_strategy has no schema Default (:57-61; values None "
                "and DeleteOldestNonDefaultVersionWhenLimitExceeded), so with it unset the sixth "
                "version fails (RAM's error code for it, LimitExceeded.Policy.Version, unconfirmed "
                "here)."
            ),
            (
                "A change of rotate_strategy alone reaches no API: it rides only with a document "
                "change (`update` is set by the document branches only, :284-300)."
            ),
        ),
    ),
    Behaviour(
        type="alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
        read_source=_at(_RAM_ATTACHMENT_GO, 87, "resourceAliCloudRamRolePolicyAttachmentRead")
        + "; "
        + _at("service_alicloud_ram_v2.go", 340, "DescribeRamRolePolicyAttachment"),
        update_source="none: policy_name, policy_type and role_name are all ForceNew "
        + _at(_RAM_ATTACHMENT_GO, "28-43", "resourceAliCloudRamRolePolicyAttachment"),
        updates=frozenset(),
        id_format="role:<policy_name>:<policy_type>:<role_name> "
        + _at(_RAM_ATTACHMENT_GO, 82, "resourceAliCloudRamRolePolicyAttachmentCreate"),
        delete_tolerates_missing=True,
        delete_source=_at(_RAM_ATTACHMENT_GO, 158, "resourceAliCloudRamRolePolicyAttachmentDelete")
        + " (EntityNotExist.Role, EntityNotExist.Role.Policy)",
        notes=(
            (
                "Describe lists the role's policies and matches name and type exactly "
                "(service_alicloud_ram_v2.go:388-392): a policy name sent in another letter case "
                "than RAM's own spelling is not found right after Create, which fails the `up`."
            ),
        ),
    ),
)

# --- SLS ----------------------------------------------------------------------------------------


def _shard_count_read(inputs: Mapping[str, Any], _world: World) -> object:
    """The most shards auto-split can reach: max_split_shard_count, else the count sent."""
    sent = inputs.get("shardCount", 2)
    if inputs.get("autoSplit") and isinstance(inputs.get("maxSplitShardCount"), int):
        return max(int(inputs["maxSplitShardCount"]), int(sent))
    return sent


def _same_mode(state: object, new: object) -> bool:
    if new in (None, ""):
        return True
    return state not in (None, "") and state == new


_LOGS = (
    Behaviour(
        type="alicloud:log/project:Project",
        read_source=_at(_LOG_PROJECT_GO, 121, "resourceAliCloudSlsProjectRead"),
        update_source=_at(_LOG_PROJECT_GO, 163, "resourceAliCloudSlsProjectUpdate"),
        updates=frozenset(
            {
                "description",  # :179
                "resourceGroupId",  # :209 (only when the new value is set)
                "tags",  # :234
                "policy",  # :240
            }
        ),
        id_format="<project name> " + _at(_LOG_PROJECT_GO, 116, "resourceAliCloudSlsProjectCreate"),
        delete_tolerates_missing=False,
        delete_source=_at(_LOG_PROJECT_GO, "262-292", "resourceAliCloudSlsProjectDelete")
        + " (no not-found case)",
        reads=(_tags(147, "resourceAliCloudSlsProjectRead", _LOG_PROJECT_GO),),
        notes=(
            "project_name is globally unique across Alibaba Cloud: its ValidateFunc message "
            "says 'The project name is globally unique in Alibaba Cloud and cannot be modified "
            "after it is created' and 'The project name must be globally unique' ("
            + _at(_LOG_PROJECT_GO, 44, "resourceAliCloudSlsProject")
            + "), so a name another account holds fails CreateProject.",
            (
                "That message also says lowercase letters, digits and hyphens, 3-63 characters, "
                "while the regex it guards is ^[0-9a-zA-Z_-]+$: upper case and '_' pass the "
                "provider and are refused by SLS."
            ),
        ),
    ),
    Behaviour(
        type="alicloud:log/store:Store",
        read_source=_at(_LOG_STORE_GO, 357, "resourceAliCloudSlsLogStoreRead"),
        update_source=_at(_LOG_STORE_GO, 494, "resourceAliCloudSlsLogStoreUpdate"),
        updates=frozenset(
            {
                # one UpdateLogStore with every field when any of these changes
                "autoSplit",  # :512
                "appendMeta",  # :518
                "hotTtl",  # :524
                "mode",  # :530
                "retentionPeriod",  # :536 (sent as ttl)
                "maxSplitShardCount",  # :543
                "enableWebTracking",  # :549
                "encryptConf",  # :555
                "infrequentAccessTtl",  # :591
                "meteringMode",  # :666 UpdateLogStoreMeteringMode
            }
        ),
        id_format="<project>:<logstore> "
        + _at(_LOG_STORE_GO, "241, 352", "resourceAliCloudSlsLogStoreCreate"),
        delete_tolerates_missing=False,
        delete_source=_at(_LOG_STORE_GO, "695-727", "resourceAliCloudSlsLogStoreDelete")
        + " (no not-found case)",
        reads=(
            Read(
                path="shardCount",
                api="GetLogStore .shardCount: with auto_split, SLS splits shards as traffic "
                "grows, up to max_split_shard_count (the bound is given here)",
                source=_at(_LOG_STORE_GO, 399, "resourceAliCloudSlsLogStoreRead"),
                value=_shard_count_read,
            ),
        ),
        equivalent=(
            Equivalent(
                path="shardCount",
                source=_at(_LOG_STORE_GO, "151-156", "DiffSuppressFunc"),
                same=lambda state, _new: state is not None,
            ),
            Equivalent(
                path="mode",
                source=_at(_LOG_STORE_GO, "128-133", "DiffSuppressFunc"),
                same=_same_mode,
            ),
        ),
        notes=(
            (
                "retention_period has schema Default 30 (:142-146) and is read back from ttl "
                "(:396), as sent; auto_split, max_split_shard_count and append_meta come back as "
                "sent (:372-391)."
            ),
            (
                "shard_count is ForceNew, but its DiffSuppressFunc suppresses every change once "
                "the store exists (:151-156): a new shard_count is never applied, not even by "
                "replacement."
            ),
            (
                "hot_ttl is Optional, not Computed, and read back when SLS returns it (:383-385): "
                "whether SLS returns a value for a store created without one is unconfirmed."
            ),
        ),
    ),
)

# --- CloudMonitor -------------------------------------------------------------------------------

_MONITORING = (
    Behaviour(
        type="alicloud:cms/alarm:Alarm",
        read_source=_at(_ALARM_GO, 375, "resourceAliCloudCmsAlarmRead"),
        update_source=_at(_ALARM_GO, 600, "resourceAliCloudCmsAlarmUpdate")
        + " (one PutResourceMetricRule with every field, then Enable/DisableMetricRules, then "
        "PutMetricRuleTargets when targets changed, :921)",
        updates=frozenset(
            {
                "name",
                "contactGroups",
                "metricDimensions",
                "dimensions",
                "effectiveInterval",
                "period",
                "silenceTime",
                "webhook",
                "enabled",
                "tags",
                "escalationsCritical",
                "escalationsInfo",
                "escalationsWarn",
                "prometheuses",
                "compositeExpression",
                "targets",
            }
        ),
        id_format="a provider-made unique id (resource.UniqueId()), sent as RuleId "
        + _at(_ALARM_GO, 371, "resourceAliCloudCmsAlarmCreate"),
        delete_tolerates_missing=False,
        delete_source=_at(_ALARM_GO, "987-1027", "resourceAliCloudCmsAlarmDelete")
        + " (not-found is tolerated only from the Describe after a successful "
        "DeleteMetricRules, :1014; whether CMS accepts an unknown rule id is unconfirmed)",
        reads=(
            Read(
                path="metricDimensions",
                api="DescribeMetricRuleList .Resources: the JSON array CMS stores, in its own "
                "key order and spacing",
                source=_at(_ALARM_GO, 399, "resourceAliCloudCmsAlarmRead"),
                value=lambda inputs, _world: _normalised_json(inputs, "metricDimensions"),
            ),
            _tags(407, "resourceAliCloudCmsAlarmRead", _ALARM_GO),
        ),
        equivalent=(
            Equivalent(
                path="metricDimensions",
                source=_at(_ALARM_GO, "56-59", "DiffSuppressFunc") + "; " + _JSON_ARRAY_EQUIVALENT,
                same=_same_json_array,
            ),
        ),
        notes=(
            (
                "escalations_*.comparison_operator is read back from CMS's name through "
                "convertCmsAlarmComparisonOperator (:415, :1030), which maps each name back to the "
                "symbol sent; threshold comes back as the string sent."
            ),
            (
                "start_time and end_time are sent but ignored (effective_interval's default wins), "
                "so they are left out of `updates`."
            ),
        ),
    ),
    Behaviour(
        type="alicloud:cms/alarmContact:AlarmContact",
        read_source=_at(_CONTACT_GO, 99, "resourceAlicloudCmsAlarmContactRead")
        + "; "
        + _at("service_alicloud_cms.go", 198, "DescribeCmsAlarmContact"),
        update_source=_at(_CONTACT_GO, 121, "resourceAlicloudCmsAlarmContactUpdate"),
        updates=frozenset(
            {
                # :126-149 one PutContact carrying every channel
                "channelsAliim",
                "channelsDingWebHook",
                "channelsMail",
                "channelsSms",
                "describe",
                "lang",
            }
        ),
        id_format="<alarm_contact_name>: the name is the id, and PutContact creates or "
        "overwrites the contact of that name in the account "
        + _at(_CONTACT_GO, "60-95", "resourceAlicloudCmsAlarmContactCreate"),
        delete_tolerates_missing=False,
        delete_source=_at(_CONTACT_GO, "176-183", "resourceAlicloudCmsAlarmContactDelete")
        + " (returns 'DeleteContact failed' on a non-200 Code at :176 before its 404 / "
        "ContactNotExists check at :180 is reached; a nil response would panic)",
        reads=(
            Read(
                path="channelsMail",
                api="DescribeContactList .Contacts.Contact[0].Channels.Mail: empty until the "
                "address's owner follows CloudMonitor's activation mail (the provider's own "
                "docs: 'You need to activate the link before you can return to the alarm "
                "contact information, otherwise diff will appear', "
                "website/docs/r/cms_alarm_contact.html.markdown:27, whose example ignores "
                "changes to channels_mail, :33)",
                source=_at(_CONTACT_GO, 115, "resourceAlicloudCmsAlarmContactRead"),
                value=lambda inputs, _world: "" if inputs.get("channelsMail") else None,
            ),
        ),
        notes=(
            (
                "Until the mail is confirmed each `up` sees channels_mail changed and PutContact "
                "sends it again (:134-137), which mails a new activation link."
            ),
            (
                "Create is PutContact (:60-84): a second stack declaring a contact of the same "
                "name takes the first one over, and either stack's destroy deletes it for both."
            ),
            (
                "Describe filters DescribeContactList by ContactName and takes the first contact "
                "returned (service_alicloud_cms.go:202, :238); whether the filter matches exactly "
                "or by prefix is unconfirmed."
            ),
        ),
    ),
    Behaviour(
        type="alicloud:cms/alarmContactGroup:AlarmContactGroup",
        read_source=_at(_CONTACT_GROUP_GO, 95, "resourceAlicloudCmsAlarmContactGroupRead")
        + "; "
        + _at("service_alicloud_cms.go", 241, "DescribeCmsAlarmContactGroup"),
        update_source=_at(_CONTACT_GROUP_GO, 114, "resourceAlicloudCmsAlarmContactGroupUpdate"),
        updates=frozenset(
            {
                "contacts",  # :119
                "describe",  # :125
                "enableSubscribed",  # :129
            }
        ),
        id_format="<alarm_contact_group_name>: the name is the id, and PutContactGroup creates "
        "or overwrites the group of that name in the account "
        + _at(_CONTACT_GROUP_GO, "53-91", "resourceAlicloudCmsAlarmContactGroupCreate"),
        delete_tolerates_missing=False,
        delete_source=_at(_CONTACT_GROUP_GO, 183, "resourceAlicloudCmsAlarmContactGroupDelete")
        + " (`response` is assigned only when DeleteContactGroup succeeds, :179; on any error, "
        "a missing group's included, response.Code dereferences nil before the 404 check at "
        ":187)",
        equivalent=(
            Equivalent(
                path="contacts",
                source=_at(_CONTACT_GROUP_GO, 30, "resourceAlicloudCmsAlarmContactGroup")
                + " (TypeSet)",
                same=_same_set,
            ),
        ),
        notes=(
            (
                "Create is PutContactGroup (:71): a second stack declaring a group of the same "
                "name takes the first one over (its contact list replaced), and either stack's "
                "destroy deletes it for both."
            ),
            (
                "Describe matches the group by exact name across pages of 20 "
                "(service_alicloud_cms.go:284-295)."
            ),
        ),
    ),
)

# --- Container Registry -------------------------------------------------------------------------

_PERSONAL_API = (
    "the alibaba-cloud-sdk-go `cr` package: ACR's 2016-06-07 ROA API of the old personal "
    "registry (no instance id; requests logged as RoaRequest"
)

_REGISTRY = (
    Behaviour(
        type="alicloud:cr/namespace:Namespace",
        read_source=_at(_CR_NAMESPACE_GO, 98, "resourceAlicloudCRNamespaceRead")
        + "; "
        + _at("service_alicloud_cr.go", 140, "DescribeCrNamespace"),
        update_source=_at(_CR_NAMESPACE_GO, 70, "resourceAlicloudCRNamespaceUpdate"),
        updates=frozenset({"autoCreate", "defaultVisibility"}),  # :73
        id_format="<namespace name> "
        + _at(_CR_NAMESPACE_GO, 65, "resourceAlicloudCRNamespaceCreate"),
        delete_tolerates_missing=True,
        delete_source=_at(_CR_NAMESPACE_GO, 135, "resourceAlicloudCRNamespaceDelete")
        + " (NAMESPACE_NOT_EXIST)",
        notes=(
            "Calls "
            + _PERSONAL_API
            + ", :55-63), although its docs link the 2018-12-01 CreateNamespace page "
            "(website/docs/r/cr_namespace.html.markdown:14). Deprecated since 1.276.0 for "
            "alicloud_cr_ee_namespace (:21).",
        ),
    ),
    Behaviour(
        type="alicloud:cr/repo:Repo",
        read_source=_at(_CR_REPO_GO, 140, "resourceAlicloudCRRepoRead")
        + "; "
        + _at("service_alicloud_cr.go", 190, "DescribeCrRepo"),
        update_source=_at(_CR_REPO_GO, 110, "resourceAlicloudCRRepoUpdate"),
        updates=frozenset({"summary", "detail", "repoType"}),  # :113
        id_format="<namespace>/<name> " + _at(_CR_REPO_GO, 105, "resourceAlicloudCRRepoCreate"),
        delete_tolerates_missing=True,
        delete_source=_at(_CR_REPO_GO, 192, "resourceAlicloudCRRepoDelete") + " (REPO_NOT_EXIST)",
        notes=(
            "Calls "
            + _PERSONAL_API
            + ", :94-104). Deprecated since 1.276.0 for alicloud_cr_ee_repo (:23).",
        ),
    ),
    Behaviour(
        type="alicloud:cs/registryEnterpriseNamespace:RegistryEnterpriseNamespace",
        read_source=_at(_CR_EE_NAMESPACE_GO, 97, "resourceAliCloudCrEENamespaceRead")
        + "; "
        + _at(_CR_EE_SERVICE_GO, 202, "DescribeCrEENamespace"),
        update_source=_at(_CR_EE_NAMESPACE_GO, 118, "resourceAliCloudCrEENamespaceUpdate"),
        updates=frozenset({"autoCreate", "defaultVisibility"}),  # :134, :141
        id_format="<instance_id>:<name> "
        + _at(_CR_EE_NAMESPACE_GO, 92, "resourceAliCloudCrEENamespaceCreate"),
        delete_tolerates_missing=True,
        delete_source=_at(_CR_EE_NAMESPACE_GO, 186, "resourceAliCloudCrEENamespaceDelete")
        + "; "
        + _at(_CR_EE_SERVICE_GO, "268-279", "DeleteCrEENamespace"),
        notes=(
            (
                "Calls ACR's 2018-12-01 RPC API (alibaba-cloud-sdk-go `cr_ee`) with the "
                "instance_id given (:52-55); the provider does not check the instance's edition, "
                "and its docs only say 'the ID of the Container Registry Enterprise Edition "
                "instance' (website/docs/r/cr_ee_namespace.html.markdown:63). Whether ACR accepts "
                "a personal instance's crpi-... id there is unconfirmed here."
            ),
            "DeleteCrEENamespace wraps EVERY unsuccessful DeleteNamespace reply as a not-found ("
            + _at(_CR_EE_SERVICE_GO, 279, "DeleteCrEENamespace")
            + "), so a namespace ACR refuses to delete (e.g. one still holding repositories) "
            "is dropped from the state as deleted while it remains.",
        ),
    ),
    Behaviour(
        type="alicloud:cs/registryEnterpriseRepo:RegistryEnterpriseRepo",
        read_source=_at(_CR_EE_REPO_GO, 112, "resourceAliCloudCrEERepoRead"),
        update_source=_at(_CR_EE_REPO_GO, 137, "resourceAliCloudCrEERepoUpdate"),
        updates=frozenset(
            {
                "repoType",  # :156
                "summary",  # :159
                "detail",  # :162
                "tagImmutability",  # :168
            }
        ),
        id_format="<instance_id>:<namespace>:<name> "
        + _at(_CR_EE_REPO_GO, 107, "resourceAliCloudCrEERepoCreate"),
        delete_tolerates_missing=True,
        delete_source=_at(_CR_EE_REPO_GO, 209, "resourceAliCloudCrEERepoDelete")
        + "; "
        + _at(_CR_EE_SERVICE_GO, "420-431", "DeleteCrEERepo"),
        notes=(
            "Calls ACR's 2018-12-01 API (CreateRepository with InstanceId, :71); as with the "
            "namespace, DeleteCrEERepo wraps every unsuccessful reply as a not-found ("
            + _at(_CR_EE_SERVICE_GO, 431, "DeleteCrEERepo")
            + "), so a refused delete leaves the repository while the state drops it.",
        ),
    ),
)

# --- pulumi-docker ------------------------------------------------------------------------------

_DOCKER_IMAGE = Behaviour(
    type="docker:index/image:Image",
    read_source=_DOCKER
    + "provider Read of a native Image returns the state it has without asking the registry "
    "(unconfirmed here: the provider's Go source is not installed, only its Python SDK)",
    update_source=_DOCKER
    + "provider Update builds and pushes again with the new inputs; the build context's "
    "content is hashed at Check, so changed files are a diff too (unconfirmed here)",
    updates=frozenset({"build", "buildOnPreview", "imageName", "registry", "skipPush"}),
    id_format=_DOCKER
    + "made by the provider (unconfirmed here); imageName itself is 'not unique to each build "
    "and push' (image.py:58), repoDigest is",
    delete_tolerates_missing=True,
    delete_source=_DOCKER
    + "image.py:135 'This resource does not delete tags, locally or remotely, when destroyed': "
    "Delete touches no registry, so nothing can be missing",
    notes=(
        (
            "Pushing the same imageName (repository:tag) again overwrites the tag in the registry; "
            "consumers see a new image only through repoDigest (image.py:139-143)."
        ),
        "Destroying the stack leaves every pushed tag in the repository (image.py:135).",
    ),
)

_CUSTOM_DOMAIN_GO = "resource_alicloud_fcv3_custom_domain.go"
_CUSTOM_DOMAIN = Behaviour(
    type="alicloud:fc/v3CustomDomain:V3CustomDomain",
    read_source=_at(_CUSTOM_DOMAIN_GO, 500, "resourceAliCloudFcv3CustomDomainRead")
    + "; "
    + _at(_FC3_SERVICE_GO, 93, "DescribeFcv3CustomDomain"),
    update_source=_at(_CUSTOM_DOMAIN_GO, 715, "resourceAliCloudFcv3CustomDomainUpdate"),
    # One UpdateCustomDomain PUT carries every changed block (:731-:928, sent at :946).
    updates=frozenset(
        {
            "corsConfig",
            "routeConfig",
            "protocol",
            "certConfig",
            "authConfig",
            "tlsConfig",
            "wafConfig",
        }
    ),
    id_format="<custom_domain_name> "
    + _at(_CUSTOM_DOMAIN_GO, 495, "resourceAliCloudFcv3CustomDomainCreate"),
    delete_tolerates_missing=True,
    delete_source=_at(_CUSTOM_DOMAIN_GO, 991, "resourceAliCloudFcv3CustomDomainDelete")
    + " (DomainNameNotFound and NotFound count as done)",
    notes=(
        (
            "Read keeps the private key it was given: FC never returns it "
            f"({_at(_CUSTOM_DOMAIN_GO, 546, 'resourceAliCloudFcv3CustomDomainRead')}), so a key "
            "changed outside Pulumi is not seen."
        ),
        (
            "Read writes each route's rewrite_config as an empty list when FC has none; the "
            f"field is Optional and Computed ({_at(_CUSTOM_DOMAIN_GO, 158, 'schema')}), so an "
            "unset one is no diff."
        ),
    ),
)

BEHAVIOURS: dict[str, Behaviour] = {
    behaviour.type: behaviour
    for behaviour in (
        *_FC3,
        _CUSTOM_DOMAIN,
        *_FC2,
        *_OSS,
        *_RAM,
        *_LOGS,
        *_MONITORING,
        *_REGISTRY,
        _DOCKER_IMAGE,
    )
}
"""Read, Update, id and Delete of every resource type in `CONTRACT`, by type token."""
