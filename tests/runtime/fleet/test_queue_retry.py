"""A job that raised while its unit's next run already waits in the queue (a tick queued it while
the job ran) is closed, not retried: procrastinate's retry set it waiting too, against the queueing
lock's unique index (a traceback in a worker's log after a PostgreSQL restart, under load, and the
job left ``doing``). Without a job waiting, it is retried as before."""

from __future__ import annotations

import asyncio

from procrastinate.jobs import Job
from sqlalchemy import create_engine, text

from monitor.runtime.worker import QUEUE, RUN_TASK, build_app
from store.database import open_engine, session_factory
from tests.conftest import make_config


def _job(url: str, status: str, unit: str) -> Job:
    engine = create_engine(url)
    with engine.begin() as connection:
        row = connection.execute(text(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args, status) "
            "VALUES (:queue, :task, :unit, :unit, '{}', CAST(:status AS procrastinate_job_status)) RETURNING *"),
            {"queue": QUEUE, "task": RUN_TASK, "unit": unit, "status": status}).mappings().one()
    engine.dispose()
    return Job.from_row(dict(row))


def _jobs(url: str) -> dict[int, str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = {int(id_): str(status) for id_, status in connection.execute(text("SELECT id, status FROM procrastinate_jobs"))}
    engine.dispose()
    return found


def _retry(url: str, job: Job) -> None:
    engine = open_engine(url)
    app = build_app(make_config(url), session_factory(engine))

    async def retry() -> None:
        async with app.open_async():
            await app.job_manager.retry_job(job)

    try:
        asyncio.run(retry())
    finally:
        engine.dispose()


def test_a_job_that_raised_while_its_unit_waits_is_closed_and_the_waiting_one_kept(fleet_url: str) -> None:
    running = _job(fleet_url, "doing", "source:tama")
    waiting = _job(fleet_url, "todo", "source:tama")
    _retry(fleet_url, running)
    assert _jobs(fleet_url) == {int(waiting.id or 0): "todo"}


def test_a_job_that_raised_with_nothing_waiting_is_retried(fleet_url: str) -> None:
    running = _job(fleet_url, "doing", "source:tama")
    other = _job(fleet_url, "todo", "source:other")
    _retry(fleet_url, running)
    assert _jobs(fleet_url) == {int(running.id or 0): "todo", int(other.id or 0): "todo"}
