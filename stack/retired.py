"""The stack keys of fc-rust 0.1, which 0.2 no longer reads: each says where its value goes now.

Without this check an upgraded stack that still sets, say, `syncMemorySize` would deploy with
the default, silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

RETIRED = {
    "forks": "functions.sync-forks.environment.SYNC_FORKS (comma-separated)",
    "syncSchedule": "functions.sync-forks.timers[0].cron",
    "syncEnabled": "functions.sync-forks.timers[0].enabled",
    "syncMemorySize": "functions.sync-forks.memorySize",
    "syncTimeout": "functions.sync-forks.timeout",
    "syncRetryAttempts": "functions.sync-forks.asyncInvoke.maxRetries",
    "syncMaxEventAgeSeconds": "functions.sync-forks.asyncInvoke.maxEventAge",
    "syncFailureDestination": "functions.sync-forks.asyncInvoke.onFailure",
    "syncPinnedVersion": "functions.sync-forks.pinnedVersion",
    "helloMemorySize": "functions.hello.memorySize",
    "helloPinnedVersion": "functions.hello.pinnedVersion",
}
"""Each retired key and the `functions` path that takes its value."""


def retired_problems(get: Callable[[str], object], project: str) -> list[str]:
    """A problem for every retired key the stack still sets."""
    return [
        f"{project}:{key} is no longer read: move its value to {project}:{path} "
        f"(`pulumi config rm {key}`, then `pulumi config set --path '{path.split(' ')[0]}' "
        "<value>`)"
        for key, path in RETIRED.items()
        if get(key) is not None
    ]
