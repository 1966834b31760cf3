"""A worker fetching and finishing jobs pays the same a job with thousands waiting as on a small
queue: its queue connections plan each statement as they run it. With the plans PostgreSQL keeps on
a connection after a statement's first runs, made on a queue of a few jobs, five statements of a
fetch and a finish scanned the whole jobs or events table (7.7-12 ms a job at 19,000 waiting,
instead of 2.8-3.0 ms: bench/queue_jobs.py times it). A new database's queue, never analyzed, sorted
every job waiting at each fetch, until the tick that queues a backlog had the table analyzed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone

import psycopg
from procrastinate import App, PsycopgConnector
from procrastinate.jobs import Status

from monitor.runtime.worker import QUEUE, DueUnit, queue_connector, queue_conninfo, queue_missing
from tests.runtime.fleet.conftest import queue_reads

DUE = datetime(2026, 1, 1, tzinfo=timezone.utc)


def units(first: int, count: int) -> list[DueUnit]:
    return [DueUnit("source", f"list-{n}", DUE) for n in range(first, first + count)]


async def drain(app: App, worker: int, jobs: int) -> None:
    """Fetch and finish ``jobs`` jobs as a worker's loop does, a job that succeeded deleted."""
    for _ in range(jobs):
        job = await app.job_manager.fetch_job([QUEUE], worker)
        assert job is not None
        await app.job_manager.finish_job(job, Status.SUCCEEDED, delete_job=True)


@asynccontextmanager
async def worker_and_tick(url: str) -> AsyncIterator[tuple[App, int, PsycopgConnector]]:
    """A worker's queue connection, one so that what it planned it uses again (and its counts are
    flushed when asked), with the worker registered; the tick on another, as on another worker."""
    app, tick = App(connector=queue_connector(url, min_size=1, max_size=1)), queue_connector(url, min_size=1, max_size=1)
    async with app.open_async():
        await tick.open_async()
        try:
            yield app, await app.job_manager.register_worker(), tick
        finally:
            await tick.close_async()


def test_fetching_from_thousands_waiting_reads_the_queue_by_its_indexes(fleet_url: str) -> None:
    with psycopg.connect(queue_conninfo(fleet_url), autocommit=True) as admin:

        async def scenario() -> dict[str, int]:
            async with worker_and_tick(fleet_url) as (app, worker, tick):
                await queue_missing(tick, units(0, 100))
                # The statistics as autovacuum takes them on a small queue; then no ANALYZE of the grown
                # table, which would replace the connection's plans (autovacuum may take minutes to run one).
                admin.execute("ANALYZE procrastinate_jobs, procrastinate_events")
                admin.execute("ALTER TABLE procrastinate_jobs SET (autovacuum_enabled = off)")
                admin.execute("ALTER TABLE procrastinate_events SET (autovacuum_enabled = off)")
                await drain(app, worker, 100)  # what the connection plans, on a queue of 100
                await queue_missing(tick, units(100, 3000))
                before = await queue_reads(app.connector, admin)
                await drain(app, worker, 100)
                after = await queue_reads(app.connector, admin)
            return {table: after[table].seq_scans - before[table].seq_scans for table in after}

        scans = asyncio.run(scenario())
    # With the plans kept from the small queue: 4-5 scans of the jobs table and one of the events table a job.
    assert scans["procrastinate_jobs"] < 10 and scans["procrastinate_events"] < 10, scans


def test_fetching_from_a_first_backlog_reads_a_few_rows_a_job(fleet_url: str) -> None:
    """A new database's queue, never analyzed: the tick that queues thousands has its statistics taken."""
    with psycopg.connect(queue_conninfo(fleet_url), autocommit=True) as admin:
        admin.execute("ALTER TABLE procrastinate_jobs SET (autovacuum_enabled = off)")  # no ANALYZE but the tick's

        async def scenario() -> float:
            async with worker_and_tick(fleet_url) as (app, worker, tick):
                await queue_missing(tick, units(0, 3000))
                before = await queue_reads(app.connector, admin)
                await drain(app, worker, 20)
                after = await queue_reads(app.connector, admin)
            return (after["procrastinate_jobs"].rows - before["procrastinate_jobs"].rows) / 20

        # Without statistics, each fetch sorted every job waiting: about 6,000 rows read a job.
        assert asyncio.run(scenario()) < 100
