"""Function Compute limits as pure checks.

Each check returns the problems it found as messages that name the field, the value and what
is allowed, so that a caller can report every mistake of a configuration at once.

Where the facts come from (re-checked 2026-09; each constant below names its own source):

- "tf": terraform-provider-alicloud, the provider pulumi-alicloud bridges, read at the mirror's
  HEAD 81c43b67 (1.290.0-dev, 2026-08-21); `file:line` is a line of `alicloud/` there.
  pulumi-alicloud 4.0.0 bridges a slightly newer provider (its docs cite v1.295.0), so line
  numbers may drift; the cited validations match the 4.0.0 SDK's docstrings.
- "fc3-api": FC 3.0 API reference (2023-03-30), as generated into Alibaba's Go SDK
  alibabacloud-go/fc-20230330 (HEAD c3dd5f52, 2026-08-20), `client/<file>:<line>`; the same
  text is on the API page named next to it.
- "fc2-api": FC 2.0 API reference (2021-04-06), as generated into alibabacloud-go/fc-open-20210406
  (HEAD 9c6a96d5, 2023-12-29), `client/client.go:<line>`.
- Doc pages: title and URL. Where the provider and FC's own documentation disagree, the check
  follows FC (the provider only pre-validates; FC is what refuses the request).
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

# --- FC versions and runtimes ------------------------------------------------------------------

FC_VERSIONS = ("3.0", "2.0")
"""FC 3.0 (API 2023-03-30, `alicloud.fc.V3Function`) and legacy FC 2.0 (API 2021-04-06,
`alicloud.fc.Service` + `alicloud.fc.Function`). A choice of this library, not a platform fact."""
DEFAULT_FC_VERSION = "3.0"

RUNTIMES = ("custom.debian10", "custom.debian11", "custom.debian12", "custom")
"""FC 3.0: the custom runtimes a Rust bootstrap can run on (x86_64 Debian 10, 11, 12 and 9).

Sources: fc3-api create_function_input_model.go:202 (runtime list, API page "CreateFunctionInput"
https://www.alibabacloud.com/help/en/functioncompute/api-fc-2023-03-30-struct-createfunctioninput);
doc "Custom runtimes" https://www.alibabacloud.com/help/en/functioncompute/user-guide/overview-10
(custom.debian12 Debian 12 "public preview", custom.debian11 Debian 11, custom.debian10 Debian 10,
custom Debian 9, all x86_64); tf resource_alicloud_fcv3_function.go:570 accepts all four.
Not enforced here: the same page (ja, 2025-04) limits custom.debian12 to a few China regions.
The glibc versions (2.24 Debian 9 to 2.36 Debian 12) are Debian's; see infra/bootstrap/elf.py.
"""
RUNTIMES_FC2 = ("custom.debian10", "custom")
"""FC 2.0: only Debian 10 and Debian 9 custom runtimes.

Sources: fc2-api client.go:3327 (CreateFunction runtime list: ... custom.debian10, custom,
custom-container; no custom.debian11/12); doc "Overview" of FC 2.0 custom runtimes
https://www.alibabacloud.com/help/id/functioncompute/fc-2-0/user-guide/overview-10 (2025-06:
custom.debian10 and custom only). tf resource_alicloud_fc_function.go:95 does not validate it.
"""
DEFAULT_RUNTIME = "custom.debian10"
"""Valid on both FC versions (see RUNTIMES and RUNTIMES_FC2)."""
_RUNTIMES_BY_VERSION = {"3.0": RUNTIMES, "2.0": RUNTIMES_FC2}

# --- Resources ---------------------------------------------------------------------------------

MEMORY_MIN_MB = 128
MEMORY_MAX_MB = 32768
MEMORY_STEP_MB = 64
"""FC 3.0 memory: a multiple of 64 MB from 128 MB to 32768 MB (32 GB).

Sources: fc3-api create_function_input_model.go:182 ("multiple of 64 MB. Minimum value: 128.
Maximum value: 32768"); tf resource_alicloud_fcv3_function.go:478 validates only 64..32768, its
doc (website/docs/r/fcv3_function.html.markdown:144) states 128 MB to 32 GB in steps of 64 MB.
"""
MEMORY_MAX_MB_FC2 = 3072
"""FC 2.0 memory on the elastic instance type (`e1`), which is what RustFunction creates: the
provider's `instance_type` defaults to "e1" (tf resource_alicloud_fc_function.go:137) and
RustFunction never sets it. Multiple of 64 MB (fc2-api client.go:3325: "varies based on the
function instance type"), 128 MB to 3072 MB for elastic instances per doc "Instance types and
instance modes" https://www.alibabacloud.com/help/en/function-compute/latest/instance-types-and-instance-modes
(4-32 GB is the performance type `c1`). tf resource_alicloud_fc_function.go:93 accepts 128..32768
because it cannot know the instance type.
"""

CPU_MIN = Decimal("0.05")
CPU_MAX = Decimal(16)
CPU_STEP = Decimal("0.05")
CPU_MEMORY_RATIO_MAX_GB = 4
"""FC 3.0 CPU: a multiple of 0.05 vCPU from 0.05 to 16, with memory (GB) per vCPU from 1 to 4.

Sources: fc3-api create_function_input_model.go:89 ("multiple of 0.05 vCPU. Minimum value: 0.05.
Maximum value: 16. The ratio of cpu to memorySize (in GB) must be between 1:1 and 1:4");
tf resource_alicloud_fcv3_function.go:64 (FloatBetween(0.05, 16)). RustFunction sets no cpu on
FC 2.0 (infra/function.py refuses it), so there is no FC 2.0 variant.
"""

DISK_SIZES_MB = (512, 10240)
"""FC 3.0 writable disk: 512 MB or 10240 MB. Sources: fc3-api create_function_input_model.go:125
("Valid values: 512 and 10240"); tf resource_alicloud_fcv3_function.go:284 validates only >= 512,
its doc (fcv3_function.html.markdown:131) lists 512 or 10240. Not set on FC 2.0."""

TIMEOUT_MIN_S = 1
TIMEOUT_MAX_S = 86400
"""Timeout, both versions: 1 s to 86400 s (24 h).

FC 3.0: fc3-api create_function_input_model.go:224 ("Minimum value: 1. Maximum value: 86400");
tf resource_alicloud_fcv3_function.go:598 accepts 0..86400. FC 2.0: fc2-api client.go:3329
("Minimum value: 1", no maximum given) and doc "Instance types and instance modes" (URL above:
elastic instances run at most 86,400 s); tf resource_alicloud_fc_function.go:99 does not validate.
"""

CONCURRENCY_MIN = 1
CONCURRENCY_MAX = 200
"""Requests one instance serves at a time: 1 to 200 (custom runtimes and custom images).

FC 3.0: doc "配置单实例并发度" (Configure instance concurrency)
https://help.aliyun.com/document_detail/144586.html ("单实例并发度取值范围 1~200");
tf resource_alicloud_fcv3_function.go:337 accepts 0..200. FC 2.0: same limit assumed,
unconfirmed: the FC 2.0 pages found do not state the range and tf
resource_alicloud_fc_function.go:125 does not validate it.
"""

ENVIRONMENT_MAX_BYTES = 4096
ENVIRONMENT_RESERVED_PREFIX = "FC_"
"""Environment variables, both versions: keys start with a letter; all variables together at
most 4 KB; the FC_ prefix is reserved.

FC 3.0: doc "Configure environment variables"
https://www.alibabacloud.com/help/en/functioncompute/fc/environment-variables (2026-04: "A key
must start with a letter and can contain only letters, digits, and underscores"; "total size of
all environment variables cannot exceed 4 KB"; "reserved prefix FC_*"). FC 2.0: doc "Environment
variables" https://www.alibabacloud.com/help/en/doc-detail/69777.htm (same 4 KB and FC_*; its key
rule says "letters and digits" without underscores, the wording the FC 3.0 page also had until
2025 before it was corrected, so underscores are kept for FC 2.0 too: unconfirmed).
Unconfirmed: how FC counts the 4 KB (this check sums UTF-8 key and value bytes) and whether
KB means 4096 or 4000; whether the reserved prefix is case-insensitive (this check treats
`fc_` as reserved too, the safe side). tf resource_alicloud_fcv3_function.go:287 and
resource_alicloud_fc_function.go:80 validate none of this.
"""
ENVIRONMENT_RESERVED_KEYS_FC2 = ("accessKeyID", "accessKeySecret", "securityToken", "topic")
"""FC 2.0 reserves these keys as well as FC_*: doc "Environment variables"
https://www.alibabacloud.com/help/en/doc-detail/69777.htm ("you cannot use the system environment
variables that are reserved by Function Compute, including FC_*, accessKeyID, accessKeySecret,
securityToken, and topic"). The FC 3.0 page names only FC_*."""

CUSTOM_RUNTIME_PORT = 9000
"""FC's default CAPort; the only port RustFunction uses (see the README, FC 2.0 and `ca_port`).

Source: doc "Must the listening port of a custom runtime be the same as that of the HTTP server
of the custom runtime?" https://www.alibabacloud.com/help/doc-detail/209242.htm ("The default
listening port (CAPort) of a custom runtime is 9000"); tf resource_alicloud_fc_function.go:223
sends ca_port on create only for runtimes `custom` and `custom-container`.
"""

# --- Regions -----------------------------------------------------------------------------------

REGIONS = (
    "cn-hangzhou",
    "cn-shanghai",
    "cn-qingdao",
    "cn-beijing",
    "cn-zhangjiakou",
    "cn-huhehaote",
    "cn-wulanchabu",
    "cn-shenzhen",
    "cn-chengdu",
    "cn-hongkong",
    "ap-southeast-1",
    "ap-southeast-3",
    "ap-southeast-5",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "eu-central-1",
    "eu-west-1",
    "us-east-1",
    "us-west-1",
    "me-central-1",
)
"""Public-cloud regions where Function Compute (2.0 and 3.0 share the endpoints
`<account>.<region>.fc.aliyuncs.com`) is offered.

Source: doc "服務接入地址" (Function Compute endpoints, 2025-01-16)
https://www.alibabacloud.com/help/tc/doc-detail/52984.htm, which lists exactly these 21
(me-central-1, Saudi Arabia (Riyadh), is operated by a partner). Cross-checked: FC 3.0 API
endpoint page https://help.aliyun.com/en/functioncompute/api-fc-2023-03-30-endpoint (ap-southeast-2
Sydney "Decommissioned"); Alibaba's own Serverless Devs fc3 tool, devsapp/fc3
src/interface/region.ts (adds me-central-1 in 2025-06, no me-east-1); tf connectivity/regions.go:98
(`FcNoSupportedRegions = [me-east-1]`). The provider has no list of FC regions.
Not offered (were listed here before): me-east-1 (Dubai) and ap-south-1 (Mumbai, closed).
Finance, government and other industry-cloud regions are left out on purpose.
"""

# --- Names -------------------------------------------------------------------------------------

_FUNCTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
"""Function name, both versions: 1-64 letters, digits, `_` and `-`, not starting with a digit or
`-`. FC's own rule: fc3-api create_function_input_model.go:137 (API page "CreateFunctionInput",
URL at RUNTIMES) and fc2-api client.go:3293 ("1 to 64 characters"); also ROS doc
"ALIYUN::FC3::Function" https://www.alibabacloud.com/help/id/ros/developer-reference/aliyun-fc3-function.
The provider is looser: tf resource_alicloud_fcv3_function.go:304 checks only
^[0-9a-zA-Z_-]+$ and its text says 1~128 characters (fcv3_function.html.markdown:133);
tf resource_alicloud_fc_function.go:41 checks only 1..128. FC refuses what the provider lets
through, so 64 stays.
"""
_SERVICE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")
"""FC 2.0 service name (RustFunction names the service after the function): 1-128 letters, digits,
`-` and `_`, not starting with a digit or `-`. Source: fc2-api client.go:3939 (CreateService);
tf resource_alicloud_fc_service.go:36 checks only 1..128. Looser than the function name, so a
valid function name is always a valid service name."""
_TRIGGER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")
"""Trigger name, both versions: 1-128 letters, digits, `-` and `_`, not starting with a digit or
`-`. Sources: fc3-api create_trigger_input_model.go:77 and fc2-api client.go:4194;
tf resource_alicloud_fc_trigger.go:44 checks only 1..128, resource_alicloud_fcv3_trigger.go:98
nothing."""
_ALIAS_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")
"""Alias name (FC 3.0 only here): 1-128 letters, digits, `_` and `-`, not starting with a digit or
`-`, and not LATEST. Source: fc2-api client.go:2868 (CreateAlias: "... cannot be set to LATEST")
and doc "Aliases" https://www.alibabacloud.com/help/doc-detail/96352.htm ("LATEST is reserved by
Function Compute as name of default version"). The FC 3.0 API gives no rule for aliasName
(fc3-api create_alias_input_model.go:25), and tf resource_alicloud_fcv3_alias.go:35 checks
nothing: the FC 2.0 rule is assumed for FC 3.0 (same alias concept), unconfirmed."""
RESERVED_QUALIFIER = "LATEST"
"""The unpublished version's qualifier; no alias may take the name (see _ALIAS_NAME)."""
_ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
"""See ENVIRONMENT_MAX_BYTES for the source."""
_VERSION_ID = re.compile(r"^[1-9][0-9]*$")
"""A published FC 3.0 version id: decimal, increasing, never reused. Source: doc "Manage
versions" https://help.aliyun.com/en/functioncompute/fc/user-guide/manage-versions ("version
number monotonically increases and cannot be reused") and the PublishFunctionVersion example
`"versionId": "1"`; fc3-api version_model.go:41 types it as a string. That numbering starts at 1
is inferred from the examples, unconfirmed. tf resource_alicloud_fcv3_alias.go:58 checks nothing."""

# --- Container Registry (ACR) names -------------------------------------------------------------

ACR_NAME_LENGTHS = {
    ("personal", "namespace"): (2, 30),
    ("personal", "repository"): (2, 30),
    ("enterprise", "namespace"): (2, 120),
    ("enterprise", "repository"): (2, 64),
}
"""Length limits of ACR namespace and repository names by (edition, kind); the characters are
lower-case letters, digits and `.`, `_`, `-` not at either end.

Personal edition: tf resource_alicloud_cr_namespace.go:27 and resource_alicloud_cr_repo.go:29,35
(StringLenBetween(2, 30)): the provider refuses anything longer before ACR sees it. Enterprise
namespace: ACR API "CreateNamespace" https://help.aliyun.com/document_detail/451330.html (2-120,
delimiters not first or last; also alibabacloud-go/cr-20181201
client/create_namespace_request_model.go:52 and tf website/docs/r/cr_ee_namespace.html.markdown:64).
Enterprise repository: ROS doc "ALIYUN::CR::Repository"
https://help.aliyun.com/document_detail/135727.htm (2-64); the API and
tf resource_alicloud_cr_ee_repo.go:32 give no rule. infra/container.py's `_NAME` with 1-64 is
wrong on both ends: 1 character is refused everywhere, 31-64 by the personal-edition provider.
Not documented, kept from container.py: no two delimiters in a row (docker's reference grammar
refuses some of those, e.g. `..`).
"""
_ACR_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")


def check_runtime(runtime: str, *, fc_version: str = DEFAULT_FC_VERSION) -> list[str]:
    """The runtime is one of the custom runtimes a Rust bootstrap runs on, on that FC version."""
    allowed = _RUNTIMES_BY_VERSION.get(fc_version, RUNTIMES)
    if runtime in allowed:
        return []
    on_version = "" if fc_version == DEFAULT_FC_VERSION else f" on FC {fc_version}"
    return [f"runtime must be one of {', '.join(allowed)}{on_version}, got {runtime!r}"]


def check_fc_version(fc_version: str) -> list[str]:
    """Only FC 3.0 and the legacy FC 2.0 API are supported."""
    if fc_version in FC_VERSIONS:
        return []
    return [f"fc_version must be one of {', '.join(FC_VERSIONS)}, got {fc_version!r}"]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_memory_size(memory_size: int, *, fc_version: str = DEFAULT_FC_VERSION) -> list[str]:
    """Memory is a multiple of 64 MB from 128 MB to 32 GB (FC 2.0 elastic instance: 3 GB)."""
    maximum = MEMORY_MAX_MB_FC2 if fc_version == "2.0" else MEMORY_MAX_MB
    if (
        _is_int(memory_size)
        and MEMORY_MIN_MB <= memory_size <= maximum
        and memory_size % MEMORY_STEP_MB == 0
    ):
        return []
    on_version = " on FC 2.0 (elastic instance)" if fc_version == "2.0" else ""
    return [
        (
            f"memory_size must be a multiple of {MEMORY_STEP_MB} between {MEMORY_MIN_MB} and "
            f"{maximum} MB{on_version}, got {memory_size!r}"
        )
    ]


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def check_cpu(cpu: float, memory_size: int) -> list[str]:
    """CPU is a multiple of 0.05 vCPU in [0.05, 16], and memory(GB) per vCPU is in [1, 4]."""
    number = _decimal(cpu)
    if number is None or not CPU_MIN <= number <= CPU_MAX or number % CPU_STEP != 0:
        return [
            (
                f"cpu must be a multiple of {CPU_STEP} between {CPU_MIN} and {CPU_MAX} vCPU, "
                f"got {cpu!r}"
            )
        ]
    if not check_memory_size(memory_size):
        memory_gb = Decimal(memory_size) / 1024
        if not number <= memory_gb <= CPU_MEMORY_RATIO_MAX_GB * number:
            low, high = memory_gb / CPU_MEMORY_RATIO_MAX_GB, memory_gb
            return [
                (
                    f"cpu:memory_size must be between 1:1 and 1:4 (vCPU:GB), got cpu {cpu} with "
                    f"memory_size {memory_size} MB; for {memory_size} MB use cpu between "
                    f"{_round_up(low)} and {_round_down(high)}"
                )
            ]
    return []


def _round_up(value: Decimal) -> Decimal:
    steps = (value / CPU_STEP).to_integral_value(rounding=ROUND_CEILING)
    return max(CPU_MIN, (steps * CPU_STEP).quantize(CPU_STEP))


def least_cpu(memory_size: int) -> Decimal:
    """The least vCPU that FC 3.0 accepts with `memory_size` MB (memory(GB) <= 4 x vCPU)."""
    return _round_up(Decimal(memory_size) / 1024 / CPU_MEMORY_RATIO_MAX_GB)


def _round_down(value: Decimal) -> Decimal:
    return min(CPU_MAX, (value // CPU_STEP) * CPU_STEP)


def check_disk_size(disk_size: int) -> list[str]:
    """The writable /tmp disk is either 512 MB or 10 GB (FC 3.0)."""
    if _is_int(disk_size) and disk_size in DISK_SIZES_MB:
        return []
    allowed = " or ".join(str(size) for size in DISK_SIZES_MB)
    return [f"disk_size must be {allowed} MB, got {disk_size!r}"]


def check_timeout(timeout: int) -> list[str]:
    """An invocation may run from 1 second to 24 hours (both FC versions)."""
    if _is_int(timeout) and TIMEOUT_MIN_S <= timeout <= TIMEOUT_MAX_S:
        return []
    return [f"timeout must be between {TIMEOUT_MIN_S} and {TIMEOUT_MAX_S} seconds, got {timeout!r}"]


def check_instance_concurrency(instance_concurrency: int) -> list[str]:
    """One instance serves 1 to 200 requests at a time."""
    if _is_int(instance_concurrency) and CONCURRENCY_MIN <= instance_concurrency <= CONCURRENCY_MAX:
        return []
    return [
        (
            f"instance_concurrency must be between {CONCURRENCY_MIN} and {CONCURRENCY_MAX}, "
            f"got {instance_concurrency!r}"
        )
    ]


def check_function_name(function_name: str, *, fc_version: str = DEFAULT_FC_VERSION) -> list[str]:
    """1-64 letters, digits, `_` and `-`, starting with a letter or `_`.

    On FC 2.0 the name also names the service, so the service rule applies as well (it is
    looser, so it never adds a problem to a valid function name).
    """
    problems: list[str] = []
    if not (isinstance(function_name, str) and _FUNCTION_NAME.fullmatch(function_name)):
        problems.append(
            "function_name must be 1-64 letters, digits, '_' or '-' starting with a letter or "
            f"'_', got {function_name!r}"
        )
    if fc_version == "2.0" and not problems:
        problems += check_service_name(function_name)
    return problems


DESCRIPTION_MAX = 256
"""FC's function description: at most 256 characters (FC 3.0 CreateFunctionInput `description`,
https://www.alibabacloud.com/help/en/functioncompute/fc/developer-reference/api-fc-2023-03-30-struct-createfunctioninput;
the length is from that page as read by an earlier review, not re-checked here)."""
DESCRIPTION_ROOM = DESCRIPTION_MAX - 48
"""What is left for the user's description: FC 3.0 functions append the published code and
config to it (` [code <16> config <16>]`, 48 characters; `fc3.version_description`)."""


def check_description(description: str) -> list[str]:
    """A description that fits beside what the library appends to it."""
    if isinstance(description, str) and len(description) <= DESCRIPTION_ROOM:
        return []
    got = len(description) if isinstance(description, str) else repr(description)
    return [f"description must be a string of at most {DESCRIPTION_ROOM} characters, got {got}"]


def check_service_name(service_name: str) -> list[str]:
    """FC 2.0 service: 1-128 letters, digits, `_` and `-`, starting with a letter or `_`."""
    if isinstance(service_name, str) and _SERVICE_NAME.fullmatch(service_name):
        return []
    return [
        (
            "FC 2.0 service name must be 1-128 letters, digits, '_' or '-' starting with a "
            f"letter or '_', got {service_name!r}"
        )
    ]


def check_trigger_name(trigger_name: str) -> list[str]:
    """1-128 letters, digits, `_` and `-`, starting with a letter or `_`."""
    if isinstance(trigger_name, str) and _TRIGGER_NAME.fullmatch(trigger_name):
        return []
    return [
        (
            "timer name must be 1-128 letters, digits, '_' or '-' starting with a letter or '_', "
            f"got {trigger_name!r}"
        )
    ]


def check_alias_name(alias: str) -> list[str]:
    """1-128 letters, digits, `_` and `-`, starting with a letter or `_`; not `LATEST`."""
    if isinstance(alias, str) and _ALIAS_NAME.fullmatch(alias):
        if alias == RESERVED_QUALIFIER:
            return [
                (
                    f"alias must not be {RESERVED_QUALIFIER!r}: FC reserves it for the "
                    "unpublished version"
                )
            ]
        return []
    return [
        (
            "alias must be 1-128 letters, digits, '_' or '-' starting with a letter or '_', "
            f"got {alias!r}"
        )
    ]


def check_version_id(version: str) -> list[str]:
    """A published FC version id is a positive decimal number ("1", "2", ...)."""
    if isinstance(version, str) and _VERSION_ID.fullmatch(version):
        return []
    return [f"pinned_version must be a published version id such as '3', got {version!r}"]


def environment_key_problem(key: str, fc_version: str = DEFAULT_FC_VERSION) -> str | None:
    """Why FC would refuse `key` as an environment variable name, or None."""
    if key.upper().startswith(ENVIRONMENT_RESERVED_PREFIX):
        return (
            f"environment key {key!r} is not allowed: the FC_ prefix is reserved for the platform"
        )
    if fc_version == "2.0" and key in ENVIRONMENT_RESERVED_KEYS_FC2:
        return f"environment key {key!r} is not allowed: FC 2.0 reserves it for the platform"
    if not _ENV_KEY.fullmatch(key):
        return (
            f"environment key {key!r} must start with a letter and contain only letters, "
            "digits and '_'"
        )
    return None


def check_environment(
    plain: Mapping[str, str],
    secret_keys: Iterable[str],
    *,
    fc_version: str = DEFAULT_FC_VERSION,
) -> list[str]:
    """Keys are legal and not reserved, no key is set twice, and plain values fit in 4 KB.

    Secret values are not known before deployment, so only plain values count toward the
    size here; FC still rejects the whole set above 4 KB.
    """
    problems: list[str] = []
    secret = list(secret_keys)
    for key in [*plain, *secret]:
        problem = environment_key_problem(key, fc_version)
        if problem is not None:
            problems.append(problem)
    problems.extend(
        f"environment key {key!r} is set in both environment and secret_environment"
        for key in sorted(set(plain) & set(secret))
    )
    problems.extend(
        f"environment value of {key!r} must be a string, got {type(value).__name__}"
        for key, value in plain.items()
        if not isinstance(value, str)
    )
    size = sum(len(k.encode()) + len(str(v).encode()) for k, v in plain.items())
    size += sum(len(k.encode()) for k in secret)
    if size > ENVIRONMENT_MAX_BYTES:
        problems.append(
            f"environment must total at most {ENVIRONMENT_MAX_BYTES} bytes of keys and values, "
            f"got {size}"
        )
    return problems


def check_region(region: str) -> list[str]:
    """The region is one where Function Compute is offered (the same list for 2.0 and 3.0)."""
    if region in REGIONS:
        return []
    return [f"region must be a Function Compute region ({', '.join(REGIONS)}), got {region!r}"]


def check_acr_name(field: str, value: object, *, kind: str, edition: str = "personal") -> list[str]:
    """An ACR namespace or repository name (`kind`) of that edition: see ACR_NAME_LENGTHS.

    For infra/container.py, whose own rule (1-64 characters) is looser than ACR's.
    """
    low, high = ACR_NAME_LENGTHS.get((edition, kind), (2, 30))
    if isinstance(value, str) and low <= len(value) <= high and _ACR_NAME.fullmatch(value):
        return []
    return [
        (
            f"{field} must be {low}-{high} lower-case letters, digits and single '.', '_' or '-' "
            f"between them (ACR {edition} edition {kind}), got {value!r}"
        )
    ]


# --- Role and log names a user may give ---------------------------------------------------------

_ROLE_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")
"""A RAM role name the library accepts: 1-64 letters, digits and `-`. RAM allows 1-64 letters,
digits, `.` and `-` for a role (API CreateRole, https://www.alibabacloud.com/help/doc-detail/
159988.htm), but the role's log policy is named `<role>-logs` and a policy name allows no `.`
(API CreatePolicy, https://www.alibabacloud.com/help/doc-detail/159976.htm); the provider checks
neither (tf resource_alicloud_ram_role.go:63, resource_alicloud_ram_policy.go:50)."""
_LOG_PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
"""SLS project: 3-63 lower-case letters, digits and `-`, a letter or digit at each end (the rule
tf resource_alicloud_log_project.go:44 states in its message; its regex is looser). Unique per
region across every Alibaba Cloud account, not only yours."""
_LOGSTORE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$")
"""SLS logstore: 3-63 lower-case letters, digits, `-` and `_`, a letter or digit at each end
(SLS "Logstore" naming rules, https://www.alibabacloud.com/help/en/sls/developer-reference/
logstores); not checked by the provider."""
LOG_RETENTION_DAYS = (1, 3650)
"""SLS logstore ttl: 1-3650 days, 3650 keeping data for ever (SLS create_logstore,
https://www.alibabacloud.com/help/doc-detail/257837.htm); not checked by the provider."""


def check_role_name(role_name: str) -> list[str]:
    """A role name the library can create, with its `<role>-logs` policy."""
    if isinstance(role_name, str) and _ROLE_NAME.fullmatch(role_name):
        return []
    return [
        (
            "role.role_name must be 1-64 letters, digits and '-' (RAM allows '.' in a role name "
            f"but not in the name of its log policy, '<role>-logs'), got {role_name!r}"
        )
    ]


def check_log_names(
    project_name: object, logstore_name: object, retention_days: object
) -> list[str]:
    """The SLS project and logstore the library creates: their names and retention."""
    problems = []
    if project_name is not None and not (
        isinstance(project_name, str) and _LOG_PROJECT_NAME.fullmatch(project_name)
    ):
        problems.append(
            "logs.project_name must be 3-63 lower-case letters, digits and '-', a letter or digit "
            f"at each end, got {project_name!r}"
        )
    if logstore_name is not None and not (
        isinstance(logstore_name, str) and _LOGSTORE_NAME.fullmatch(logstore_name)
    ):
        problems.append(
            "logs.logstore_name must be 3-63 lower-case letters, digits, '-' and '_', a letter or "
            f"digit at each end, got {logstore_name!r}"
        )
    low, high = LOG_RETENTION_DAYS
    if retention_days is not None and not (
        _is_int(retention_days) and low <= int(str(retention_days)) <= high
    ):
        problems.append(f"logs.retention_days must be {low}-{high} days, got {retention_days!r}")
    return problems


# --- Asynchronous invocation (timers invoke asynchronously) -------------------------------------

ASYNC_RETRIES = (0, 8)
"""Retries of a failed asynchronous invocation: 0-8, FC's default 3 (FC 3.0 API
PutAsyncInvokeConfigInput.maxAsyncRetryAttempts, alibabacloud-go/fc-20230330
client/put_async_invoke_config_input_model.go:37; FC 2.0 PutFunctionAsyncInvokeConfig,
https://www.alibabacloud.com/help/en/fc/developer-reference/api-fc-open-2021-04-06-putfunctionasyncinvokeconfig;
tf resource_alicloud_fc_function_async_invoke_config.go:52 checks 0-8, the FC 3.0 resource does
not check)."""
ASYNC_EVENT_AGE_S = {"3.0": (1, 86400), "2.0": (1, 2592000)}
"""How long an asynchronous event may wait, by FC version. FC 3.0: the API allows 1-604800
(put_async_invoke_config_input_model.go:31) but the provider refuses above 86400
(tf resource_alicloud_fcv3_async_invoke_config.go:89, IntBetween(0, 86400)); FC 2.0: 1-2592000
(the FC 2.0 page above; tf resource_alicloud_fc_function_async_invoke_config.go:47)."""


def check_async_invoke(
    max_retries: object, max_event_age: object, *, fc_version: str = DEFAULT_FC_VERSION
) -> list[str]:
    """Retries and the event age of the asynchronous invocation config, where given."""
    problems = []
    low, high = ASYNC_RETRIES
    if max_retries is not None and not (
        _is_int(max_retries) and low <= int(str(max_retries)) <= high
    ):
        problems.append(f"async_invoke.max_retries must be {low}-{high}, got {max_retries!r}")
    low, high = ASYNC_EVENT_AGE_S.get(fc_version, ASYNC_EVENT_AGE_S[DEFAULT_FC_VERSION])
    if max_event_age is not None and not (
        _is_int(max_event_age) and low <= int(str(max_event_age)) <= high
    ):
        problems.append(
            f"async_invoke.max_event_age must be {low}-{high} seconds on FC {fc_version}, "
            f"got {max_event_age!r}"
        )
    return problems
