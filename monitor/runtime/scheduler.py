"""APScheduler 3.x wiring: the jobs a configuration plans, kept on a BackgroundScheduler.

The scheduler knows the kinds of job only through :data:`monitor.runtime.jobs.KINDS`. The job
functions are synchronous (a source run calls ``asyncio.run`` inside), so they run in a
thread pool of ``schedule.workers`` threads. Every job is added with:

* ``max_instances=1`` — a slow run is never overlapped by its next turn;
* ``coalesce=True`` — the turns missed while the machine slept (or the clock jumped
  forward) become one run, not many;
* ``misfire_grace_time`` = its period — that one coalesced run is at most a period late,
  so it is never dropped as a misfire;
* jitter up to ``schedule.jitter_s`` (at most a quarter of the period), so a thousand
  sources do not fire in the same second;
* a first run from :func:`monitor.schedule.first_run_at`: now (spread by the jitter) when
  the job is owed a run since its last success in ``job_state``, else on its rhythm, so
  a restart never runs everything twice.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING

from store.database import SessionFactory
from store.models import JobState

from monitor.config import Config
from monitor.runtime.jobs import KINDS, job_id
from monitor.schedule import ScheduleSpec, first_run_at, jitter_for, make_trigger, period_at

__all__ = ["PlannedJob", "SyncChanges", "JobScheduler", "plan_jobs"]


@dataclass(frozen=True, slots=True)
class PlannedJob:
    kind: str
    key: str
    spec: ScheduleSpec

    @property
    def id(self) -> str:
        return job_id(self.kind, self.key)


@dataclass(slots=True)
class SyncChanges:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rescheduled: list[str] = field(default_factory=list)
    catch_up: list[str] = field(default_factory=list)


def plan_jobs(config: Config, sessions: SessionFactory) -> list[PlannedJob]:
    """Every job the configuration (and, for kinds keyed by the database, the store) asks for."""
    return [PlannedJob(kind.name, key, kind.schedule(config, key)) for kind in KINDS.values() for key in kind.keys(config, sessions)]


class JobScheduler:
    """A BackgroundScheduler whose jobs call ``runner(kind, key)`` in worker threads."""

    def __init__(self, runner: Callable[[str, str], None], *, workers: int, tz: tzinfo) -> None:
        self._runner = runner
        self._planned: dict[str, PlannedJob] = {}
        self._scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(workers)}, timezone=tz)

    @property
    def alive(self) -> bool:
        return self._scheduler.state == STATE_RUNNING

    @property
    def planned(self) -> list[PlannedJob]:
        return list(self._planned.values())

    def start(self) -> None:
        self._scheduler.start()

    def stop(self) -> None:
        """Take no new work; jobs already running go on (the caller waits for them)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def run_once(self, kind: str, key: str, at: datetime) -> None:
        """One extra run of ``kind:key`` at ``at``, beside its rhythm; a later call moves it (a notifier after a wave)."""
        self._scheduler.add_job(self._runner, trigger="date", run_date=at, args=(kind, key), id=f"once:{job_id(kind, key)}",
                                replace_existing=True, misfire_grace_time=60)

    def next_run_times(self) -> dict[str, datetime | None]:
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs()}

    def sync(self, plans: Sequence[PlannedJob], states: Mapping[str, JobState], now: datetime, tz: tzinfo, jitter_s: float) -> SyncChanges:
        """Make the scheduled jobs match ``plans``: add new ones, drop gone ones, reschedule changed ones."""
        changes = SyncChanges()
        wanted = {plan.id: plan for plan in plans}
        for gone in self._planned.keys() - wanted.keys():
            self._scheduler.remove_job(gone)
            del self._planned[gone]
            changes.removed.append(gone)
        for plan in wanted.values():
            old = self._planned.get(plan.id)
            if old == plan:
                continue
            (changes.rescheduled if old else changes.added).append(plan.id)
            state = states.get(plan.id)
            if self._add(plan, state.last_success_at if state else None, now, tz, jitter_s):
                changes.catch_up.append(plan.id)
        return changes

    def _add(self, plan: PlannedJob, last_success: datetime | None, now: datetime, tz: tzinfo, jitter_s: float) -> bool:
        jitter = jitter_for(plan.spec, jitter_s, now, tz)
        first = first_run_at(plan.spec, last_success, now, tz)
        owed = first <= now
        if owed:
            first = now + random.uniform(0, 1) * jitter
        period = period_at(plan.spec, now, tz).total_seconds()
        self._scheduler.add_job(
            self._runner, trigger=make_trigger(plan.spec, tz, jitter), args=(plan.kind, plan.key),
            id=plan.id, name=plan.id, next_run_time=first, replace_existing=True,
            max_instances=1, coalesce=True, misfire_grace_time=max(1, math.ceil(period)),
        )
        self._planned[plan.id] = plan
        return owed
