"""`python -m infra new NAME`: a new function, ready to invoke and deploy.

It writes `functions/NAME/` from the template, makes it a member of the Cargo workspace, brings
`Cargo.lock` up to date and adds `NAME: {}` to the stack's `functions` map, so that
`python -m infra.local invoke NAME` runs it at once and `pulumi up` deploys it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import yaml

from infra.config import project_name, read_yaml
from infra.errors import StackError
from infra.limits import check_function_name

if TYPE_CHECKING:
    from pathlib import Path

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
FUNCTIONS_DIR = "functions"


@dataclass(frozen=True)
class Scaffolded:
    """What `new` wrote."""

    crate_dir: Path
    stack_files: list[Path]


def _template(name: str) -> str:
    return (resources.files("infra") / "template" / name).read_text(encoding="utf-8")


def check_name(name: str) -> list[str]:
    """A name that is at once a crate, binary, FC function and Pulumi resource name."""
    if not _NAME.match(name):
        return [
            (
                f"function name {name!r} must be 1-63 lower-case letters, digits and '-', "
                "starting with a letter (it names the crate, its binary and the FC function)"
            )
        ]
    return check_function_name(name)


def _workspace_manifest(workspace: Path) -> dict[str, object]:
    manifest = workspace / "Cargo.toml"
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StackError(
            f"{manifest} not found: run `python -m infra new` in the Cargo workspace root (or "
            "give --workspace), which holds a Cargo.toml with a [workspace] table"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise StackError(f"{manifest} is not valid TOML: {error}") from error
    workspace_table = data.get("workspace")
    if not isinstance(workspace_table, dict):
        raise StackError(f"{manifest} has no [workspace] table")
    return workspace_table


def _check_fc_runtime(workspace_table: dict[str, object], manifest: Path) -> None:
    """The new crate takes fc-runtime from the workspace: it must declare it."""
    shared = workspace_table.get("dependencies")
    if isinstance(shared, dict) and "fc-runtime" in shared:
        return
    raise StackError(
        f"{manifest} does not declare fc-runtime in [workspace.dependencies]; add "
        '`fc-runtime = { git = "<fc-rust repository URL>" }` there (see the README, '
        '"Use it from your own program"), then run this again'
    )


def _add_member(manifest: Path, workspace_table: dict[str, object], member: str) -> None:
    """Make `member` a workspace member, unless a glob (`functions/*`) covers it already."""
    members = workspace_table.get("members", [])
    root = manifest.parent
    if isinstance(members, list) and any(
        root / member in root.glob(str(pattern)) for pattern in members
    ):
        return
    text = manifest.read_text(encoding="utf-8")
    match = re.search(r"^members\s*=\s*\[", text, flags=re.MULTILINE)
    if match is None:
        raise StackError(
            f"{manifest}: cannot find `members = [` in [workspace]; add {member!r} to it by hand"
        )
    text = f'{text[: match.end()]}"{member}", {text[match.end() :]}'
    manifest.write_text(text, encoding="utf-8")


def _add_to_stack(stack_file: Path, project: str, name: str) -> None:
    """Add `name: {}` to the stack file's `<project>:functions`, keeping its comments."""
    key = f"{project}:functions"
    text = stack_file.read_text(encoding="utf-8") if stack_file.exists() else ""
    config = read_yaml(stack_file).get("config") if text else None
    functions = config.get(key) if isinstance(config, dict) else None
    if isinstance(functions, dict) and name in functions:
        return
    lines = text.splitlines()
    at = next((i for i, line in enumerate(lines) if line.strip() == f"{key}:"), None)
    if at is not None:
        indent = len(lines[at]) - len(lines[at].lstrip())
        lines.insert(at + 1, f"{' ' * (indent + 2)}{name}: {{}}")
    elif functions is None:
        if not any(line.rstrip() == "config:" for line in lines):
            lines.append("config:")
        at = next(i for i, line in enumerate(lines) if line.rstrip() == "config:")
        lines[at + 1 : at + 1] = [f"  {key}:", f"    {name}: {{}}"]
    else:
        raise StackError(
            f"{stack_file}: {key} is not a block mapping; add the function with "
            f"`pulumi config set --path 'functions.{name}.crate' {name}`"
        )
    new_text = "\n".join(lines) + "\n"
    entries = (yaml.safe_load(new_text).get("config") or {}).get(key)
    if not isinstance(entries, dict) or name not in entries:
        raise StackError(
            f"{stack_file}: could not add {name} to {key}; add it with "
            f"`pulumi config set --path 'functions.{name}.crate' {name}`"
        )
    stack_file.write_text(new_text, encoding="utf-8")


def new_function(name: str, *, program: Path, workspace: Path, stacks: list[str]) -> Scaffolded:
    """Create the function `name`; a StackError says what stopped it and changes nothing."""
    problems = check_name(name)
    if problems:
        raise StackError("; ".join(problems))
    manifest = workspace / "Cargo.toml"
    workspace_table = _workspace_manifest(workspace)
    _check_fc_runtime(workspace_table, manifest)
    crate_dir = workspace / FUNCTIONS_DIR / name
    if crate_dir.exists():
        raise StackError(f"{crate_dir} exists already; choose another name or remove it")
    project = project_name(program)
    stack_files = [program / f"Pulumi.{stack}.yaml" for stack in stacks]
    saved = {
        path: path.read_bytes()
        for path in (manifest, workspace / "Cargo.lock", *stack_files)
        if path.exists()
    }
    try:
        (crate_dir / "src").mkdir(parents=True)
        (crate_dir / "Cargo.toml").write_text(
            _template("Cargo.toml.in").format(name=name), encoding="utf-8"
        )
        (crate_dir / "src" / "main.rs").write_text(
            _template("main.rs").format(name=name), encoding="utf-8"
        )
        _add_member(manifest, workspace_table, f"{FUNCTIONS_DIR}/{name}")
        update_lock(workspace)
        for stack_file in stack_files:
            _add_to_stack(stack_file, project, name)
    except BaseException:
        # Leave the program as it was: no half-made crate, member or stack entry.
        shutil.rmtree(crate_dir, ignore_errors=True)
        for path, data in saved.items():
            path.write_bytes(data)
        raise
    return Scaffolded(crate_dir, stack_files)


def update_lock(workspace: Path) -> None:
    """Record the new member in Cargo.lock (builds are `--locked`), changing no dependency."""
    try:
        subprocess.run(
            ["cargo", "update", "--workspace", "--quiet"],
            cwd=workspace,
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except FileNotFoundError:
        raise StackError("cargo not found: install Rust stable (https://rustup.rs)") from None
    except subprocess.CalledProcessError as error:
        raise StackError(
            f"`cargo update --workspace` failed in {workspace}:\n{error.stderr.strip()}"
        ) from error
