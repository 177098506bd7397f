"""The changes users make, played through the lifecycle simulator: every one safe to apply.

For each change the simulator's plan must have no create that collides with a resource still
holding its id, no replacement of a resource that may only be updated, no delete the provider
refuses, and the one effect the change is for. The plans are kept in `tests/lifecycle_matrix.txt`
(`make lifecycle` rewrites it), so that a change to what an edit does shows up in review.
"""

from __future__ import annotations

import os
import runpy
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import lifecycle
import pytest
from conftest import (
    REPO,
    Evaluation,
    committed_config,
    copy_workspace,
    dev_config,
    dev_functions,
    entry,
    evaluate,
    functions,
    prior_state,
)

from infra import RustFunction, RustFunctionArgs

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = pytest.mark.unit

MATRIX = Path(__file__).with_name("lifecycle_matrix.txt")
FAKE_PASSWORD = "test-registry-password-not-real"  # noqa: S105 - a fake value
CONTAINER = {
    "variant": "container",
    "registryNamespace": "fcrust",
    "registryUsername": "someone@example.com",
    "registryPassword": FAKE_PASSWORD,
}


def stack(workspace: Path, name: str = "dev", **overrides: str) -> Callable[[], Evaluation]:
    """The project's program for a committed stack with `overrides`, as a deferred evaluation."""
    config = committed_config(name) if name != "dev" else dev_config()
    config.update({"fc-rust:workspace": str(workspace)})
    config.update({k if ":" in k else f"fc-rust:{k}": v for k, v in overrides.items()})
    secrets = ["fc-rust:githubToken", "fc-rust:registryPassword"]
    return lambda: evaluate(
        lambda: runpy.run_path(str(REPO / "__main__.py"), run_name="__main__"),
        config,
        secrets,
        stack=name,
    )


def component(args: RustFunctionArgs, name: str = "hello") -> Callable[[], Evaluation]:
    """One RustFunction from the library, as a deferred evaluation."""
    return lambda: evaluate(lambda: RustFunction(name, args), {"alicloud:region": "cn-hangzhou"})


TIMERS: RustFunctionArgs = {
    "crate": "hello",
    "timers": [
        {"name": "morning", "cron": "0 0 8 * * *"},
        {"name": "evening", "cron": "@every 1h"},
    ],
}


SHANGHAI_DAILY = {"name": "daily", "cron": "CRON_TZ=Asia/Shanghai 0 0 8 * * *"}
PINNED = entry("hello", pinnedVersion="3")
HTTP = {"authType": "anonymous", "methods": ["GET", "POST"]}


def forks(text: str) -> str:
    """The dev stack's functions with sync-forks' forks list set to `text`."""
    environment = dev_functions()["sync-forks"]["environment"]
    return entry("sync-forks", environment={**environment, "SYNC_FORKS": text})


@dataclass(frozen=True)
class Change:
    """A change a user makes, and the step it must cause."""

    title: str
    before: Callable[[], Evaluation]
    after: Callable[[], Evaluation]
    expect: dict[str, lifecycle.Action]
    """Resource name -> the action the change must cause; empty: no change anywhere."""


FC2 = {"fcVersion": "2.0", "runtime": "custom.debian10"}
"""FC 2.0, on a runtime it has (the prod stack's debian11 is FC 3.0's)."""
UNCHANGED = [
    (name, overrides)
    for name in ("dev", "prod")
    for overrides in ({}, FC2, CONTAINER, {**FC2, **CONTAINER})
]
ALERTS = {
    "alertContactGroup": "ops",
    "alertEmails": '["ops@example.com"]',
    "functions": entry("sync-forks", alert=True),
}
UNCHANGED.append(("dev", ALERTS))
"""Every committed stack (each with an HTTP function), on both FC versions and both variants,
and dev with an alert."""


def unchanged(workspace: Path) -> list[Change]:
    """A second preview of each unchanged stack: after the first `up`, no change anywhere."""
    rows = []
    for name, overrides in UNCHANGED:
        parts = [name, f"FC {overrides.get('fcVersion', '3.0')}", overrides.get("variant", "zip")]
        parts += ["alert"] if "alertEmails" in overrides else []
        label = ", ".join(parts)
        program = stack(workspace, name, **overrides)
        rows.append(Change(f"unchanged after up ({label})", program, program, {}))
    return rows


PER_FUNCTION = {"layout": "per-function"}
"""The layout of stacks deployed before functions shared a bucket and a log project."""
KEEP_LOGS = {"keepFunctionLogProjects": "true"}


def upgrades(workspace: Path) -> list[Change]:
    """A stack deployed with one bucket and log project per function, moved to the shared ones.

    The first function's bucket becomes the stack's (an alias); the others' packages are
    uploaded to it and their buckets deleted. Every function's own log project is deleted with
    its logs, unless the stack keeps them until they are no longer wanted.
    """
    base, before = stack(workspace), stack(workspace, **PER_FUNCTION)
    moved: dict[str, lifecycle.Action] = {
        "stack-code-bucket": "same",
        "sync-forks-code": "same",
        "hello-code": "replace",
        "hello-artifacts-bucket": "delete",
        "hello-function": "update",
        # A version holds its log config: the alias moves to one that logs to the new logstore.
        "hello-version": "replace",
        "hello-alias": "update",
        "stack-logs-project": "create",
        "hello-logstore": "create",
    }
    return [
        Change(
            "shared bucket and log project, from one each (upgrade)",
            before,
            base,
            {**moved, "hello-logs-project": "delete", "hello-logs-store": "delete"},
        ),
        Change(
            "the same, keeping the functions' log projects",
            before,
            stack(workspace, **KEEP_LOGS),
            {**moved, "hello-logs-project": "same", "hello-logs-store": "same"},
        ),
        Change(
            "the kept log projects let go",
            stack(workspace, **KEEP_LOGS),
            base,
            {"hello-logs-project": "delete", "hello-function": "same"},
        ),
        Change(
            "one role for the stack's functions",
            base,
            stack(workspace, sharedRole="true"),
            {
                "stack-role-role": "create",
                "hello-role-role": "delete",
                "hello-function": "update",
                "hello-logstore": "same",
            },
        ),
        Change(
            "shared bucket and log project, from one each, FC 2.0 (upgrade)",
            stack(workspace, **PER_FUNCTION, **FC2),
            stack(workspace, **FC2),
            {
                "stack-code-bucket": "same",
                "hello-code": "replace",
                "hello-function": "update",
                "hello-service": "update",
                "hello-logs-project": "delete",
            },
        ),
    ]


def changes(workspace: Path) -> list[Change]:
    """The change matrix over a private copy of the workspace (`new code` edits it)."""
    base = stack(workspace)
    return [
        *unchanged(workspace),
        Change(
            "new code in hello",
            base,
            _after_edit(workspace),
            {"hello-function": "update", "hello-code": "replace", "hello-version": "replace"},
        ),
        Change(
            "an environment variable (forks)",
            base,
            stack(workspace, functions=forks("octocat/Hello-World,octocat/Spoon-Knife")),
            {"sync-forks-function": "update", "sync-forks-version": "replace"},
        ),
        Change(
            "memory and timeout",
            base,
            stack(workspace, functions=entry("sync-forks", memorySize=512, timeout=600)),
            {"sync-forks-function": "update", "sync-forks-code": "same"},
        ),
        Change(
            "the schedule",
            base,
            stack(workspace, functions=entry("sync-forks", timers=[SHANGHAI_DAILY])),
            {"sync-forks-timer-daily": "update", "sync-forks-function": "same"},
        ),
        Change(
            "the alias",
            base,
            stack(workspace, alias="prod"),
            {"sync-forks-alias": "replace", "sync-forks-timer-daily": "replace"},
        ),
        Change(
            "the runtime",
            base,
            stack(workspace, runtime="custom.debian11"),
            {"hello-function": "update", "hello-code": "replace"},
        ),
        Change(
            "a pinned version",
            base,
            stack(workspace, functions=PINNED),
            {"hello-alias": "update", "hello-version": "same"},
        ),
        Change(
            "new code while pinned",
            stack(workspace, functions=PINNED),
            _after_edit(workspace, functions=PINNED),
            {"hello-function": "update", "hello-version": "same", "hello-alias": "same"},
        ),
        Change(
            "zip to container",
            base,
            stack(workspace, **CONTAINER),
            {"hello-function": "update", "hello-code": "delete", "registry-namespace": "create"},
        ),
        Change(
            "container to zip",
            stack(workspace, **CONTAINER),
            base,
            {"hello-function": "update", "hello-code": "create", "registry-namespace": "delete"},
        ),
        *upgrades(workspace),
        Change(
            "FC 3.0 to 2.0",
            base,
            stack(workspace, fcVersion="2.0"),
            {"hello-service": "create", "hello-alias": "delete", "stack-logs-project": "same"},
        ),
        Change(
            "FC 2.0 to 3.0",
            stack(workspace, fcVersion="2.0"),
            base,
            {"hello-service": "delete", "hello-alias": "create", "hello-role-role": "same"},
        ),
        Change(
            "the forks list",
            base,
            stack(workspace, functions=forks("octocat/Spoon-Knife:main")),
            {"sync-forks-function": "update", "sync-forks-timer-daily": "same"},
        ),
        Change(
            "http added",
            base,
            stack(workspace, functions=entry("hello", http=HTTP)),
            {"hello-http-trigger": "create", "hello-function": "same", "hello-alias": "same"},
        ),
        Change(
            "http auth changed",
            stack(workspace, functions=entry("hello", http=HTTP)),
            stack(workspace, functions=entry("hello", http={**HTTP, "authType": "function"})),
            {"hello-http-trigger": "update"},
        ),
        Change(
            "http methods changed",
            stack(workspace, functions=entry("hello", http=HTTP)),
            stack(workspace, functions=entry("hello", http={**HTTP, "methods": ["GET"]})),
            {"hello-http-trigger": "update"},
        ),
        Change(
            "http removed",
            stack(workspace, functions=entry("hello", http=HTTP)),
            base,
            {"hello-http-trigger": "delete", "hello-function": "same"},
        ),
        Change(
            "a function added to the stack",
            base,
            stack(workspace, functions=functions(greeter={"crate": "hello"})),
            {"greeter-function": "create", "greeter-code": "create", "hello-function": "same"},
        ),
        Change(
            "a function removed from the stack",
            base,
            stack(workspace, functions=functions(hello=None)),
            {"hello-function": "delete", "hello-code": "delete", "sync-forks-function": "same"},
        ),
        Change(
            "a function renamed",
            component({"crate": "hello"}),
            component({"crate": "hello", "function_name": "greeter"}),
            # The log project keeps the name it was created with, and its logs.
            {"hello-function": "replace", "hello-logs-project": "same"},
        ),
        Change(
            "a timer renamed",
            component(TIMERS),
            component(
                {
                    "crate": "hello",
                    "timers": [
                        {"name": "dawn", "cron": "0 0 8 * * *"},
                        {"name": "evening", "cron": "@every 1h"},
                    ],
                }
            ),
            {"hello-timer-morning": "delete", "hello-timer-dawn": "create"},
        ),
        Change(
            "a timer removed",
            component(TIMERS),
            component({"crate": "hello", "timers": [{"name": "evening", "cron": "@every 1h"}]}),
            {"hello-timer-morning": "delete", "hello-timer-evening": "same"},
        ),
    ]


def _after_edit(workspace: Path, **overrides: str) -> Callable[[], Evaluation]:
    """The stack after a one-line change to hello's source."""
    evaluate_stack = stack(workspace, **overrides)

    def run() -> Evaluation:
        source = workspace / "functions" / "hello" / "src" / "main.rs"
        text = source.read_text()
        source.write_text(text.replace("Hello, {name}!", "Hello, {name}."))
        try:
            return evaluate_stack()
        finally:
            source.write_text(text)

    return run


def plan_lines(change: Change) -> tuple[list[str], list[str]]:
    """The change's plan as table lines, and every problem the simulator finds in it."""
    before = change.before()
    with prior_state(before):
        after = change.after()
    # The first `up` of the starting point must succeed too: its creates end in a Read.
    problems = lifecycle.read_failures(before, lifecycle.plan(Evaluation([], {}), before))
    steps = lifecycle.plan(before, after)
    problems += lifecycle.collisions(before, after, steps)
    problems += lifecycle.forbidden_replacements(before, after, steps)
    problems += lifecycle.update_refusals(before, after, steps)
    problems += lifecycle.silent_updates(steps)
    problems += lifecycle.read_failures(after, steps)
    actions = {s.name: s.action for s in steps}
    problems += [
        f"{name}: expected {action}, got {actions.get(name)}"
        for name, action in change.expect.items()
        if actions.get(name) != action
    ]
    if not change.expect:
        problems += [f"{line.strip()}: expected no change" for line in lifecycle.table(steps)]
    return lifecycle.table(steps), problems


def render(results: list[tuple[str, list[str]]], destroyed: list[str]) -> str:
    """The matrix file: one section per change, then the destroy order."""
    sections = [f"## {title}\n" + "\n".join(lines or ["(no change)"]) for title, lines in results]
    sections.append("## pulumi destroy (dev stack, after a code change)\n" + "\n".join(destroyed))
    return (
        "# What each change does, from tests/test_lifecycle.py (`make lifecycle` rewrites it)\n\n"
        + "\n\n".join(sections)
        + "\n"
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private copy of the workspace, built with the repository's target dir and cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FCRUST_CARGO_TARGET_DIR", str(REPO / "target" / "fc-rust" / "cargo"))
        patch.setenv("FCRUST_CACHE_DIR", str(REPO / "target" / "fc-rust" / "cache"))
        yield copy_workspace(tmp_path_factory.mktemp("lifecycle") / "workspace")


def test_every_change_in_the_matrix_is_safe_to_apply(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("FCRUST_CARGO_TARGET_DIR", str(REPO / "target" / "fc-rust" / "cargo"))
    monkeypatch.setenv("FCRUST_CACHE_DIR", str(REPO / "target" / "fc-rust" / "cache"))
    results, problems = [], []
    for change in changes(workspace):
        lines, found = plan_lines(change)
        results.append((change.title, lines))
        problems += [f"{change.title}: {p}" for p in found]
    before = stack(workspace)()
    after = _after_edit(workspace)()
    steps = lifecycle.plan(before, after)
    order, refusals = lifecycle.destroy(after, lifecycle.left_behind(before, steps))
    problems += [f"destroy: {r}" for r in refusals]
    assert problems == []
    text = render(results, order)
    if os.environ.get("FCRUST_WRITE_MATRIX"):
        MATRIX.write_text(text)
    print(text)  # noqa: T201 - `make lifecycle` shows the table
    assert MATRIX.read_text() == text, "the plans changed: run `make lifecycle` and review"
