"""No unit lost or stuck (issue 15): a worker killed anywhere is recovered within
``stalled_after_s``, a stalled job whose unit is already queued is closed, and the fleet
makes PostgreSQL log no ERROR (no duplicate-key path in the tick or the recovery)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from monitor.demo.site import LoopbackSite
from tests.conftest import source_entry

from .conftest import FAST_WORKER, WorkerProcess, recovered, scalar, serving, wait_until, write_config
from .test_worker import LIST, RECORDS, publish, snapshots

PG_LOG = Path("/var/log/postgresql/postgresql-15-main.log")
# After the kill: stalled_after_s to notice, a heartbeat, the run, and room for a loaded machine.
RECOVERED_WITHIN_S = FAST_WORKER["stalled_after_s"] + 8
# The killed worker's fetch hangs this long: longer than a second worker takes to start on a loaded
# machine (seconds at a load of 10 on 2 cores), so that it is still running when it is killed.
SLOW_S = 40.0


@pytest.fixture
def pg_errors(fleet_url: str) -> Iterator[list[str]]:
    """The ERROR lines PostgreSQL logs for this test's database while it runs (filled at the end)."""
    if not PG_LOG.exists():
        pytest.skip(f"{PG_LOG} is not here to read")
    start = PG_LOG.stat().st_size
    found: list[str] = []
    yield found
    marker = f"@{make_url(fleet_url).database} "
    with PG_LOG.open("rb") as log:
        log.seek(start)
        found.extend(line for line in log.read().decode("utf-8", "replace").splitlines() if marker in line and "ERROR:" in line)


def kill_namespaced(worker: WorkerProcess) -> None:
    """SIGKILL the worker itself, PID 1 of its namespace (unshare's child), not unshare."""
    pid = worker.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert children, "unshare has no child"
    os.kill(int(children[0]), signal.SIGKILL)


@pytest.mark.parametrize("how", ["own_pid_namespace", "killed_not_reaped"])
def test_a_killed_worker_s_source_runs_again_within_stalled_after(
    how: str, tmp_path: Path, fleet_url: str, site: LoopbackSite, start_worker, pg_errors: list[str],
) -> None:
    # A lease of 900 s: recovery must not wait for it (the database knows the worker is gone).
    config = write_config(tmp_path / "config.yaml", fleet_url, [source_entry("tama", publish(site, delay_s=SLOW_S))], lease_s=900,
                          http={"total_timeout_s": SLOW_S + 20, "read_timeout_s": SLOW_S + 10})
    if how == "own_pid_namespace":
        first = start_worker(config, prefix=("unshare", "--pid", "--fork", "--kill-child"))
    else:
        first = start_worker(config)
    wait_until(lambda: site.hits(LIST) >= 1, 40, "the first worker to fetch the list")
    second = start_worker(config)
    # The bound counts from the kill: the second worker's start is not part of it (a race under load).
    serving(second)
    assert snapshots(fleet_url) == 0, "the first worker's run ended before it was killed"
    publish(site)  # the run again answers at once: the recovery is what is timed
    if how == "own_pid_namespace":
        kill_namespaced(first)
    else:
        first.kill(signal.SIGKILL)  # and not waited for: a zombie, which os.kill(pid, 0) still finds
    killed = time.monotonic()
    try:
        wait_until(lambda: snapshots(fleet_url) >= 1, RECOVERED_WITHIN_S, "another worker to run the source again")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{scalar(fleet_url, 'SELECT json_agg(j) FROM procrastinate_jobs j')}\n{second.output()}") from None
    assert time.monotonic() - killed <= RECOVERED_WITHIN_S
    assert snapshots(fleet_url, "baseline") == 1 and scalar(fleet_url, "SELECT count(*) FROM measures") == RECORDS
    assert scalar(fleet_url, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'") == 0
    assert recovered(second.output(), "source:tama"), second.output()
    first.process.wait(timeout=10)
    second.kill(signal.SIGTERM)
    second.process.wait(timeout=30)
    assert pg_errors == []


def test_a_stalled_job_whose_unit_is_already_queued_is_closed(
    tmp_path: Path, fleet_url: str, site: LoopbackSite, start_worker, pg_errors: list[str],
) -> None:
    # A schedule shorter than the run: the tick queues the next run while the first one runs.
    config = write_config(tmp_path / "config.yaml", fleet_url, [source_entry("tama", publish(site, delay_s=3.0))], every="1s")
    first = start_worker(config)
    wait_until(lambda: site.hits(LIST) >= 1, 40, "the first worker to fetch the list")
    waiting = "SELECT count(*) FROM procrastinate_jobs WHERE queueing_lock = 'source:tama' AND status = 'todo'"
    wait_until(lambda: scalar(fleet_url, waiting) == 1, 10, "the tick to queue the next run")
    first.kill(signal.SIGKILL)
    first.process.wait(timeout=10)
    second = start_worker(config)
    serving(second)
    wait_until(lambda: snapshots(fleet_url) >= 1, RECOVERED_WITHIN_S + 3, "the queued job to run once the stalled one is closed")
    time.sleep(2)  # several ticks, every one finding the unit due or waiting
    doing_of_dead = """SELECT count(*) FROM procrastinate_jobs j LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
                        WHERE j.status = 'doing' AND (w.id IS NULL OR w.last_heartbeat < now() - interval '2 seconds')"""
    assert scalar(fleet_url, doing_of_dead) == 0
    assert "closed: the unit is already waiting in the queue" in second.output()
    second.kill(signal.SIGTERM)
    second.process.wait(timeout=30)
    # Ticks every second found the unit already waiting: none of them made PostgreSQL log a duplicate key.
    assert pg_errors == []
