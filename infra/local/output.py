"""A bootstrap's output: echoed as it comes, kept only per call and bounded.

Nothing is kept of a line but by the calls under way (each bounded: its first and last lines,
the middle counted) and the last `TAIL_LINES` (for a start failure's report), so a bootstrap
printing any amount runs in bounded memory.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections import deque
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

LINE_MAX_BYTES = 64 * 1024
"""A longer output line is read, echoed and kept in pieces of this size."""
CALL_OUTPUT_MAX_LINES = 2000
"""Lines kept of one call's output: its first half and its last half; the middle is counted."""
CALL_OUTPUT_MAX_BYTES = 1024 * 1024
"""Bytes kept of one call's output, split the same way."""
TAIL_LINES = 50
"""Lines kept of the bootstrap's latest output, for a start failure's report."""
END_LINE_WAIT = 2.0
"""Seconds a finished call waits for its `FC ... End RequestId` line before reporting."""


def print_line(line: str) -> None:
    """The default echo: the bootstrap's line on stdout, as it comes."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Capture:
    """One call's output, bounded: its first lines, a count of the middle, its last lines.

    It takes the lines printed from the call's start to its `FC <kind> End RequestId` line;
    past `max_lines` or `max_bytes`, the oldest of the last half are dropped and counted.
    """

    def __init__(self, end_line: str, max_lines: int, max_bytes: int) -> None:
        """`end_line` ends the capture; the limits bound what it keeps."""
        self.end_line = end_line
        self.ended = False
        self._half_lines = max(1, max_lines // 2)
        self._half_bytes = max(1, max_bytes // 2)
        self._head: list[str] = []
        self._head_bytes = 0
        self._head_full = False
        self._last: deque[tuple[str, int]] = deque()
        self._last_bytes = 0
        self.dropped = 0
        self.dropped_bytes = 0

    def add(self, line: str, size: int) -> None:
        """Take one line of `size` bytes, unless the call's End line came already."""
        if self.ended:
            return
        self.ended = line == self.end_line
        if not self._head_full:
            if len(self._head) < self._half_lines and self._head_bytes + size <= self._half_bytes:
                self._head.append(line)
                self._head_bytes += size
                return
            self._head_full = True
        self._last.append((line, size))
        self._last_bytes += size
        while len(self._last) > self._half_lines or self._last_bytes > self._half_bytes:
            _, dropped = self._last.popleft()
            self._last_bytes -= dropped
            self.dropped += 1
            self.dropped_bytes += dropped

    def lines(self) -> list[str]:
        """The kept lines, with `... K lines dropped` where the middle was."""
        if not self.dropped:
            return [*self._head, *(line for line, _ in self._last)]
        marker = (
            f"... {self.dropped} lines dropped ({self.dropped_bytes} bytes): the emulator keeps "
            "the first and last lines of a call; all were echoed"
        )
        return [*self._head, marker, *(line for line, _ in self._last)]


class Output:
    """The output streams of one bootstrap, read in threads: echoed, and captured per call."""

    def __init__(self, echo: Callable[[str], None] = print_line) -> None:
        """`echo` receives every line as it comes."""
        self.echo = echo
        self._captures: list[Capture] = []
        """The calls under way, each taking the lines printed while it runs."""
        self._tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._lock = threading.Lock()
        self._line_added = threading.Condition(self._lock)
        self._readers: list[threading.Thread] = []

    def read(self, streams: Iterable[IO[bytes] | None]) -> None:
        """Start a reader thread on each stream (the bootstrap's stdout and stderr)."""
        for stream in streams:
            assert stream is not None  # noqa: S101 - Popen(PIPE) guarantees it
            reader = threading.Thread(target=self._pump, args=(stream,), daemon=True)
            reader.start()
            self._readers.append(reader)

    def _pump(self, stream: IO[bytes]) -> None:
        """Echo the bootstrap's lines as they come; keep only what the calls under way need."""
        try:
            for raw in iter(lambda: stream.readline(LINE_MAX_BYTES), b""):
                line = raw.decode(errors="replace").rstrip("\r\n")
                with self._line_added:
                    self._tail.append(line)
                    ended = False
                    for capture in self._captures:
                        was_open = not capture.ended
                        capture.add(line, len(raw))
                        ended |= was_open and capture.ended
                    if ended:
                        self._line_added.notify_all()
                self.echo(line)
        finally:
            stream.close()
            with self._line_added:
                self._line_added.notify_all()  # a call waiting for its End line stops waiting

    def join(self, timeout: float = 2.0) -> None:
        """Wait, at most `timeout` seconds in all, for the streams to close."""
        deadline = time.monotonic() + timeout
        for reader in self._readers:
            reader.join(max(0.0, deadline - time.monotonic()))

    def tail(self) -> list[str]:
        """The bootstrap's last lines (at most `TAIL_LINES`)."""
        with self._lock:
            return list(self._tail)

    @contextlib.contextmanager
    def capture(self, end_line: str) -> Iterator[Capture]:
        """The lines printed from now until `end_line`, while the block runs.

        On leaving the block without an exception, waits (at most `END_LINE_WAIT`) for
        `end_line`: an answer can overtake the bootstrap's last log lines through the pipe.
        """
        capture = Capture(end_line, CALL_OUTPUT_MAX_LINES, CALL_OUTPUT_MAX_BYTES)
        with self._lock:
            self._captures.append(capture)
        try:
            yield capture
            with self._line_added:
                self._line_added.wait_for(
                    lambda: capture.ended or not any(r.is_alive() for r in self._readers),
                    timeout=END_LINE_WAIT,
                )
        finally:
            with self._lock:
                self._captures.remove(capture)
