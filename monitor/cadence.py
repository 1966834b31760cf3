"""The arithmetic of schedules, pure and without their schema: every function takes ``now``.

A schedule here is anything with ``every`` (a timedelta) or ``cron`` (a crontab line, in the
given time zone): :class:`monitor.schedule.ScheduleSpec` (the checked model of config.yaml),
or :class:`Cadence`, the plain value ``status`` reads from a checked file's view
(:mod:`monitor.config_view`) without loading pydantic. :mod:`monitor.schedule` re-exports
these functions; the anchors they serve (last success, last start) are described there.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:  # APScheduler (and the asyncio it loads) only where a trigger is made: 0.1 s of every command's start
    from apscheduler.triggers.cron import CronTrigger

__all__ = ["Timing", "Cadence", "StartBounds", "describe", "cron_trigger", "next_after", "period_at", "due_if_started_before"]

_TICK = timedelta(microseconds=1)


class Timing(Protocol):
    """When one job runs: exactly one of ``every`` and ``cron`` is set."""

    @property
    def every(self) -> timedelta | None: ...

    @property
    def cron(self) -> str | None: ...


class Cadence(NamedTuple):
    """A schedule as plain values, already checked (a tuple: most lists share one, hashed often)."""

    every: timedelta | None
    cron: str | None

    def describe(self) -> str:
        return describe(self)


def describe(spec: Timing) -> str:
    """``every 6h``, ``cron 0 7 * * *``: how ``status`` and the web name a schedule."""
    if spec.every is not None:
        return f"every {_short(spec.every)}"
    return f"cron {spec.cron}"


def _short(duration: timedelta) -> str:
    seconds = duration.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def cron_trigger(spec: Timing, tz: tzinfo, jitter_s: float | None = None) -> CronTrigger:
    from apscheduler.triggers.cron import CronTrigger

    assert spec.cron is not None
    trigger = CronTrigger.from_crontab(spec.cron, timezone=tz)
    trigger.jitter = jitter_s or None
    return trigger


def next_after(spec: Timing, after: datetime, tz: tzinfo) -> datetime:
    """The first nominal run strictly after ``after`` (no jitter)."""
    if spec.every is not None:
        return after + spec.every
    fire = cron_trigger(spec, tz).get_next_fire_time(None, after + _TICK)
    assert fire is not None, "a crontab line always fires again"
    return fire


def period_at(spec: Timing, at: datetime, tz: tzinfo) -> timedelta:
    """The gap between runs around ``at`` (a cron's gaps may vary: the next one is taken)."""
    if spec.every is not None:
        return spec.every
    first = next_after(spec, at, tz)
    return next_after(spec, first, tz) - first


def due_if_started_before(spec: Timing, now: datetime, tz: tzinfo) -> datetime:
    """The moment a job must have last started before to be due at ``now``: for every job of one
    schedule, ``next_after(spec, started, tz) <= now`` is ``started < due_if_started_before(spec, now, tz)``.

    Worked out once per schedule, so that the tick compares 20,000 start times with a few
    bounds instead of building a trigger for each."""
    if spec.every is not None:
        return now - spec.every + _TICK
    return _last_fire(spec, now, tz)


def _last_fire(spec: Timing, now: datetime, tz: tzinfo) -> datetime:
    """A cron's latest fire time at or before ``now`` (a trigger only looks forward)."""
    step = period_at(spec, now, tz)
    while (fire := next_after(spec, now - step, tz)) > now:
        step *= 2  # gaps vary (a monthly cron): look further back until a fire is behind us
    while (later := next_after(spec, fire, tz)) <= now:
        fire = later
    return fire


class StartBounds:
    """Whether each of many jobs of a few schedules is due at ``now``, from its last start: one
    bound a schedule (:func:`due_if_started_before`). Asked of a start time, or of its rank among
    :attr:`bounds` as the database gives it (:func:`store.jobstate.start_ranks`: the index of the
    first bound, newest first, that the start is not before; None: before them all, or never),
    so that reading every job's time and reading only its rank say the same."""

    def __init__(self, specs: Iterable[Timing], now: datetime, tz: tzinfo) -> None:
        self._bound: dict[tuple[timedelta | None, str | None], datetime] = {}
        for spec in specs:
            if (spec.every, spec.cron) not in self._bound:
                self._bound[spec.every, spec.cron] = due_if_started_before(spec, now, tz)
        self.bounds = sorted(set(self._bound.values()), reverse=True)
        index = {bound: n for n, bound in enumerate(self.bounds)}
        self._rank = {key: index[bound] for key, bound in self._bound.items()}

    def due(self, spec: Timing, started: datetime | None) -> bool:
        return started is None or started < self._bound[spec.every, spec.cron]

    def due_by_rank(self, spec: Timing, rank: int | None) -> bool:
        return rank is None or rank > self._rank[spec.every, spec.cron]
