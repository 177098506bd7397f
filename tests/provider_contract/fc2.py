"""FC 2.0: service, function, trigger and the function's async-invoke configuration.

Provider sources: `resource_alicloud_fc_service.go`, `resource_alicloud_fc_function.go`,
`resource_alicloud_fc_trigger.go` and `resource_alicloud_fc_function_async_invoke_config.go` at
the commit named in `model`; all four deprecated since 1.272.0 in favour of the fcv3 resources,
none changed since 1.280.0 (`git log v1.280.0..HEAD` lists no commit touching them, nor
`service_alicloud_fc.go`). The trigger types are the fc-go-sdk constants of the pinned
`bc7ded2a9050` (trigger.go:12-19).

What the provider does not validate and FC does, sourced to the FC 2.0 API pages:

- service names: letters, digits, `_` and `-`, not starting with a digit or `-`, 1-128
  characters; function names the same with 1-64 (CreateFunction, FC 2.0 API, ja:
  alibabacloud.com/help/ja/functioncompute/fc-2-0/developer-reference/api-createfunction);
- `initializationTimeout` 1-300 seconds (same page);
- memory a multiple of 64 MB (help.aliyun.com/document_detail/187572.htm, the FC function
  resource of ROS's serverless transform); the provider's own range is 128-32768;
- trigger names: as service names, 1-128 characters - sourced to the FC 3.0 CreateTriggerInput
  page (alibabacloud.com/help/en/functioncompute/api-fc-2023-03-30-struct-createtriggerinput);
  the FC 2.0 CreateTrigger page found (doc-detail/190054) is cut before the rule: unconfirmed
  for 2.0;
- `timeout` 1-86400 seconds: unconfirmed (no FC 2.0 page found stating the maximum);
- `instanceConcurrency`: FC's range (1-200 is the library's) is unconfirmed, so not encoded.

How the provider talks to FC, worth knowing when reading the rules below:

- Create sends `customContainerConfig` and no code for runtime `custom-container`, the code
  (`filename`, or `ossBucket` + `ossKey`) and no container for every other runtime (function
  .go:207-221); `caPort` only for runtime `custom` or `custom-container` (:222-225);
  `instanceConcurrency` for every runtime except python2.7/python3 (:226-229).
- Update sends the code again on every update of a non-container function, whatever changed
  (:398-408: `getFunctionCode` whenever `update` is true), so an update of only
  `environmentVariables` re-reads `ossBucket`/`ossKey`: the object must still exist then.
  Every other field is sent only when it changed (:329-396).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from provider_contract.model import PROVIDER, Field, Resource
from provider_contract.rules import (
    conflicts,
    http_trigger_config,
    is_json,
    is_set,
    rule,
    together,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

SERVICE = PROVIDER + "resource_alicloud_fc_service.go:"
FUNCTION = PROVIDER + "resource_alicloud_fc_function.go:"
TRIGGER = PROVIDER + "resource_alicloud_fc_trigger.go:"
ASYNC = PROVIDER + "resource_alicloud_fc_function_async_invoke_config.go:"
TAGS = PROVIDER + "tags.go:"
FC_SERVICE_GO = PROVIDER + "service_alicloud_fc.go:"
FC_GO_SDK = "aliyun/fc-go-sdk@bc7ded2a9050 trigger.go:12-19"

CREATE_FUNCTION_DOC = (
    "FC 2.0 CreateFunction "
    "(alibabacloud.com/help/ja/functioncompute/fc-2-0/developer-reference/api-createfunction)"
)
MEMORY_STEP_DOC = (
    "FC function MemorySize, a multiple of 64 (help.aliyun.com/document_detail/187572.htm)"
)
TRIGGER_NAME_DOC = (
    "CreateTriggerInput.triggerName (FC 3.0 page, "
    "alibabacloud.com/help/en/functioncompute/api-fc-2023-03-30-struct-createtriggerinput; "
    "unconfirmed for FC 2.0)"
)
CA_PORT_DOC = "default CAPort 9000 (FC 2.0 FAQ, alibabacloud.com/help/doc-detail/209242.htm)"
SERVICE_NOT_EMPTY_DOC = (
    "FC 2.0 DeleteService answers 409 \"service '<name>' has active 'functions'\" "
    "(github.com/Serverless-Devs/Serverless-Devs/issues/52); the provider's own sweeper deletes "
    "triggers, then functions, then the service (resource_alicloud_fc_service_test.go:109,132,215)"
)
FUNCTION_NOT_EMPTY_DOC = (
    "FunctionNotEmpty \"function '%s' has active triggers\" "
    "(FC error codes, help.aliyun.com/zh/functioncompute/api-fc-2023-03-30-errorcodes; the FC 2.0 "
    "error-code page found is cut before it: unconfirmed for 2.0)"
)

SERVICE_NAME = r"[A-Za-z_][A-Za-z0-9_-]{0,127}"
"""FC 2.0 service names (CreateFunction's serviceName): 1-128, no leading digit or `-`."""
FUNCTION_NAME = r"[A-Za-z_][A-Za-z0-9_-]{0,63}"
"""FC 2.0 function names (CreateFunction's functionName): 1-64, no leading digit or `-`."""
TRIGGER_NAME = r"[A-Za-z_][A-Za-z0-9_-]{0,127}"
"""Trigger names: 1-128, no leading digit or `-` (see TRIGGER_NAME_DOC)."""

TRIGGER_TYPES = ("http", "log", "oss", "timer", "mns_topic", "cdn_events", "eventbridge")
"""`type`'s StringInSlice (trigger.go:117) over fc-go-sdk's constants."""

CONTAINER_RUNTIME = "custom-container"
CUSTOM_RUNTIMES = ("custom", CONTAINER_RUNTIME)
"""The runtimes whose `caPort` Create sends (function.go:223, strings.EqualFold)."""
DEFAULT_CA_PORT = 9000

_TAG_VALUE = re.compile(r"(^acs:.*)|(^aliyun.*)|(/.*http://.*\.\w+/gm)|(/.*https://.*\.\w+/gm)")
"""tagsSchemaWithIgnore's StringDoesNotMatch on every tag value (tags.go:59), a partial match."""


def _runtime(inputs: Mapping[str, object]) -> str:
    runtime = inputs.get("runtime")
    return runtime.lower() if isinstance(runtime, str) else ""


@rule("vpcConfig needs a non-empty role", SERVICE + "598")
def _vpc_needs_role(inputs: Mapping[str, object]) -> str | None:
    if inputs.get("vpcConfig") is not None and not is_set(inputs, "role", blank_is_unset=True):
        return "vpcConfig is set without role ('role' is required when 'vpc_config' is set)"
    return None


@rule("service tag values may not start with aliyun or acs:", TAGS + "59")
def _service_tag_values(inputs: Mapping[str, object]) -> str | None:
    tags = inputs.get("tags")
    if not isinstance(tags, dict):
        return None
    bad = sorted(
        key for key, value in tags.items() if isinstance(value, str) and _TAG_VALUE.search(value)
    )
    if bad:
        return f"tags {bad} have values starting with 'aliyun' or 'acs:', which are refused"
    return None


@rule("the code goes with every runtime except custom-container", FUNCTION + "207")
def _code_for_runtime(inputs: Mapping[str, object]) -> str | None:
    has_code = is_set(inputs, "filename", blank_is_unset=True) or (
        is_set(inputs, "ossBucket", blank_is_unset=True)
        and is_set(inputs, "ossKey", blank_is_unset=True)
    )
    if _runtime(inputs) == CONTAINER_RUNTIME:
        if has_code:
            return "runtime custom-container sends no code: drop filename/ossBucket/ossKey"
        return None
    if not has_code:
        return f"runtime {inputs.get('runtime')!r} needs filename or ossBucket and ossKey"
    return None


@rule("customContainerConfig goes with runtime custom-container", FUNCTION + "207")
def _container_for_runtime(inputs: Mapping[str, object]) -> str | None:
    container = inputs.get("customContainerConfig") is not None
    if _runtime(inputs) == CONTAINER_RUNTIME and not container:
        return "runtime custom-container needs customContainerConfig"
    if _runtime(inputs) != CONTAINER_RUNTIME and container:
        return f"customContainerConfig is not sent for runtime {inputs.get('runtime')!r}"
    return None


@rule(
    "caPort is sent on create only for runtime custom and custom-container",
    f"{FUNCTION}223; {CA_PORT_DOC}",
)
def _ca_port_runtime(inputs: Mapping[str, object]) -> str | None:
    port = inputs.get("caPort")
    if port is None or _runtime(inputs) in CUSTOM_RUNTIMES or port == DEFAULT_CA_PORT:
        return None
    return (
        f"caPort {port!r} is not sent on create for runtime {inputs.get('runtime')!r}: the "
        f"function gets FC's default {DEFAULT_CA_PORT}"
    )


@rule("mns_topic triggers take configMns, the others config", TRIGGER + "148")
def _config_for_type(inputs: Mapping[str, object]) -> str | None:
    mns = inputs.get("type") == "mns_topic"
    if mns and is_set(inputs, "config", blank_is_unset=True):
        return "config is not sent for type mns_topic; use configMns"
    if not mns and is_set(inputs, "configMns", blank_is_unset=True):
        return f"configMns is sent only for type mns_topic, not {inputs.get('type')!r}"
    return None


def _service_refuses_delete(_inputs: Mapping[str, object], functions: int) -> str | None:
    if functions > 0:
        return (
            f"DeleteService fails while {functions} function(s) remain in the service "
            f"({SERVICE}568-582 deletes versions, then the service, never functions; "
            f"{SERVICE_NOT_EMPTY_DOC})"
        )
    return None


def _function_refuses_delete(_inputs: Mapping[str, object], triggers: int) -> str | None:
    if triggers > 0:
        return (
            f"DeleteFunction fails while {triggers} trigger(s) remain on the function "
            f"({FUNCTION}423-445 deletes the function alone; {FUNCTION_NOT_EMPTY_DOC})"
        )
    return None


SERVICE_RESOURCE = Resource(
    type="alicloud:fc/service:Service",
    terraform="alicloud_fc_service",
    fields=(
        Field(
            "name",
            "string",
            f"{SERVICE}30; {CREATE_FUNCTION_DOC}",
            force_new=True,
            min_length=1,
            max_length=128,
            pattern=SERVICE_NAME,
        ),
        Field("namePrefix", "string", SERVICE + "38", force_new=True, max_length=122),
        Field("description", "string", SERVICE + "45"),
        Field("tags", "map", SERVICE + "50"),
        Field("internetAccess", "bool", SERVICE + "51"),
        Field("role", "string", SERVICE + "56"),
        Field("logConfig", "object", SERVICE + "60"),
        Field("logConfig.project", "string", SERVICE + "66", required=True),
        Field("logConfig.logstore", "string", SERVICE + "70", required=True),
        Field("logConfig.enableRequestMetrics", "bool", SERVICE + "74"),
        Field("logConfig.enableInstanceMetrics", "bool", SERVICE + "78"),
        Field("vpcConfig", "object", SERVICE + "85"),
        Field("vpcConfig.vswitchIds", "list", SERVICE + "91", required=True),
        Field("vpcConfig.vswitchIds[]", "string", SERVICE + "94"),
        Field("vpcConfig.securityGroupId", "string", SERVICE + "97", required=True),
        Field("vpcConfig.vpcId", "string", SERVICE + "101"),
        Field("nasConfig", "object", SERVICE + "108"),
        Field("nasConfig.userId", "int", SERVICE + "114", required=True),
        Field("nasConfig.groupId", "int", SERVICE + "118", required=True),
        Field("nasConfig.mountPoints", "list", SERVICE + "122", required=True),
        Field("nasConfig.mountPoints[]", "object", SERVICE + "125"),
        Field("nasConfig.mountPoints[].serverAddr", "string", SERVICE + "127", required=True),
        Field("nasConfig.mountPoints[].mountDir", "string", SERVICE + "131", required=True),
        Field("tracingConfig", "object", SERVICE + "141"),
        Field("tracingConfig.type", "string", SERVICE + "147", required=True),
        Field("tracingConfig.params", "map", SERVICE + "152", required=True),
        Field("publish", "bool", SERVICE + "159"),
    ),
    identity=("name",),
    scope="region",
    identity_source=SERVICE + "250",
    rules=(
        conflicts("name", ("namePrefix",), SERVICE + "35", blank_is_unset=True),
        _vpc_needs_role,
        _service_tag_values,
    ),
    refuses_delete=_service_refuses_delete,
)

FUNCTION_RESOURCE = Resource(
    type="alicloud:fc/function:Function",
    terraform="alicloud_fc_function",
    fields=(
        Field(
            "service",
            "string",
            f"{FUNCTION}30; {CREATE_FUNCTION_DOC}",
            required=True,
            force_new=True,
            pattern=SERVICE_NAME,
        ),
        Field(
            "name",
            "string",
            f"{FUNCTION}35; {CREATE_FUNCTION_DOC}",
            force_new=True,
            min_length=1,
            max_length=128,
            pattern=FUNCTION_NAME,
        ),
        Field("namePrefix", "string", FUNCTION + "43", force_new=True, max_length=122),
        Field("ossBucket", "string", FUNCTION + "50"),
        Field("ossKey", "string", FUNCTION + "56"),
        Field("filename", "string", FUNCTION + "62"),
        Field("description", "string", FUNCTION + "68"),
        Field("codeChecksum", "string", FUNCTION + "73"),
        Field("environmentVariables", "map", FUNCTION + "80"),
        Field("handler", "string", FUNCTION + "85", required=True),
        Field(
            "memorySize",
            "int",
            f"{FUNCTION}93; {MEMORY_STEP_DOC}",
            minimum=128,
            maximum=32768,
            multiple_of=64,
        ),
        Field("runtime", "string", FUNCTION + "95", required=True),
        Field(
            "timeout",
            "int",
            f"{FUNCTION}99; 1-86400 unconfirmed (no FC 2.0 page found)",
            minimum=1,
            maximum=86400,
        ),
        Field("initializer", "string", FUNCTION + "116"),
        Field(
            "initializationTimeout",
            "int",
            f"{FUNCTION}120; {CREATE_FUNCTION_DOC}",
            minimum=1,
            maximum=300,
        ),
        Field("instanceConcurrency", "int", FUNCTION + "125"),
        Field("caPort", "int", FUNCTION + "130"),
        Field("instanceType", "string", FUNCTION + "134"),
        Field("customContainerConfig", "object", FUNCTION + "139"),
        Field("customContainerConfig.image", "string", FUNCTION + "145", required=True),
        Field("customContainerConfig.command", "string", FUNCTION + "149"),
        Field("customContainerConfig.args", "string", FUNCTION + "153"),
        Field("layers", "list", FUNCTION + "160"),
        Field("layers[]", "string", FUNCTION + "163"),
    ),
    identity=("service", "name"),
    identity_source=FUNCTION + "261",
    rules=(
        conflicts("name", ("namePrefix",), FUNCTION + "40", blank_is_unset=True),
        conflicts("filename", ("ossBucket", "ossKey"), FUNCTION + "65", blank_is_unset=True),
        together(
            "ossBucket",
            "ossKey",
            FUNCTION + "456",
            blank_is_unset=True,
            note="one alone sends no code",
        ),
        _code_for_runtime,
        _container_for_runtime,
        _ca_port_runtime,
    ),
    refuses_delete=_function_refuses_delete,
)

TRIGGER_RESOURCE = Resource(
    type="alicloud:fc/trigger:Trigger",
    terraform="alicloud_fc_trigger",
    fields=(
        Field(
            "service",
            "string",
            f"{TRIGGER}28; {CREATE_FUNCTION_DOC}",
            required=True,
            force_new=True,
            pattern=SERVICE_NAME,
        ),
        Field(
            "function",
            "string",
            f"{TRIGGER}33; {CREATE_FUNCTION_DOC}",
            required=True,
            force_new=True,
            pattern=FUNCTION_NAME,
        ),
        Field(
            "name",
            "string",
            f"{TRIGGER}38; {TRIGGER_NAME_DOC}",
            force_new=True,
            min_length=1,
            max_length=128,
            pattern=TRIGGER_NAME,
        ),
        Field("namePrefix", "string", TRIGGER + "46", force_new=True, max_length=122),
        Field("role", "string", TRIGGER + "53"),
        Field("sourceArn", "string", TRIGGER + "61", force_new=True),
        Field("config", "string", TRIGGER + "76"),
        Field("configMns", "string", TRIGGER + "102", force_new=True),
        Field(
            "type",
            "string",
            f"{TRIGGER}113; {FC_GO_SDK}",
            required=True,
            force_new=True,
            allowed=TRIGGER_TYPES,
        ),
    ),
    identity=("service", "function", "name"),
    identity_source=TRIGGER + "197",
    rules=(
        conflicts("name", ("namePrefix",), TRIGGER + "43", blank_is_unset=True),
        conflicts("configMns", ("config",), TRIGGER + "111", blank_is_unset=True),
        is_json("config", f"{TRIGGER}99; {FC_SERVICE_GO}220", object_only=True),
        is_json("configMns", TRIGGER + "110"),
        _config_for_type,
        http_trigger_config(
            "type",
            "config",
            frozenset({"authType", "methods"}),
            "FC 2.0 HTTP trigger configuration (authType, methods; alibabacloud.com/help/en/"
            "functioncompute/fc-2-0/user-guide/configure-an-http-trigger), not checked by the "
            "provider",
        ),
    ),
)

ASYNC_INVOKE_CONFIG_RESOURCE = Resource(
    type="alicloud:fc/functionAsyncInvokeConfig:FunctionAsyncInvokeConfig",
    terraform="alicloud_fc_function_async_invoke_config",
    fields=(
        Field(
            "serviceName",
            "string",
            f"{ASYNC}28; {CREATE_FUNCTION_DOC}",
            required=True,
            force_new=True,
            min_length=1,
            pattern=SERVICE_NAME,
        ),
        Field(
            "functionName",
            "string",
            f"{ASYNC}34; {CREATE_FUNCTION_DOC}",
            required=True,
            force_new=True,
            min_length=1,
            pattern=FUNCTION_NAME,
        ),
        Field("qualifier", "string", ASYNC + "40", force_new=True, min_length=1),
        Field("maximumEventAgeInSeconds", "int", ASYNC + "47", minimum=1, maximum=2592000),
        Field("maximumRetryAttempts", "int", ASYNC + "52", minimum=0, maximum=8),
        Field("statefulInvocation", "bool", ASYNC + "58"),
        Field("destinationConfig", "object", ASYNC + "62"),
        Field("destinationConfig.onFailure", "object", ASYNC + "68"),
        Field("destinationConfig.onFailure.destination", "string", ASYNC + "74", required=True),
        Field("destinationConfig.onSuccess", "object", ASYNC + "83"),
        Field("destinationConfig.onSuccess.destination", "string", ASYNC + "89", required=True),
    ),
    # The id is service:function:qualifier (:120, :169); `qualifier` defaults to LATEST (:44),
    # so a declaration that omits it has no identity here: set it explicitly.
    identity=("serviceName", "functionName", "qualifier"),
    identity_source=ASYNC + "120",
)

RESOURCES: tuple[Resource, ...] = (
    SERVICE_RESOURCE,
    FUNCTION_RESOURCE,
    TRIGGER_RESOURCE,
    ASYNC_INVOKE_CONFIG_RESOURCE,
)
