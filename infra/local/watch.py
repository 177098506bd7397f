"""`serve --watch`: rebuild on a saved change, then swap instances without losing a call.

The watcher polls the modification times of every file that can change the function's binary
(its crate, its path dependencies, the workspace's `Cargo.toml` and `Cargo.lock`, rustup's
toolchain files: `Workspace.source_files`, the build's own list). A change is built once the
files have been quiet for `DEBOUNCE_S`; the new package starts as a new instance beside the
running one, and only once it passed its health check does it take the next calls. The old one
finishes every call it took (HTTP or timer) and is then stopped. A failed build leaves the
running instance serving; cargo's error was streamed as it came and is said once.
"""

from __future__ import annotations

import contextlib
import threading
import time
import zipfile
from collections import Counter
from typing import TYPE_CHECKING

from infra.bootstrap import BuildError, check_runtime_compatible
from infra.bootstrap.archive import read_extra_files
from infra.bootstrap.workspace import Workspace
from infra.errors import StackError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from infra.bootstrap import Builder
    from infra.local.instance import Instance
    from infra.local.stack import LocalFunction

POLL_S = 0.1
"""How often the watcher reads the files' modification times."""
DEBOUNCE_S = 0.15
"""How long the files must stay unchanged before a build: an editor's save is several writes."""

Snapshot = dict["Path", tuple[int, int]]


class Live:
    """The instance that takes the next call; swapped without losing one in flight."""

    def __init__(self, instance: Instance) -> None:
        """Start with `instance` taking calls."""
        self._changed = threading.Condition()
        self._current = instance
        self._busy: Counter[int] = Counter()
        """Calls in flight, by `id()` of the instance that took them."""

    @property
    def current(self) -> Instance:
        """The instance that takes the next call."""
        with self._changed:
            return self._current

    @contextlib.contextmanager
    def use(self) -> Iterator[Instance]:
        """The current instance, counted busy until the block ends (a swap waits for it)."""
        with self._changed:
            instance = self._current
            self._busy[id(instance)] += 1
        try:
            yield instance
        finally:
            with self._changed:
                self._busy[id(instance)] -= 1
                self._changed.notify_all()

    def swap(self, new: Instance) -> Instance:
        """Make `new` take the next calls; the old instance once its calls have all ended."""
        with self._changed:
            old, self._current = self._current, new
            self._changed.wait_for(lambda: self._busy[id(old)] == 0)
            del self._busy[id(old)]
        return old

    def idle(self, timeout: float) -> bool:
        """Wait (at most `timeout` s) until no call is in flight; whether none is."""
        with self._changed:
            return self._changed.wait_for(lambda: not +self._busy, timeout)


def quick_package(function: LocalFunction, builder: Builder, path: Path) -> Path:
    """The function's bootstrap straight from cargo, in a zip at `path` that is not compressed.

    The same bootstrap and files as the package `pulumi up` deploys, checked for the runtime
    the same way, without the seconds zopfli takes to compress it (or the build cache).
    """
    binary = builder.binary(function.crate, runtime=function.runtime)
    check_runtime_compatible(binary, function.runtime)
    crate = builder.workspace.crate(function.crate)
    try:
        extras = read_extra_files(crate.directory, crate.include)
    except (OSError, ValueError) as error:
        raise BuildError(str(error)) from error
    entries = [("bootstrap", binary, 0o755), *((n, d, 0o644) for n, d in sorted(extras.items()))]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, data)
    return path


def watched_files(function: LocalFunction) -> list[Path]:
    """Every file whose change can change the function's binary, as the build fingerprints it."""
    workspace = Workspace(function.workspace)
    return workspace.source_files(workspace.crate(function.crate))


def snapshot(files: list[Path]) -> Snapshot:
    """Each file's modification time and size; a missing file is left out (so its loss shows)."""
    found: Snapshot = {}
    for path in files:
        with contextlib.suppress(OSError):
            stat = path.stat()
            found[path] = (stat.st_mtime_ns, stat.st_size)
    return found


class Watcher:
    """Calls `rebuild` once per settled change of the function's sources, in its own thread."""

    def __init__(
        self,
        function: LocalFunction,
        rebuild: Callable[[], None],
        stop: threading.Event,
        say: Callable[[str], None],
    ) -> None:
        """`rebuild` runs in the watcher's thread, one at a time, until `stop` is set."""
        self.function = function
        self.rebuild = rebuild
        self.stop = stop
        self.say = say
        self._files = self._list([])
        self._built = snapshot(self._files)
        self.thread = threading.Thread(target=self._run, name="fc-local-watch", daemon=True)

    def _list(self, previous: list[Path]) -> list[Path]:
        """The files to watch now; while the manifests do not parse, the previous list."""
        try:
            return watched_files(self.function)
        except (BuildError, StackError):
            return previous

    def _current(self) -> Snapshot:
        self._files = self._list(self._files)
        return snapshot(self._files)

    def _settled(self, seen: Snapshot) -> Snapshot | None:
        """The files once they stopped changing for `DEBOUNCE_S`; None when stopping."""
        quiet_since = time.monotonic()
        while not self.stop.wait(POLL_S / 2):
            now = self._current()
            if now != seen:
                seen, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since >= DEBOUNCE_S:
                return seen
        return None

    def _run(self) -> None:
        while not self.stop.wait(POLL_S):
            seen = self._current()
            if seen == self._built:
                continue
            settled = self._settled(seen)
            if settled is None:
                return
            changed = sorted(
                {*settled, *self._built}
                - {path for path in settled if self._built.get(path) == settled[path]}
            )
            names = ", ".join(_short(path, self.function.workspace) for path in changed[:3])
            more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""  # noqa: PLR2004
            self.say(f"changed: {names}{more}; rebuilding")
            self._built = settled
            try:
                self.rebuild()
            except Exception as error:  # noqa: BLE001 - watching must outlive any one build
                self.say(f"the rebuild failed unexpectedly: {error!r}; still watching")


def _short(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
