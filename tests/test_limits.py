"""FC limits as pure checks: each rule accepts its edges and names field, value and range."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from infra import fc3, limits
from infra.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("memory_size", [128, 192, 1024, 32768])
def test_memory_size_accepts_multiples_of_64_in_range(memory_size: int) -> None:
    assert limits.check_memory_size(memory_size) == []


@pytest.mark.parametrize("memory_size", [100, 64, 32832, 200, 0, -128])
def test_memory_size_rejects_with_the_range(memory_size: int) -> None:
    assert limits.check_memory_size(memory_size) == [
        f"memory_size must be a multiple of 64 between 128 and 32768 MB, got {memory_size}"
    ]


@pytest.mark.parametrize(
    ("cpu", "memory_size"),
    [(0.05, 128), (0.1, 128), (1, 1024), (1, 4096), (16, 32768), (0.35, 512)],
)
def test_cpu_accepts_steps_and_ratios_in_range(cpu: float, memory_size: int) -> None:
    assert limits.check_cpu(cpu, memory_size) == []


@pytest.mark.parametrize("cpu", [0.07, 0.0, 16.05, -1])
def test_cpu_rejects_off_step_or_out_of_range(cpu: float) -> None:
    assert limits.check_cpu(cpu, 1024) == [
        f"cpu must be a multiple of 0.05 between 0.05 and 16 vCPU, got {cpu}"
    ]


def test_cpu_rejects_too_much_cpu_for_the_memory() -> None:
    assert limits.check_cpu(2, 1024) == [
        (
            "cpu:memory_size must be between 1:1 and 1:4 (vCPU:GB), got cpu 2 with memory_size "
            "1024 MB; for 1024 MB use cpu between 0.25 and 1.00"
        )
    ]


def test_cpu_rejects_too_little_cpu_for_the_memory() -> None:
    (message,) = limits.check_cpu(0.5, 4096)
    assert (
        "got cpu 0.5 with memory_size 4096 MB; for 4096 MB use cpu between 1.00 and 4.00" in message
    )


@pytest.mark.parametrize("disk_size", [512, 10240])
def test_disk_size_accepts_the_two_sizes(disk_size: int) -> None:
    assert limits.check_disk_size(disk_size) == []


def test_disk_size_rejects_other_sizes() -> None:
    assert limits.check_disk_size(1024) == ["disk_size must be 512 or 10240 MB, got 1024"]


@pytest.mark.parametrize("timeout", [1, 60, 86400])
def test_timeout_accepts_1_to_86400(timeout: int) -> None:
    assert limits.check_timeout(timeout) == []


@pytest.mark.parametrize("timeout", [0, 86401])
def test_timeout_rejects_outside(timeout: int) -> None:
    assert limits.check_timeout(timeout) == [
        f"timeout must be between 1 and 86400 seconds, got {timeout}"
    ]


def test_instance_concurrency_range() -> None:
    assert limits.check_instance_concurrency(1) == []
    assert limits.check_instance_concurrency(200) == []
    assert limits.check_instance_concurrency(201) == [
        "instance_concurrency must be between 1 and 200, got 201"
    ]


@pytest.mark.parametrize("name", ["hello", "_x", "sync-forks", "a" * 64, "A_1-b"])
def test_function_name_accepts(name: str) -> None:
    assert limits.check_function_name(name) == []


@pytest.mark.parametrize("name", ["", "1abc", "-abc", "a" * 65, "has space", "dot.name"])
def test_function_name_rejects(name: str) -> None:
    assert limits.check_function_name(name) == [
        (
            "function_name must be 1-64 letters, digits, '_' or '-' starting with a letter or '_', "
            f"got {name!r}"
        )
    ]


def test_trigger_name_rejects_a_leading_digit() -> None:
    assert limits.check_trigger_name("9am") == [
        (
            "timer name must be 1-128 letters, digits, '_' or '-' starting with a letter or '_', "
            "got '9am'"
        )
    ]
    assert limits.check_trigger_name("daily") == []


def test_runtime_must_be_a_custom_runtime() -> None:
    assert limits.check_runtime("custom.debian11") == []
    assert limits.check_runtime("python3.10") == [
        (
            "runtime must be one of custom.debian10, custom.debian11, custom.debian12, custom, "
            "got 'python3.10'"
        )
    ]


def test_fc_version_is_3_or_2() -> None:
    assert limits.check_fc_version("2.0") == []
    assert limits.check_fc_version("1.0") == ["fc_version must be one of 3.0, 2.0, got '1.0'"]


def test_environment_rejects_the_reserved_fc_prefix() -> None:
    assert limits.check_environment({"FC_REGION": "x"}, []) == [
        "environment key 'FC_REGION' is not allowed: the FC_ prefix is reserved for the platform"
    ]


@pytest.mark.parametrize("key", ["1ABC", "_LEADING", "HAS-DASH", "SPACE KEY"])
def test_environment_rejects_illegal_keys(key: str) -> None:
    assert limits.check_environment({}, [key]) == [
        f"environment key {key!r} must start with a letter and contain only letters, digits and '_'"
    ]


def test_environment_accepts_exactly_4_kb_and_rejects_more() -> None:
    assert limits.check_environment({"A": "x" * 4095}, []) == []
    assert limits.check_environment({"A": "x" * 4096}, []) == [
        "environment must total at most 4096 bytes of keys and values, got 4097"
    ]


def test_environment_rejects_a_key_both_plain_and_secret() -> None:
    assert limits.check_environment({"TOKEN": "x"}, ["TOKEN"]) == [
        "environment key 'TOKEN' is set in both environment and secret_environment"
    ]


def test_region_must_offer_function_compute() -> None:
    assert limits.check_region("cn-hangzhou") == []
    assert limits.check_region("mars-north-1")[0].endswith("got 'mars-north-1'")


def test_pinned_version_is_a_version_number() -> None:
    assert limits.check_version_id("3") == []
    assert limits.check_version_id("LATEST") == [
        "pinned_version must be a published version id such as '3', got 'LATEST'"
    ]


def test_config_error_lists_every_problem() -> None:
    error = ConfigError("hello", ["first problem", "second problem"])
    assert str(error) == "invalid configuration for hello:\n  - first problem\n  - second problem"
    assert error.problems == ["first problem", "second problem"]


# --- Facts re-checked against the provider and FC's documentation (sources in infra/limits.py) ---


@pytest.mark.parametrize("region", ["me-central-1", "ap-southeast-7", "eu-west-1", "cn-wulanchabu"])
def test_region_accepts_the_documented_fc_regions(region: str) -> None:
    assert limits.check_region(region) == []


@pytest.mark.parametrize("region", ["me-east-1", "ap-south-1", "ap-southeast-2"])
def test_region_rejects_regions_without_function_compute(region: str) -> None:
    (message,) = limits.check_region(region)
    assert message.endswith(f"got {region!r}")


def test_alias_must_not_be_the_reserved_latest() -> None:
    assert limits.check_alias_name("LATEST") == [
        "alias must not be 'LATEST': FC reserves it for the unpublished version"
    ]
    assert limits.check_alias_name("latest") == []
    assert limits.check_alias_name("a" * 128) == []
    assert limits.check_alias_name("a" * 129) != []


def test_fc2_memory_stops_at_the_elastic_instance_maximum() -> None:
    assert limits.check_memory_size(3072, fc_version="2.0") == []
    assert limits.check_memory_size(4096, fc_version="2.0") == [
        (
            "memory_size must be a multiple of 64 between 128 and 3072 MB on FC 2.0 (elastic "
            "instance), got 4096"
        )
    ]
    assert limits.check_memory_size(4096) == []
    assert limits.check_memory_size(4096, fc_version="3.0") == []


def test_fc2_runtimes_are_debian10_and_debian9_only() -> None:
    assert limits.check_runtime("custom.debian10", fc_version="2.0") == []
    assert limits.check_runtime("custom", fc_version="2.0") == []
    assert limits.check_runtime("custom.debian12", fc_version="2.0") == [
        "runtime must be one of custom.debian10, custom on FC 2.0, got 'custom.debian12'"
    ]
    assert limits.check_runtime("custom.debian12", fc_version="3.0") == []


@pytest.mark.parametrize("key", ["topic", "accessKeyID", "accessKeySecret", "securityToken"])
def test_fc2_reserves_more_environment_keys(key: str) -> None:
    assert limits.check_environment({key: "x"}, [], fc_version="2.0") == [
        f"environment key {key!r} is not allowed: FC 2.0 reserves it for the platform"
    ]
    assert limits.check_environment({key: "x"}, []) == []


def test_environment_keys_may_hold_underscores_and_lower_case_fc_is_reserved() -> None:
    assert limits.check_environment({"DB_HOST": "x"}, ["API_TOKEN"]) == []
    assert limits.check_environment({"fc_debug": "1"}, []) == [
        "environment key 'fc_debug' is not allowed: the FC_ prefix is reserved for the platform"
    ]


def test_function_name_follows_fc_not_the_provider_on_both_versions() -> None:
    for fc_version in ("3.0", "2.0"):
        assert limits.check_function_name("a" * 64, fc_version=fc_version) == []
        assert limits.check_function_name("a" * 128, fc_version=fc_version) != []
        assert limits.check_function_name("9lives", fc_version=fc_version) != []


def test_fc2_service_name_is_1_to_128_starting_with_a_letter_or_underscore() -> None:
    assert limits.check_service_name("_" + "a" * 127) == []
    assert limits.check_service_name("a" * 129) == [
        (
            "FC 2.0 service name must be 1-128 letters, digits, '_' or '-' starting with a "
            f"letter or '_', got {'a' * 129!r}"
        )
    ]
    assert limits.check_service_name("-svc") != []


def test_trigger_name_is_at_most_128_characters() -> None:
    assert limits.check_trigger_name("t" * 128) == []
    assert limits.check_trigger_name("t" * 129) != []
    assert limits.check_trigger_name("-t") != []


@pytest.mark.parametrize(
    ("edition", "kind", "longest"),
    [
        ("personal", "namespace", 30),
        ("personal", "repository", 30),
        ("enterprise", "namespace", 120),
        ("enterprise", "repository", 64),
    ],
)
def test_acr_names_have_the_documented_lengths(edition: str, kind: str, longest: int) -> None:
    assert limits.check_acr_name("f", "ab", kind=kind, edition=edition) == []
    assert limits.check_acr_name("f", "a" * longest, kind=kind, edition=edition) == []
    assert limits.check_acr_name("f", "a" * (longest + 1), kind=kind, edition=edition) == [
        (
            f"f must be 2-{longest} lower-case letters, digits and single '.', '_' or '-' "
            f"between them (ACR {edition} edition {kind}), got {'a' * (longest + 1)!r}"
        )
    ]
    assert limits.check_acr_name("f", "a", kind=kind, edition=edition) != []


@pytest.mark.parametrize("name", ["-ns", "ns-", "Ns", "n..s", "n s"])
def test_acr_names_refuse_delimiters_at_the_ends_and_other_characters(name: str) -> None:
    assert limits.check_acr_name("registry.namespace", name, kind="namespace") != []


def test_cpu_advice_rounds_up_to_a_ratio_fc_accepts() -> None:
    # 512 MB needs at least 0.125 vCPU: the advice must name 0.15, not a rounded-down 0.10.
    (problem,) = limits.check_cpu(0.1, 512)
    assert problem.endswith("for 512 MB use cpu between 0.15 and 0.50")
    assert limits.least_cpu(512) == Decimal("0.15")
    assert limits.check_cpu(float(limits.least_cpu(512)), 512) == []


@pytest.mark.parametrize(
    "check",
    [
        limits.check_function_name,
        lambda v: limits.check_function_name(v, fc_version="2.0"),
        limits.check_service_name,
        limits.check_trigger_name,
        limits.check_alias_name,
        limits.check_role_name,
        lambda v: [p] if (p := limits.environment_key_problem(v)) else [],
        lambda v: limits.check_log_names(v, None, None),
        lambda v: limits.check_log_names(None, v, None),
    ],
    ids=[
        "function",
        "fc2-function",
        "service",
        "trigger",
        "alias",
        "role",
        "env-key",
        "log-project",
        "logstore",
    ],
)
def test_names_with_a_trailing_newline_are_refused(check: Callable[[str], list[str]]) -> None:
    # A regex's `$` also matches before a final newline: "abc\n" must not pass as "abc".
    assert check("abc") == []
    assert check("abc\n") != []


def test_a_version_id_with_a_trailing_newline_is_refused() -> None:
    assert limits.check_version_id("3") == []
    assert limits.check_version_id("3\n") != []


# -- Edges the mutation campaign found untested (mutants/REPORT.md) -------------------------------


@pytest.mark.parametrize(
    ("days", "ok"),
    [(0, False), (1, True), (3650, True), (3651, False), ("7", False), (True, False)],
)
def test_log_retention_is_1_to_3650_days_inclusive(days: object, *, ok: bool) -> None:
    """Mutations caught: either bound moved by one, `<=` made `<` or `!=`; a bool taken as 1."""
    problems = limits.check_log_names(None, None, days)
    assert problems == ([] if ok else [f"logs.retention_days must be 1-3650 days, got {days!r}"])


@pytest.mark.parametrize(
    ("retries", "age", "fc_version", "ok"),
    [
        (0, 1, "3.0", True),
        (8, 86400, "3.0", True),
        (-1, None, "3.0", False),
        (9, None, "3.0", False),
        (None, 0, "3.0", False),
        (None, 86401, "3.0", False),
        (None, 2592000, "2.0", True),
        (None, 1, "2.0", True),
        (None, 0, "2.0", False),
        (None, 2592001, "2.0", False),
        (3, 600, "2.0", True),
    ],
)
def test_async_retries_and_event_age_are_inclusive_ranges(
    retries: object, age: object, fc_version: str, *, ok: bool
) -> None:
    """Mutations caught: a bound of ASYNC_RETRIES or ASYNC_EVENT_AGE_S moved by one, a `<=` made
    `<`, `>` or `!=`, the `not` of the range check dropped."""
    problems = limits.check_async_invoke(retries, age, fc_version=fc_version)
    assert (problems == []) is ok, problems


@pytest.mark.parametrize(
    ("description", "got"), [("d" * 208, None), ("d" * 209, "209"), (5, "5"), (None, "None")]
)
def test_a_description_leaves_room_for_what_fc3_appends(
    description: object, got: str | None
) -> None:
    """FC 3.0 takes 256 characters and publishing appends 48 (` [code <16> config <16>]`), so
    208 are the user's. Mutations caught: DESCRIPTION_MAX or the 48 moved by one, the `-` made
    `+` or `*`; `<=` made `<` or `!=`; the `and` made `or` (the len of a number taken); the
    length of a text too long given as the text instead."""
    expected = [f"description must be a string of at most 208 characters, got {got}"]
    assert limits.check_description(description) == ([] if got is None else expected)  # type: ignore[arg-type]
    longest = fc3.version_description("d" * limits.DESCRIPTION_ROOM, "0" * 40, "1" * 64)
    assert len(longest) == limits.DESCRIPTION_MAX


@pytest.mark.parametrize("alias", ["ALPHA", "Aardvark", "LATESTS", "live", "_LATEST"])
def test_only_latest_itself_is_the_reserved_alias(alias: str) -> None:
    """Mutation caught: `alias == RESERVED_QUALIFIER` made `<=` (every alias sorting before it)."""
    assert limits.check_alias_name(alias) == []
    assert limits.check_alias_name("LATEST") != []


def test_an_invalid_name_on_fc2_is_one_problem_not_two() -> None:
    """Mutation caught: `fc_version == "2.0" and not problems` made `or`: an invalid function
    name on FC 2.0 would also be reported as an invalid service name."""
    assert len(limits.check_function_name("1st", fc_version="2.0")) == 1
    assert limits.check_function_name("ok_name", fc_version="2.0") == []


def test_a_cpu_that_is_not_a_number_is_a_problem_not_an_exception() -> None:
    """Mutation caught: `except InvalidOperation` replaced, so "abc" would raise."""
    assert limits.check_cpu("abc", 512) == [  # type: ignore[arg-type]
        "cpu must be a multiple of 0.05 between 0.05 and 16 vCPU, got 'abc'"
    ]


@pytest.mark.parametrize(
    ("memory", "cpu"), [(128, "0.05"), (4096, "1"), (4160, "1.05"), (32768, "8")]
)
def test_the_least_cpu_is_a_quarter_vcpu_per_gb_rounded_up_to_a_step(memory: int, cpu: str) -> None:
    """Mutation caught: the 1024 MB per GB made 1023 (4096 MB would need 1.05 vCPU)."""
    assert limits.least_cpu(memory) == Decimal(cpu)
