"""FC's cron dialect: what is accepted, what is refused and why, and when a timer fires."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from infra.timer import (
    PAYLOAD_MAX_BYTES,
    TimerArgs,
    check_cron,
    check_payload,
    check_timers,
    next_fire_times,
    trigger_config,
)

pytestmark = pytest.mark.unit

SIX = "six fields 'seconds minutes hours day-of-month month day-of-week'"


@pytest.mark.parametrize(
    "cron",
    [
        "0 0 0 * * *",
        "0 */5 * * * *",
        "0 0 8 ? * MON-FRI",
        "0 30 1 1 * ?",
        "0 0 9 1 JAN,JUL ?",
        "@every 5m",
        "@every 1h30m",
        "CRON_TZ=Asia/Shanghai 0 0 8 * * *",
        "CRON_TZ=Europe/Berlin @every 10m",
    ],
)
def test_accepted_expressions(cron: str) -> None:
    assert check_cron(cron) == []


def test_five_field_crontab_is_refused_with_a_hint() -> None:
    assert check_cron("0 8 * * *") == [
        (
            f"cron '0 8 * * *' has 5 fields (a crontab line); FC needs {SIX}: "
            "prepend the seconds, e.g. '0 0 8 * * *'"
        )
    ]


def test_wrong_field_count_is_refused() -> None:
    assert check_cron("0 0 0 * * * 2030") == [
        f"cron '0 0 0 * * * 2030' has 7 fields; FC needs {SIX} or '@every'"
    ]
    # Too few is refused too, and not taken for a crontab line: only five fields are one.
    assert check_cron("0 0 0") == [f"cron '0 0 0' has 3 fields; FC needs {SIX} or '@every'"]


def test_out_of_range_field_is_refused() -> None:
    (message,) = check_cron("0 61 0 * * *")
    assert message.startswith(f"cron '0 61 0 * * *' is not a valid {SIX} expression")


def test_question_mark_only_in_day_fields() -> None:
    assert check_cron("0 ? 0 * * *") == [
        "cron '0 ? 0 * * *': '?' is allowed only in day-of-month and day-of-week, not minutes"
    ]


def test_unknown_time_zone_is_refused() -> None:
    assert check_cron("CRON_TZ=Mars/Olympus 0 0 8 * * *") == [
        (
            "cron 'CRON_TZ=Mars/Olympus 0 0 8 * * *': CRON_TZ zone 'Mars/Olympus' is not an IANA "
            "time zone such as Asia/Shanghai"
        )
    ]


def test_every_needs_a_duration_of_at_least_a_minute() -> None:
    assert check_cron("@every soon") == [
        "cron '@every soon': '@every' takes a duration such as 5m, 1h or 1h30m (units h, m, s)"
    ]
    assert check_cron("@every 30s") == [
        "cron '@every 30s': '@every' interval must be at least 1m, got 0:00:30"
    ]
    assert check_cron("@every 1m") == check_cron("@every 60s") == []


def test_empty_cron_is_refused() -> None:
    assert check_cron("") == [f"cron must be '@every <duration>' or {SIX}, got ''"]


def test_payload_limit_is_128_kb() -> None:
    assert check_payload("x" * PAYLOAD_MAX_BYTES) == []
    assert check_payload("x" * (PAYLOAD_MAX_BYTES + 1)) == [
        "payload must be at most 131072 bytes (128 KB), got 131073"
    ]


def test_timers_report_each_problem_with_the_timer_name() -> None:
    timers: list[TimerArgs] = [
        {"name": "daily", "cron": "0 0 * * *"},
        {"name": "daily", "cron": "0 0 0 * * *", "payload": "y" * (PAYLOAD_MAX_BYTES + 1)},
    ]
    problems = check_timers(timers)
    assert len(problems) == 3
    assert problems[0].startswith("timer 'daily': cron '0 0 * * *' has 5 fields")
    assert problems[1] == "timer name 'daily' is used twice; trigger names must be unique"
    assert problems[2] == "timer 'daily': payload must be at most 131072 bytes (128 KB), got 131073"


def test_a_misspelt_timer_setting_is_named_with_the_allowed_ones() -> None:
    """`schedule` for `cron` gets a hint; another unknown key gets none."""
    allowed = "allowed: cron, enabled, name, payload"
    misspelt: list[TimerArgs] = [{"name": "t", "cron": "@every 5m", "enabeld": False}]  # type: ignore[typeddict-unknown-key]
    assert check_timers(misspelt) == [f"timer 't': unknown setting 'enabeld'; {allowed}"]
    schedule: list[TimerArgs] = [{"name": "t", "schedule": "@every 5m"}]  # type: ignore[typeddict-item]
    (problem, _no_cron) = check_timers(schedule)
    assert problem == (
        f"timer 't': unknown setting 'schedule' (the schedule's key is `cron`); {allowed}"
    )


def test_trigger_config_is_fcs_json() -> None:
    config = trigger_config(
        {"name": "daily", "cron": "0 0 0 * * *", "enabled": False, "payload": '{"a":1}'}
    )
    assert config == '{"cronExpression":"0 0 0 * * *","enable":false,"payload":"{\\"a\\":1}"}'
    assert json.loads(config) == {
        "cronExpression": "0 0 0 * * *",
        "enable": False,
        "payload": '{"a":1}',
    }


def test_a_payload_in_any_script_is_sent_as_written() -> None:
    """UTF-8, not `\\u` escapes: what `pulumi preview` and FC's console show is the text itself."""
    config = trigger_config({"name": "t", "cron": "@every 5m", "payload": "早安 ✓"})
    assert config == '{"cronExpression":"@every 5m","enable":true,"payload":"早安 ✓"}'


def test_trigger_config_defaults_to_enabled_and_empty_payload() -> None:
    assert json.loads(trigger_config({"name": "t", "cron": "@every 5m"})) == {
        "cronExpression": "@every 5m",
        "enable": True,
        "payload": "",
    }


def test_daily_at_midnight_utc_is_8_am_in_beijing() -> None:
    start = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    assert next_fire_times("0 0 0 * * *", start, 2) == [
        datetime(2024, 1, 2, tzinfo=UTC),
        datetime(2024, 1, 3, tzinfo=UTC),
    ]
    assert next_fire_times("CRON_TZ=Asia/Shanghai 0 0 8 * * *", start, 1) == [
        datetime(2024, 1, 2, tzinfo=UTC)
    ]


def test_seconds_field_comes_first() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    assert next_fire_times("30 * * * * *", start, 2) == [
        datetime(2024, 1, 1, 0, 0, 30, tzinfo=UTC),
        datetime(2024, 1, 1, 0, 1, 30, tzinfo=UTC),
    ]


def test_question_mark_means_any_day() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday
    assert next_fire_times("0 0 9 ? * SAT", start, 1) == [datetime(2024, 1, 6, 9, tzinfo=UTC)]


def test_every_counts_from_the_start() -> None:
    start = datetime(2024, 1, 1, 10, 0, 7)  # noqa: DTZ001 - a naive start is taken as UTC
    assert next_fire_times("@every 1h30m", start, 2) == [
        datetime(2024, 1, 1, 11, 30, 7, tzinfo=UTC),
        datetime(2024, 1, 1, 13, 0, 7, tzinfo=UTC),
    ]


def test_a_start_in_another_zone_keeps_its_moment() -> None:
    """9:00 in Beijing is 1:00 UTC: an aware start is not read as UTC."""
    start = datetime(2024, 1, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert next_fire_times("@every 1h", start, 1) == [datetime(2024, 1, 1, 2, tzinfo=UTC)]
    assert next_fire_times("0 0 * * * *", start, 1) == [datetime(2024, 1, 1, 2, tzinfo=UTC)]


def test_next_fire_times_refuses_an_invalid_expression() -> None:
    with pytest.raises(ValueError, match="has 5 fields"):
        next_fire_times("0 0 * * *", datetime(2024, 1, 1, tzinfo=UTC), 1)


@pytest.mark.parametrize(
    ("cron", "month", "day"),
    [
        ("0 0 0 30 2 *", "2", "30"),
        ("0 0 0 31 FEB ?", "FEB", "31"),
        ("0 0 0 31 4 *", "4", "31"),
        ("0 0 12 31 4,6,9,11 ?", "4,6,9,11", "31"),
        ("CRON_TZ=Asia/Shanghai 0 0 0 30-31 2 *", "2", "30-31"),
    ],
)
def test_a_cron_that_never_fires_is_refused(cron: str, month: str, day: str) -> None:
    """A day no month of the month field has (30 February, 31 April): FC would keep the trigger
    and never run it, and next_fire_times would find no time. Mutation caught: the search for a
    first fire time dropped from `_parse` (the bug as it was)."""
    assert check_cron(cron) == [
        (
            f"cron {cron!r} never fires: month {month!r} has no day-of-month {day!r} (February "
            "has at most 29 days; April, June, September and November have 30)"
        )
    ]
    with pytest.raises(ValueError, match="never fires"):
        next_fire_times(cron, datetime(2024, 1, 1, tzinfo=UTC), 1)


def test_a_timer_that_never_fires_is_named() -> None:
    """The problem reaches the timer's config as the other cron problems do, under its name."""
    timer: TimerArgs = {"name": "leap", "cron": "0 0 0 30 2 ?"}
    assert check_timers([timer]) == [
        (
            "timer 'leap': cron '0 0 0 30 2 ?' never fires: month '2' has no day-of-month '30' "
            "(February has at most 29 days; April, June, September and November have 30)"
        )
    ]


@pytest.mark.parametrize(
    ("cron", "start", "first"),
    [
        # 29 February, eight years apart across 2100 (not a leap year): the longest wait.
        ("0 0 0 29 2 *", datetime(2096, 3, 1, tzinfo=UTC), datetime(2104, 2, 29, tzinfo=UTC)),
        # A day of the week as well: either day fires (cron's rule), so Mondays in February do.
        ("0 0 0 30 2 MON", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 5, tzinfo=UTC)),
        ("0 0 0 30,1 2 *", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)),
        ("0 0 0 31 1-2 ?", datetime(2024, 2, 1, tzinfo=UTC), datetime(2025, 1, 31, tzinfo=UTC)),
    ],
)
def test_a_cron_that_fires_rarely_is_accepted(cron: str, start: datetime, first: datetime) -> None:
    """Only a cron with no fire time at all is refused: a day some month of the field has (29
    February, in leap years), or a day of the week beside it, fires. Caught: a check that refused
    a day by the calendar alone, forgetting leap years or the day of the week."""
    assert check_cron(cron) == []
    assert next_fire_times(cron, start, 1) == [first]
