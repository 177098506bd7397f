"""Timer triggers: FC's cron dialect, its validation and evaluation, and the trigger config JSON.

FC accepts `@every <duration>` or six fields `seconds minutes hours day-of-month month
day-of-week`, in UTC unless prefixed with `CRON_TZ=<IANA zone> `. Evaluation uses croniter with
the seconds field first, so that the local emulator fires exactly when FC would.

Sources (re-checked 2026-09), the same for FC 3.0 and FC 2.0 unless said otherwise:

- Config JSON `{"cronExpression", "enable", "payload"}`: FC 3.0 API "TimerTriggerConfig"
  https://www.alibabacloud.com/help/en/functioncompute/api-fc-2023-03-30-struct-timertriggerconfig
  and FC 2.0 API "TimeTriggerConfig"
  https://alibabacloud.com/help/en/functioncompute/fc-2-0/developer-reference/api-fc-open-2021-04-06-struct-timetriggerconfig
  (both: `@every 4m` for an interval, `0 0 4 * * *` for a cron expression). The provider checks
  only that the config is JSON (terraform-provider-alicloud alicloud/service_alicloud_fc.go:220)
  and ignores an empty `payload` when diffing FC 2.0 timers
  (alicloud/resource_alicloud_fc_trigger.go:84, service_alicloud_fc.go:196);
  alicloud/resource_alicloud_fcv3_trigger.go:86 takes the string as is.
- Six fields with seconds first, UTC, and the `CRON_TZ=Asia/Shanghai ` prefix: doc "Time triggers"
  (FC 2.0) https://www.alibabacloud.com/help/doc-detail/171746.htm ("The CRON expression uses
  Coordinated Universal Time (UTC) ... Seconds Minutes Hours Day-of-month Month Day-of-week";
  "CRON_TZ=Asia/Shanghai 0 0 4 1 * *").
- Unconfirmed, kept as they were: that `?` is allowed only in the two day fields (FC's field
  table was not retrievable; this is the usual Quartz/robfig rule) and that `@every` takes `h`,
  `m` and `s` units (FC's pages show only minutes, e.g. `@every 4m`).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NotRequired, TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

from infra.limits import check_trigger_name

if TYPE_CHECKING:
    from collections.abc import Iterator

PAYLOAD_MAX_BYTES = 128 * 1024
"""The trigger message (payload) limit: 128 KB. Source: doc "Time triggers" (FC 3.0)
https://www.alibabacloud.com/help/en/functioncompute/fc/user-guide/time-triggers ("The size of the
trigger message is limited to 128 KB, which is the same as the payload limit for asynchronous
invocations"). Unconfirmed: whether KB is 1024 or 1000 bytes, and the limit on FC 2.0 (its
"Time triggers" page retrieved does not state one)."""
EVERY_MIN = timedelta(minutes=1)
"""The shortest `@every` interval. Source: doc "Time triggers" (FC 3.0, URL above): the console's
interval mode takes "a positive integer n" of minutes. Whether the API accepts a shorter
`@every` is unconfirmed; refusing it is the safe side."""

_EVERY = re.compile(r"^@every\s+((?:\d+(?:h|m|s))+)$")
_DURATION_PART = re.compile(r"(\d+)(h|m|s)")
_TZ_PREFIX = re.compile(r"^CRON_TZ=(\S+)\s+(.*)$")
_FIELD_NAMES = ("seconds", "minutes", "hours", "day-of-month", "month", "day-of-week")
_FIELD_FORM = "six fields 'seconds minutes hours day-of-month month day-of-week'"


class TimerArgs(TypedDict):
    """One timer trigger of a function."""

    name: str
    """Trigger name, unique within the function; the Pulumi child is named after it."""
    cron: str
    """`@every 5m`, or six fields with seconds first (`0 0 0 * * *`), optionally
    prefixed with `CRON_TZ=Asia/Shanghai `. Evaluated in UTC otherwise."""
    enabled: NotRequired[bool]
    """Whether the trigger fires; default true. Disabling keeps the trigger in place."""
    payload: NotRequired[str]
    """A string passed to the function unparsed, in the event's `payload`; at most 128 KB."""


class _Schedule:
    """A parsed cron expression: either a fixed interval or a croniter spec with a zone."""

    def __init__(self, every: timedelta | None, spec: str | None, zone: ZoneInfo) -> None:
        self.every = every
        self.spec = spec
        self.zone = zone


def parse_every(text: str) -> timedelta | None:
    """The interval of an `@every 1h30m` expression (any length), or None for another form."""
    match = _EVERY.match(text)
    if match is None:
        return None
    units = {"h": 3600, "m": 60, "s": 1}
    seconds = sum(int(n) * units[u] for n, u in _DURATION_PART.findall(match.group(1)))
    return timedelta(seconds=seconds)


def _parse(cron: str) -> tuple[_Schedule | None, str | None]:  # noqa: C901, PLR0911 - one reason per rule
    """The schedule, or the reason the expression is not one FC accepts."""
    if not isinstance(cron, str) or not cron.strip():
        return None, f"cron must be '@every <duration>' or {_FIELD_FORM}, got {cron!r}"
    text = cron.strip()
    zone = ZoneInfo("UTC")
    tz_match = _TZ_PREFIX.match(text)
    if tz_match is not None:
        try:
            zone = ZoneInfo(tz_match.group(1))
        except (ZoneInfoNotFoundError, ValueError):
            return None, (
                f"cron {cron!r}: CRON_TZ zone {tz_match.group(1)!r} is not an IANA time zone "
                "such as Asia/Shanghai"
            )
        text = tz_match.group(2).strip()
    if text.startswith("@every"):
        every = parse_every(text)
        if every is None:
            return None, (
                f"cron {cron!r}: '@every' takes a duration such as 5m, 1h or 1h30m (units h, m, s)"
            )
        if every < EVERY_MIN:
            return None, f"cron {cron!r}: '@every' interval must be at least 1m, got {every}"
        return _Schedule(every, None, zone), None
    fields = text.split()
    if len(fields) == len(_FIELD_NAMES) - 1:
        return None, (
            f"cron {cron!r} has 5 fields (a crontab line); FC needs {_FIELD_FORM}: "
            f"prepend the seconds, e.g. '0 {text}'"
        )
    if len(fields) != len(_FIELD_NAMES):
        return None, f"cron {cron!r} has {len(fields)} fields; FC needs {_FIELD_FORM} or '@every'"
    for name, field in zip(_FIELD_NAMES, fields, strict=True):
        if field == "?" and name not in ("day-of-month", "day-of-week"):
            return (
                None,
                f"cron {cron!r}: '?' is allowed only in day-of-month and day-of-week, not {name}",
            )
    spec = " ".join("*" if field == "?" else field for field in fields)
    try:
        times = croniter(spec, datetime(2000, 1, 1, tzinfo=UTC), second_at_beginning=True)
    except (ValueError, KeyError) as error:
        return None, f"cron {cron!r} is not a valid {_FIELD_FORM} expression: {error}"
    try:
        times.get_next(datetime)
    except CroniterBadDateError:
        # With no year field, one that fires at all fires within 8 years (29 February across
        # 2100); croniter looks 50 years ahead.
        return None, (
            f"cron {cron!r} never fires: month {fields[4]!r} has no day-of-month {fields[3]!r} "
            "(February has at most 29 days; April, June, September and November have 30)"
        )
    return _Schedule(None, spec, zone), None


def check_cron(cron: str) -> list[str]:
    """FC's cron dialect: six fields or `@every`, optional `CRON_TZ=`; five fields rejected.

    So is an expression that never fires (30 February), which FC would keep and never run.
    """
    _, problem = _parse(cron)
    return [] if problem is None else [problem]


def check_payload(payload: str) -> list[str]:
    """The payload is a string of at most 128 KB (UTF-8)."""
    if not isinstance(payload, str):
        return [f"payload must be a string, got {type(payload).__name__}"]
    size = len(payload.encode())
    if size > PAYLOAD_MAX_BYTES:
        return [f"payload must be at most {PAYLOAD_MAX_BYTES} bytes (128 KB), got {size}"]
    return []


TIMER_KEYS = frozenset({"name", "cron", "payload", "enabled"})
"""A timer's settings (`TimerArgs`); any other key is refused, so a misspelt `enabled` cannot
leave a timer on."""


def check_timers(timers: list[TimerArgs]) -> list[str]:
    """Every timer is valid and no two share a name."""
    problems: list[str] = []
    seen: set[str] = set()
    for timer in timers:
        name = timer.get("name", "")
        unknown = sorted(set(timer) - TIMER_KEYS)
        if unknown:
            hint = " (the schedule's key is `cron`)" if "schedule" in unknown else ""
            problems.append(
                f"timer {name!r}: unknown setting {', '.join(map(repr, unknown))}{hint}; "
                f"allowed: {', '.join(sorted(TIMER_KEYS))}"
            )
        problems.extend(check_trigger_name(name))
        if name in seen:
            problems.append(f"timer name {name!r} is used twice; trigger names must be unique")
        seen.add(name)
        problems.extend(f"timer {name!r}: {p}" for p in check_cron(timer.get("cron", "")))
        problems.extend(f"timer {name!r}: {p}" for p in check_payload(timer.get("payload", "")))
        enabled = timer.get("enabled", True)
        if not isinstance(enabled, bool):
            problems.append(f"timer {name!r}: enabled must be true or false, got {enabled!r}")
    return problems


def trigger_config(timer: TimerArgs) -> str:
    """The `trigger_config` (FC 3.0) / `config` (FC 2.0) JSON, keys in a fixed order."""
    return json.dumps(
        {
            "cronExpression": timer["cron"].strip(),
            "enable": timer.get("enabled", True),
            "payload": timer.get("payload", ""),
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def _iter_fire_times(cron: str, start: datetime) -> Iterator[datetime]:
    schedule, problem = _parse(cron)
    if schedule is None:
        raise ValueError(problem)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    if schedule.every is not None:
        moment = start
        while True:
            moment += schedule.every
            yield moment.astimezone(UTC)
    assert schedule.spec is not None  # noqa: S101 - _parse sets one of every and spec
    times = croniter(schedule.spec, start.astimezone(schedule.zone), second_at_beginning=True)
    while True:
        yield times.get_next(datetime).astimezone(UTC)


def next_fire_times(cron: str, start: datetime, count: int) -> list[datetime]:
    """The next `count` fire times strictly after `start`, in UTC.

    A naive `start` is taken as UTC. `@every` intervals count from `start` (FC counts from
    the trigger's creation). Raises `ValueError` with the reason for an invalid expression.
    """
    times = _iter_fire_times(cron, start)
    return [next(times) for _ in range(count)]
