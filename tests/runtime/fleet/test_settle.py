"""What becomes of the links jobs a links job claimed (monitor.runtime.host_batch), on real PostgreSQL:

* settling them can fail while the database is up (the queue's pool timed out): they are not
  left ``doing`` under a worker that still beats (no stalled sweep would take them), but
  settled at its next heartbeat;
* a claimed host not done goes back with one attempt more and the task's backoff, and out of
  attempts it is failed, with one line saying so (its unit runs again at its next period).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from procrastinate import App, PsycopgConnector

from monitor.runtime.host_batch import UnitBusy, _claim, _plan, _settle, settle_left_over
from monitor.config import WorkerSettings
from monitor.runtime.worker import QUEUE, RUN_TASK, job_retry, queue_conninfo

WHERE = (QUEUE, RUN_TASK)
DUE = "2026-01-01T00:00:00+00:00"


@asynccontextmanager
async def queue(url: str) -> AsyncIterator[tuple[App, int]]:
    """The queue on one connection (so that a test can hold it), and a links job ``doing`` under a live worker."""
    app = App(connector=PsycopgConnector(conninfo=queue_conninfo(url), min_size=1, max_size=1, timeout=1.0))
    async with app.open_async():
        worker = (await app.connector.execute_query_one_async("INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id"))["id"]
        main = await _job(app, "main.example", status="doing", worker=worker)
        yield app, main


async def _job(app: App, host: str, *, status: str = "todo", worker: int | None = None) -> int:
    row = await app.connector.execute_query_one_async(
        "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args, status, worker_id) "
        "VALUES (%(queue)s, %(task)s, %(name)s, %(name)s, %(args)s::jsonb, %(status)s, %(worker)s) RETURNING id",
        queue=QUEUE, task=RUN_TASK, name=f"links:{host}", args=json.dumps({"kind": "links", "key": host, "due_at": DUE}),
        status=status, worker=worker)
    return int(row["id"])


async def _rows(app: App) -> dict[str, dict[str, Any]]:
    rows = await app.connector.execute_query_all_async(
        "SELECT args->>'key' AS host, status, attempts, extract(epoch FROM scheduled_at - now()) AS wait_s FROM procrastinate_jobs")
    return {row["host"]: row for row in rows}


def test_claims_not_settled_while_the_database_is_up_are_settled_at_the_next_heartbeat(fleet_url: str) -> None:
    async def scenario() -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        async with queue(fleet_url) as (app, main):
            await _job(app, "done.example")
            await _job(app, "raised.example")
            claimed = await _claim(app, WHERE, main, 5)
            retry = job_retry(WorkerSettings(retries=4, retry_backoff_s=2))
            plan = _plan(retry, claimed, {"raised.example": RuntimeError("the pass raised")})
            async with app.connector.pool.connection():  # every queue connection busy: settling times out
                await _settle(app, plan)
            stuck = await _rows(app)
            assert await settle_left_over(app) == 0  # the worker's next heartbeat
            return stuck, await _rows(app)

    stuck, settled = asyncio.run(scenario())
    assert stuck["done.example"]["status"] == stuck["raised.example"]["status"] == "doing"
    assert "done.example" not in settled  # finished, as procrastinate deletes a succeeded job
    assert settled["raised.example"]["status"] == "todo" and settled["raised.example"]["attempts"] == 1
    # The task's backoff (exponential_wait ** 1), counted from the failure, a pool timeout ago.
    assert 0 < float(settled["raised.example"]["wait_s"]) <= 2.0


def test_a_claimed_host_that_keeps_failing_is_retried_with_backoff_then_failed(fleet_url: str, caplog: pytest.LogCaptureFixture) -> None:
    retry = job_retry(WorkerSettings(retries=2, retry_backoff_s=1))  # run again twice, after 1 s each

    async def fail_once(app: App, main: int) -> int:
        claimed = await _claim(app, WHERE, main, 5)
        await _settle(app, _plan(retry, claimed, {other.key: RuntimeError("the pass raised") for other in claimed}))
        return len(claimed)

    async def scenario() -> list[Any]:
        seen: list[Any] = []
        async with queue(fleet_url) as (app, main):
            await _job(app, "flaky.example")
            seen.append(await fail_once(app, main))
            seen.append(await fail_once(app, main))  # at once: the backoff keeps it waiting
            for _ in range(2):
                await asyncio.sleep(1.1)
                seen.append(await fail_once(app, main))
            seen.append(await _rows(app))
        return seen

    with caplog.at_level(logging.INFO, logger="sesaku_monitor.worker"):
        first, at_once, second, third, rows = asyncio.run(scenario())
    assert (first, at_once, second, third) == (1, 0, 1, 1)
    assert rows["flaky.example"]["status"] == "failed" and rows["flaky.example"]["attempts"] == 3
    lines = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert lines == ["links:flaky.example: failed after 3 attempt(s) (RuntimeError: the pass raised); it runs again at its next period"]


def test_a_busy_claimed_host_is_not_put_back_at_once_where_jobs_are_not_retried(fleet_url: str) -> None:
    retry = job_retry(WorkerSettings(retries=0))

    async def scenario() -> tuple[int, int, dict[str, dict[str, Any]]]:
        async with queue(fleet_url) as (app, main):
            await _job(app, "busy.example")
            claimed = await _claim(app, WHERE, main, 5)
            await _settle(app, _plan(retry, claimed, {"busy.example": UnitBusy("links:busy.example: another runner holds it")}))
            # The next links job fetched: the host its runner is checking is not taken up again.
            return len(claimed), len(await _claim(app, WHERE, main, 5)), await _rows(app)

    first, again, rows = asyncio.run(scenario())
    assert (first, again) == (1, 0)
    assert "busy.example" not in rows  # finished, not failed: the runner holding it checks it
