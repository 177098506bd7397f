"""`make bench-watch`: from saving a file to the first answer of the new code, beside cargo.

In a copy of the workspace (edits stay there), each round, interleaved:

- watch: `serve hello --watch` up; hello's greeting is changed and saved; the time until an
  answer carries the new greeting. The client asks every 10 ms once cargo has finished (serve's
  log says so) and every 250 ms before: a client asking every 10 ms throughout takes CPU time
  from the compiler it is timing, which cargo's own round does not have to share.
- cargo: `serve` stopped; the greeting changed again; the time of cargo's own incremental
  build of that change, with the command and environment the build uses.

The target is the watch time at most cargo's time plus 1 s. The first build of the copy compiles
every dependency (its paths differ from the repository's) and is not timed. Each round names
the crates cargo compiled in it: a round that compiled more than hello timed dependencies too,
and says so, rather than passing for an edit's cost.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from infra.bootstrap import Builder
from infra.bootstrap.build import TARGET
from infra.bootstrap.elf import RUNTIME_GLIBC

REPO = Path(__file__).resolve().parents[1]
ROUNDS = int(os.environ.get("BENCH_WATCH_ROUNDS", "3"))
POLL_S = 0.01
IDLE_POLL_S = 0.25
"""How often the client asks while cargo still compiles (the old code answers meanwhile)."""
BUILD_S = 1800.0
COMPILING = re.compile(r"^\s*Compiling (\S+) v", re.MULTILINE)
"""Cargo's line for each crate it compiles."""


def _copy(destination: Path) -> Path:
    """The workspace's manifests and crates, and a dev stack holding hello."""
    for name in ("Cargo.toml", "Cargo.lock", "Pulumi.yaml"):
        shutil.copy2(REPO / name, destination / name)
    ignore = shutil.ignore_patterns("target", "dist", "__pycache__")
    for tree in ("crates", "functions"):
        shutil.copytree(REPO / tree, destination / tree, ignore=ignore)
    (destination / "Pulumi.dev.yaml").write_text("config:\n  fc-rust:functions:\n    hello: {}\n")
    return destination


def _greet(workspace: Path, word: str) -> None:
    """Change hello's greeting to `word` and save, as an editor does."""
    main_rs = workspace / "functions" / "hello" / "src" / "main.rs"
    text = re.sub(
        r'format!\("\w+, \{name\}!"\)', f'format!("{word}, {{name}}!")', main_rs.read_text()
    )
    main_rs.write_text(text)


def _answer(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/invoke", body=b'{"name": "Ada"}')
        body = connection.getresponse().read()
    finally:
        connection.close()
    return str(json.loads(body).get("message", ""))


def _serve(workspace: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """`serve hello --watch` on a free port, once it watches; its process and port."""
    stream = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local", "serve", "hello", "--watch", "--port", "0"],
        cwd=workspace,
        stdout=stream,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + BUILD_S
    port = None
    while time.monotonic() < deadline and process.poll() is None:
        text = log.read_text(errors="replace")
        found = re.findall(r"serving hello on http://127\.0\.0\.1:(\d+)/invoke", text)
        if found and "watching hello's sources" in text.rsplit("serving hello", 1)[-1]:
            port = int(found[-1])
            break
        time.sleep(0.05)
    if port is None:
        process.kill()
        raise SystemExit(f"serve did not come up; its output is in {log}")
    return process, port


def _watch_round(workspace: Path, log: Path, word: str) -> tuple[float, list[str]]:
    """Seconds from saving to the new answer, and the crates the rebuild compiled."""
    process, port = _serve(workspace, log)
    try:
        _answer(port)  # the old code answers
        before = len(log.read_bytes())
        _greet(workspace, word)
        saved = time.monotonic()
        deadline = saved + BUILD_S
        while time.monotonic() < deadline:
            try:
                if _answer(port) == f"{word}, Ada!":
                    elapsed = time.monotonic() - saved
                    text = log.read_bytes()[before:].decode(errors="replace")
                    return elapsed, COMPILING.findall(text)
            except OSError:
                pass
            built = b"Finished `" in log.read_bytes()[before:]
            time.sleep(POLL_S if built else IDLE_POLL_S)
        raise SystemExit(f"the new greeting never came; see {log}")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)


def _cargo_round(workspace: Path, word: str) -> tuple[float, list[str]]:
    """Cargo's own build of the change: its seconds, and the crates it compiled.

    The command and environment are those the build runs cargo with.
    """
    builder = Builder(workspace)
    glibc = RUNTIME_GLIBC["custom.debian10"]
    env = builder.cargo_environment(glibc)
    command = ["cargo", "zigbuild", "--target", f"{TARGET}.{glibc}", "--release", "--locked"]
    for crate in builder.run_crates(["hello"]):
        command += ["-p", crate.name, "--bin", crate.binary]
    _greet(workspace, word)
    started = time.monotonic()
    done = subprocess.run(command, cwd=workspace, env=env, check=True, capture_output=True)
    return time.monotonic() - started, COMPILING.findall(done.stderr.decode(errors="replace"))


def _compiled(crates: list[str]) -> str:
    """What a round compiled, flagged when it is more than the edited crate."""
    if crates == ["hello"]:
        return "hello"
    return f"{', '.join(crates) or 'nothing'} (not hello alone: this round's time is not an edit's)"


def main() -> None:
    """Print each round's figures, then the medians and the overhead over cargo."""
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as directory:
        workspace = _copy(Path(directory))
        print(f"workspace copy in {workspace}; first build (untimed)...", flush=True)  # noqa: T201
        Builder(workspace).package("hello")
        rows = []
        for round_ in range(1, ROUNDS + 1):
            log = Path(directory) / f"serve-{round_}.log"
            watched, watch_crates = _watch_round(workspace, log, f"Watch{round_}")
            cargo, cargo_crates = _cargo_round(workspace, f"Cargo{round_}")
            rows.append((watched, cargo))
            print(  # noqa: T201 - the bench's report
                f"round {round_}: save to first new answer {watched:.2f} s, "
                f"cargo alone {cargo:.2f} s, difference {watched - cargo:+.2f} s; compiled: "
                f"watch {_compiled(watch_crates)}; cargo {_compiled(cargo_crates)}",
                flush=True,
            )
        watch_median = statistics.median(r[0] for r in rows)
        cargo_median = statistics.median(r[1] for r in rows)
        print(  # noqa: T201
            f"median over {ROUNDS} rounds: save to answer {watch_median:.2f} s, cargo "
            f"{cargo_median:.2f} s, overhead {watch_median - cargo_median:+.2f} s "
            f"(target: at most +1.00 s)"
        )


if __name__ == "__main__":
    main()
