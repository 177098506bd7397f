"""The account quotas a growing stack meets first, checked before anything is declared.

A stack sees only what it declares itself, not what else the account holds, so a stack that
passes may still meet a quota with the account's other resources; one that fails here would
certainly fail part way through its `up`.

Not checked, because no stored copy of FC's or CloudMonitor's documentation gives a figure:
functions per region, versions and aliases per function, custom domains and async configs (FC),
alarm rules and contacts (CloudMonitor). FC 2.0's 50 functions per service is never met: each
function has a service of its own (`infra.fc2`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping

    from infra.spec import FunctionSpec

_HELP = "https://www.alibabacloud.com/help/en"


@dataclass(frozen=True)
class Quota:
    """One default quota: how many of a kind, over what scope, and how to raise it."""

    kind: str
    limit: int
    scope: str
    raise_how: str
    source: str


QUOTAS: dict[str, Quota] = {
    quota.kind: quota
    for quota in (
        Quota(
            "SLS projects",
            150,
            "per account, all regions together",
            "it cannot be raised; share a project (the stack's layout shared) or name existing "
            "ones (logProject)",
            f"{_HELP}/sls/basic-resources (Project count: 150, per account; updated 2026-05-27; "
            "older copies said 50, raised by ticket)",
        ),
        Quota(
            "SLS logstores",
            200,
            "per project",
            "raise it to 400 in the SLS console (Manage resource quotas)",
            f"{_HELP}/sls/basic-resources (Logstores: 200, adjustable to 400, per project)",
        ),
        Quota(
            "OSS buckets",
            100,
            "per region, per account",
            "the page names no way to raise it; share one (the stack's layout shared)",
            f"{_HELP}/oss/user-guide/bucket-naming-conventions (up to 100 buckets per region; "
            "updated 2026-03-20)",
        ),
        Quota(
            "RAM roles",
            1000,
            "per account",
            "apply for a quota in the RAM console (Quotas)",
            f"{_HELP}/ram/product-overview/limits (RAM roles: 1000, adjustable; updated "
            "2025-12-16)",
        ),
        Quota(
            "RAM custom policies",
            1500,
            "per account",
            "apply for a quota in the RAM console (Quotas)",
            "https://www.alibabacloud.com/help/doc-detail/28753.htm (custom policies per "
            "account: 1500; updated 2025-12-02)",
        ),
        Quota(
            "FC triggers",
            50,
            "per function",
            "raise it in Quota Center (Function Compute)",
            f"{_HELP}/functioncompute/fc/product-overview/limits-of-usage (triggers per "
            "function: 50; updated 2026-04-01)",
        ),
        Quota(
            "ACR personal repositories",
            300,
            "per personal instance",
            "move to an Enterprise Edition instance (1,000 or more)",
            f"{_HELP}/container-registry/latest/what-is-container-registry (Personal Edition: "
            "3 namespaces, 300 repositories; updated 2026-06-10)",
        ),
    )
}
"""Confirmed against the pages named (stored copies, dated); the FC and CloudMonitor figures the
module docstring lists are missing there."""


def stack_counts(
    specs: Mapping[str, FunctionSpec],
    *,
    bucket_sharers: Collection[str],
    log_sharers: Collection[str],
    role_sharers: Collection[str],
    shared: tuple[bool, bool, bool],
) -> list[tuple[str, str, int]]:
    """(quota kind, what counts, how many the stack declares) for each kind and scope.

    `bucket_sharers`, `log_sharers` and `role_sharers` use the stack's bucket, log project and
    role (`infra.sharing`); `shared` says whether the stack creates each of those three.
    """
    counts: Counter[str] = Counter()
    found: list[tuple[str, str, int]] = []
    for name, spec in specs.items():
        counts["OSS buckets"] += (
            spec.variant == "zip" and spec.bucket_mode == "create" and name not in bucket_sharers
        )
        counts["SLS projects"] += (
            spec.logs_mode == "create" and name not in log_sharers and "in_project" not in spec.logs
        )
        own_role = spec.role_mode == "create" and name not in role_sharers
        counts["RAM roles"] += own_role
        counts["RAM custom policies"] += own_role and spec.logs_mode != "skip"
        counts["ACR personal repositories"] += spec.registry is not None and not spec.registry.get(
            "existing", False
        )
        triggers = len(spec.timers) + (spec.http is not None)
        found.append(("FC triggers", f"function {name}", triggers))
    counts["OSS buckets"] += shared[0]
    counts["SLS projects"] += shared[1]
    counts["RAM roles"] += shared[2]
    counts["RAM custom policies"] += shared[2] and bool(log_sharers)
    found.append(("SLS logstores", "the stack's log project", len(log_sharers)))
    found += [(kind, "the stack", count) for kind, count in counts.items()]
    return found


def quota_problems(counts: Iterable[tuple[str, str, int]], key: str) -> list[str]:
    """A problem for each count over its quota, naming the quota, its source and how to raise it.

    `key`: the config key that declares what is counted (the stack's functions).
    """
    problems = []
    for kind, what, count in counts:
        quota = QUOTAS[kind]
        if count > quota.limit:
            problems.append(
                f"{what} declares {count} {kind}, over the quota of {quota.limit} {quota.scope} "
                f"({quota.source}): {quota.raise_how}; or declare fewer in {key}"
            )
    return problems
