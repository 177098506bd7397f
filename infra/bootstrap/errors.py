"""The one error the build raises: its message is what the user reads, never a traceback."""

from __future__ import annotations

import pulumi


class BuildError(pulumi.RunError):
    """A build, check or packaging step failed; the message says what to do about it.

    A `RunError`, so that `pulumi preview`/`up` print the message alone, not a traceback.
    """


INTERRUPTED_EXIT = 130
"""The CLI's exit status after Ctrl-C, as a shell reports a process ended by SIGINT (128 + 2)."""
