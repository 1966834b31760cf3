"""What a worker's queue connection pays to fetch and finish one job, on a small queue and with
thousands waiting, with the connection procrastinate makes by default and with the worker's own.

    python bench/queue_jobs.py                    # 19,000 waiting, 500 jobs timed a case, 2 rounds
    python bench/queue_jobs.py --waiting 3000 --jobs 200 --rounds 1

Each case is procrastinate's own calls, as a worker's loop makes them: ``JobManager.fetch_job``
then ``finish_job(…, delete_job=True)`` (a job that succeeded), one at a time on a pool of one
connection, the jobs queued by the tick's ``queue_missing`` on another connection (the tick runs
on any of the pool's connections, or on another worker). The worker's connection first drains
100 jobs queued into an empty queue (the plans it keeps are made then), then the tick queues
``--waiting`` more and ``--jobs`` of them are timed. A case prints, per job: wall milliseconds,
the CPU milliseconds of that connection's PostgreSQL process, and the sequential scans of the
jobs and events tables (pg_stat_user_tables). "default" also prints the same drain after
``DISCARD PLANS`` (plans made afresh on the grown queue: what a kept plan should cost).

The queue's tables are analyzed once with 100 jobs waiting (autovacuum does so within a queue's
first minutes; never analyzed, PostgreSQL guesses a few waiting jobs and sorts all of them each
fetch, either connection), then autovacuum is off for them: an ANALYZE of the grown table replaces
the kept plans, and on a busy server autovacuum may take minutes to run one; the bench measures
the time before it, as a worker pays it. Rounds alternate the connections,
so that a change in the machine's load falls on both. Needs SESAKU_TEST_POSTGRES_URL (or
--admin-url), a role that may create databases, and a server on this machine (the CPU is read
from /proc); the database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from procrastinate import App, PsycopgConnector  # noqa: E402
from procrastinate.jobs import Status  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from monitor.runtime.worker import QUEUE, DueUnit, apply_queue_schema, queue_connector, queue_conninfo, queue_missing  # noqa: E402

DUE = datetime(2026, 1, 1, tzinfo=timezone.utc)
SMALL = 100
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Drain:
    wall_ms: float
    server_cpu_ms: float
    jobs_scans: float
    events_scans: float

    def line(self) -> str:
        return (f"{self.wall_ms:6.2f} ms a job ({self.server_cpu_ms:.2f} ms of its PostgreSQL process's CPU), "
                f"seq scans a job: jobs {self.jobs_scans:.1f}, events {self.events_scans:.1f}")


def one_connection(url: str, name: str) -> PsycopgConnector:
    """A queue connection as procrastinate makes it by default (before), or as a worker makes it."""
    if name == "worker":
        return queue_connector(url, min_size=1, max_size=1)
    return PsycopgConnector(conninfo=queue_conninfo(url), min_size=1, max_size=1)


def units(first: int, count: int) -> list[DueUnit]:
    return [DueUnit("source", f"list-{n}", DUE) for n in range(first, first + count)]


def empty_queue(admin: psycopg.Connection) -> None:
    """No job, the tables vacuumed to no page: the queue as autovacuum leaves it once every job ran."""
    admin.execute("DELETE FROM procrastinate_jobs")
    admin.execute("VACUUM procrastinate_jobs, procrastinate_events")


async def server_pid(connector: PsycopgConnector) -> int:
    return int((await connector.execute_query_one_async("SELECT pg_backend_pid() AS pid"))["pid"])


def process_cpu(stat: Path) -> tuple[str, float]:
    """A process's name and its user and system CPU seconds so far, from its ``/proc/<pid>/stat``."""
    head, fields = stat.read_text().rsplit(")", 1)
    return head.partition("(")[2], sum(int(value) for value in fields.split()[11:13]) / TICKS_PER_S


def cpu_ms(pid: int) -> float:
    return process_cpu(Path(f"/proc/{pid}/stat"))[1] * 1000


def scans(admin: psycopg.Connection) -> dict[str, int]:
    rows = admin.execute("SELECT relname, seq_scan FROM pg_stat_user_tables WHERE relname IN ('procrastinate_jobs', 'procrastinate_events')")
    return {name: count for name, count in rows}


async def drain(app: App, worker: int, pid: int, admin: psycopg.Connection, jobs: int) -> Drain:
    """Fetch and finish ``jobs`` jobs, one after the other."""
    # A connection's table counts reach pg_stat_user_tables when it goes idle, at most once a second unless told.
    await app.connector.execute_query_async("SELECT pg_stat_force_next_flush()")
    before, cpu, started = scans(admin), cpu_ms(pid), time.perf_counter()
    for _ in range(jobs):
        job = await app.job_manager.fetch_job([QUEUE], worker)
        assert job is not None, "the queue ran out of jobs"
        await app.job_manager.finish_job(job, Status.SUCCEEDED, delete_job=True)
    wall, cpu = time.perf_counter() - started, cpu_ms(pid) - cpu
    await app.connector.execute_query_async("SELECT pg_stat_force_next_flush()")
    after = scans(admin)
    return Drain(wall * 1000 / jobs, cpu / jobs, (after["procrastinate_jobs"] - before["procrastinate_jobs"]) / jobs,
                 (after["procrastinate_events"] - before["procrastinate_events"]) / jobs)


async def analyzed(url: str, admin: psycopg.Connection) -> None:
    """The queue's statistics as autovacuum leaves them: taken with a few jobs waiting."""
    tick = one_connection(url, "default")
    await tick.open_async()
    try:
        await queue_missing(tick, units(0, SMALL))
    finally:
        await tick.close_async()
    admin.execute("ANALYZE procrastinate_jobs, procrastinate_events")
    admin.execute("ALTER TABLE procrastinate_jobs SET (autovacuum_enabled = off)")
    admin.execute("ALTER TABLE procrastinate_events SET (autovacuum_enabled = off)")


async def one_case(url: str, name: str, admin: psycopg.Connection, waiting: int, jobs: int) -> None:
    empty_queue(admin)
    tick, connector = one_connection(url, name), one_connection(url, name)
    await tick.open_async()
    await connector.open_async()
    try:
        app = App(connector=connector)
        worker, pid = await app.job_manager.register_worker(), await server_pid(connector)
        await queue_missing(tick, units(0, SMALL))
        print(f"{name:8} a queue of {SMALL}:            {(await drain(app, worker, pid, admin, SMALL)).line()}  ({load()})", flush=True)
        await queue_missing(tick, units(SMALL, waiting))
        print(f"{name:8} {waiting:,} waiting:          {(await drain(app, worker, pid, admin, jobs)).line()}  ({load()})", flush=True)
        if name == "default":
            await connector.execute_query_async("DISCARD PLANS")
            print(f"{name:8} {waiting - jobs:,} waiting, planned afresh: {(await drain(app, worker, pid, admin, jobs)).line()}", flush=True)
    finally:
        await tick.close_async()
        await connector.close_async()


def load() -> str:
    return "load " + " ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--waiting", type=int, default=19_000, help="jobs the tick queues after the small queue")
    parser.add_argument("--jobs", type=int, default=500, help="jobs fetched and finished in each timed case")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--admin-url", default=os.environ.get("SESAKU_TEST_POSTGRES_URL"))
    options = parser.parse_args()
    if not options.admin_url:
        parser.error("give --admin-url or set SESAKU_TEST_POSTGRES_URL (a PostgreSQL role that may create databases)")
    if options.jobs * 2 > options.waiting:
        parser.error("--waiting must be at least twice --jobs (the default case drains it twice)")
    name = f"sesaku_bench_queue_{uuid.uuid4().hex[:8]}"
    url = make_url(options.admin_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(queue_conninfo(options.admin_url), autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}"')
    try:
        apply_queue_schema(url)
        with psycopg.connect(queue_conninfo(url), autocommit=True) as admin:
            asyncio.run(analyzed(url, admin))
            for round_ in range(options.rounds):
                for case in ("default", "worker") if round_ % 2 == 0 else ("worker", "default"):
                    asyncio.run(one_case(url, case, admin, options.waiting, options.jobs))
    finally:
        with psycopg.connect(queue_conninfo(options.admin_url), autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    own = resource.getrusage(resource.RUSAGE_SELF)
    print(f"the bench's own CPU: {own.ru_utime + own.ru_stime:.1f} s")


if __name__ == "__main__":
    main()
