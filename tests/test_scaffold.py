"""`python -m infra new NAME`: a new function that runs under the emulator and deploys at once."""

from __future__ import annotations

import json
import runpy
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import FAKE_TOKEN, REGION, REPO, evaluate

import infra

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
    assert function["functionName"] == "greeter"
    assert evaluation.by_name("greeter-code").plain()["key"].startswith("dev/greeter/")
    assert "greeter" in evaluation.outputs


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
