"""The arithmetic `make bench` reports with (ratios, their texts, the rounds' order, the quota
and the cost in FC's shape), the FC-shape harness on a tiny run where cgroups can be made, and
the side-by-side measurements on hello-http's request (tiny runs of the Python contender)."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from bench import cgroup, contenders, cost, fc_shape, watch
from bench.report import bytes_text, ms_text, ratio, ratio_text, spread, table
from bench.side_by_side import (
    HTTP_LABEL,
    Load,
    Plan,
    invoke_many,
    measure_cold_starts,
    measure_memory,
    measure_throughput,
    rotated,
    uncorrected,
    wrk_script,
)

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit


def test_ratio_is_ours_over_theirs_and_unknown_without_a_figure() -> None:
    assert ratio(3.0, 4.0) == 0.75
    assert ratio(None, 4.0) is None
    assert ratio(3.0, None) is None
    assert ratio(3.0, 0.0) is None


def test_texts() -> None:
    assert ratio_text(0.7234) == "0.723"
    assert ratio_text(0.03521) == "0.0352"
    assert ratio_text(1.131) == "1.13"
    assert ratio_text(None) == "-"
    assert bytes_text(394785) == "394,785"
    assert bytes_text(None) == "-"
    assert ms_text(0.00042) == "420 µs"
    assert ms_text(0.0018) == "1.8 ms"
    assert ms_text(0.1024) == "102 ms"
    assert table(["a", "b"], [["1", "2"]]) == "| a | b |\n|---|---|\n| 1 | 2 |"


def test_spread_records_median_min_max_and_count() -> None:
    assert spread([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3}


def test_each_round_starts_with_the_next_contender() -> None:
    names = ["ours", "Go", "Python", "seed"]
    assert rotated(names, 0) == names
    assert rotated(names, 1) == ["Go", "Python", "seed", "ours"]
    assert rotated(names, 5) == rotated(names, 1)


# -- FC's shape: cgroup quota, wrk's histogram, cost ------------------------------------------


def test_a_vcpu_share_is_that_share_of_each_period() -> None:
    assert cgroup.quota_us(0.1) == 10_000
    assert cgroup.quota_us(2.0) == 200_000
    assert cgroup.quota_us(0.05, period_us=20_000) == 1000
    assert cgroup.cpu_max_text(0.1) == "10000 100000"
    assert cgroup.memory_limit_bytes(128) == 134_217_728
    with pytest.raises(ValueError, match="positive vCPU"):
        cgroup.quota_us(0)


def test_a_busy_loop_over_its_quota_is_caught() -> None:
    # 0.1 vCPU over 1 s allows 100 ms, plus the first period's 10 ms a fresh group starts with.
    assert cgroup.QuotaCheck(0.1, 1, wall_s=1.0, cpu_s=0.110, throttled_periods=10).within_quota()
    assert not cgroup.QuotaCheck(0.1, 1, 1.0, 0.150, 10).within_quota()
    assert not cgroup.QuotaCheck(1.0, 2, 1.0, 1.9, 0).within_quota()


def test_shapes_are_the_stack_default_and_what_fc_accepts_beside_1_and_2_vcpu() -> None:
    found = fc_shape.shapes()
    assert [(s.vcpu, s.memory_mb) for s in found] == [(0.1, 128), (1.0, 1024), (2.0, 2048)]
    assert [s.connections for s in found] == [(1,), (1, 16), (1, 16)]
    assert fc_shape.least_memory_mb(0.3) == 320


def _wrk_corrected(raw: dict[int, int], expected: int) -> dict[int, int]:
    """What wrk 4.1's stats_correct (src/stats.c) makes of `raw`, written out as in its C."""
    data = dict(raw)
    for value in range(expected * 2, max(raw) + 1):
        count, lower = raw.get(value, 0), value - expected
        while count and lower > expected:
            data[lower] = data.get(lower, 0) + count
            lower -= expected
    return {value: count for value, count in data.items() if count}


def test_wrk_histogram_is_read_back_as_measured() -> None:
    raw = {80: 500, 95: 300, 120: 150, 400: 40, 90_000: 10}
    requests, connections = sum(raw.values()), 1
    duration_us = sum(us * n for us, n in raw.items())
    expected = duration_us // (requests // connections)
    corrected = _wrk_corrected(raw, expected)
    assert sum(corrected.values()) > requests  # wrk made samples up
    histogram = sorted(corrected.items())
    assert uncorrected(histogram, duration_us, requests, connections) == tuple(sorted(raw.items()))
    load = Load(requests, duration_us / 1e6, 0, 0, 0, tuple(sorted(raw.items())))
    assert load.measured_percentile(50) == 80e-6
    assert load.measured_percentile(99) == 400e-6
    assert load.mean_s == pytest.approx(duration_us / requests / 1e6)


def test_cost_follows_the_price_page_example() -> None:
    # The page's example: 3 million invocations of 200 ms on 0.25 vCPU and 512 MB make
    # 22,500 + 45,000 + 150,000 = 217,500 CU.
    bill = cost.per_million(0.2, 0.25, 512)
    assert bill.invocations * 3 == pytest.approx(22_500 * cost.USD_PER_CU)
    assert bill.memory * 3 == pytest.approx(45_000 * cost.USD_PER_CU)
    assert bill.vcpu * 3 == pytest.approx(150_000 * cost.USD_PER_CU)
    assert bill.total * 3 == pytest.approx(217_500 * 0.000020)
    assert cost.usd_text(0.000375) == "$0.000375"


def test_each_invocation_is_billed_in_whole_milliseconds() -> None:
    assert cost.billed_seconds([(250, 3), (1000, 1), (1001, 1)]) == pytest.approx(0.0012)
    with pytest.raises(ValueError, match="no invocation"):
        cost.billed_seconds([])


def _layout_or_skip() -> cgroup.Layout:
    try:
        return cgroup.find_layout()
    except (OSError, RuntimeError) as error:
        pytest.skip(f"no cgroups to make here: {error}")


@pytest.mark.skipif(os.geteuid() != 0, reason="making cgroups needs root")
def test_a_busy_loop_in_a_tenth_of_a_vcpu_gets_a_tenth_of_a_core() -> None:
    # Over 0.3 s one period's burst at each end was a third of the quota: 1 in 3 runs failed.
    check = cgroup.check_quota(_layout_or_skip(), 0.1, 128, seconds=1.0)
    assert check.within_quota(), check.text()
    assert check.share > 0.05, check.text()  # at least half its quota
    assert check.throttled_periods >= 1, check.text()


@pytest.mark.skipif(os.geteuid() != 0, reason="making cgroups needs root")
def test_a_contender_starts_inside_its_group() -> None:
    python = contenders.python(key="python_test")
    with cgroup.group(_layout_or_skip(), 0.1, 128) as made:
        running = contenders.Running(python, pipe=False, group=made)
        running.stop()
        cpu = made.cpu_seconds()
    # Python spends tens of ms of CPU to start: on a tenth of a core that is several periods.
    assert cpu > 0.01, cpu  # its start was counted in the group
    assert running.cold_start_s > cpu / 0.1 * 0.7, (running.cold_start_s, cpu)


# -- side by side on hello-http's request ------------------------------------------------------


def _python_http(key: str, name: str) -> contenders.Contender:
    """bench/python/hello_http.py asked `GET /hello/bench` as an HTTP trigger asks."""
    made = contenders.python("hello_http.py", key=key)
    return replace(contenders._as_trigger(made), name=name)  # noqa: SLF001 - the bench's own


def test_wrk_sends_the_contenders_own_request(tmp_path: Path) -> None:
    http = _python_http("python_http_test", "Python")
    script = wrk_script(tmp_path, http.body, http.request_headers(), method=http.method)
    text = script.read_text()
    assert 'wrk.method = "GET"' in text
    assert "wrk.body" not in text  # a GET carries none
    assert 'wrk.headers["x-fc-control-path"] = "/http-invoke"' in text


def test_many_invocations_send_the_contenders_request() -> None:
    """Caught: `POST /invoke` sent whatever the contender (the Python hello-http answers 501)."""
    running = contenders.Running(_python_http("python_http_test", "Python"), pipe=False)
    try:
        invoke_many(running, 20, connections=2)
    finally:
        running.stop()


def test_a_family_is_measured_with_its_first_contender_as_ours() -> None:
    """Caught: `ours` looked up by the key `ours` (hello-http's is `ours_http`: KeyError)."""
    family = [_python_http("ours_http", "ours"), _python_http("python_http", "Python")]
    _, data, ratios = measure_cold_starts(family, [], 1, HTTP_LABEL)
    assert set(data) == {"ours_http", "python_http"}
    assert [(r.metric, r.versus) for r in ratios] == [
        (f"{HTTP_LABEL}: cold start, median", "Python")
    ]
    plan = Plan(cold_starts=1, memory_rounds=1, invocations=20, wrk_rounds=1, wrk_seconds=1)
    markdown, _, ratios = measure_memory(family, plan, HTTP_LABEL)
    assert markdown.startswith(f"### {HTTP_LABEL}: Memory")
    assert {r.metric for r in ratios} == {f"{HTTP_LABEL}: RSS idle", f"{HTTP_LABEL}: RSS after 20"}


@pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk not installed (make bench installs it)"
)
def test_loads_are_measured_on_the_contenders_path() -> None:
    """Caught: wrk pointed at `/invoke` (the Python hello-http's 404s counted as errors)."""
    family = [_python_http("ours_http", "ours"), _python_http("python_http", "Python")]
    plan = Plan(cold_starts=1, memory_rounds=1, invocations=20, wrk_rounds=1, wrk_seconds=1)
    markdown, data, ratios = measure_throughput(family, plan, HTTP_LABEL)
    assert "errors)" not in markdown
    assert all(figures["errors"] == 0 for key, figures in data.items() if "conn" in key)  # type: ignore[index, call-overload]
    assert f"{HTTP_LABEL}: throughput, 16 conn, pipe" in {r.metric for r in ratios}


def test_a_watch_round_that_compiled_dependencies_says_so() -> None:
    # A round once took 178 s against cargo's 14 s with no word why: each round now names the
    # crates cargo compiled. Mutation: a pattern that misses cargo's indented lines.
    stderr = (
        "   Compiling memchr v2.7.6\n"
        "   Compiling hello v0.1.0 (/tmp/bench-watch-x/functions/hello)\n"
        "    Finished `release` profile [optimized] target(s) in 9.87s\n"
    )
    crates = watch.COMPILING.findall(stderr)
    assert crates == ["memchr", "hello"]
    assert "not hello alone" in watch._compiled(crates)  # noqa: SLF001 - the report's wording
    assert watch._compiled(["hello"]) == "hello"  # noqa: SLF001
