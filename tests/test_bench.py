"""The arithmetic `make bench` reports with: ratios, their texts, the rounds' order."""

from __future__ import annotations

import pytest

from bench.report import bytes_text, ms_text, ratio, ratio_text, spread, table
from bench.side_by_side import rotated

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
