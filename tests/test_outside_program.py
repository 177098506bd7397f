"""The library from another program: installed from the repository into a fresh venv.

`examples/` is a Pulumi program with its own Cargo workspace and crate. Copied outside this
repository, it is evaluated under mocks by the installed package alone (not this checkout), its
function is invoked by the installed emulator, and `fc-runtime` is a git dependency of a
workspace of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parent.parent

# Runs inside the fresh venv: the program's own __main__.py under recording mocks, as the
# Pulumi CLI would run it in the program's directory with the stack's config.
RUNNER = textwrap.dedent(
    """
    import json, runpy, sys
    from pathlib import Path

    import pulumi, yaml
    from pulumi.runtime import settings
    from pulumi.runtime.stack import run_in_stack
    from pulumi.runtime.sync_await import _sync_await

    registered = []

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            registered.append({"type": args.typ, "name": args.name, "inputs": args.inputs})
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args):
            # Default log project names carry a digest of the caller's account.
            if args.token == "alicloud:index/getCallerIdentity:getCallerIdentity":
                return {"accountId": "123456789"}
            return {}

    project = yaml.safe_load(Path("Pulumi.yaml").read_text())["name"]
    config = yaml.safe_load(Path("Pulumi.dev.yaml").read_text())["config"]
    pulumi.runtime.set_mocks(Mocks(), project=project, stack="dev", preview=False)
    pulumi.runtime.set_all_config(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}, []
    )
    settings.ROOT.set(None)
    _sync_await(run_in_stack(lambda: runpy.run_path("__main__.py", run_name="__main__")))
    import infra
    print(json.dumps({"infra": infra.__file__, "resources": registered}, default=str))
    """
)


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None, stdin: str = "") -> str:
    result = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=1500,
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the repository installed as a user installs it (not editable)."""
    venv = tmp_path_factory.mktemp("outside") / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], REPO)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip>=25.1"], REPO)
    _run([str(python), "-m", "pip", "install", "--quiet", str(REPO)], REPO)
    return python


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/, copied outside the repository; fc-runtime taken from the repository's crate."""
    destination = tmp_path_factory.mktemp("program") / "my-functions"
    ignore = shutil.ignore_patterns("target", "dist", "venv", "__pycache__")
    shutil.copytree(REPO / "examples", destination, ignore=ignore)
    manifest = destination / "Cargo.toml"
    manifest.write_text(
        manifest.read_text().replace(
            'path = "../crates/fc-runtime"', f'path = "{REPO / "crates" / "fc-runtime"}"'
        )
    )
    return destination


def _env(python: Path) -> dict[str, str]:
    """The venv's tools first, and nothing of this checkout on the import path."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env["PATH"] = os.pathsep.join([str(python.parent), env.get("PATH", "")])
    for name in ("FCRUST_CACHE_DIR", "FCRUST_CARGO_TARGET_DIR"):
        env.pop(name, None)
    return env


def test_the_example_program_deploys_its_own_function_with_the_installed_library(
    installed: Path, program: Path
) -> None:
    (program / "runner.py").write_text(RUNNER)
    report = json.loads(_run([str(installed), "runner.py"], program, _env(installed)))
    assert Path(report["infra"]).is_relative_to(installed.parent.parent), report["infra"]
    by_name = {r["name"]: r for r in report["resources"]}
    function = by_name["greeter-function"]
    assert function["type"] == "alicloud:fc/v3Function:V3Function"
    assert function["inputs"]["functionName"] == "greeter-dev"  # <entry>-<stack>
    assert function["inputs"]["tags"] == {"project": "my-functions", "stack": "dev"}
    assert by_name["greeter-role-role"]["inputs"]["roleName"] == "my-functions-dev-greeter"
    timer = by_name["greeter-timer-hourly"]["inputs"]
    assert json.loads(timer["triggerConfig"])["cronExpression"] == "0 0 * * * *"
    # Built in the program's own workspace, not in the library's.
    manifest = json.loads((program / "dist" / "greeter" / "manifest.json").read_text())
    assert manifest["sha256"] == by_name["greeter-code"]["inputs"]["key"].split("/")[-1][:-4]


def test_the_installed_emulator_invokes_the_example_function(
    installed: Path, program: Path
) -> None:
    out = _run(
        [str(installed), "-m", "infra.local", "invoke", "greeter", "--event", "-"],
        program,
        _env(installed),
        stdin='{"name": "Ada"}',
    )
    assert json.loads(out)["message"] == "Hello, Ada!", out  # the result alone on stdout


def test_fc_runtime_works_as_a_git_dependency(tmp_path: Path) -> None:
    source = tmp_path / "fc-rust.git"
    _run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(source)], tmp_path)
    workspace = tmp_path / "user"
    (workspace / "functions" / "tick" / "src").mkdir(parents=True)
    (workspace / "Cargo.toml").write_text(
        '[workspace]\nresolver = "2"\nmembers = ["functions/*"]\n\n'
        f'[workspace.dependencies]\nfc-runtime = {{ git = "file://{source}" }}\n'
    )
    (workspace / "functions" / "tick" / "Cargo.toml").write_text(
        '[package]\nname = "tick"\nversion = "0.1.0"\nedition = "2021"\n\n'
        "[dependencies]\nfc-runtime.workspace = true\n"
    )
    (workspace / "functions" / "tick" / "src" / "main.rs").write_text("fn main() {}\n")
    metadata = json.loads(
        _run(["cargo", "metadata", "--format-version", "1"], workspace, dict(os.environ))
    )
    (fc_runtime,) = [p for p in metadata["packages"] if p["name"] == "fc-runtime"]
    assert fc_runtime["source"].startswith(f"git+file://{source}")
    # Its dependencies inherited from the fc-rust workspace resolved from the git checkout.
    assert {"hyper", "tokio"} <= {d["name"] for d in fc_runtime["dependencies"]}


def test_the_example_stack_names_only_what_the_example_has() -> None:
    stack = yaml.safe_load((REPO / "examples" / "Pulumi.dev.yaml").read_text())
    crates = {p.name for p in (REPO / "examples" / "functions").iterdir() if p.is_dir()}
    assert set(stack["config"]["my-functions:functions"]) == crates
