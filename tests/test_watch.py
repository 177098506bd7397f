"""`serve --watch`: a saved change reaches the next answer, a broken one keeps the last build.

One program (a copy of the workspace, so edits stay private) served with clients calling it all
along: the swap must lose none of their calls, and the timer must keep firing.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING

from conftest import REPO

if TYPE_CHECKING:
    from pathlib import Path

BUILD_S = 1200
"""The first build of a copied workspace compiles every dependency (its paths differ)."""
CALL_MS = 4000
"""How long each client's call takes in the function: longer than fc-runtime's 3 s shutdown
grace, so a call still in flight when its instance is stopped would be lost, not finished."""


class Output:
    """A process's output lines, collected in a thread and waited on."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._added = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self._added:
                self.lines.append(line.rstrip("\n"))
                self._added.notify_all()

    def wait_for(self, pattern: str, timeout: float, after: int = 0) -> re.Match[str]:
        """The first line from index `after` on matching `pattern`, once it came."""
        regex = re.compile(pattern)
        found: list[re.Match[str]] = []

        def seen() -> bool:
            found[:] = [m for line in self.lines[after:] if (m := regex.search(line))]
            return bool(found)

        with self._added:
            assert self._added.wait_for(seen, timeout), "\n".join(self.lines[-60:])
        return found[0]

    def text(self) -> str:
        with self._added:
            return "\n".join(self.lines)


class Clients:
    """Threads invoking through the front in a loop, each call taking `CALL_MS` in the function:
    calls are always in flight, swap or not. Counts what was sent and what came back."""

    def __init__(self, port: int, threads: int = 3) -> None:
        self.port = port
        self.stop = threading.Event()
        self.counts: Counter[str] = Counter()
        self.messages: list[str] = []
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(threads)]
        for thread in self._threads:
            thread.start()

    def _loop(self) -> None:
        while not self.stop.is_set():
            event = json.dumps({"name": "Ada", "sleep_ms": CALL_MS}).encode()
            with self._lock:
                self.counts["sent"] += 1
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                connection.request("POST", "/invoke", body=event)
                response = connection.getresponse()
                body = response.read()
                connection.close()
                answer = json.loads(body)
                ok = response.status == 200 and response.getheader("x-fc-status") == "200"
            except (OSError, ValueError, http.client.HTTPException) as error:
                ok, answer = False, {"error": repr(error)}
            with self._lock:
                if ok:
                    self.counts["answered"] += 1
                    self.messages.append(answer["message"])
                else:
                    self.failures.append(str(answer))

    def wait_for_message(self, message: str, timeout: float) -> int:
        """How many answers came before the first `message`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if message in self.messages:
                    return self.messages.index(message)
            time.sleep(0.02)
        raise AssertionError(f"no {message!r} within {timeout} s; last: {self.messages[-3:]}")

    def wait_for_answers(self, count: int, timeout: float) -> list[str]:
        """The messages once `count` have come."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(f"only {len(self.messages)} answers within {timeout} s")

    def close(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(90)


def program_of(workspace: Path) -> Path:
    """The copied workspace made a Pulumi program whose dev stack holds hello."""
    shutil.copy(REPO / "Pulumi.yaml", workspace / "Pulumi.yaml")
    (workspace / "Pulumi.dev.yaml").write_text("config:\n  fc-rust:functions:\n    hello: {}\n")
    return workspace


def test_a_saved_change_is_swapped_in_without_losing_a_call(workspace_copy: Path) -> None:
    program = program_of(workspace_copy)
    main_rs = program / "functions" / "hello" / "src" / "main.rs"
    source = main_rs.read_text()
    assert 'format!("Hello, {name}!")' in source
    command = ["serve", "hello", "--watch", "--port", "0", "--cron", "@every 1s"]
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local", *command, "--dir", str(program)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output(process)
    clients = None
    try:
        port = int(
            output.wait_for(r"serving hello on http://127\.0\.0\.1:(\d+)/invoke", BUILD_S)[1]
        )
        output.wait_for(r"watching hello's sources", 30)
        clients = Clients(port)
        clients.wait_for_message("Hello, Ada!", 60)

        # A source edit reaches the next answers.
        main_rs.write_text(source.replace('"Hello, {name}!"', '"Howdy, {name}!"'))
        clients.wait_for_message("Howdy, Ada!", BUILD_S)
        swapped = len(output.lines)
        output.wait_for(r"timer 'local' fires", 30, after=swapped)  # the timer kept firing

        # A broken edit: the compiler's error once, and the last build keeps answering.
        main_rs.write_text(
            source.replace('"Hello, {name}!"', '"Howdy, {name}!"') + 'compile_error!("planted");\n'
        )
        output.wait_for(r"the build failed: hello keeps serving the last build", BUILD_S)
        after_failure = len(clients.messages)
        output.wait_for(r"timer 'local' fires", 30, after=len(output.lines))
        answers = clients.wait_for_answers(after_failure + 6, 90)
        assert set(answers[after_failure:]) == {"Howdy, Ada!"}
    finally:
        if clients is not None:
            clients.close()
        process.send_signal(signal.SIGINT)
        code = process.wait(60)
    text = output.text()
    assert code == 0, text[-3000:]
    assert clients is not None
    assert clients.failures == [], clients.failures[:5]
    assert clients.counts["sent"] == clients.counts["answered"] > 0
    assert sum(line.startswith("error: planted") for line in output.lines) == 1, text[-3000:]
    assert "keeps serving the last build" in text
    assert re.search(r"swapped in the new build of hello \(pid \d+\), [\d.]+ s after", text)
    assert "FC Invoke" in text
