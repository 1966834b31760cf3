"""The daemon as a user runs it: a real subprocess, real signals, the loopback site, both backends."""

from __future__ import annotations

import signal
import sqlite3
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from monitor.runtime.check import open_store, run_check
from monitor.config import load_config
from monitor.demo.site import Route
from store.database import open_engine, transaction
from store.models import Event, JobState, Measure, MeasureVersion, RunLock, Snapshot
from tests.conftest import NATIONWIDE, TAMA, seed_text, source_entry
from tests.runtime.harness import HERE, DaemonProcess, wait_until, write_config
from tests.runtime.test_check import publish


def count(sessions, model, **where) -> int:
    query = select(func.count()).select_from(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    with transaction(sessions) as session:
        return session.scalar(query)


@pytest.fixture
def daemons():
    started: list[DaemonProcess] = []

    def start(config: Path, **kwargs) -> DaemonProcess:
        started.append(DaemonProcess(config, **kwargs))
        return started[-1]
    yield start
    for daemon in started:
        daemon.kill()


def test_lifecycle_reload_refuse_and_graceful_stop(tmp_path, site, database_url, daemons):
    publish(site, "/tama.txt", seed_text(TAMA))
    tama = source_entry("tama", site.url("/tama.txt"))
    config = write_config(tmp_path / "config.yaml", database_url, [tama], sources={"every": "1h"})
    sessions = open_store(load_config(config))
    daemon = daemons(config)
    assert daemon.wait_for("started")["catch_up"] == 1
    daemon.wait_for("job_ok", job="source:tama")
    assert daemon.health()[0] == 200

    # SIGHUP picks up a new source (a slow one, on a short interval of its own).
    site.publish("/nationwide.txt", Route(seed_text(NATIONWIDE).encode(), delay_s=0.8))
    nationwide = source_entry("nationwide", site.url("/nationwide.txt"), schedule={"every": "2s"})
    write_config(config, database_url, [tama, nationwide], sources={"every": "1h"})
    daemon.signal(signal.SIGHUP)
    assert daemon.wait_for("reloaded")["added"] == ["source:nationwide"]
    daemon.wait_for("job_ok", job="source:nationwide")

    # A bad configuration is refused in one line; the old one keeps running.
    config.write_text(config.read_text(encoding="utf-8").replace("every: 2s", "every: sometimes"), encoding="utf-8")
    refused = daemon.wait_for("reload_refused")
    assert "sources[1].schedule.every" in refused["msg"] and refused["why"] == "config file changed"
    hits = site.hits("/nationwide.txt")
    wait_until(lambda: site.hits("/nationwide.txt") > hits, 10, "the old configuration to keep running")
    assert site.hits("/tama.txt") == 1

    # SIGTERM while a run is in flight: it finishes, is stored, and the daemon exits 0.
    in_flight = site.hits("/nationwide.txt")
    wait_until(lambda: site.hits("/nationwide.txt") > in_flight, 10, "a run in flight")
    stored = count(sessions, Snapshot, source_id="nationwide")  # every earlier run is committed by now
    code, took = daemon.stop()
    assert code == 0 and took < 8, daemon.log()
    assert daemon.find("stopping") and daemon.find("stopped")[0].get("abandoned") is None
    assert count(sessions, Snapshot, source_id="nationwide") == stored + 1
    assert "sesaku:sesaku@" not in "".join(daemon.lines)

    # A restart owes tama nothing: it is not run twice.
    write_config(config, database_url, [tama, nationwide], sources={"every": "1h"})
    again = daemons(config)
    again.wait_for("started")
    time.sleep(1.0)
    assert all("source:tama" not in e["jobs"] for e in again.find("catch_up"))
    assert site.hits("/tama.txt") == 1
    assert again.stop()[0] == 0


def test_a_config_file_caught_mid_save_is_not_loaded(tmp_path, site, daemons):
    # SQLite only: what is read from the file is the same on both backends.
    database_url = f"sqlite:///{tmp_path / 'monitor.db'}"
    publish(site, "/tama.txt", seed_text(TAMA))
    tama = source_entry("tama", site.url("/tama.txt"))
    config = write_config(tmp_path / "config.yaml", database_url, [tama], sources={"every": "1h"}, reload_poll_s=0.5)
    daemon = daemons(config)
    daemon.wait_for("job_ok", job="source:tama")

    # An editor that saves slowly: the file is truncated, then written a few bytes at a time for ~2 s.
    whole = write_config(tmp_path / "whole.yaml", database_url, [tama, source_entry("nationwide", site.url("/nationwide.txt"))],
                         sources={"every": "1h"}, reload_poll_s=0.5).read_bytes()
    with config.open("wb", buffering=0) as file:
        for start in range(0, len(whole), len(whole) // 40 + 1):
            file.write(whole[start:start + len(whole) // 40 + 1])
            time.sleep(0.05)
    reloaded = daemon.wait_for("reloaded")
    assert reloaded["added"] == ["source:nationwide"] and reloaded["removed"] == []
    time.sleep(1.2)  # two more polls: the file, unchanged since, is not read again
    assert len(daemon.find("reloaded")) == 1 and not daemon.find("reload_refused"), daemon.log()


def test_sigkill_inside_the_store_transaction_leaves_a_consistent_database(tmp_path, site, database_url, daemons):
    publish(site, "/tama.txt", seed_text(TAMA))
    config = write_config(tmp_path / "config.yaml", database_url, [source_entry("tama", site.url("/tama.txt"))], sources={"every": "1h"})
    marker = tmp_path / "inside-transaction"
    victim = daemons(config, prelude=[str(HERE / "paused_store.py"), str(marker)])
    wait_until(marker.exists, 30, f"the run to be inside its transaction\n{victim.log()}")
    victim.kill()

    sessions = open_store(load_config(config))
    # Nothing of the run is there: no snapshot, no measure, no version, no event.
    assert [count(sessions, model) for model in (Snapshot, Measure, MeasureVersion, Event)] == [0, 0, 0, 0]
    with transaction(sessions) as session:
        state = session.get(JobState, "source:tama")
        assert state.last_started_at is not None and state.last_success_at is None
        # SQLite: the dead process's lease is left (and free, its PID being gone); PostgreSQL: its lock died with it.
        assert (session.get(RunLock, "source:tama") is not None) == (session.get_bind().dialect.name == "sqlite")

    survivor = daemons(config)
    assert survivor.wait_for("catch_up")["jobs"] == ["source:tama"]
    survivor.wait_for("job_ok", job="source:tama")
    time.sleep(0.5)
    assert site.hits("/tama.txt") == 2  # the killed run and one catch-up, not more
    assert count(sessions, Snapshot) == 1 and count(sessions, Measure) == 44 and count(sessions, MeasureVersion) == 44
    with transaction(sessions) as session:
        orphans = session.scalar(select(func.count()).select_from(MeasureVersion).where(MeasureVersion.valid_from_snapshot_id.not_in(select(Snapshot.id))))
        assert orphans == 0 and session.get(RunLock, "source:tama") is None
    assert survivor.stop()[0] == 0


def test_a_one_shot_check_waits_for_the_daemons_run_of_a_source(tmp_path, site, database_url, daemons):
    site.publish("/tama.txt", Route(seed_text(TAMA).encode(), delay_s=1.2))
    config = write_config(tmp_path / "config.yaml", database_url, [source_entry("tama", site.url("/tama.txt"))], sources={"every": "1h"})
    daemon = daemons(config)
    wait_until(lambda: site.hits("/tama.txt") == 1, 30, f"the daemon's run to start\n{daemon.log()}")

    # Without the run lock both would take a baseline: 88 measures, two "baseline" snapshots.
    loaded = load_config(config)
    report = run_check(loaded, open_store(loaded))
    assert [source.status for source in report.sources] in (["unchanged"], ["not_modified"])
    sessions = open_store(loaded)
    assert count(sessions, Measure) == 44 and count(sessions, Snapshot, status="baseline") == 1
    daemon.wait_for("job_ok", job="source:tama")
    assert daemon.stop()[0] == 0


def test_health_turns_503_when_a_job_is_stuck_and_sigterm_gives_it_up(tmp_path, site, daemons):
    # SQLite only: the health endpoint reads job_state as `status` does, which runs on both.
    database_url = f"sqlite:///{tmp_path / 'monitor.db'}"
    site.publish("/stuck.txt", Route(seed_text(TAMA).encode(), delay_s=25))
    config = write_config(tmp_path / "config.yaml", database_url, [source_entry("stuck", site.url("/stuck.txt"), schedule={"every": "1s"})], stop_timeout_s=1)
    daemon = daemons(config)
    wait_until(lambda: site.hits("/stuck.txt") == 1, 30, "the stuck run to start")
    status, body = daemon.health()
    assert status == 200 and body["jobs"]["source:stuck"]["last_started_at"]
    status, body = wait_until(lambda: (lambda got: got if got[0] == 503 else None)(daemon.health()), 10, "a 503")
    assert body["status"] == "stale" and body["stale"] == ["source:stuck"]

    code, took = daemon.stop()
    assert code == 0 and took < 5, daemon.log()
    assert daemon.find("stopped")[0]["abandoned"] == ["source:stuck"]
    sessions = open_store(load_config(config))
    assert count(sessions, Snapshot) == 0
    assert site.hits("/stuck.txt") == 1  # max_instances=1: never a second one on top


def test_a_locked_sqlite_database_is_waited_for_then_reported(tmp_path, site, daemons):
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    open_engine(url).dispose()  # the schema, before the lock is taken
    publish(site, "/tama.txt", seed_text(TAMA))
    config = write_config(tmp_path / "config.yaml", url, [source_entry("tama", site.url("/tama.txt"), schedule={"every": "2s"})])
    config.write_text(config.read_text(encoding="utf-8").replace("busy_timeout_s: 5", "busy_timeout_s: 1"), encoding="utf-8")
    holder = sqlite3.connect(make_url(url).database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    daemon = daemons(config)
    failed = daemon.wait_for("job_failed", timeout=30)
    waited = datetime.fromisoformat(failed["time"]) - datetime.fromisoformat(daemon.wait_for("started")["time"])
    # busy_timeout_s is the whole wait: one second, then reported (not five waits and their back-offs).
    assert "is locked by another process" in failed["msg"] and 0.9 < waited.total_seconds() < 4
    holder.execute("ROLLBACK")
    holder.close()
    daemon.wait_for("job_ok", job="source:tama", timeout=15)
    assert daemon.stop()[0] == 0
