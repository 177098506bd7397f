"""`python -m infra new NAME`: a new function that runs under the emulator and deploys at once."""

from __future__ import annotations

import json
import os
import runpy
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import FAKE_TOKEN, REGION, REPO, evaluate

import infra
from infra import scaffold
from infra.bootstrap import Builder
from infra.bootstrap.build import SIZE_PROFILE
from infra.errors import StackError

pytestmark = pytest.mark.unit


def _program(workspace: Path) -> Path:
    """The workspace copy made a program too: this project's Pulumi.yaml and dev stack."""
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml"):
        shutil.copy2(REPO / name, workspace / name)
    return workspace


def _cli(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def _list_members(program: Path) -> Path:
    """Make the workspace name each member instead of globbing them; its manifest."""
    manifest = program / "Cargo.toml"
    globbed = 'members = ["crates/*", "functions/*"]'
    text = manifest.read_text()
    assert globbed in text, "the workspace's members line changed: update this helper"
    listed = 'members = ["crates/fc-runtime", "functions/hello", "functions/sync-forks"]'
    manifest.write_text(text.replace(globbed, listed))
    return manifest


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_a_new_function_is_invoked_by_the_emulator_and_is_in_the_stack(
    workspace_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = _program(workspace_copy)
    lock_before = {
        (p["name"], p["version"])
        for p in tomllib.loads((program / "Cargo.lock").read_text())["package"]
    }
    made = _cli("infra", "new", "greeter", cwd=program)
    assert made.returncode == 0, made.stderr
    assert (program / "functions" / "greeter" / "src" / "main.rs").is_file()
    stack = yaml.safe_load((program / "Pulumi.dev.yaml").read_text())
    assert stack["config"]["fc-rust:functions"]["greeter"] == {}
    # The lock file gained the new member and no dependency moved.
    packages = {
        (p["name"], p["version"])
        for p in tomllib.loads((program / "Cargo.lock").read_text())["package"]
    }
    assert packages - lock_before == {("greeter", "0.1.0")}
    assert lock_before <= packages

    invoked = _cli(
        "infra.local", "invoke", "greeter", "--event", "-", cwd=program, stdin='{"name": "Ada"}'
    )
    assert invoked.returncode == 0, invoked.stdout + invoked.stderr
    assert json.loads(invoked.stdout)["message"] == "Hello, Ada!"

    monkeypatch.chdir(program)
    evaluation = evaluate(
        lambda: runpy.run_path(str(REPO / "__main__.py"), run_name="__main__"),
        {
            "alicloud:region": REGION,
            "fc-rust:githubToken": FAKE_TOKEN,
            "fc-rust:functions": json.dumps(stack["config"]["fc-rust:functions"]),
        },
        ["fc-rust:githubToken"],
    )
    function = evaluation.by_name("greeter-function").plain()
    assert function["functionName"] == "greeter-dev"
    assert evaluation.by_name("greeter-code").plain()["key"].startswith("dev/greeter/")
    assert "greeter" in evaluation.outputs


def test_a_new_http_function_is_served_by_the_emulator_at_once(workspace_copy: Path) -> None:
    program = _program(workspace_copy)
    scaffold.new_function("web", program=program, workspace=program, stacks=["dev"], http=True)
    stack = yaml.safe_load((program / "Pulumi.dev.yaml").read_text())
    assert stack["config"]["fc-rust:functions"]["web"] == {"http": {"authType": "anonymous"}}
    invoked = _cli("infra.local", "invoke", "web", "--http", "GET /hello/Ada", cwd=program)
    assert invoked.returncode == 0, invoked.stdout + invoked.stderr
    assert invoked.stdout == "Hello, Ada!\n"
    assert "fc-local: HTTP 200" in invoked.stderr


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Bad_Name", "must be 1-63 lower-case letters"),
        ("hello", "exists already"),
    ],
)
def test_a_refused_name_changes_nothing(workspace_copy: Path, name: str, message: str) -> None:
    program = _program(workspace_copy)
    before = _snapshot(program)
    made = _cli("infra", "new", name, cwd=program)
    assert made.returncode == 2
    assert message in made.stderr
    assert _snapshot(program) == before


def test_a_failed_lock_update_leaves_the_program_as_it_was(
    workspace_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = _program(workspace_copy)
    # A workspace that lists its members, so the member line is written and must be undone.
    _list_members(program)
    before = _snapshot(program)
    fake_bin = program.parent / "bin"
    fake_bin.mkdir()
    cargo = fake_bin / "cargo"
    cargo.write_text("#!/bin/sh\necho 'error: no network today' >&2\nexit 101\n")
    cargo.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}:/usr/bin:/bin")
    made = _cli("infra", "new", "greeter", cwd=program)
    assert made.returncode == 2
    assert "`cargo update --workspace` failed" in made.stderr
    assert "no network today" in made.stderr
    assert _snapshot(program) == before


def test_a_listed_member_is_added_to_the_workspace(workspace_copy: Path) -> None:
    program = _program(workspace_copy)
    manifest = _list_members(program)
    made = _cli("infra", "new", "greeter", "--stack", "dev", "--stack", "ci", cwd=program)
    assert made.returncode == 0, made.stderr
    assert '"functions/greeter"' in manifest.read_text()
    created = yaml.safe_load((program / "Pulumi.ci.yaml").read_text())
    assert created == {"config": {"fc-rust:functions": {"greeter": {}}}}


def test_a_workspace_without_fc_runtime_is_told_how_to_add_it(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text('[workspace]\nmembers = ["functions/*"]\n')
    (tmp_path / "Pulumi.yaml").write_text("name: mine\nruntime: python\n")
    made = _cli("infra", "new", "greeter", cwd=tmp_path)
    assert made.returncode == 2
    assert "does not declare fc-runtime in [workspace.dependencies]" in made.stderr
    assert not (tmp_path / "functions").exists()


def test_outside_a_pulumi_program_it_says_so_and_changes_nothing(tmp_path: Path) -> None:
    shutil.copy2(REPO / "Cargo.toml", tmp_path / "Cargo.toml")
    before = _snapshot(tmp_path)
    made = _cli("infra", "new", "greeter", cwd=tmp_path)
    assert made.returncode == 2
    assert f"cannot read {tmp_path / 'Pulumi.yaml'}" in made.stderr
    assert "Traceback" not in made.stderr
    assert _snapshot(tmp_path) == before


def test_the_examples_greeter_is_what_the_template_makes() -> None:
    # examples/ shows the function `python -m infra new greeter` makes: the two must not drift.
    template = Path(infra.__file__).parent / "template"
    greeter = REPO / "examples" / "functions" / "greeter"
    for source, made in (("Cargo.toml.in", "Cargo.toml"), ("main.rs", "src/main.rs")):
        rendered = (template / source).read_text(encoding="utf-8").format(name="greeter")
        assert rendered == (greeter / made).read_text(encoding="utf-8"), made


# -- all or nothing, whatever stops it ------------------------------------------------------

WORKSPACE_TOML = """[workspace]
resolver = "2"
members = ["crates/*", "functions/*"]

[workspace.dependencies]
fc-runtime = { path = "crates/fc-runtime" }
"""
LOCKING_CARGO = "#!/bin/sh\nprintf '# updated by cargo\\n' >> Cargo.lock\n"
"""A `cargo update` that records it ran: no registry needed."""
STUCK_CARGO = """#!/bin/sh
# Says it started, then rewrites Cargo.lock until killed (as an orphaned cargo would).
echo $$ > "$CARGO_STARTED.tmp" && mv "$CARGO_STARTED.tmp" "$CARGO_STARTED"
while :; do echo "# rewritten $(date +%s%N)" > Cargo.lock; sleep 0.02; done
"""


def _small_program(root: Path, cargo: str = LOCKING_CARGO) -> Path:
    """A program whose workspace needs no compiler: a fake `cargo` first in PATH."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Cargo.toml").write_text(WORKSPACE_TOML)
    (root / "Cargo.lock").write_text("# the lock file\nversion = 4\n")
    (root / "Pulumi.yaml").write_text("name: mine\nruntime: python\n")
    (root / "Pulumi.dev.yaml").write_text(
        "config:\n  mine:functions:\n    hello: {}\n    other:\n      memorySize: 256\n"
    )
    (root / "functions" / "hello").mkdir(parents=True)
    (root / "functions" / "hello" / "Cargo.toml").write_text('[package]\nname = "hello"\n')
    bin_dir = root.parent / f"{root.name}-bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "cargo").write_text(cargo)
    (bin_dir / "cargo").chmod(0o755)
    return root


def _env(program: Path, **extra: str) -> dict[str, str]:
    bin_dir = program.parent / f"{program.name}-bin"
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(Path.home()), **extra}


def _run(program: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra", *args],
        cwd=program,
        env=_env(program, **extra),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _wait_for_file(path: Path, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)
    return path.read_text()


def test_new_and_remove_are_inverse(tmp_path: Path) -> None:
    program = _small_program(tmp_path / "p")
    before = _snapshot(program)
    made = _run(program, "new", "greeter", "--stack", "dev", "--stack", "prod")
    assert made.returncode == 0, made.stderr
    assert "# updated by cargo" in (program / "Cargo.lock").read_text()
    assert yaml.safe_load((program / "Pulumi.prod.yaml").read_text()) == {
        "config": {"mine:functions": {"greeter": {}}}
    }
    removed = _run(program, "remove", "greeter")
    assert removed.returncode == 0, removed.stderr
    assert "Pulumi.dev.yaml, Pulumi.prod.yaml" in removed.stdout
    after = _snapshot(program)
    # Pulumi.prod.yaml stays (with an empty map), Cargo.lock has the second update: the rest
    # is byte for byte what it was.
    assert yaml.safe_load(after.pop("Pulumi.prod.yaml")) == {"config": {"mine:functions": None}}
    assert after.pop("Cargo.lock").count(b"# updated by cargo") == 2
    before.pop("Cargo.lock")
    assert after == before
    assert not (program / "functions" / "greeter").exists()
    again = _run(program, "remove", "greeter")
    assert again.returncode == 2
    assert "there is no function greeter to remove" in again.stderr


def test_remove_takes_an_entry_with_settings_and_a_listed_member(tmp_path: Path) -> None:
    program = _small_program(tmp_path / "p")
    (program / "functions" / "other").mkdir()
    manifest = program / "Cargo.toml"
    manifest.write_text(
        WORKSPACE_TOML.replace('"functions/*"', '"functions/hello", "functions/other"')
    )
    removed = _run(program, "remove", "other")
    assert removed.returncode == 0, removed.stderr
    assert 'members = ["crates/*", "functions/hello"]' in manifest.read_text()
    stack = yaml.safe_load((program / "Pulumi.dev.yaml").read_text())
    assert stack == {"config": {"mine:functions": {"hello": {}}}}
    assert not (program / "functions" / "other").exists()


def test_an_error_in_the_second_stack_file_leaves_the_first_untouched(tmp_path: Path) -> None:
    program = _small_program(tmp_path / "p")
    (program / "Pulumi.broken.yaml").write_text("config:\n  mine:functions: [not, a, map]\n")
    before = _snapshot(program)
    made = _run(program, "new", "greeter", "--stack", "ghost", "--stack", "broken")
    assert made.returncode == 2
    assert "mine:functions is not a block mapping" in made.stderr
    assert _snapshot(program) == before, "Pulumi.ghost.yaml must not be created"


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        pytest.param(
            "config:\n    mine:functions:\n        hello: {}\n",
            "config:\n    mine:functions:\n        greeter: {}\n        hello: {}\n",
            id="four-space indentation",
        ),
        pytest.param(
            "config:\n  mine:functions: &fns  # the functions\n    hello: {}\n",
            "config:\n  mine:functions: &fns  # the functions\n    greeter: {}\n    hello: {}\n",
            id="an anchor and a comment on the functions line",
        ),
        pytest.param(
            "config:\r\n  alicloud:region: cn-hangzhou\r\n  mine:functions:\r\n    hello: {}\r\n",
            "config:\r\n  alicloud:region: cn-hangzhou\r\n  mine:functions:\r\n"
            "    greeter: {}\r\n    hello: {}\r\n",
            id="CRLF line endings",
        ),
        pytest.param(
            "config:\n    alicloud:region: cn-hangzhou\n",
            "config:\n    mine:functions:\n        greeter: {}\n    alicloud:region: cn-hangzhou\n",
            id="no functions map yet, four spaces",
        ),
    ],
)
def test_stack_files_are_edited_in_their_own_style(
    tmp_path: Path, stack: str, expected: str
) -> None:
    program = _small_program(tmp_path / "p")
    (program / "Pulumi.dev.yaml").write_bytes(stack.encode())
    made = _run(program, "new", "greeter")
    assert made.returncode == 0, made.stderr
    assert (program / "Pulumi.dev.yaml").read_bytes() == expected.encode()
    removed = _run(program, "remove", "greeter")
    assert removed.returncode == 0, removed.stderr
    if "greeter" not in stack and "mine:functions" in stack:
        assert (program / "Pulumi.dev.yaml").read_bytes() == stack.encode()


def test_an_unwritable_stack_file_is_named_and_nothing_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = _small_program(tmp_path / "p")
    monkeypatch.setenv("PATH", _env(program)["PATH"])
    before = _snapshot(program)
    stack_file = program / "Pulumi.dev.yaml"
    real_access = os.access

    def access(path: object, mode: int) -> bool:  # as for a file its owner made read-only
        return False if Path(str(path)) == stack_file else real_access(path, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    with pytest.raises(StackError) as caught:
        scaffold.new_function("greeter", program=program, workspace=program, stacks=["dev"])
    assert f"cannot write {stack_file} (Permission denied)" in str(caught.value)
    assert _snapshot(program) == before
    assert not (program / scaffold.JOURNAL).exists()


@pytest.mark.parametrize(
    ("signum", "status", "said"),
    [
        (signal.SIGINT, 130, "interrupted: nothing was changed"),
        (signal.SIGTERM, 143, "stopped by SIGTERM: nothing was changed"),
    ],
)
def test_a_signal_during_cargo_update_rolls_back_and_stops_cargo(
    tmp_path: Path, signum: int, status: int, said: str
) -> None:
    program = _small_program(tmp_path / "p", STUCK_CARGO)
    before = _snapshot(program)
    started = tmp_path / "cargo-started"
    process = subprocess.Popen(
        [sys.executable, "-m", "infra", "new", "greeter", "--stack", "dev", "--stack", "ci"],
        cwd=program,
        env=_env(program, CARGO_STARTED=str(started)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    cargo = int(_wait_for_file(started))
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == status, stderr
    assert said in stderr
    assert "Traceback" not in stderr
    assert not Path(f"/proc/{cargo}").exists(), "cargo was left running"
    assert _snapshot(program) == before


def test_after_a_sigkill_during_cargo_update_the_retry_rolls_back_and_succeeds(
    tmp_path: Path,
) -> None:
    reference = _small_program(tmp_path / "reference")
    assert _run(reference, "new", "greeter").returncode == 0
    program = _small_program(tmp_path / "p", STUCK_CARGO)
    started = tmp_path / "cargo-started"
    process = subprocess.Popen(
        [sys.executable, "-m", "infra", "new", "greeter"],
        cwd=program,
        env=_env(program, CARGO_STARTED=str(started)),
    )
    cargo = int(_wait_for_file(started))
    process.kill()
    process.wait(30)
    assert Path(f"/proc/{cargo}").exists(), "the orphaned cargo runs on"
    assert (program / scaffold.JOURNAL).exists()
    (program.parent / "p-bin" / "cargo").write_text(LOCKING_CARGO)  # the retry's cargo works
    retried = _run(program, "new", "greeter")
    assert retried.returncode == 0, retried.stderr
    assert "rolled back an interrupted `python -m infra new greeter` first" in retried.stderr
    _wait_gone(cargo)
    assert _snapshot(program) == _snapshot(reference)


KILLED_AT_WRITE = """
import os, signal, sys
import infra.scaffold as scaffold
limit, calls, write = int(sys.argv[1]), [0], scaffold.write_atomic
def dying(path, data):
    calls[0] += 1
    if calls[0] == limit:
        os.kill(os.getpid(), signal.SIGKILL)
    write(path, data)
scaffold.write_atomic = dying
from infra.__main__ import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("command", ["new", "remove"])
def test_a_sigkill_at_each_step_is_undone_by_the_next_run(tmp_path: Path, command: str) -> None:
    """SIGKILL before each write (the journal's and every file's): the next run rolls back
    and then does the whole job; its result is that of a run never interrupted."""
    reference = _small_program(tmp_path / "reference")
    if command == "remove":
        assert _run(reference, "new", "greeter").returncode == 0
    assert _run(reference, command, "greeter").returncode == 0, command
    steps = 0
    while True:
        steps += 1
        program = _small_program(tmp_path / f"killed-{steps}")
        if command == "remove":
            assert _run(program, "new", "greeter").returncode == 0
        killed = subprocess.run(
            [sys.executable, "-c", KILLED_AT_WRITE, str(steps), command, "greeter"],
            cwd=program,
            env=_env(program),
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if killed.returncode == 0:
            break
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        retried = _run(program, command, "greeter")
        assert retried.returncode == 0, retried.stderr
        assert _snapshot(program) == _snapshot(reference), f"killed at write {steps}"
    assert steps >= 5, "every step was killed once"


def _wait_gone(pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists():
        stat = Path(f"/proc/{pid}/stat").read_text() if Path(f"/proc/{pid}").exists() else ""
        if stat and stat.rsplit(")", 1)[1].split()[0] == "Z":
            return
        assert time.monotonic() < deadline, f"process {pid} still runs"
        time.sleep(0.01)


def test_a_failed_new_leaves_no_functions_directory_and_hints_name_the_interpreter(
    tmp_path: Path,
) -> None:
    program = _small_program(tmp_path / "p", "#!/bin/sh\necho 'error: offline' >&2\nexit 101\n")
    shutil.rmtree(program / "functions")
    failed = _run(program, "new", "greeter")
    assert failed.returncode == 2
    assert "error: offline" in failed.stderr
    assert not (program / "functions").exists(), "an empty functions/ was left behind"
    (program.parent / "p-bin" / "cargo").write_text(LOCKING_CARGO)
    made = _run(program, "new", "greeter")
    assert made.returncode == 0, made.stderr
    # The hint runs as given: the interpreter that ran `new`, not a bare `python`.
    assert f"run it: {sys.executable} -m infra.local invoke greeter --event -" in made.stdout


# -- what a newcomer's own workspace and reading meet -------------------------------------


def test_a_workspace_without_a_release_profile_is_built_with_the_size_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "CARGO_PROFILE_RELEASE_LTO"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "Cargo.toml").write_text('[workspace]\nmembers = ["functions/*"]\n')
    (tmp_path / "Cargo.lock").write_text("version = 4\n")
    bare = Builder(tmp_path)
    said, _ = bare.release_profile()
    assert said.startswith("fc-rust's size profile (opt-level z, lto true, codegen-units 1")
    env = bare.cargo_environment("2.17", zig=False)
    profile = {k: v for k, v in env.items() if k.startswith("CARGO_PROFILE_RELEASE_")}
    assert profile == {f"CARGO_PROFILE_RELEASE_{k}": v for k, v in SIZE_PROFILE.items()}
    # The size profile is this repository's own: the two cannot drift apart.
    ours = tomllib.loads((REPO / "Cargo.toml").read_text())["profile"]["release"]
    assert {k.upper().replace("-", "_"): str(v).lower() for k, v in ours.items()} == SIZE_PROFILE
    # A workspace with its own profile keeps it: nothing is added.
    (tmp_path / "Cargo.toml").write_text(
        '[workspace]\nmembers = ["functions/*"]\n\n[profile.release]\nopt-level = 3\n'
    )
    own = Builder(tmp_path)
    assert own.release_profile() == ("the workspace's [profile.release]", {})
    assert not any(
        k.startswith("CARGO_PROFILE_RELEASE_") for k in own.cargo_environment("2.17", zig=False)
    )


def test_what_a_newcomer_reads_holds() -> None:
    readme = (REPO / "README.md").read_text()
    # Install pins exist in every clone: a commit, the same one for pip and cargo; no tags.
    assert 'pip install "fc-rust @ git+<fc-rust repository URL>@<commit>"' in readme
    assert 'fc-runtime = { git = "<fc-rust repository URL>", rev = "<commit>" }' in readme
    assert "tag =" not in readme
    assert "@v0." not in readme
    # Files cited from the repository exist in it.
    for stack in REPO.glob("Pulumi.*.yaml"):
        assert "FC_PLATFORM.md" not in stack.read_text(), stack.name
