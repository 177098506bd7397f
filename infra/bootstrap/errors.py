"""The one error the build raises: its message is what the user reads, never a traceback."""

from __future__ import annotations


class BuildError(Exception):
    """A build, check or packaging step failed; the message says what to do about it."""
