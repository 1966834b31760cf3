"""Old jobs leave the queue: failed and cancelled ones after ``worker.keep_jobs_days``, on real PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import create_engine, text

from monitor.runtime.worker import CLEANUP_CRON, CLEANUP_TASK, QUEUE, build_app, remove_old_jobs
from store.database import open_engine, session_factory
from tests.conftest import make_config


def _job(url: str, status: str, age_days: float, lock: str) -> int:
    """A job of the queue that reached ``status`` ``age_days`` ago (its events moved back in time)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        job_id = connection.scalar(text(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args, status) "
            "VALUES (:queue, 'sesaku.run_unit', :lock, '{}', CAST(:status AS procrastinate_job_status)) RETURNING id"),
            {"queue": QUEUE, "lock": lock, "status": status})
        connection.execute(text("INSERT INTO procrastinate_events (job_id, type) VALUES (:id, 'deferred')"), {"id": job_id})
        connection.execute(text("UPDATE procrastinate_events SET at = now() - make_interval(secs => :s) WHERE job_id = :id"),
                           {"id": job_id, "s": age_days * 86400})
    engine.dispose()
    return int(job_id)


def _left(url: str) -> set[int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        ids = {int(row[0]) for row in connection.execute(text("SELECT id FROM procrastinate_jobs"))}
    engine.dispose()
    return ids


def _cleanup(url: str, keep_days: int) -> str:
    config = make_config(url, worker={"keep_jobs_days": keep_days})
    engine = open_engine(url)
    app = build_app(config, session_factory(engine))

    async def run() -> str:
        async with app.open_async():
            return await remove_old_jobs(app, config.worker.keep_jobs_days)

    try:
        return asyncio.run(run())
    finally:
        engine.dispose()


def test_failed_and_cancelled_jobs_older_than_keep_jobs_days_are_removed(fleet_url: str) -> None:
    old_failed = _job(fleet_url, "failed", 9, "source:a")
    old_cancelled = _job(fleet_url, "cancelled", 9, "source:b")
    recent_failed = _job(fleet_url, "failed", 2, "source:c")
    waiting = _job(fleet_url, "todo", 9, "source:d")  # an old job still waiting is work, not history
    assert "7 day" in _cleanup(fleet_url, 7)
    assert _left(fleet_url) == {recent_failed, waiting}
    assert old_failed not in _left(fleet_url) and old_cancelled not in _left(fleet_url)


def test_keep_jobs_days_0_keeps_every_job(fleet_url: str) -> None:
    old_failed = _job(fleet_url, "failed", 400, "source:a")
    assert _cleanup(fleet_url, 0).startswith("kept")
    assert _left(fleet_url) == {old_failed}


def test_the_cleanup_is_one_periodic_task_of_the_fleet(fleet_url: str) -> None:
    # Periodic: deferred once per period for the whole fleet, like the tick (procrastinate's periodic deferrer).
    engine = open_engine(fleet_url)
    app = build_app(make_config(fleet_url), session_factory(engine))
    engine.dispose()
    periodic = {task.periodic_id: task for task in app.periodic_registry.periodic_tasks.values()}
    assert periodic["remove-old-jobs"].task.name == CLEANUP_TASK and periodic["remove-old-jobs"].cron == CLEANUP_CRON
    assert periodic["remove-old-jobs"].task.queue == QUEUE
