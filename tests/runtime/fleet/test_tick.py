"""The tick's queueing (``queue_missing``) on real PostgreSQL: each due unit waits in the queue
once, whatever already waits or runs, and queueing thousands reads the jobs table through its
indexes, into an empty queue or after a steady tick queued a few. Plans made on an empty or a
small table, kept, scanned the whole table for each job queued, the jobs this statement was
adding included: 2.9 s and 8.2 s a tick at 19,000 units (bench/scale.py times it)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import psycopg
import pytest
from procrastinate import PsycopgConnector

from monitor.runtime.worker import QUEUE, RUN_TASK, DueUnit, queue_connector, queue_conninfo, queue_missing
from tests.runtime.fleet.conftest import queue_reads

DUE = datetime(2026, 1, 1, tzinfo=timezone.utc)


def units(keys: range) -> list[DueUnit]:
    return [DueUnit("source", f"list-{n}", DUE) for n in keys]


def one_connection(url: str) -> PsycopgConnector:
    """The queue on one connection, as a worker makes it: what it planned before, it uses again."""
    return queue_connector(url, min_size=1, max_size=1)


def test_each_due_unit_waits_once_beside_what_already_waits_or_runs(fleet_url: str) -> None:
    async def scenario() -> tuple[int, int, list[tuple[str, str, str, str]]]:
        connector = one_connection(fleet_url)
        await connector.open_async()
        try:
            assert await queue_missing(connector, units(range(0, 3))) == 3
            # list-0 runs: its next run may wait beside it (a unit is due while it runs).
            await connector.execute_query_async("UPDATE procrastinate_jobs SET status = 'doing' WHERE queueing_lock = 'source:list-0'")
            queued = await queue_missing(connector, units(range(0, 5)))
            again = await queue_missing(connector, units(range(0, 5)))
            rows = await connector.execute_query_all_async(
                "SELECT queueing_lock, lock, status::text, args->>'key' AS key FROM procrastinate_jobs "
                "WHERE queue_name = %(queue)s AND task_name = %(task)s ORDER BY queueing_lock, status", queue=QUEUE, task=RUN_TASK)
        finally:
            await connector.close_async()
        return queued, again, [(row["queueing_lock"], row["lock"], row["status"], row["key"]) for row in rows]

    queued, again, rows = asyncio.run(scenario())
    assert (queued, again) == (3, 0)  # list-0's next run, list-3 and list-4; then nothing, and no error
    assert rows == [("source:list-0", "source:list-0", "doing", "list-0"), ("source:list-0", "source:list-0", "todo", "list-0")] + [
        (f"source:list-{n}", f"source:list-{n}", "todo", f"list-{n}") for n in range(1, 5)]


@pytest.mark.parametrize("before", [0, 100], ids=["a first tick, into an empty queue", "everything due after a steady tick"])
def test_queueing_thousands_reads_the_jobs_table_by_its_indexes(fleet_url: str, before: int) -> None:
    with psycopg.connect(queue_conninfo(fleet_url), autocommit=True) as admin:
        admin.execute("VACUUM procrastinate_jobs")  # as autovacuum leaves a queue whose jobs all ran: no page

        async def scenario() -> int:
            connector = one_connection(fleet_url)
            await connector.open_async()
            try:
                await queue_missing(connector, units(range(0, before)))  # a steady tick: what it plans, on a few jobs
                scans = (await queue_reads(connector, admin))["procrastinate_jobs"].seq_scans
                assert await queue_missing(connector, units(range(before, before + 3000))) == 3000
                return (await queue_reads(connector, admin))["procrastinate_jobs"].seq_scans - scans
            finally:
                await connector.close_async()

        # One a job or more when a plan made on an empty queue, or one of a few jobs, was kept.
        assert asyncio.run(scenario()) < 10
