"""A job that raised is retried unless its unit already waits in the queue (the fleet's queue).

While a unit runs it is still due, so a tick (every second in a busy fleet) may queue its next
run beside it. procrastinate's retry sets the job that raised waiting again under the same
queueing lock: the unique index refused it, the worker logged a traceback, and the job stayed
``doing`` until a sweep took it for a dead worker's. Such a job is closed instead, as the sweep
closes a stalled one: the job already waiting does the work.
"""

from __future__ import annotations

import logging
from datetime import datetime

from procrastinate import exceptions as queue_errors
from procrastinate.jobs import Job
from procrastinate.manager import QUEUEING_LOCK_CONSTRAINT, JobManager

__all__ = ["RetryUnlessWaiting"]

log = logging.getLogger("sesaku_monitor.worker")

# One statement, so that a unit queued meanwhile is seen or its insert waits for this one.
_CLOSE_IF_WAITING = """
WITH closed AS (
    DELETE FROM procrastinate_jobs
     WHERE id = %(id)s AND status = 'doing'
       AND EXISTS (SELECT FROM procrastinate_jobs waiting WHERE waiting.queueing_lock = %(unit)s AND waiting.status = 'todo')
    RETURNING id
)
SELECT count(*) AS closed FROM closed
"""


class RetryUnlessWaiting(JobManager):
    """procrastinate's job manager, whose retry leaves the work to a job of the same unit already waiting."""

    async def retry_job(self, job: Job, retry_at: datetime | None = None, priority: int | None = None,
                        queue: str | None = None, lock: str | None = None) -> None:
        if await self._closed_if_waiting(job):
            return
        try:
            await super().retry_job(job, retry_at, priority, queue, lock)
        except queue_errors.UniqueViolation as exc:
            # Queued between the look and the retry (the look sees only what was committed).
            if exc.constraint_name != QUEUEING_LOCK_CONSTRAINT or not await self._closed_if_waiting(job):
                raise

    async def _closed_if_waiting(self, job: Job) -> bool:
        if job.queueing_lock is None:
            return False
        row = await self.connector.execute_query_one_async(_CLOSE_IF_WAITING, id=job.id, unit=job.queueing_lock)
        if not row["closed"]:
            return False
        log.info("job %s (%s) raised and is not retried: the unit is already waiting in the queue", job.id, job.queueing_lock)
        return True
