"""The stack's fork check agrees with sync-forks' own parser, case for case.

The cases live in sync-forks' fixtures, and its unit test
(`fork_entries_shared_with_the_stack_check`) asserts the same verdicts, so the preview refuses
exactly what the function would.
"""

from __future__ import annotations

import json

import pytest
from conftest import REPO

from stack.forks import check_forks

pytestmark = pytest.mark.unit

CASES = json.loads(
    (REPO / "functions" / "sync-forks" / "tests" / "fixtures" / "fork_entries.json").read_text()
)


@pytest.mark.parametrize("entry", CASES["valid"])
def test_an_entry_sync_forks_accepts_passes_the_preview(entry: str) -> None:
    assert check_forks([entry]) == []


@pytest.mark.parametrize("entry", CASES["invalid"])
def test_an_entry_sync_forks_refuses_fails_the_preview(entry: str) -> None:
    (problem,) = check_forks([entry])
    assert repr(entry) in problem


def test_an_empty_list_fails_the_preview() -> None:
    (problem,) = check_forks([])
    assert problem.startswith("SYNC_FORKS is empty: sync-forks would fail on every run")
