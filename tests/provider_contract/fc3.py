"""Function Compute 3.0: the `alicloud_fcv3_*` resources pulumi-alicloud bridges as `fc.V3*`.

Fields carry the provider's schema (`Required`, `ForceNew`, `ValidateFunc`), one source line
each. Inputs the provider only computes (`tracing_config`, `code_size`,
`custom_container_config.resolved_image_uri`, `custom_container_config.acceleration_info`,
`invocation_restriction.last_modified_time`, ...) are left out: the SDK's argument classes list
some of them, but the plugin SDK refuses a value for a computed-only attribute ("this field
cannot be set"), so setting one is a violation here too. Pulumi names list blocks in the plural
(`command` -> `commands`, `entrypoint` -> `entrypoints`), as `pulumi_alicloud/fc/_inputs.py`
spells them.

Rules carry what FC itself enforces and the provider does not check, each sourced to the FC
documentation page; where a page could not be found the source says "unconfirmed".

`git log v1.280.0..81c43b6 -- alicloud/resource_alicloud_fcv3_*.go` is empty: the newest change
to these files is 63ec0dc (2026-02-09, computed `tags` sub-elements), first released in
v1.271.0, so the schemas below are those of every release from 1.280.0 to the mirrored head.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from provider_contract.model import PROVIDER, Field, Resource, Rule
from provider_contract.rules import (
    between,
    exactly_one,
    http_trigger_config,
    load_json_object,
    matches,
    number,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

# --- sources ------------------------------------------------------------------------------------

_CREATE_FUNCTION_INPUT = (
    "FC 3.0 CreateFunctionInput, https://www.alibabacloud.com/help/en/functioncompute/fc/"
    "developer-reference/api-fc-2023-03-30-struct-createfunctioninput"
)
_CREATE_FUNCTION_INPUT_ZH = (
    "FC 3.0 CreateFunctionInput (zh), https://help.aliyun.com/zh/functioncompute/fc/"
    "developer-reference/api-fc-2023-03-30-struct-createfunctioninput"
)
_LIMITS = (
    "FC 3.0 limits (max run time 86400 s), https://alibabacloud.com/help/tc/functioncompute/"
    "fc-3-0/product-overview/limits-of-usage"
)
_CREATE_TRIGGER_INPUT = (
    "FC 3.0 CreateTriggerInput, https://alibabacloud.com/help/en/functioncompute/fc-3-0/"
    "developer-reference/api-fc-2023-03-30-struct-createtriggerinput"
)
_TIMER_TRIGGER_CONFIG = (
    "FC 3.0 TimerTriggerConfig, https://alibabacloud.com/help/en/functioncompute/"
    "api-fc-2023-03-30-struct-timertriggerconfig"
)
_TIME_TRIGGERS = (
    "FC Time triggers (trigger message at most 128 KB), https://www.alibabacloud.com/help/en/"
    "functioncompute/fc/user-guide/time-triggers"
)


def _fc2_create_alias(says: str) -> str:
    """FC 2.0's CreateAlias page, quoted: FC 3.0's CreateAliasInput states no naming rule."""
    return (
        f"FC 2.0 CreateAlias ({says}), https://www.alibabacloud.com/help/en/fc/"
        "developer-reference/api-fc-open-2021-04-06-createalias; unconfirmed for FC 3.0, whose "
        "CreateAliasInput (https://www.alibabacloud.com/help/en/functioncompute/fc/"
        "developer-reference/api-fc-2023-03-30-struct-createaliasinput) states no rule"
    )


def _function(line: int) -> str:
    return f"{PROVIDER}resource_alicloud_fcv3_function.go:{line}"


def _version(line: int) -> str:
    return f"{PROVIDER}resource_alicloud_fcv3_function_version.go:{line}"


def _alias(line: int) -> str:
    return f"{PROVIDER}resource_alicloud_fcv3_alias.go:{line}"


def _trigger(line: int) -> str:
    return f"{PROVIDER}resource_alicloud_fcv3_trigger.go:{line}"


def _async(line: int) -> str:
    return f"{PROVIDER}resource_alicloud_fcv3_async_invoke_config.go:{line}"


_SDK_ONLY = (
    "unconfirmed: in pulumi_alicloud 4.0.0 fc/_inputs.py "
    "(V3FunctionCustomContainerConfigRegistryConfig*Args) but not in the provider at 81c43b6; "
    "added by a later provider release"
)

# --- V3Function ---------------------------------------------------------------------------------

_FC_NAME = r"[A-Za-z_][A-Za-z0-9_-]{0,63}"
_TRIGGER_NAME = r"[A-Za-z_][A-Za-z0-9_-]{0,127}"
_ALIAS_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,127}")

_MEMORY_MIN, _MEMORY_MAX, _MEMORY_STEP = 128, 32768, 64
_CPU_MIN, _CPU_MAX, _CPU_STEP = Decimal("0.05"), Decimal(16), Decimal("0.05")
_DISK_SIZES = (512, 10240)


def _memory_size(inputs: Mapping[str, Any]) -> str | None:
    memory = number(inputs.get("memorySize"))
    if memory is None:
        return None
    if _MEMORY_MIN <= memory <= _MEMORY_MAX and memory % _MEMORY_STEP == 0:
        return None
    return (
        f"memorySize must be a multiple of {_MEMORY_STEP} MB from {_MEMORY_MIN} to "
        f"{_MEMORY_MAX} MB for FC (the provider allows 64 to 32768), got {memory}"
    )


def _cpu(inputs: Mapping[str, Any]) -> str | None:
    cpu = number(inputs.get("cpu"))
    if cpu is None:
        return None
    if _CPU_MIN <= cpu <= _CPU_MAX and cpu % _CPU_STEP == 0:
        return None
    return f"cpu must be a multiple of {_CPU_STEP} vCPU from {_CPU_MIN} to {_CPU_MAX}, got {cpu}"


def _cpu_memory_ratio(inputs: Mapping[str, Any]) -> str | None:
    cpu = number(inputs.get("cpu"))
    memory = number(inputs.get("memorySize"))
    if cpu is None or memory is None or cpu <= 0:
        return None
    memory_gb = memory / 1024
    if cpu <= memory_gb <= 4 * cpu:
        return None
    return (
        f"cpu:memorySize(GB) must be between 1:1 and 1:4, got cpu {cpu} with memorySize "
        f"{memory} MB ({memory_gb} GB)"
    )


def _disk_size(inputs: Mapping[str, Any]) -> str | None:
    disk = number(inputs.get("diskSize"))
    if disk is None or disk in _DISK_SIZES:
        return None
    return f"diskSize must be 512 or 10240 MB for FC (the provider allows any >= 512), got {disk}"


_FUNCTION_RULES = (
    Rule(
        "memorySize: a multiple of 64 MB from 128 MB to 32 GB (FC stricter than the provider's "
        "IntBetween(64, 32768) at resource_alicloud_fcv3_function.go:478)",
        _CREATE_FUNCTION_INPUT_ZH,
        _memory_size,
    ),
    Rule(
        "cpu: a multiple of 0.05 vCPU from 0.05 to 16 (the provider checks only the range, "
        "FloatBetween(0.05, 16) at resource_alicloud_fcv3_function.go:64)",
        _CREATE_FUNCTION_INPUT,
        _cpu,
    ),
    Rule(
        "cpu to memorySize (GB) ratio between 1:1 and 1:4 (not checked by the provider)",
        _CREATE_FUNCTION_INPUT,
        _cpu_memory_ratio,
    ),
    Rule(
        "diskSize: 512 or 10240 MB (FC stricter than the provider's IntAtLeast(512) at "
        "resource_alicloud_fcv3_function.go:284)",
        _CREATE_FUNCTION_INPUT,
        _disk_size,
    ),
    matches(
        "functionName",
        _FC_NAME,
        "1-64 letters, digits, '_' or '-', not starting with a digit or '-'",
        _CREATE_FUNCTION_INPUT,
        note="FC is stricter: the provider's StringMatch(^[0-9a-zA-Z_-]+$) at "
        "resource_alicloud_fcv3_function.go:304 checks neither length nor first character; its "
        "message says 1~128 and 'must begin with a letter or _', its regex enforces neither",
    ),
    exactly_one(
        ("code", "customContainerConfig"),
        _CREATE_FUNCTION_INPUT + ' ("Specify either code or customContainerConfig")',
        note="the provider sends whichever is set",
    ),
    between(
        "timeout",
        1,
        86400,
        _LIMITS + "; minimum 1 unconfirmed: no FC page found stating it",
        note="provider: IntBetween(0, 86400) at resource_alicloud_fcv3_function.go:598",
    ),
    between(
        "instanceConcurrency",
        1,
        200,
        "unconfirmed: no FC 3.0 page found stating the range; CreateFunctionInput "
        "(" + _CREATE_FUNCTION_INPUT + ") says only 'The maximum concurrency of an instance'; "
        "200 is the provider's maximum",
        note="provider: IntBetween(0, 200) at resource_alicloud_fcv3_function.go:337",
    ),
)

_HEALTH_CHECK: tuple[tuple[str, int, tuple[int, int] | None], ...] = (
    # (sub-field, line offset from the block's first sub-field, IntBetween bounds); both
    # health_check_config blocks list them in this order, ValidateFunc 4 lines below each key.
    ("initialDelaySeconds", 0, (0, 120)),
    ("timeoutSeconds", 6, (0, 3)),
    ("httpGetUrl", 12, None),
    ("periodSeconds", 17, (0, 120)),
    ("failureThreshold", 23, (0, 120)),
    ("successThreshold", 29, (0, 120)),
)


def _health_check_fields(block: str, first_line: int) -> tuple[Field, ...]:
    """The `healthCheckConfig` sub-fields of `block`, whose first sub-field is at `first_line`."""
    fields = []
    for name, offset, bounds in _HEALTH_CHECK:
        line = first_line + offset
        path = f"{block}.healthCheckConfig.{name}"
        if bounds is None:
            fields.append(Field(path, "string", _function(line)))
        else:
            low, high = bounds
            source = _function(line + 4) + f" IntBetween({low}, {high})"
            fields.append(Field(path, "int", source, minimum=low, maximum=high))
    return tuple(fields)


_FUNCTION_FIELDS: tuple[Field, ...] = (
    # code (MaxItems 1)
    Field("code", "object", _function(30)),
    Field("code.zipFile", "string", _function(36)),
    Field("code.checksum", "string", _function(40) + " (Sensitive)"),
    Field("code.ossObjectName", "string", _function(45)),
    Field("code.ossBucketName", "string", _function(49)),
    Field("cpu", "float", _function(64) + " FloatBetween(0.05, 16)", minimum=0.05, maximum=16),
    # custom_container_config (MaxItems 1)
    Field("customContainerConfig", "object", _function(70)),
    Field("customContainerConfig.entrypoints", "list", _function(80) + " (entrypoint)"),
    Field("customContainerConfig.entrypoints[]", "string", _function(83)),
    Field(
        "customContainerConfig.acrInstanceId",
        "string",
        _function(85) + " (Deprecated since 1.228.0, still sent on create: line 811)",
    ),
    Field("customContainerConfig.commands", "list", _function(104) + " (command)"),
    Field("customContainerConfig.commands[]", "string", _function(107)),
    Field(
        "customContainerConfig.accelerationType",
        "string",
        _function(113) + ' StringInSlice("Default", "None") (Deprecated since 1.228.0)',
        allowed=("Default", "None"),
    ),
    Field("customContainerConfig.port", "int", _function(115) + " (no ValidateFunc)"),
    Field("customContainerConfig.healthCheckConfig", "object", _function(119)),
    *_health_check_fields("customContainerConfig", 126),
    Field("customContainerConfig.image", "string", _function(164)),
    Field("customContainerConfig.registryConfig", "object", _SDK_ONLY),
    Field("customContainerConfig.registryConfig.authConfig", "object", _SDK_ONLY),
    Field("customContainerConfig.registryConfig.authConfig.userName", "string", _SDK_ONLY),
    Field("customContainerConfig.registryConfig.authConfig.password", "string", _SDK_ONLY),
    Field("customContainerConfig.registryConfig.certConfig", "object", _SDK_ONLY),
    Field("customContainerConfig.registryConfig.certConfig.insecure", "bool", _SDK_ONLY),
    Field("customContainerConfig.registryConfig.certConfig.rootCaCertBase64", "string", _SDK_ONLY),
    Field("customContainerConfig.registryConfig.networkConfig", "object", _SDK_ONLY),
    Field(
        "customContainerConfig.registryConfig.networkConfig.securityGroupId", "string", _SDK_ONLY
    ),
    Field("customContainerConfig.registryConfig.networkConfig.vpcId", "string", _SDK_ONLY),
    Field("customContainerConfig.registryConfig.networkConfig.vswitchId", "string", _SDK_ONLY),
    # custom_dns (MaxItems 1)
    Field("customDns", "object", _function(171)),
    Field("customDns.searches", "list", _function(177)),
    Field("customDns.searches[]", "string", _function(180)),
    Field("customDns.dnsOptions", "list", _function(182)),
    Field("customDns.dnsOptions[]", "object", _function(185)),
    Field("customDns.dnsOptions[].value", "string", _function(187)),
    Field("customDns.dnsOptions[].name", "string", _function(191)),
    Field("customDns.nameServers", "list", _function(198)),
    Field("customDns.nameServers[]", "string", _function(201)),
    # custom_runtime_config (MaxItems 1)
    Field("customRuntimeConfig", "object", _function(206)),
    Field("customRuntimeConfig.args", "list", _function(212)),
    Field("customRuntimeConfig.args[]", "string", _function(215)),
    Field("customRuntimeConfig.commands", "list", _function(217) + " (command)"),
    Field("customRuntimeConfig.commands[]", "string", _function(220)),
    Field(
        "customRuntimeConfig.port",
        "int",
        _function(226) + " IntBetween(0, 65535)",
        minimum=0,
        maximum=65535,
    ),
    Field("customRuntimeConfig.healthCheckConfig", "object", _function(228)),
    *_health_check_fields("customRuntimeConfig", 235),
    Field("description", "string", _function(276)),
    Field("diskSize", "int", _function(284) + " IntAtLeast(512)", minimum=512),
    Field("environmentVariables", "map", _function(287)),
    Field(
        "functionName",
        "string",
        _function(299) + " ForceNew (303), StringMatch(^[0-9a-zA-Z_-]+$) (304)",
        force_new=True,
        pattern=r"[0-9a-zA-Z_-]+",
    ),
    # gpu_config (MaxItems 1)
    Field("gpuConfig", "object", _function(306)),
    Field("gpuConfig.gpuMemorySize", "int", _function(312)),
    Field(
        "gpuConfig.gpuType",
        "string",
        _function(319) + " StringInSlice",
        allowed=("fc.gpu.tesla.1", "fc.gpu.ampere.1", "fc.gpu.ada.1", "g1"),
    ),
    Field("handler", "string", _function(324) + " Required", required=True),
    Field("idleTimeout", "int", _function(328) + " ForceNew", force_new=True),
    Field(
        "instanceConcurrency",
        "int",
        _function(337) + " IntBetween(0, 200)",
        minimum=0,
        maximum=200,
    ),
    Field("instanceIsolationMode", "string", _function(339)),
    # instance_lifecycle_config (MaxItems 1, pre_stop and initializer MaxItems 1)
    Field("instanceLifecycleConfig", "object", _function(344)),
    Field("instanceLifecycleConfig.preStop", "object", _function(350)),
    Field(
        "instanceLifecycleConfig.preStop.timeout",
        "int",
        _function(359) + " IntBetween(0, 900)",
        minimum=0,
        maximum=900,
    ),
    Field("instanceLifecycleConfig.preStop.handler", "string", _function(361)),
    Field("instanceLifecycleConfig.initializer", "object", _function(368)),
    Field("instanceLifecycleConfig.initializer.commands", "list", _function(374) + " (command)"),
    Field("instanceLifecycleConfig.initializer.commands[]", "string", _function(377)),
    Field(
        "instanceLifecycleConfig.initializer.timeout",
        "int",
        _function(382) + " IntBetween(0, 600)",
        minimum=0,
        maximum=600,
    ),
    Field("instanceLifecycleConfig.initializer.handler", "string", _function(384)),
    Field("internetAccess", "bool", _function(394)),
    # invocation_restriction (MaxItems 1; last_modified_time is computed)
    Field("invocationRestriction", "object", _function(399)),
    Field("invocationRestriction.disable", "bool", _function(409)),
    Field("invocationRestriction.reason", "string", _function(413)),
    Field("layers", "list", _function(436)),
    Field("layers[]", "string", _function(439)),
    # log_config (MaxItems 1)
    Field("logConfig", "object", _function(441)),
    Field("logConfig.project", "string", _function(447)),
    Field(
        "logConfig.logBeginRule",
        "string",
        _function(455) + ' StringInSlice("None", "DefaultRegex")',
        allowed=("None", "DefaultRegex"),
    ),
    Field("logConfig.logstore", "string", _function(457)),
    Field("logConfig.enableInstanceMetrics", "bool", _function(461)),
    Field("logConfig.enableRequestMetrics", "bool", _function(466)),
    Field(
        "memorySize", "int", _function(478) + " IntBetween(64, 32768)", minimum=64, maximum=32768
    ),
    # nas_config (MaxItems 1)
    Field("nasConfig", "object", _function(480)),
    Field("nasConfig.mountPoints", "list", _function(487)),
    Field("nasConfig.mountPoints[]", "object", _function(490)),
    Field("nasConfig.mountPoints[].enableTls", "bool", _function(492)),
    Field("nasConfig.mountPoints[].serverAddr", "string", _function(496)),
    Field("nasConfig.mountPoints[].mountDir", "string", _function(500)),
    Field("nasConfig.userId", "int", _function(507)),
    Field("nasConfig.groupId", "int", _function(512)),
    # oss_mount_config (MaxItems 1)
    Field("ossMountConfig", "object", _function(520)),
    Field("ossMountConfig.mountPoints", "list", _function(527)),
    Field("ossMountConfig.mountPoints[]", "object", _function(530)),
    Field("ossMountConfig.mountPoints[].readOnly", "bool", _function(532)),
    Field("ossMountConfig.mountPoints[].bucketName", "string", _function(536)),
    Field("ossMountConfig.mountPoints[].endpoint", "string", _function(540)),
    Field("ossMountConfig.mountPoints[].bucketPath", "string", _function(544)),
    Field("ossMountConfig.mountPoints[].mountDir", "string", _function(548)),
    Field("resourceGroupId", "string", _function(558)),
    Field("role", "string", _function(563)),
    Field(
        "runtime",
        "string",
        _function(567) + " Required, StringInSlice (line 570)",
        required=True,
        allowed=(
            "python3.10",
            "python3.9",
            "python3",
            "nodejs20",
            "nodejs18",
            "nodejs16",
            "nodejs14",
            "java11",
            "java8",
            "php7.2",
            "dotnetcore3.1",
            "go1",
            "custom.debian10",
            "custom",
            "custom-container",
            "python3.12",
            "custom.debian11",
            "custom.debian12",
        ),
    ),
    Field("sessionAffinity", "string", _function(572)),
    Field("sessionAffinityConfig", "string", _function(577)),
    Field("tags", "map", _function(593) + " tagsSchema(): TypeMap, Optional (tags.go:28)"),
    Field("timeout", "int", _function(598) + " IntBetween(0, 86400)", minimum=0, maximum=86400),
    # vpc_config (MaxItems 1)
    Field("vpcConfig", "object", _function(617)),
    Field("vpcConfig.vpcId", "string", _function(624)),
    Field("vpcConfig.vswitchIds", "list", _function(629)),
    Field("vpcConfig.vswitchIds[]", "string", _function(632)),
    Field("vpcConfig.securityGroupId", "string", _function(634)),
)

_FUNCTION_DELETE_SOURCE = (
    "The provider's delete (resource_alicloud_fcv3_function.go:1961-1993) sends DELETE "
    "/2023-03-30/functions/<name> alone, retrying only 429 and NeedRetry errors, and removes "
    "nothing inside the function. Whether FC 3.0 refuses is unconfirmed: no FC 3.0 "
    "DeleteFunction page was found; FC 2.0 DeleteFunction says 'Before you delete a function, "
    "you must delete triggers of the function' (https://www.alibabacloud.com/help/en/fc/"
    "developer-reference/api-fc-open-2021-04-06-deletefunction); Serverless Devs fc3 `s remove` "
    "deletes triggers, aliases and every version before DeleteFunction (devsapp/fc3 "
    "src/subCommands/remove/index.ts); FC 3.0 does refuse while a provision config remains "
    "(409 ProvisionConfigExist, aliyun/terraform-provider-alicloud PR #10352, after 81c43b6)"
)


def _function_refuses_delete(inputs: Mapping[str, Any], remaining: int) -> str | None:
    if remaining <= 0:
        return None
    name = inputs.get("functionName")
    return (
        f"deleting function {name!r} while {remaining} version(s), alias(es) or trigger(s) "
        f"remain ({_FUNCTION_DELETE_SOURCE})"
    )


V3_FUNCTION = Resource(
    type="alicloud:fc/v3Function:V3Function",
    terraform="alicloud_fcv3_function",
    fields=_FUNCTION_FIELDS,
    identity=("functionName",),
    scope="region",
    identity_source=_function(992) + ' d.SetId(fmt.Sprint(response["functionName"]))',
    rules=_FUNCTION_RULES,
    refuses_delete=_function_refuses_delete,
)

# --- V3FunctionVersion --------------------------------------------------------------------------

V3_FUNCTION_VERSION = Resource(
    type="alicloud:fc/v3FunctionVersion:V3FunctionVersion",
    terraform="alicloud_fcv3_function_version",
    fields=(
        Field("description", "string", _version(32) + " ForceNew", force_new=True),
        Field(
            "functionName",
            "string",
            _version(37) + " Required, ForceNew",
            required=True,
            force_new=True,
        ),
    ),
    identity=(),
    identity_source=(
        _version(89)
        + ' d.SetId(functionName:response["versionId"]): FC assigns the version id, so two '
        "versions never collide"
    ),
)

# --- V3Alias ------------------------------------------------------------------------------------


def _alias_name(inputs: Mapping[str, Any]) -> str | None:
    name = inputs.get("aliasName")
    if name is None:
        return (
            "aliasName is not set: the provider sends it on create regardless "
            '(resource_alicloud_fcv3_alias.go:78 request["aliasName"] = d.Get("alias_name")), '
            "so FC receives an empty name"
        )
    if not isinstance(name, str):
        return None
    if name == "LATEST" or not _ALIAS_NAME.fullmatch(name):
        return (
            "aliasName must be 1-128 letters, digits, '_' or '-', not starting with a digit or "
            f"'-', and not LATEST, got {name!r}"
        )
    return None


def _alias_version(inputs: Mapping[str, Any]) -> str | None:
    if inputs.get("versionId") is not None:
        return None
    return "versionId is not set: FC requires the version the alias points to"


def _alias_weights(inputs: Mapping[str, Any]) -> str | None:
    weights = inputs.get("additionalVersionWeight")
    if not isinstance(weights, dict):
        return None
    for version, weight in weights.items():
        share = number(weight)
        if share is None or not 0 <= share <= 1:
            return (
                f"additionalVersionWeight[{version!r}] must be a number from 0 to 1, got {weight!r}"
            )
    return None


V3_ALIAS = Resource(
    type="alicloud:fc/v3Alias:V3Alias",
    terraform="alicloud_fcv3_alias",
    fields=(
        Field("additionalVersionWeight", "map", _alias(30) + " TypeMap of TypeFloat"),
        Field(
            "aliasName",
            "string",
            _alias(35) + " Optional, Computed, ForceNew (no ValidateFunc)",
            force_new=True,
        ),
        Field("description", "string", _alias(45)),
        Field(
            "functionName",
            "string",
            _alias(49) + " Required, ForceNew",
            required=True,
            force_new=True,
        ),
        Field("versionId", "string", _alias(58) + " Optional (updated in place)"),
    ),
    identity=("functionName", "aliasName"),
    identity_source=_alias(107) + ' d.SetId(functionName:response["aliasName"])',
    rules=(
        Rule(
            "aliasName: set, 1-128 characters, not LATEST",
            _fc2_create_alias(
                "aliasName Required; letters, digits, _ and -, not starting with a digit or -, "
                "1 to 128 characters, cannot be LATEST"
            ),
            _alias_name,
        ),
        Rule(
            "versionId: required by FC (Optional in the provider)",
            _fc2_create_alias("versionId Required: Yes"),
            _alias_version,
        ),
        Rule(
            "additionalVersionWeight: each weight from 0 to 1",
            _fc2_create_alias("additionalVersionWeight: the traffic weight, valid values 0 to 1"),
            _alias_weights,
        ),
    ),
)

# --- V3Trigger ----------------------------------------------------------------------------------

_TIMER_KEYS = {"cronExpression": str, "enable": bool, "payload": str}
_PAYLOAD_MAX_BYTES = 128 * 1024


def _timer_config_problem(config: dict[str, object]) -> str | None:
    unknown = sorted(set(config) - set(_TIMER_KEYS))
    if unknown:
        return f"timer triggerConfig has keys {unknown} besides cronExpression, enable, payload"
    if not config.get("cronExpression"):
        return "timer triggerConfig needs a non-empty cronExpression"
    for key, kind in _TIMER_KEYS.items():
        if key in config and not isinstance(config[key], kind):
            return f"timer triggerConfig.{key} must be a {kind.__name__}, got {config[key]!r}"
    payload = config.get("payload", "")
    size = len(payload.encode()) if isinstance(payload, str) else 0
    if size > _PAYLOAD_MAX_BYTES:
        return f"timer triggerConfig.payload must be at most 128 KB (131072 bytes), got {size}"
    return None


def _timer_config(inputs: Mapping[str, Any]) -> str | None:
    if inputs.get("triggerType") != "timer":
        return None
    text = inputs.get("triggerConfig")
    if text is None:
        return (
            "a timer trigger needs triggerConfig: the provider sends it on create regardless "
            "(resource_alicloud_fcv3_trigger.go:132), an empty string when unset"
        )
    if not isinstance(text, str):
        return None
    config, problem = load_json_object("timer triggerConfig", text)
    if config is None:
        return problem
    return _timer_config_problem(config)


V3_TRIGGER = Resource(
    type="alicloud:fc/v3Trigger:V3Trigger",
    terraform="alicloud_fcv3_trigger",
    fields=(
        Field("description", "string", _trigger(34)),
        Field(
            "functionName",
            "string",
            _trigger(38) + " Required, ForceNew",
            required=True,
            force_new=True,
        ),
        Field("invocationRole", "string", _trigger(59)),
        Field(
            "qualifier",
            "string",
            _trigger(67) + " Required, ForceNew",
            required=True,
            force_new=True,
        ),
        Field(
            "sourceArn", "string", _trigger(72) + " Optional, Computed, ForceNew", force_new=True
        ),
        Field(
            "triggerConfig",
            "string",
            _trigger(86) + " (JSON; DiffSuppressFunc compares it as JSON, line 89)",
        ),
        Field(
            "triggerName",
            "string",
            _trigger(98) + " Optional, Computed, ForceNew (no ValidateFunc)",
            force_new=True,
        ),
        Field(
            "triggerType",
            "string",
            _trigger(104) + " Required, ForceNew (no ValidateFunc)",
            required=True,
            force_new=True,
        ),
    ),
    identity=("functionName", "triggerName"),
    identity_source=_trigger(160) + ' d.SetId(functionName:response["triggerName"])',
    rules=(
        matches(
            "triggerName",
            _TRIGGER_NAME,
            "1-128 letters, digits, '_' or '-', not starting with a digit or '-'",
            _CREATE_TRIGGER_INPUT,
            note="not checked by the provider",
        ),
        Rule(
            "timer triggerConfig: a JSON object of cronExpression (string), enable (bool) and "
            "payload (string, at most 128 KB); the keys are those of the provider's own timer "
            "test (resource_alicloud_fcv3_trigger_test.go:320)",
            _TIMER_TRIGGER_CONFIG + "; " + _TIME_TRIGGERS,
            _timer_config,
        ),
        http_trigger_config(
            "triggerType",
            "triggerConfig",
            frozenset({"authType", "authConfig", "methods", "disableURLInternet"}),
            "FC 3.0 HTTPTriggerConfig (alibabacloud.com/help/en/functioncompute/fc/"
            "developer-reference/api-fc-2023-03-30-struct-httptriggerconfig); the provider's "
            "test (resource_alicloud_fcv3_trigger_test.go:257); not checked by the provider",
        ),
    ),
)

# --- V3AsyncInvokeConfig ------------------------------------------------------------------------

V3_ASYNC_INVOKE_CONFIG = Resource(
    type="alicloud:fc/v3AsyncInvokeConfig:V3AsyncInvokeConfig",
    terraform="alicloud_fcv3_async_invoke_config",
    fields=(
        Field("asyncTask", "bool", _async(30)),
        Field("destinationConfig", "object", _async(38)),
        Field("destinationConfig.onSuccess", "object", _async(44)),
        Field("destinationConfig.onSuccess.destination", "string", _async(50)),
        Field("destinationConfig.onFailure", "object", _async(57)),
        Field("destinationConfig.onFailure.destination", "string", _async(63)),
        Field(
            "functionName",
            "string",
            _async(77) + " Required, ForceNew",
            required=True,
            force_new=True,
        ),
        Field(
            "maxAsyncEventAgeInSeconds",
            "int",
            _async(89) + " IntBetween(0, 86400); the API's own range is 1-604800 "
            "(client/put_async_invoke_config_input_model.go:31)",
            minimum=1,
            maximum=86400,
        ),
        Field(
            "maxAsyncRetryAttempts",
            "int",
            _async(91) + " (no ValidateFunc); FC 3.0 API PutAsyncInvokeConfigInput: 0-8, "
            "alibabacloud-go/fc-20230330 client/put_async_invoke_config_input_model.go:37",
            minimum=0,
            maximum=8,
        ),
        Field(
            "qualifier",
            "string",
            _async(95) + " Optional, not ForceNew; sent as a query parameter on create/update/"
            "delete (lines 149, 313, 349) but not part of the id and not read back",
        ),
    ),
    identity=("functionName", "qualifier"),
    identity_defaults=(("qualifier", "LATEST"),),
    identity_source=(
        _async(172) + " d.SetId(fmt.Sprint(functionName)): the qualifier is not in the id, so "
        "two configs of one function (different qualifiers) share the provider's id; FC keeps "
        "one config per function and qualifier (PutAsyncInvokeConfig, no qualifier: LATEST), "
        "which is what two of them must not share"
    ),
)

# --- V3CustomDomain -----------------------------------------------------------------------------


def _domain(line: int) -> str:
    return f"{PROVIDER}resource_alicloud_fcv3_custom_domain.go:{line}"


def _route(path: str, line: int) -> Field:
    return Field(f"routeConfig.routes[].{path}", "string", _domain(line))


V3_CUSTOM_DOMAIN = Resource(
    type="alicloud:fc/v3CustomDomain:V3CustomDomain",
    terraform="alicloud_fcv3_custom_domain",
    fields=(
        Field(
            "customDomainName",
            "string",
            _domain(123) + " Optional, Computed, ForceNew",
            force_new=True,
        ),
        Field(
            "protocol",
            "string",
            _domain(133) + " StringInSlice",
            allowed=("HTTP", "HTTPS", "HTTP,HTTPS"),
        ),
        Field("routeConfig", "object", _domain(138) + " MaxItems 1"),
        Field("routeConfig.routes", "list", _domain(144)),
        Field("routeConfig.routes[]", "object", _domain(147)),
        _route("path", 149),
        _route("functionName", 153),
        _route("qualifier", 157),
        Field("routeConfig.routes[].methods", "list", _domain(219)),
        Field("routeConfig.routes[].methods[]", "string", _domain(221)),
        Field("certConfig", "object", _domain(59) + " MaxItems 1, Optional, Computed"),
        Field("certConfig.certName", "string", _domain(71)),
        Field("certConfig.certificate", "string", _domain(75)),
        Field("certConfig.privateKey", "string", _domain(66) + " Sensitive"),
    ),
    identity=("customDomainName",),
    # A domain name is served by one account's FC in a region: FC refuses a domain another
    # account or region has (DomainNameAlreadyExists; unconfirmed here beyond the id).
    scope="global",
    identity_source=_domain(495) + ' d.SetId(fmt.Sprint(response["domainName"]))',
    rules=(
        Rule(
            "HTTPS needs certConfig (FC 3.0 CreateCustomDomainInput: certConfig for HTTPS)",
            "FC 3.0 CreateCustomDomainInput (alibabacloud.com/help/en/functioncompute/fc/"
            "developer-reference/api-fc-2023-03-30-createcustomdomain); not checked by the "
            "provider",
            lambda inputs: (
                "protocol HTTPS needs certConfig"
                if "HTTPS" in str(inputs.get("protocol", "")) and not inputs.get("certConfig")
                else None
            ),
        ),
    ),
)

RESOURCES: tuple[Resource, ...] = (
    V3_CUSTOM_DOMAIN,
    V3_FUNCTION,
    V3_FUNCTION_VERSION,
    V3_ALIAS,
    V3_TRIGGER,
    V3_ASYNC_INVOKE_CONFIG,
)
