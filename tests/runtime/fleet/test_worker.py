"""Workers on one PostgreSQL queue: a tick once for the fleet, a source never twice at once,
a killed worker's job run again by another, SIGTERM finishing the job, the server restarted."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from monitor.runtime.fleet_status import read_fleet_status
from monitor.demo.site import LoopbackSite, Route
from monitor.runtime.worker import due_units, run_unit
from store.database import open_engine, session_factory
from tests.conftest import TAMA, _postgres_admin_url, make_config, seed_text, source_entry

from .conftest import create_database, drop_database, recovered, scalar, serving, wait_until, write_config

LIST = "/tama.txt"
RECORDS = 44  # rows of the 戦略2 seed list


def publish(site: LoopbackSite, delay_s: float = 0.0) -> str:
    site.publish(LIST, Route(seed_text(TAMA).encode("utf-8"), delay_s=delay_s))
    return site.url(LIST)


def snapshots(url: str, status: str | None = None) -> int:
    where = " WHERE status = :status" if status else ""
    return scalar(url, f"SELECT count(*) FROM snapshots{where}", status=status)


def test_worker_refuses_sqlite(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path}/m.db", [])
    done = CliRunner().invoke(cli, ["worker", "--config", str(config)])
    assert done.exit_code == 2 and done.stderr.count("\n") == 1 and "workers need PostgreSQL" in done.stderr


def test_worker_refuses_a_database_without_queue(tmp_path: Path) -> None:
    admin_url = _postgres_admin_url()
    url = create_database(admin_url, queue=False)
    try:
        done = CliRunner().invoke(cli, ["worker", "--config", str(write_config(tmp_path / "config.yaml", url, []))])
    finally:
        drop_database(admin_url, url)
    assert done.exit_code == 4 and "run `sesaku-monitor db upgrade`" in done.stderr


def test_run_unit_skips_what_already_succeeded_since_it_was_due(fleet_url: str, site: LoopbackSite) -> None:
    config = make_config(fleet_url, source_entry("tama", publish(site)), schedule={"sources": {"every": "1h"}}, links={"enabled": False})
    sessions = session_factory(open_engine(fleet_url))
    due = due_units(config, sessions, datetime.now(timezone.utc))
    assert [(unit.kind, unit.key) for unit in due] == [("source", "tama")]
    assert run_unit(config, sessions, "source", "tama", due[0].due_at) == "source:tama: ok"
    # The same unit again (a duplicate, or a retry after commit): nothing is written twice.
    assert "skipped" in run_unit(config, sessions, "source", "tama", due[0].due_at)
    assert snapshots(fleet_url) == 1 and site.hits(LIST) == 1
    assert due_units(config, sessions, datetime.now(timezone.utc)) == []


def test_a_worker_runs_what_is_due_as_it_starts_not_at_the_ticks_next_time(tmp_path: Path, fleet_url: str, site: LoopbackSite, start_worker) -> None:
    """The tick comes once a year here: a worker that started serving queues the due list at once."""
    config = write_config(tmp_path / "config.yaml", fleet_url, [source_entry("tama", publish(site))], tick="0 0 1 1 *")
    worker = start_worker(config)
    wait_until(lambda: snapshots(fleet_url) >= 1, 40, "the first snapshot, long before the tick's next time")
    assert snapshots(fleet_url, "baseline") == 1 and site.hits(LIST) == 1
    second = start_worker(config)  # a tick already waiting or done: the unit is not queued again
    serving(second)
    time.sleep(2)
    assert snapshots(fleet_url) == 1 and site.hits(LIST) == 1
    assert scalar(fleet_url, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'") == 0
    worker.kill(signal.SIGTERM)
    second.kill(signal.SIGTERM)


def test_two_workers_started_at_the_same_second_run_a_source_once(tmp_path: Path, fleet_url: str, site: LoopbackSite, start_worker) -> None:
    config = write_config(tmp_path / "config.yaml", fleet_url, [source_entry("tama", publish(site, delay_s=1.0))])
    workers = [start_worker(config), start_worker(config)]
    wait_until(lambda: snapshots(fleet_url) >= 1, 40, "the first snapshot")
    for worker in workers:
        serving(worker)  # both in the fleet below, however late a loaded machine started the second
    time.sleep(3)  # three more ticks, on both workers: nothing more is due
    assert snapshots(fleet_url, "baseline") == 1 and snapshots(fleet_url) == 1
    assert site.hits(LIST) == 1
    assert scalar(fleet_url, "SELECT count(*) FROM measures") == RECORDS
    fleet = read_fleet_status(make_config(fleet_url), datetime.now(timezone.utc))
    assert fleet is not None and len(fleet.workers) == 2 and fleet.stalled == 0 and fleet.failed == 0
    shown = CliRunner().invoke(cli, ["status", "--json", "--config", str(config)])
    assert shown.exit_code == 0, shown.output
    assert len(json.loads(shown.stdout)["fleet"]["workers"]) == 2
    for worker in workers:
        assert worker.process.poll() is None, worker.output()


def test_a_worker_killed_mid_job_leaves_it_to_another(tmp_path: Path, fleet_url: str, site: LoopbackSite, start_worker) -> None:
    config = write_config(tmp_path / "config.yaml", fleet_url, [source_entry("tama", publish(site, delay_s=3.0))])
    first = start_worker(config)
    wait_until(lambda: site.hits(LIST) >= 1, 40, "the first worker to fetch the list")
    first.kill(signal.SIGKILL)
    first.process.wait(timeout=10)
    assert snapshots(fleet_url) == 0  # nothing half-written: the job's writes are one transaction
    second = start_worker(config)
    wait_until(lambda: snapshots(fleet_url) >= 1, 40, "the second worker to run the job again")
    time.sleep(2)
    assert snapshots(fleet_url, "baseline") == 1 and snapshots(fleet_url) == 1
    assert scalar(fleet_url, "SELECT count(*) FROM measures") == RECORDS
    assert scalar(fleet_url, "SELECT count(*) FROM measure_versions") == RECORDS
    assert recovered(second.output(), "source:tama"), second.output()
    assert scalar(fleet_url, "SELECT count(*) FROM procrastinate_jobs WHERE lock = 'source:tama' AND status IN ('doing', 'todo')") == 0


def test_sigterm_lets_the_running_job_finish(tmp_path: Path, fleet_url: str, site: LoopbackSite, start_worker) -> None:
    config = write_config(tmp_path / "config.yaml", fleet_url, [source_entry("tama", publish(site, delay_s=2.0))])
    worker = start_worker(config)
    wait_until(lambda: site.hits(LIST) >= 1, 40, "the worker to fetch the list")
    worker.kill(signal.SIGTERM)
    assert worker.process.wait(timeout=30) == 0, worker.output()
    assert snapshots(fleet_url, "baseline") == 1
    assert scalar(fleet_url, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'") == 0
    assert scalar(fleet_url, "SELECT count(*) FROM procrastinate_workers") == 0


def test_sigterm_gives_a_stuck_job_the_grace_then_exits_1_naming_it(tmp_path: Path, fleet_url: str, site: LoopbackSite, start_worker) -> None:
    # The list answers after a minute and the HTTP timeouts allow two: only the grace ends the job.
    config = write_config(tmp_path / "config.yaml", fleet_url, [source_entry("tama", publish(site, delay_s=60.0))],
                          http={"total_timeout_s": 120, "read_timeout_s": 120}, shutdown_grace_s=2, stalled_after_s=30)
    worker = start_worker(config)
    wait_until(lambda: site.hits(LIST) >= 1, 40, "the worker to fetch the list")
    worker.kill(signal.SIGTERM)
    stopped = time.monotonic()
    assert worker.process.wait(timeout=30) == 1, worker.output()
    assert time.monotonic() - stopped < 20, worker.output()
    left = [line for line in worker.output().splitlines() if "not stopped within worker.shutdown_grace_s (2s)" in line]
    assert len(left) == 1 and "(source:tama)" in left[0] and " ERROR " in left[0], worker.output()
    # Aborted at the grace, the job waits in the queue for its retry (procrastinate's, before any
    # worker's sweep could take it as stalled): nothing is lost, nothing half-written.
    assert scalar(fleet_url, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' AND lock = 'source:tama'") == 1
    assert snapshots(fleet_url) == 0


def test_workers_survive_a_postgresql_restart(tmp_path: Path, throwaway_cluster, site: LoopbackSite, start_worker) -> None:
    url = create_database(throwaway_cluster.admin_url)
    period = 3.0
    sources = [source_entry(f"tama-{n}", publish(site, delay_s=1.0)) for n in range(3)]
    config = write_config(tmp_path / "config.yaml", url, sources, every=f"{period:g}s")
    workers = [start_worker(config), start_worker(config)]
    wait_until(lambda: snapshots(url) >= 3, 60, "a first run of every source")
    throwaway_cluster.stop()
    time.sleep(2)
    throwaway_cluster.start()
    restarted = datetime.now(timezone.utc)
    # Every source runs again after the restart: the workers reconnected, nothing was lost.
    try:
        wait_until(lambda: scalar(url, "SELECT count(DISTINCT source_id) FROM snapshots WHERE fetched_at > :t", t=restarted) == 3, 90,
                   "every source to run after the restart", step=0.5)
    except AssertionError as exc:
        raise AssertionError("\n=====\n".join([str(exc), *(worker.output() for worker in workers)])) from None
    for worker in workers:
        # Another worker may have run every source before this one is back (its reconnection waits
        # with backoff): the outage's lines are complete once it says so ("is back" alone is in the
        # first line too: "reconnecting (one line when it is back)").
        wait_until(lambda: "the database is back" in worker.output(), 60, "the worker to say the database is back", step=0.5)
        assert worker.process.poll() is None, worker.output()
        # The restart is one line when the database goes and one when it is back: no traceback,
        # no line per failed attempt, nothing from procrastinate's or psycopg's pool about it.
        output = worker.output()
        loud = [line for line in output.splitlines() if re.match(r"\S+ \S+ (WARNING|ERROR|CRITICAL) ", line)]
        # Down longer than stalled_after_s, every worker looked dead: its jobs are recovered, one line each.
        about_database = [line for line in loud if "of a worker that stopped" not in line]
        assert "Traceback" not in output, output
        assert len(about_database) == 2, "\n".join(loud) or output
        assert "reconnecting" in about_database[0] and "is back" in about_database[1], "\n".join(loud)
    # Nothing doubled: a source's runs keep their period (a job run twice would come seconds after).
    times = scalar(url, "SELECT json_agg(json_build_array(source_id, fetched_at) ORDER BY source_id, fetched_at) FROM snapshots")
    by_source: dict[str, list[datetime]] = {}
    for source_id, fetched in times:
        by_source.setdefault(source_id, []).append(datetime.fromisoformat(fetched))
    for source_id, moments in by_source.items():
        gaps = [(later - earlier).total_seconds() for earlier, later in zip(moments, moments[1:])]
        assert all(gap >= period - 0.5 for gap in gaps), (source_id, gaps)
    assert scalar(url, "SELECT count(*) FROM measures") == 3 * RECORDS
    assert scalar(url, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'") == 0
    for worker in workers:
        worker.kill(signal.SIGTERM)
    for worker in workers:
        # Its jobs finished (or none ran): a clean stop, well within the grace; a worker held by
        # anything exits 1 after it, naming what it waited on.
        try:
            code = worker.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"a worker did not stop within 60 s of SIGTERM\n{worker.output()}") from None
        assert code == 0, worker.output()
    drop_database(throwaway_cluster.admin_url, url)


def test_status_has_no_fleet_on_sqlite(tmp_path: Path) -> None:
    config = make_config(f"sqlite:///{tmp_path / 'm.db'}")
    open_engine(config.database.url).dispose()
    assert read_fleet_status(config, datetime.now(timezone.utc)) is None


def test_a_worker_indexes_what_a_big_list_left_for_search(tmp_path: Path, fleet_url: str, site: LoopbackSite, start_worker) -> None:
    from tests.runtime.test_search_job import ROWS, big_list

    site.publish("/big.txt", Route(big_list().encode("utf-8")))
    config = write_config(tmp_path / "config.yaml", fleet_url, [source_entry("big", site.url("/big.txt"))])
    worker = start_worker(config)
    wait_until(lambda: snapshots(fleet_url) >= 1, 90, "the big list's baseline")
    # The list's run left its versions to the search backlog; the worker's tick then queues search:index.
    wait_until(lambda: scalar(fleet_url, "SELECT count(*) FROM measure_search") == ROWS, 90, "the versions indexed")
    assert scalar(fleet_url, "SELECT count(*) FROM search_backlog") == 0
    assert scalar(fleet_url, "SELECT count(*) FROM job_state WHERE job_id = 'search:index' AND last_success_at IS NOT NULL") == 1, worker.output()
