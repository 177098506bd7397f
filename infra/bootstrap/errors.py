"""The one error the build raises: its message is what the user reads, never a traceback."""

from __future__ import annotations

import pulumi


class BuildError(pulumi.RunError):
    """A build, check or packaging step failed; the message says what to do about it.

    A `RunError`, so that `pulumi preview`/`up` print the message alone, not a traceback.
    """
