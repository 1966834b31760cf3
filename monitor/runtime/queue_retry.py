"""A job that raised is retried unless its unit already waits in the queue (the fleet's queue).

While a unit runs it is still due, so a tick (every second in a busy fleet) may queue its next
run beside it. procrastinate's retry sets the job that raised waiting again under the same
queueing lock: the unique index refused it, the worker logged a traceback, and the job stayed
``doing`` until a sweep took it for a dead worker's. Such a job is closed instead, as the sweep
closes a stalled one: the job already waiting does the work.

Both close a ``doing`` job with :func:`close_job`; only the sweep queues its unit again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from procrastinate import BaseConnector
from procrastinate import exceptions as queue_errors
from procrastinate.jobs import Job
from procrastinate.manager import QUEUEING_LOCK_CONSTRAINT, JobManager

__all__ = ["Closed", "RetryUnlessWaiting", "close_job"]

log = logging.getLogger("sesaku_monitor.worker")

# One statement, so that a unit queued meanwhile is seen or its insert waits for this one, and
# a worker dying halfway leaves the job as it was; two workers closing the same job: the second
# deletes nothing. ``requeue`` (a stalled job) puts the unit back unless it already waits;
# without it (a job that raised) the job is closed only when its unit already waits.
_CLOSE = """
WITH closed AS (
    DELETE FROM procrastinate_jobs AS job
     WHERE job.id = %(id)s AND job.status = 'doing'
       AND (%(requeue)s OR EXISTS (SELECT FROM procrastinate_jobs waiting
                                    WHERE waiting.queueing_lock = job.queueing_lock AND waiting.status = 'todo'))
    RETURNING queue_name, task_name, priority, lock, queueing_lock, args
), queued AS (
    INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args)
    SELECT * FROM closed WHERE %(requeue)s
    ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING
    RETURNING id
)
SELECT (SELECT count(*) FROM closed) AS closed, (SELECT id FROM queued) AS queued
"""


@dataclass(frozen=True, slots=True)
class Closed:
    """What :func:`close_job` did: whether it closed the job, and the id of the job queued in its place."""

    closed: bool
    queued: int | None


async def close_job(connector: BaseConnector, job_id: int, *, requeue: bool) -> Closed:
    """Close a ``doing`` job: with ``requeue``, queue its unit again unless it already waits; without, only
    if its unit already waits (else leave it alone)."""
    row = await connector.execute_query_one_async(_CLOSE, id=job_id, requeue=requeue)
    return Closed(bool(row["closed"]), row["queued"])


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
        if job.queueing_lock is None or job.id is None:
            return False
        if not (await close_job(self.connector, job.id, requeue=False)).closed:
            return False
        log.info("job %s (%s) raised and is not retried: the unit is already waiting in the queue", job.id, job.queueing_lock)
        return True
