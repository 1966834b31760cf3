"""The APScheduler wiring in process: catch-up on start, a clock jump, reschedules."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from monitor.schedule import ScheduleSpec
from monitor.runtime.scheduler import JobScheduler, PlannedJob, plan_jobs
from store.database import open_engine, session_factory, transaction
from store.models import JobState, Source
from store.source_admin import set_retired
from tests.conftest import make_config, source_entry
from tests.runtime.harness import wait_until

UTC = timezone.utc


class Runs:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, kind: str, key: str) -> None:
        with self._lock:
            self.calls.append((kind, key))


@pytest.fixture
def runs():
    return Runs()


@pytest.fixture
def scheduler(runs):
    running = JobScheduler(runs, workers=2, tz=UTC)
    yield running
    running.stop()


def plan(key: str, every: str) -> PlannedJob:
    return PlannedJob("source", key, ScheduleSpec(every=every))


def success(job: str, at: datetime) -> JobState:
    return JobState(job_id=job, last_started_at=at, last_success_at=at)


def test_plans_come_from_the_config_with_defaults_and_leave_retired_sources_out(tmp_path):
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    config = make_config(url, source_entry("a", "http://x/a"), source_entry("b", "http://x/b", schedule={"every": "2s"}),
                         source_entry("c", "http://x/c"), schedule={"sources": {"cron": "0 7 * * *"}})
    sessions = session_factory(open_engine(url))
    with transaction(sessions) as session:
        session.add(Source(id="c", title="c", url="http://x/c", format="html-table", created_at=datetime.now(UTC)))
        session.flush()
        set_retired(session, "c", datetime.now(UTC))
    plans = plan_jobs(config, sessions)
    assert [(p.id, p.spec.describe()) for p in plans if p.kind == "source"] == [("source:a", "cron 0 7 * * *"), ("source:b", "every 2s")]


def test_catch_up_runs_only_what_is_owed_once(scheduler, runs):
    now = datetime.now(UTC)
    states = {"source:fresh": success("source:fresh", now - timedelta(minutes=10)), "source:old": success("source:old", now - timedelta(hours=7))}
    changes = scheduler.sync([plan("fresh", "6h"), plan("old", "6h"), plan("new", "6h")], states, now, UTC, jitter_s=0)
    assert sorted(changes.catch_up) == ["source:new", "source:old"]
    assert scheduler.next_run_times()["source:fresh"] == now + timedelta(hours=5, minutes=50)
    scheduler.start()
    wait_until(lambda: len(runs.calls) >= 2, 20, "the catch-up runs")
    time.sleep(0.5)  # a run owed twice would come meanwhile
    assert sorted(runs.calls) == [("source", "new"), ("source", "old")]


def test_a_clock_jump_forward_gives_one_run_not_many(scheduler, runs):
    # The scheduler last looked five hours ago (the machine slept): 1,800 turns of 10 s were missed.
    asleep_since = datetime.now(UTC) - timedelta(hours=5)
    scheduler.sync([plan("a", "10s")], {}, asleep_since, UTC, jitter_s=0)
    scheduler.start()
    wait_until(lambda: runs.calls, 20, "the run owed")
    time.sleep(0.5)  # the missed turns, were they run, would come meanwhile
    assert runs.calls == [("source", "a")]
    assert scheduler.next_run_times()["source:a"] > datetime.now(UTC)


def test_sync_adds_removes_and_reschedules(scheduler):
    now = datetime.now(UTC)
    recent = {f"source:{k}": success(f"source:{k}", now) for k in "abc"}
    scheduler.sync([plan("a", "1h"), plan("b", "1h")], recent, now, UTC, jitter_s=0)
    changes = scheduler.sync([plan("b", "2h"), plan("c", "1h")], recent, now, UTC, jitter_s=0)
    assert (changes.added, changes.removed, changes.rescheduled, changes.catch_up) == (["source:c"], ["source:a"], ["source:b"], [])
    assert set(scheduler.next_run_times()) == {"source:b", "source:c"}
    assert scheduler.next_run_times()["source:b"] == now + timedelta(hours=2)
    assert scheduler.sync([plan("b", "2h"), plan("c", "1h")], recent, now, UTC, jitter_s=0).added == []


def test_catch_up_is_spread_by_the_jitter(scheduler):
    now = datetime.now(UTC)
    scheduler.sync([plan(str(i), "1h") for i in range(20)], {}, now, UTC, jitter_s=60)
    firsts = list(scheduler.next_run_times().values())
    assert all(now <= first <= now + timedelta(seconds=60) for first in firsts) and len(set(firsts)) > 1
