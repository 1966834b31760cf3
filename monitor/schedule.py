"""Schedules as data (the checked models of config.yaml), and the pure arithmetic over them
(every function takes ``now``; the arithmetic itself is :mod:`monitor.cadence`'s, named here too).

A schedule is ``{every: 6h}`` (an interval: ``2s``, ``30m``, ``1h30m``, ``1d``) or
``{cron: "0 7 * * *"}`` (minute hour day month weekday, in the configured time zone).
``schedule:`` at the top of config.yaml holds the defaults and the daemon's knobs; a source
may carry its own ``schedule:``.

Two anchors, on purpose:

* **catch-up** looks at the last *successful* run: a job whose last success is older than
  its period (or that missed a cron time since) runs once at start;
* **next run** and **staleness** look at the last *start*: the daemon keeps the rhythm of
  its attempts, and a job that has not even started for twice its period means the
  scheduler is stuck.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The arithmetic lives without the schema (``status`` reads it without pydantic); named here too.
from monitor.cadence import cron_trigger, describe, due_if_started_before, next_after, period_at

__all__ = [
    "check_time_zone",
    "ScheduleSpec", "ScheduleSettings", "parse_duration", "next_after", "period_at", "is_due", "due_if_started_before",
    "first_run_at", "is_stale", "jitter_for", "make_trigger",
]

if TYPE_CHECKING:  # APScheduler (and the asyncio it loads) only where a trigger is made: 0.1 s of every command's start
    from apscheduler.triggers.base import BaseTrigger

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$")


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """``"6h"``, ``"1h30m"``, ``"2s"``, ``"1d"`` or a number of seconds, as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    text = str(value).replace(" ", "").lower()
    match = _DURATION.match(text)
    if not text or not match:
        raise ValueError(f"not a duration: {value!r} (examples: 30s, 15m, 6h, 1h30m, 1d)")
    days, hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScheduleSpec(_Strict):
    """When one job runs: exactly one of ``every`` and ``cron``."""

    every: timedelta | None = None
    cron: str | None = None

    @field_validator("every", mode="before")
    @classmethod
    def _parse_every(cls, value: Any) -> timedelta | None:
        if value is None:
            return None
        duration = parse_duration(value)
        if duration < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return duration

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str | None) -> str | None:
        if value is not None:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(value, timezone="UTC")
            except ValueError as exc:
                raise ValueError(f"not a crontab line {value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> "ScheduleSpec":
        if (self.every is None) == (self.cron is None):
            raise ValueError("give exactly one of `every` (e.g. 6h) and `cron` (e.g. \"0 7 * * *\")")
        return self

    def describe(self) -> str:
        return describe(self)


class ScheduleSettings(_Strict):
    """The ``schedule:`` section: default schedules and how the daemon behaves."""

    sources: ScheduleSpec = ScheduleSpec(every=timedelta(hours=6))
    links: ScheduleSpec = ScheduleSpec(every=timedelta(hours=1))
    jitter_s: float = Field(60.0, ge=0)
    workers: int = Field(4, ge=1, le=64)
    stop_timeout_s: float = Field(30.0, gt=0)
    reload_poll_s: float = Field(5.0, ge=0)
    lock_lease_s: float = Field(900.0, gt=0)
    lock_wait_s: float = Field(300.0, ge=0)
    pid_file: str | None = None
    """Where ``run`` writes its pid; by default ``sesaku-monitor.pid`` beside a SQLite database."""


def is_due(spec: ScheduleSpec, last_success: datetime | None, now: datetime, tz: tzinfo) -> bool:
    """True when a run was owed since the last success (or there never was one)."""
    return last_success is None or next_after(spec, last_success, tz) <= now


def first_run_at(spec: ScheduleSpec, last_success: datetime | None, now: datetime, tz: tzinfo) -> datetime:
    """When a job should first run after a (re)start: now if it is owed a run, else on its rhythm."""
    if is_due(spec, last_success, now, tz):
        return now
    assert last_success is not None
    return next_after(spec, last_success, tz)


def is_stale(spec: ScheduleSpec, last_started: datetime | None, since: datetime, now: datetime, tz: tzinfo, slack: timedelta = timedelta(0)) -> bool:
    """True when a job has not started for twice its period (``since``: when the daemon began)."""
    anchor = max(last_started, since) if last_started else since
    return now - anchor > 2 * period_at(spec, anchor, tz) + slack


def jitter_for(spec: ScheduleSpec, jitter_s: float, now: datetime, tz: tzinfo) -> timedelta:
    """The jitter a job gets: the configured one, but never more than a quarter of its period."""
    return min(timedelta(seconds=jitter_s), period_at(spec, now, tz) / 4)


def make_trigger(spec: ScheduleSpec, tz: tzinfo, jitter: timedelta) -> BaseTrigger:
    """The APScheduler trigger for ``spec``; jitter spreads jobs so they do not fire at one second."""
    from apscheduler.triggers.interval import IntervalTrigger

    if spec.every is not None:
        return IntervalTrigger(seconds=spec.every.total_seconds(), timezone=tz, jitter=jitter.total_seconds() or None)
    return cron_trigger(spec, tz, jitter.total_seconds())


def check_time_zone(value: str) -> str:
    """``value`` if it names an IANA time zone (``Asia/Tokyo``); ValueError saying so if not."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value
