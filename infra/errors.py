"""The library's errors: each message is what the user reads, never a traceback.

All are `pulumi.RunError`s, so `pulumi preview`/`up` print the message alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi

from infra.bootstrap.errors import BuildError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["BuildError", "ConfigError", "StackError"]


class ConfigError(pulumi.RunError, ValueError):
    """A configuration FC would refuse; the message lists every problem found, one a line."""

    def __init__(self, subject: str, problems: Iterable[str]) -> None:
        """Collect `problems` about `subject` (a component or stack name) into one error."""
        self.subject = subject
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"invalid configuration for {subject}:\n{lines}")


class StackError(pulumi.RunError, ValueError):
    """The stack's files cannot be read, or a config value has the wrong shape."""
