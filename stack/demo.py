"""`make local`: sync-forks's daily timer run once under the emulator, told in plain words.

Offline by default: sync-forks talks to a GitHub double on loopback holding three forks, one
behind (it gets synced), one up to date and one in conflict, so the run shows a real result and
a real failure report. `--live` talks to GitHub with `GITHUB_TOKEN` and the configured forks.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING

from infra import alerts
from infra.local.invocation import timer_event
from infra.local.runner import package_zip, print_invocation, say, start_instance, with_overrides
from stack.github_double import demo_double

if TYPE_CHECKING:
    from pathlib import Path

    from infra.local.invocation import Invocation
    from infra.local.stack import LocalFunction

DEMO_TOKEN = "local-demo-token"  # noqa: S105 - a fake token the double accepts; not a secret
EXPECTED = {
    "newcomer/behind-fork": "synced",
    "newcomer/current-fork": "up_to_date",
    "newcomer/conflicted-fork": "conflict",
}
"""What sync-forks must report for each fork of the double when the demo works."""


def _daily_timer(function: LocalFunction) -> tuple[str, str]:
    for timer in function.timers:
        if timer["name"] == "daily":
            return timer["name"], timer.get("payload", "")
    return "daily", ""


def _summary(invocation: Invocation) -> dict[str, object] | None:
    """sync-forks's summary: the result on success, the error's `details` on failure."""
    try:
        body = json.loads(invocation.body)
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("details"), dict):
        body = body["details"]
    return body if isinstance(body, dict) and isinstance(body.get("forks"), list) else None


def _fork_statuses(invocation: Invocation) -> dict[str, str]:
    summary = _summary(invocation)
    if summary is None:
        return {}
    forks = summary["forks"]
    assert isinstance(forks, list)  # noqa: S101 - checked by _summary
    return {str(f.get("repo")): str(f.get("status")) for f in forks if isinstance(f, dict)}


def _tell(invocation: Invocation, function: LocalFunction) -> None:
    """One plain sentence per fork, from the function's own summary."""
    summary = _summary(invocation)
    if summary is None:
        return
    forks = summary["forks"]
    assert isinstance(forks, list)  # noqa: S101 - checked by _summary
    say("what happened:")
    for fork in forks:
        if not isinstance(fork, dict):
            continue
        repo, branch = fork.get("repo"), fork.get("branch") or "its default branch"
        status = fork.get("status")
        if status == "synced":
            how = "fast-forwarded" if fork.get("merge_type") == "fast-forward" else "merged"
            say(f"  {repo} was behind upstream: {branch} synced ({how})")
        elif status == "up_to_date":
            say(f"  {repo} was already up to date: nothing to do")
        elif status == "conflict":
            say(f"  {repo} has a merge conflict with upstream: not synced, merge it by hand")
        else:
            say(f"  {repo} could not be synced: {fork.get('reason')}")
    if invocation.succeeded:
        say("FC counts this invocation as a success (x-fc-status 200)")
    else:
        say(
            f"FC counts this invocation as failed (x-fc-status {invocation.fc_status}): "
            "a fork that cannot be synced fails the run"
        )
        say(f"  CloudMonitor: {alerts.ERRORS_METRIC} of {function.name} goes up by 1")
        retried = "no retry" if function.retries == 0 else f"{function.retries} retries"
        say(f"  FC: {retried} of this timer event (the next tick runs it again)")
        if function.alert_group:
            say(f"  alert: contact group {function.alert_group} is told")
        else:
            say(
                f"  alert: none set (`pulumi config set --path functions.{function.name}.alert "
                "true` and `pulumi config set alertContactGroup <group>` to be told)"
            )


def run_demo(
    function: LocalFunction,
    *,
    zip_path: Path | None,
    start_timeout: float,
) -> int:
    """The offline demo; 0 when every fork ended as designed (the conflict failing the run)."""
    package = package_zip(function, zip_path)
    with demo_double(DEMO_TOKEN) as double:
        say(
            f"a GitHub double on {double.url} holds three forks: "
            "one behind, one up to date, one in conflict"
        )
        demo_function = with_overrides(
            function,
            environment={
                "GITHUB_API_URL": double.url,
                "GITHUB_TOKEN": DEMO_TOKEN,
                "SYNC_FORKS": ",".join(double.forks),
            },
        )
        invocation = _run_timer(demo_function, package, start_timeout)
        if invocation is None:
            return 1
    statuses = _fork_statuses(invocation)
    if statuses != EXPECTED or invocation.succeeded or invocation.fc_status != 404:  # noqa: PLR2004
        _report(invocation)
        say(
            f"the demo did not run as designed: expected {EXPECTED} and x-fc-status 404, got "
            f"{statuses or 'no summary'} and x-fc-status {invocation.fc_status}; "
            "see the output above"
        )
        return 1
    say(
        "the demo ran as designed: one fork synced, one up to date, "
        "one conflict reported as a failure"
    )
    _report(invocation)
    return 0


def run_live(
    function: LocalFunction,
    *,
    forks: str | None,
    zip_path: Path | None,
    start_timeout: float,
) -> int:
    """The demo against real GitHub: needs `GITHUB_TOKEN` and forks; 0 when every fork synced."""
    if not os.environ.get("GITHUB_TOKEN"):
        say("--live needs GITHUB_TOKEN in the environment (a token that may push to the forks)")
        return 2
    fork_list = forks if forks is not None else function.environment.get("SYNC_FORKS", "")
    if not fork_list.strip():
        say(
            "--live needs forks: pass --forks owner/repo,... or set SYNC_FORKS in the "
            "environment of sync-forks in the stack's `functions`"
        )
        return 2
    package = package_zip(function, zip_path)
    live = with_overrides(
        function, environment={"GITHUB_TOKEN": os.environ["GITHUB_TOKEN"], "SYNC_FORKS": fork_list}
    )
    invocation = _run_timer(live, package, start_timeout)
    if invocation is None:
        return 1
    _report(invocation)
    return 0 if invocation.succeeded else 1


def _report(invocation: Invocation) -> None:
    """FC's report line, the last line of the demo."""
    sys.stdout.write(invocation.report_line() + "\n")
    sys.stdout.flush()


def _run_timer(function: LocalFunction, package: Path, start_timeout: float) -> Invocation | None:
    """Start an instance, fire the daily timer once, tell what happened, stop."""
    instance = start_instance(function, zip_path=package, start_timeout=start_timeout)
    if instance is None:
        return None
    try:
        name, payload = _daily_timer(function)
        event = timer_event(name, payload)
        say(f"firing timer {name!r} with {event.decode()}")
        invocation = instance.invoke(event, asynchronous=True)
    finally:
        instance.stop(pre_stop=False)
    print_invocation(invocation, report=False, body=False)
    _tell(invocation, function)
    return invocation
