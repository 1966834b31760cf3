"""Run locks and the job wrapper, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from monitor.runtime.check import open_store, run_check
from monitor.runtime.jobs import KINDS, JobKind, register, run_job, run_source_job
from store.database import transaction
from store.locks import holder_is_gone, new_holder, release, try_acquire
from store.process_locks import RunLockHeld
from store.models import Event, JobState
from tests.conftest import TAMA, make_config, seed_text, source_entry
from tests.runtime.test_check import publish
from tests.store.another_runner import another_runner, held_elsewhere, take

T0 = datetime(2026, 4, 1, tzinfo=timezone.utc)
LEASE = timedelta(minutes=15)


@pytest.fixture
def tama(site, database_url):
    publish(site, "/tama.txt", seed_text(TAMA))
    config = make_config(database_url, source_entry("tama", site.url("/tama.txt")), schedule={"lock_wait_s": 10})
    return config, open_store(config)


def state(sessions, name: str) -> JobState | None:
    with transaction(sessions) as session:
        return session.get(JobState, name)


def test_a_lease_is_exclusive_until_released_expired_or_its_holder_died(database_url):
    sessions = open_store(make_config(database_url))
    first, second = new_holder(), new_holder()
    assert try_acquire(sessions, "source:a", first, T0, LEASE) is None
    assert try_acquire(sessions, "source:a", second, T0 + timedelta(minutes=1), LEASE) == first
    assert try_acquire(sessions, "source:b", second, T0, LEASE) is None  # another name is free
    release(sessions, "source:a", second)  # not its lease: nothing happens
    assert try_acquire(sessions, "source:a", second, T0 + timedelta(minutes=2), LEASE) == first
    release(sessions, "source:a", first)
    assert try_acquire(sessions, "source:a", second, T0 + timedelta(minutes=3), LEASE) is None
    # A holder that never gives it back loses it when the lease runs out.
    third = new_holder()
    assert try_acquire(sessions, "source:a", third, T0 + timedelta(minutes=19), LEASE) is None

    # A lease of a dead process on this machine is free at once; one of another machine is not.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    machine = new_holder().rsplit(":", 2)[0]
    gone = f"{machine}:{dead}:deadbeef"
    elsewhere = f"other-host:pid:[1]:{dead}:deadbeef"
    assert holder_is_gone(gone) and not holder_is_gone(elsewhere)
    assert not holder_is_gone(f"{machine}:{os.getppid()}:cafe")  # alive
    assert holder_is_gone(f"{machine}:{os.getpid()}:left-by-an-earlier-job-of-this-process")
    now = datetime.now(timezone.utc)
    assert try_acquire(sessions, "x", elsewhere, now, LEASE) is None
    assert try_acquire(sessions, "x", new_holder(), now, LEASE) == elsewhere
    release(sessions, "x", elsewhere)
    assert try_acquire(sessions, "x", gone, now, LEASE) is None
    assert try_acquire(sessions, "x", new_holder(), now, LEASE) is None


def test_a_server_down_for_days_is_reported_once_when_it_starts_and_once_when_it_ends(tama, site):
    config, sessions = tama
    run = run_source_job(config, sessions, T0, "tama")
    assert (run.status, run.result.status, run.job_id) == ("ok", "baseline", "source:tama")
    recorded = state(sessions, "source:tama")
    assert (recorded.last_started_at, recorded.last_success_at, recorded.last_error) == (T0, T0, None)
    site.remove("/tama.txt")
    for day in range(1, 4):
        run = run_source_job(config, sessions, T0 + timedelta(days=day), "tama")
        assert run.status == "failed" and "HTTP 404" in run.error
    recorded = state(sessions, "source:tama")
    assert (recorded.last_success_at, recorded.failing_since) == (T0, T0 + timedelta(days=1))
    publish(site, "/tama.txt", seed_text(TAMA))
    assert run_source_job(config, sessions, T0 + timedelta(days=4), "tama").status == "ok"
    assert state(sessions, "source:tama").failing_since is None
    with transaction(sessions) as session:
        kinds = [event.kind for event in session.scalars(select(Event).where(Event.kind.like("source_%")).order_by(Event.id))]
    assert kinds == ["source_failed", "source_recovered"]


def test_a_job_held_by_another_runner_is_busy_for_the_daemon_and_waited_for_by_check(tama, site):
    config, sessions = tama
    with another_runner(config.database.url) as other:
        held = take(other, "source:tama")
        assert isinstance(held, RunLockHeld)
        # PostgreSQL: the other session's name; SQLite: the lease's holder.
        shown = held.lease_holder or "sesaku "
        run = run_source_job(config, sessions, T0, "tama")
        assert run.status == "busy" and shown in run.error
        assert site.hits("/tama.txt") == 0 and state(sessions, "source:tama") is None
        # A one-shot check waits for the lock instead.
        threading.Timer(0.6, held.release).start()
        started = time.monotonic()
        report = run_check(config, sessions)
        assert time.monotonic() - started >= 0.5 and report.sources[0].status == "baseline"


def test_an_error_in_a_job_is_recorded_then_raised(tama):
    config, sessions = tama

    def broken(config, sessions, now, key):
        raise RuntimeError(f"bug in {key}")
    register(JobKind("broken", broken, keys=lambda config, sessions: ["k"], schedule=lambda config, key: config.schedule.links))
    try:
        with pytest.raises(RuntimeError, match="bug in k"):
            run_job(config, sessions, T0, "broken", "k")
        recorded = state(sessions, "broken:k")
        assert recorded.last_error == "RuntimeError: bug in k" and recorded.failing_since == T0
        # The lock was given back: the next run is not busy.
        with pytest.raises(RuntimeError):
            run_job(config, sessions, T0, "broken", "k")
    finally:
        del KINDS["broken"]


def test_a_job_longer_than_its_lease_keeps_its_lock(site, database_url):
    publish(site, "/tama.txt", seed_text(TAMA))
    config = make_config(database_url, source_entry("tama", site.url("/tama.txt")), schedule={"lock_lease_s": 0.6})
    sessions = open_store(config)
    release_job = threading.Event()
    entered = threading.Event()

    def slow(config, sessions, now, key):
        entered.set()
        release_job.wait(10)
    register(JobKind("slow", slow, keys=lambda config, sessions: ["k"], schedule=lambda config, key: config.schedule.links))
    try:
        runner = threading.Thread(target=run_job, args=(config, sessions, T0, "slow", "k"))
        runner.start()
        assert entered.wait(10)
        time.sleep(1.5)  # more than twice the lease: without renewal it would have run out
        assert held_elsewhere(database_url, "slow:k")
        release_job.set()
        runner.join(10)
        assert not held_elsewhere(database_url, "slow:k")
    finally:
        release_job.set()
        del KINDS["slow"]
