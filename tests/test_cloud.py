"""End to end on Alibaba Cloud: `pulumi up`, invoke hello, find its log line, `pulumi destroy`.

Runs only with credentials (`ALIBABA_CLOUD_ACCESS_KEY_ID`/`_SECRET`), the `pulumi` CLI and the
`aliyun` CLI on PATH; everywhere else it is skipped and says which of them is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from conftest import REPO

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.cloud

REGION = os.environ.get("FCRUST_CLOUD_REGION", "cn-hangzhou")


def cloud_config(region: str) -> dict[str, object]:
    """The throwaway stack's plain config (its token is set apart, as a secret).

    hello alone, with a timer turned off: a function, version, alias, async configs, a
    trigger, role, logs and code bucket, without sync-forks' calls to GitHub.
    `tests/test_cloud_config.py` evaluates exactly this offline, so a config change that would
    break this test fails `make test`.
    """
    return {
        "alicloud:region": region,
        "fc-rust:functions": {
            "hello": {"timers": [{"name": "tick", "cron": "@every 60m", "enabled": False}]}
        },
    }


def read_stack_file(path: Path) -> dict[str, Any]:
    """What `pulumi stack init` and `config set` wrote so far (the salt, the encrypted token)."""
    if not path.exists():
        return {}
    return dict(yaml.safe_load(path.read_text()) or {})


def _missing() -> list[str]:
    missing = [
        f"environment variable {name}"
        for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        if not os.environ.get(name)
    ]
    missing += [f"the {tool} CLI" for tool in ("pulumi", "aliyun") if shutil.which(tool) is None]
    return missing


def _run(*command: str, env: dict[str, str], stdin: str | None = None) -> str:
    result = subprocess.run(
        command, cwd=REPO, env=env, input=stdin, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command[:3])} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A throwaway stack in a local backend, destroyed and removed afterwards."""
    missing = _missing()
    if missing:
        pytest.skip("cloud test needs " + ", ".join(missing))
    env = dict(os.environ)
    env.setdefault("PULUMI_BACKEND_URL", f"file://{tmp_path}")
    env.setdefault("PULUMI_CONFIG_PASSPHRASE", "cloud-test-passphrase-not-secret")
    env["ALIBABA_CLOUD_REGION"] = REGION
    name = f"cloudtest{uuid.uuid4().hex[:8]}"
    _run("pulumi", "stack", "init", name, env=env)
    try:
        _run("pulumi", "config", "set", "alicloud:region", REGION, "--stack", name, env=env)
        token = os.environ.get("FCRUST_CLOUD_GITHUB_TOKEN", "cloud-test-token-not-real")
        _run(
            "pulumi",
            "config",
            "set",
            "--secret",
            "githubToken",
            "--stack",
            name,
            env=env,
            stdin=token,
        )
        settings = cloud_config(REGION)
        stack_file = REPO / f"Pulumi.{name}.yaml"
        written = read_stack_file(stack_file)
        written["config"] = {**written.get("config", {}), **settings}
        stack_file.write_text(yaml.safe_dump(written))
        yield name, env
    finally:
        subprocess.run(
            ["pulumi", "destroy", "--yes", "--stack", name], cwd=REPO, env=env, check=False
        )
        subprocess.run(
            ["pulumi", "stack", "rm", "--yes", "--force", name], cwd=REPO, env=env, check=False
        )


def test_up_invoke_log_destroy(stack: tuple[str, dict[str, str]]) -> None:
    name, env = stack
    _run("pulumi", "up", "--yes", "--skip-preview", "--stack", name, env=env)
    outputs = json.loads(_run("pulumi", "stack", "output", "--json", "--stack", name, env=env))
    hello = outputs["hello"]
    assert hello["alias"] == "live"
    assert "GITHUB_TOKEN" not in json.dumps(outputs)
    # A second preview of the unchanged tree proposes nothing.
    preview = _run("pulumi", "preview", "--expect-no-changes", "--stack", name, env=env)
    assert "error" not in preview.lower()
    answer = _run(
        "aliyun",
        "fc",
        "POST",
        f"/2023-03-30/functions/{hello['function_name']}/invocations",
        "--qualifier",
        "live",
        "--body",
        json.dumps({"name": "cloud"}),
        env=env,
    )
    assert "Hello, cloud" in answer
    request_deadline = time.monotonic() + 180
    project = hello["log_project"]
    while True:
        logs = _run(
            "aliyun",
            "sls",
            "GetLogs",
            f"--project={project}",
            f"--logstore={hello['logstore']}",
            f"--from={int(time.time()) - 900}",
            f"--to={int(time.time()) + 60}",
            "--query=FC Invoke Start",
            env=env,
        )
        if "FC Invoke Start" in logs:
            break
        if time.monotonic() > request_deadline:
            pytest.fail(
                f"no 'FC Invoke Start' line in {project}/{hello['logstore']} after 3 minutes"
            )
        time.sleep(15)
