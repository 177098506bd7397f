"""The repository's own rule for its stack: sync-forks' forks list, checked at preview.

The list is sync-forks' `SYNC_FORKS` variable (`owner/repo[:branch]`, separated by commas or
whitespace, as sync-forks splits it); a mistake
would only show on the first timer tick, so the program refuses it before any resource.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from infra.config import FUNCTIONS_KEY, where

if TYPE_CHECKING:
    from infra.config import StackFunctions

CRATE = "sync-forks"
VARIABLE = "SYNC_FORKS"

_FORK_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$")
_FORK_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_BRANCH_FORBIDDEN = re.compile(r"[\s~^:?*\[\\\x00-\x1f\x7f]")
BRANCH_MAX_LENGTH = 255


def _fork_problem(entry: object) -> str | None:  # noqa: PLR0911 - one reason per rule
    """Why sync-forks would refuse `entry`: its own rules (functions/sync-forks/src/config.rs)."""
    if not isinstance(entry, str):
        return f"fork {entry!r} must be a string 'owner/repo' or 'owner/repo:branch'"
    text = entry.strip()
    if not text or any(c == "," or c.isspace() for c in text):
        return f"fork {entry!r} must be one entry 'owner/repo' or 'owner/repo:branch', no spaces"
    repo, _, branch = text.partition(":")
    owner, slash, name = repo.partition("/")
    if not slash:
        return f"fork {entry!r}: expected owner/repo"
    if not _FORK_OWNER.match(owner):
        return f"fork {entry!r}: the owner must be 1-39 letters, digits or inner hyphens"
    if not _FORK_REPO.match(name) or name in (".", ".."):
        return f"fork {entry!r}: the repository must be 1-100 letters, digits, '-', '_' or '.'"
    if ":" in text and not _valid_branch(branch):
        return f"fork {entry!r}: the branch must be a non-empty git branch name"
    return None


def _valid_branch(branch: str) -> bool:
    """A plausible git branch name, as sync-forks accepts it."""
    return (
        0 < len(branch) <= BRANCH_MAX_LENGTH
        and not branch.startswith(("-", "/"))
        and not branch.endswith(("/", "."))
        and ".." not in branch
        and "@{" not in branch
        and _BRANCH_FORBIDDEN.search(branch) is None
    )


def check_forks(forks: list[str]) -> list[str]:
    """The forks list as sync-forks will read it: not empty, and every entry one it accepts."""
    if not forks:
        return [
            (
                f"{VARIABLE} is empty: sync-forks would fail on every run with nothing to sync; "
                "list at least one fork as owner/repo or owner/repo:branch, comma-separated"
            )
        ]
    return [problem for entry in forks if (problem := _fork_problem(entry)) is not None]


def forks_problems(stack_functions: StackFunctions, project: str) -> list[str]:
    """The problems of every sync-forks function's forks, naming the config key that sets them."""
    problems = []
    for name, args in stack_functions.functions.items():
        if args.get("crate") != CRATE:
            continue
        path = f"{FUNCTIONS_KEY}.{name}.environment.{VARIABLE}"
        text = args.get("environment", {}).get(VARIABLE, "")
        forks = [entry for entry in re.split(r"[,\s]+", text) if entry]
        problems += [f"{name}: {p} ({where(project, path)})" for p in check_forks(forks)]
    return problems
