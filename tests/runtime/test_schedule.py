"""Schedules as data: durations, crontab lines, due / first run / staleness with ``now`` given."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from monitor.errors import ConfigError
from monitor.schedule import (
    ScheduleSpec, due_if_started_before, first_run_at, is_due, is_stale, jitter_for, next_after, parse_duration, period_at,
)
from tests.conftest import make_config, source_entry

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 4, 1, 3, 0, tzinfo=timezone.utc)  # 12:00 in Tokyo
SIX_HOURS = ScheduleSpec(every="6h")
SEVEN_AM = ScheduleSpec(cron="0 7 * * *")


@pytest.mark.parametrize(("text", "seconds"), [("2s", 2), ("30m", 1800), ("6h", 21600), ("1h30m", 5400), ("1d", 86400), ("1.5s", 1.5), (90, 90), ("1D 2H", 93600)])
def test_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "soon", "6 hours", "h", "-5s"])
def test_bad_durations(text):
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize("data", [{}, {"every": "1h", "cron": "0 7 * * *"}, {"every": "0.5s"}, {"cron": "61 * * * *"}, {"every": "1h", "at": 3}])
def test_a_schedule_is_exactly_one_valid_rhythm(data):
    with pytest.raises(ValidationError):
        ScheduleSpec.model_validate(data)


def test_interval_arithmetic():
    assert next_after(SIX_HOURS, NOW, TOKYO) == NOW + timedelta(hours=6)
    assert period_at(SIX_HOURS, NOW, TOKYO) == timedelta(hours=6)
    assert is_due(SIX_HOURS, None, NOW, TOKYO)
    assert is_due(SIX_HOURS, NOW - timedelta(hours=6), NOW, TOKYO)
    assert not is_due(SIX_HOURS, NOW - timedelta(hours=5), NOW, TOKYO)


def test_cron_runs_in_the_configured_time_zone():
    # 07:00 in Tokyo is 22:00 UTC the day before.
    assert next_after(SEVEN_AM, NOW, TOKYO) == datetime(2026, 4, 1, 22, 0, tzinfo=timezone.utc)
    assert period_at(SEVEN_AM, NOW, TOKYO) == timedelta(days=1)
    ran_before_seven = datetime(2026, 3, 31, 21, 0, tzinfo=timezone.utc)  # 06:00 Tokyo, then 07:00 was missed
    assert is_due(SEVEN_AM, ran_before_seven, NOW, TOKYO)
    assert not is_due(SEVEN_AM, datetime(2026, 3, 31, 22, 0, tzinfo=timezone.utc), NOW, TOKYO)


def test_first_run_after_a_restart():
    assert first_run_at(SIX_HOURS, None, NOW, TOKYO) == NOW
    assert first_run_at(SIX_HOURS, NOW - timedelta(hours=7), NOW, TOKYO) == NOW  # owed: once, now
    assert first_run_at(SIX_HOURS, NOW - timedelta(hours=1), NOW, TOKYO) == NOW + timedelta(hours=5)  # on its rhythm
    # Asleep for days: still one run now, not one per missed turn.
    assert first_run_at(SIX_HOURS, NOW - timedelta(days=3), NOW, TOKYO) == NOW


def test_staleness_is_twice_the_period_since_the_last_start_or_the_daemon_start():
    started = NOW - timedelta(hours=20)
    assert not is_stale(SIX_HOURS, NOW - timedelta(hours=11), started, NOW, TOKYO)
    assert is_stale(SIX_HOURS, NOW - timedelta(hours=13), started, NOW, TOKYO)
    assert not is_stale(SIX_HOURS, NOW - timedelta(hours=13), started, NOW, TOKYO, slack=timedelta(hours=2))
    assert not is_stale(SIX_HOURS, None, NOW - timedelta(hours=1), NOW, TOKYO)  # never ran, daemon just began
    assert not is_stale(SIX_HOURS, NOW - timedelta(days=9), NOW - timedelta(hours=1), NOW, TOKYO)


def test_jitter_is_capped_by_a_quarter_of_the_period():
    assert jitter_for(SIX_HOURS, 60, NOW, TOKYO) == timedelta(seconds=60)
    assert jitter_for(ScheduleSpec(every="2s"), 60, NOW, TOKYO) == timedelta(seconds=0.5)


def test_config_keys():
    config = make_config("sqlite://", source_entry("tama", "http://x/a.txt", schedule={"cron": "0 7 * * *"}), source_entry("tama2", "http://x/b.txt"),
                         schedule={"sources": {"every": "12h"}, "jitter_s": 5})
    assert config.sources[0].schedule == SEVEN_AM and config.sources[1].schedule is None
    assert config.schedule.sources.every == timedelta(hours=12) and config.schedule.links.describe() == "every 1h"
    with pytest.raises(ConfigError, match=r"test-config: sources\[0\]\.schedule\.every: not a duration"):
        make_config("sqlite://", source_entry("tama", "http://x/a.txt", schedule={"every": "often"}))
    with pytest.raises(ConfigError, match=r"schedule\.workers"):
        make_config("sqlite://", schedule={"workers": 0})


@pytest.mark.parametrize("spec", [SIX_HOURS, SEVEN_AM, ScheduleSpec(cron="0 7 1 * *"), ScheduleSpec(cron="*/10 * * * *"), ScheduleSpec(every="1d")])
@pytest.mark.parametrize("now", [NOW, datetime(2026, 3, 31, 22, 0, tzinfo=timezone.utc), datetime(2026, 3, 1, 0, 0, 1, tzinfo=timezone.utc)])
def test_one_bound_a_schedule_says_what_next_after_says_for_every_start(spec, now):
    """The tick compares each start with one bound a schedule instead of asking the trigger."""
    bound = due_if_started_before(spec, now, TOKYO)
    starts = [bound + timedelta(microseconds=d) for d in (-1, 0, 1)] + [now - timedelta(minutes=m) for m in (0, 1, 9, 11, 59, 61, 360, 1440, 1441, 44640)]
    for started in starts:
        assert (started < bound) == (next_after(spec, started, TOKYO) <= now), started
