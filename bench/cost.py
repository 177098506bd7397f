"""What invocations cost on FC at pay-as-you-go prices: every price the bench uses, in one place.

Source: the page "Function Compute 3.0 > Product overview > Billing > Pay-as-you-go"
(https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/product-overview/pay-as-you-go-billing-method-1,
"Last Updated: Aug 27, 2024"), read from a stored copy on 2026-12-07: the bench machine has no
internet. UNCONFIRMED HERE: check the live page before quoting a price; every cost table
recomputes from the constants below.

- FC 3.0 converts every billable item to compute units (CU): 75 CU per 10,000 invocations,
  1 CU per active vCPU-second, 0.15 CU per GB-second of memory, 0.05 CU per GB-second of disk.
- Tier 1 (up to 100 million CU a month): USD 0.000020 per CU (the list price; the page's discount
  to USD 0.0000160 ran from Aug 27, 2024 to Aug 27, 2025).
- vCPU and memory are the function's configured amounts times the execution duration, not the
  CPU time used (the page's own example: 0.25 vCPU x 200 ms x 3 million invocations = 150,000
  vCPU-seconds).
- On-demand CPU instances are billed by the millisecond (the page "Pay-as-you-go" of
  help.aliyun.com/en/functioncompute/fc/product-overview/pay-as-you-go-billing-methods, "Billing
  granularity"); that each invocation's duration is rounded up to a whole millisecond is our
  reading, unconfirmed.
- Disk: the default 512 MB is counted as free here (unconfirmed: the page lists 0.05 CU per
  GB-second for disk without saying whether the default size counts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

PRICE_SOURCE = (
    "Function Compute 3.0 billing, Pay-as-you-go (alibabacloud.com/help/en/functioncompute/fc-3-0/"
    "product-overview/pay-as-you-go-billing-method-1, last updated 2024-08-27; a stored copy read "
    "2026-12-07, unconfirmed against the live page)"
)
USD_PER_CU = 0.000020
"""Tier 1, list price."""
CU_PER_INVOCATION = 75 / 10_000
CU_PER_VCPU_SECOND = 1.0
CU_PER_GB_SECOND = 0.15
BILLING_STEP_US = 1000
"""Each invocation's duration is billed in whole milliseconds (our reading, unconfirmed)."""
MB_PER_GB = 1024
"""The page's example counts 512 MB as 0.5 GB."""
MILLION = 1_000_000


@dataclass(frozen=True)
class Cost:
    """USD for one million invocations, by billable item."""

    invocations: float
    vcpu: float
    memory: float

    @property
    def total(self) -> float:
        """Everything billed."""
        return self.invocations + self.vcpu + self.memory


def per_million(billed_seconds: float, vcpu: float, memory_mb: int) -> Cost:
    """One million invocations of `billed_seconds` each on `vcpu` and `memory_mb`."""
    seconds = billed_seconds * MILLION
    return Cost(
        invocations=MILLION * CU_PER_INVOCATION * USD_PER_CU,
        vcpu=seconds * vcpu * CU_PER_VCPU_SECOND * USD_PER_CU,
        memory=seconds * memory_mb / MB_PER_GB * CU_PER_GB_SECOND * USD_PER_CU,
    )


def billed_seconds(histogram: Sequence[tuple[int, int]], step_us: int = BILLING_STEP_US) -> float:
    """The mean billed duration of the invocations in a latency histogram.

    `histogram` holds (µs, count) pairs; each invocation is rounded up to a whole `step_us`.
    """
    count = sum(n for _, n in histogram)
    if count == 0:
        raise ValueError("no invocation to bill")
    steps = sum(math.ceil(us / step_us) * n for us, n in histogram)
    return steps * step_us / count / 1e6


def usd_text(value: float) -> str:
    """USD to the millionth of a dollar: `$0.150000`, `$0.000375`."""
    return f"${value:,.6f}"
