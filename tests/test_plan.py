"""`python -m infra plan`: the stack's resources, evaluated offline, and what changed since."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from conftest import REPO

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

STACK = """config:
  alicloud:region: cn-hangzhou
  fc-rust:workspace: {workspace}
  fc-rust:githubToken:
    secure: v1:bm90LWEtcmVhbC1jaXBoZXJ0ZXh0
  fc-rust:functions:
    sync-forks:
      timeout: 300
      environment:
        SYNC_FORKS: octocat/Hello-World
        SYNC_FORKS_BUDGET_SECS: "290"
      secretEnvironment:
        GITHUB_TOKEN: githubToken
      timers:
        - name: daily
          cron: "0 0 0 * * *"
    hello:{hello}
"""


def _program(tmp_path: Path, hello: str = " {}") -> Path:
    """This repository's program in a directory of its own, building in this workspace."""
    program = tmp_path / "program"
    program.mkdir(exist_ok=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy2(REPO / name, program / name)
    shutil.copytree(REPO / "stack", program / "stack", dirs_exist_ok=True)
    workspace = os.path.relpath(REPO, program)
    (program / "Pulumi.dev.yaml").write_text(STACK.format(workspace=workspace, hello=hello))
    return program


def _plan(program: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra", "plan", *args],
        cwd=program,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def test_plan_prints_what_the_stack_declares_with_the_packages_hashes(tmp_path: Path) -> None:
    program = _program(tmp_path)
    text = _plan(program)
    assert text.returncode == 0, text.stderr
    assert "stack dev of fc-rust:" in text.stdout
    assert "alicloud:fc/v3Function:V3Function  sync-forks-function" in text.stdout
    assert "      functionName: sync-forks" in text.stdout
    as_json = _plan(program, "--json")
    assert as_json.returncode == 0, as_json.stderr
    plan = json.loads(as_json.stdout)
    (function,) = [r for r in plan["resources"] if r["name"] == "hello-function"]
    assert function["inputs"]["memorySize"] == 128
    # The packages are the ones the build wrote, by hash; secrets never show.
    for name in ("hello", "sync-forks"):
        manifest = json.loads((REPO / "dist" / name / "manifest.json").read_text())
        assert plan["packages"][name] == manifest["sha256"]
        assert f"{name}: sha256 {manifest['sha256']}" in text.stdout
    (sync,) = [r for r in plan["resources"] if r["name"] == "sync-forks-function"]
    # The variables hold a secret, so the whole map is one, as Pulumi shows it.
    assert sync["inputs"]["environmentVariables"] == "[secret]"
    assert "bm90LWEtcmVhbC1jaXBoZXJ0ZXh0" not in as_json.stdout


def test_plan_against_an_earlier_plan_says_what_changes(tmp_path: Path) -> None:
    program = _program(tmp_path)
    saved = tmp_path / "plan.json"
    first = _plan(program, "--json")
    assert first.returncode == 0, first.stderr
    saved.write_text(first.stdout)
    unchanged = _plan(program, "--against", str(saved))
    assert unchanged.returncode == 0, unchanged.stderr
    assert "0 to create, 0 to change, 0 to delete" in unchanged.stdout
    (program / "Pulumi.dev.yaml").write_text(
        STACK.format(workspace=os.path.relpath(REPO, program), hello="\n      memorySize: 256")
    )
    changed = _plan(program, "--against", str(saved))
    assert changed.returncode == 0, changed.stderr
    (line,) = [
        line
        for line in changed.stdout.splitlines()
        if line.startswith("  ~ change alicloud:fc/v3Function:V3Function hello-function: ")
    ]
    assert "memorySize" in line.rsplit(": ", 1)[1].split(", "), line
    dropped = STACK.replace("    hello:{hello}\n", "")
    (program / "Pulumi.dev.yaml").write_text(
        dropped.format(workspace=os.path.relpath(REPO, program))
    )
    removed = _plan(program, "--against", str(saved), "--json")
    assert removed.returncode == 0, removed.stderr
    changes = json.loads(removed.stdout)
    assert "alicloud:fc/v3Function:V3Function hello-function" in changes["deleted"]
    assert changes["created"] == []


def test_a_misconfigured_stack_is_refused_with_previews_errors(tmp_path: Path) -> None:
    program = _program(tmp_path, hello="\n      memorySize: 100\n      timers: daily")
    refused = _plan(program)
    assert refused.returncode == 2
    assert "invalid configuration for stack dev" in refused.stderr
    assert "hello: memorySize must be a multiple of 64" in refused.stderr
    assert "fc-rust:functions.hello.memorySize" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert refused.stdout == ""
    missing = _plan(program, "--stack", "nope")
    assert missing.returncode == 2
    assert "no stack 'nope'" in missing.stderr
