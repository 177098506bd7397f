"""Function Compute limits as pure checks.

Each check returns the problems it found as messages that name the field, the value and what
is allowed, so that a caller can report every mistake of a configuration at once.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import pulumi

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

RUNTIMES = ("custom.debian10", "custom.debian11", "custom.debian12", "custom")
"""The custom runtimes a Rust bootstrap can run on (x86_64 Debian, glibc 2.24 to 2.36)."""
DEFAULT_RUNTIME = "custom.debian10"
FC_VERSIONS = ("3.0", "2.0")
DEFAULT_FC_VERSION = "3.0"

MEMORY_MIN_MB = 128
MEMORY_MAX_MB = 32768
MEMORY_STEP_MB = 64
CPU_MIN = Decimal("0.05")
CPU_MAX = Decimal(16)
CPU_STEP = Decimal("0.05")
DISK_SIZES_MB = (512, 10240)
TIMEOUT_MIN_S = 1
TIMEOUT_MAX_S = 86400
CONCURRENCY_MIN = 1
CONCURRENCY_MAX = 200
ENVIRONMENT_MAX_BYTES = 4096
CUSTOM_RUNTIME_PORT = 9000
"""FC's default CAPort; the only port RustFunction uses (see the README, FC 2.0 and `ca_port`)."""

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
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-3",
    "ap-southeast-5",
    "ap-southeast-7",
    "ap-south-1",
    "eu-central-1",
    "eu-west-1",
    "us-west-1",
    "us-east-1",
    "me-east-1",
)
"""Regions where Function Compute 3.0 is offered (Alibaba Cloud's endpoint list, 2025)."""

_FUNCTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
_TRIGGER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")
_ALIAS_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")
_ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_VERSION_ID = re.compile(r"^[1-9][0-9]*$")


class ConfigError(pulumi.RunError, ValueError):
    """A configuration FC would refuse; the message lists every problem found, one a line.

    A `RunError`, so that `pulumi preview`/`up` print the message alone, not a traceback.
    """

    def __init__(self, subject: str, problems: Iterable[str]) -> None:
        """Collect `problems` about `subject` (a component or stack name) into one error."""
        self.subject = subject
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"invalid configuration for {subject}:\n{lines}")


def check_runtime(runtime: str) -> list[str]:
    """The runtime is one of the custom runtimes a Rust bootstrap runs on."""
    if runtime in RUNTIMES:
        return []
    return [f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}"]


def check_fc_version(fc_version: str) -> list[str]:
    """Only FC 3.0 and the legacy FC 2.0 API are supported."""
    if fc_version in FC_VERSIONS:
        return []
    return [f"fc_version must be one of {', '.join(FC_VERSIONS)}, got {fc_version!r}"]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_memory_size(memory_size: int) -> list[str]:
    """Memory is a multiple of 64 MB from 128 MB to 32 GB."""
    if (
        _is_int(memory_size)
        and MEMORY_MIN_MB <= memory_size <= MEMORY_MAX_MB
        and memory_size % MEMORY_STEP_MB == 0
    ):
        return []
    return [
        (
            f"memory_size must be a multiple of {MEMORY_STEP_MB} between {MEMORY_MIN_MB} and "
            f"{MEMORY_MAX_MB} MB, got {memory_size!r}"
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
        if not number <= memory_gb <= 4 * number:
            low, high = memory_gb / 4, memory_gb
            return [
                (
                    f"cpu:memory_size must be between 1:1 and 1:4 (vCPU:GB), got cpu {cpu} with "
                    f"memory_size {memory_size} MB; for {memory_size} MB use cpu between "
                    f"{_round_up(low)} and {_round_down(high)}"
                )
            ]
    return []


def _round_up(value: Decimal) -> Decimal:
    return max(CPU_MIN, -(-value // CPU_STEP) * CPU_STEP)


def _round_down(value: Decimal) -> Decimal:
    return min(CPU_MAX, (value // CPU_STEP) * CPU_STEP)


def check_disk_size(disk_size: int) -> list[str]:
    """The writable /tmp disk is either 512 MB or 10 GB."""
    if _is_int(disk_size) and disk_size in DISK_SIZES_MB:
        return []
    allowed = " or ".join(str(size) for size in DISK_SIZES_MB)
    return [f"disk_size must be {allowed} MB, got {disk_size!r}"]


def check_timeout(timeout: int) -> list[str]:
    """An invocation may run from 1 second to 24 hours."""
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


def check_function_name(function_name: str) -> list[str]:
    """1-64 letters, digits, `_` and `-`, starting with a letter or `_`."""
    if isinstance(function_name, str) and _FUNCTION_NAME.match(function_name):
        return []
    return [
        (
            "function_name must be 1-64 letters, digits, '_' or '-' starting with a letter or '_', "
            f"got {function_name!r}"
        )
    ]


def check_trigger_name(trigger_name: str) -> list[str]:
    """1-128 letters, digits, `_` and `-`, starting with a letter or `_`."""
    if isinstance(trigger_name, str) and _TRIGGER_NAME.match(trigger_name):
        return []
    return [
        (
            "timer name must be 1-128 letters, digits, '_' or '-' starting with a letter or '_', "
            f"got {trigger_name!r}"
        )
    ]


def check_alias_name(alias: str) -> list[str]:
    """1-128 letters, digits, `_` and `-`, starting with a letter or `_`."""
    if isinstance(alias, str) and _ALIAS_NAME.match(alias):
        return []
    return [
        (
            "alias must be 1-128 letters, digits, '_' or '-' starting with a letter or '_', "
            f"got {alias!r}"
        )
    ]


def check_version_id(version: str) -> list[str]:
    """A published FC version id is a positive decimal number ("1", "2", ...)."""
    if isinstance(version, str) and _VERSION_ID.match(version):
        return []
    return [f"pinned_version must be a published version id such as '3', got {version!r}"]


def check_environment(plain: Mapping[str, str], secret_keys: Iterable[str]) -> list[str]:
    """Keys are legal and not reserved, no key is set twice, and plain values fit in 4 KB.

    Secret values are not known before deployment, so only plain values count toward the
    size here; FC still rejects the whole set above 4 KB.
    """
    problems: list[str] = []
    secret = list(secret_keys)
    for key in [*plain, *secret]:
        if key.upper().startswith("FC_"):
            problems.append(
                f"environment key {key!r} is not allowed: "
                "the FC_ prefix is reserved for the platform"
            )
        elif not _ENV_KEY.match(key):
            problems.append(
                f"environment key {key!r} must start with a letter and contain only letters, "
                "digits and '_'"
            )
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
    """The region is one where Function Compute 3.0 is offered."""
    if region in REGIONS:
        return []
    return [f"region must be a Function Compute region ({', '.join(REGIONS)}), got {region!r}"]
