"""`serve`: one instance kept up, each enabled timer fired on its schedule, until SIGINT/SIGTERM."""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from infra.local.invocation import timer_event
from infra.local.runner import print_invocation, say, start_instance
from infra.timer import next_fire_times, parse_every

if TYPE_CHECKING:
    from pathlib import Path
    from types import FrameType

    from infra.local.instance import Instance
    from infra.local.stack import LocalFunction
    from infra.timer import TimerArgs


def _short_every(cron: str) -> timedelta | None:
    """An `@every` interval, for the sub-minute ones FC refuses but a local run may want."""
    every = parse_every(cron.strip())
    return every or None


def next_fire(cron: str, after: datetime) -> datetime:
    """The first fire time strictly after `after`, by `infra.timer`'s FC cron evaluation.

    `@every` below FC's 1-minute minimum is allowed here (counted from `after`) so that a local
    loop can be fast; FC itself would refuse the trigger, which `serve` says once.
    """
    try:
        return next_fire_times(cron, after, 1)[0]
    except ValueError:
        every = _short_every(cron)
        if every is None:
            raise
        return after + every


class _Stop:
    """SIGINT and SIGTERM set an event instead of raising, so shutdown runs in one place."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        say(f"received {signal.Signals(signum).name}: stopping")
        self.event.set()

    def __enter__(self) -> threading.Event:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self.event

    def __exit__(self, *_: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]


def serve(  # noqa: C901 - one loop: start, fire, restart, stop
    function: LocalFunction,
    *,
    zip_path: Path | None = None,
    image: str | None = None,
    start_timeout: float,
    initializer: bool = False,
) -> int:
    """Run until SIGINT/SIGTERM; 0 after a clean stop, 1 when the instance cannot start."""
    timers: list[TimerArgs] = [t for t in function.timers if t.get("enabled", True)]
    for timer in timers:
        try:
            next_fire_times(timer["cron"], datetime.now(UTC), 1)
        except ValueError as error:
            if _short_every(timer["cron"]) is None:
                say(f"timer {timer['name']!r}: {error}")
                return 2
            say(
                f"timer {timer['name']!r}: {error}; FC would refuse it, the emulator runs it anyway"
            )
    with _Stop() as stop:
        instance = _start(function, zip_path, image, start_timeout, initializer=initializer)
        if instance is None:
            return 1
        try:
            now = datetime.now(UTC)
            schedule = {t["name"]: next_fire(t["cron"], now) for t in timers}
            if not timers:
                say(f"{function.name} has no enabled timer: serving until Ctrl-C")
            for timer in timers:
                say(
                    f"timer {timer['name']!r} ({timer['cron']}) fires first at "
                    f"{_iso(schedule[timer['name']])}"
                )
            while not stop.is_set():
                if not timers:
                    stop.wait()
                    break
                timer = min(timers, key=lambda t: schedule[t["name"]])
                due = schedule[timer["name"]]
                if stop.wait(max(0.0, (due - datetime.now(UTC)).total_seconds())):
                    break
                if not instance.alive():
                    say(
                        "the instance is gone (timeout or memory breach): "
                        "starting a new one, as FC does"
                    )
                    instance.stop(pre_stop=False)
                    replacement = _start(
                        function, zip_path, image, start_timeout, initializer=initializer
                    )
                    if replacement is None:
                        return 1
                    instance = replacement
                say(f"timer {timer['name']!r} fires ({_iso(due)})")
                invocation = instance.invoke(
                    timer_event(timer["name"], timer.get("payload", ""), due),
                    stop,
                    asynchronous=True,  # a timer invokes asynchronously: FC's 128 KB limit
                )
                print_invocation(invocation)
                schedule[timer["name"]] = next_fire(timer["cron"], max(due, datetime.now(UTC)))
        finally:
            _shutdown(instance)
    return 0


def _start(
    function: LocalFunction,
    zip_path: Path | None,
    image: str | None,
    start_timeout: float,
    *,
    initializer: bool,
) -> Instance | None:
    instance = start_instance(function, zip_path=zip_path, image=image, start_timeout=start_timeout)
    if instance is not None and initializer:
        invocation = instance.initialize()
        print_invocation(invocation)
        if not invocation.succeeded:
            instance.stop(pre_stop=False)
            return None
    return instance


def _shutdown(instance: Instance) -> None:
    """`GET /pre-stop`, then SIGTERM to the bootstrap's group; says how it went."""
    pid = instance.pid
    hook = instance.stop(pre_stop=True)
    if hook is not None:
        if hook.status == 404 and hook.error_type is None:  # noqa: PLR2004 - no hook configured
            say("pre-stop: the function has no pre-stop hook (404)")
        else:
            print_invocation(hook)
    say(f"stopped {instance.function.name} (pid {pid})")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
