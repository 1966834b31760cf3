"""``job_state``: when each scheduled job last started and last succeeded, and its last error.

The daemon reads it at start to catch up (a job owed a run runs once); ``status`` and the
health endpoint read it to say what ran when.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from store.models import JobState

__all__ = ["record_start", "record_finish", "job_states", "start_ranks"]


def _row(session: Session, job_id: str) -> JobState:
    row = session.get(JobState, job_id)
    if row is None:
        row = JobState(job_id=job_id)
        session.add(row)
    return row


def record_start(session: Session, job_id: str, now: datetime) -> None:
    _row(session, job_id).last_started_at = now


def record_finish(session: Session, job_id: str, now: datetime, error: str | None) -> None:
    """A success clears the error; a failure keeps when the failing began."""
    row = _row(session, job_id)
    if error is None:
        row.last_success_at, row.last_error, row.failing_since = now, None, None
    else:
        row.last_error = error
        row.failing_since = row.failing_since or now


def job_states(session: Session, job_ids: Iterable[str] | None = None) -> dict[str, JobState]:
    query = select(JobState)
    if job_ids is not None:
        query = query.where(JobState.job_id.in_(list(job_ids)))
    return {row.job_id: row for row in session.scalars(query)}



def start_ranks(session: Session, bounds: Sequence[datetime]) -> dict[str, int]:
    """Job id → the index of the first of ``bounds`` (newest first) that its last start is not
    before, for the jobs started since the oldest bound; the others started before them all.

    The tick's question (:func:`monitor.schedule.due_if_started_before` gives one bound a
    schedule), answered without a datetime a row: at 20,000 jobs, turning each start time into
    an aware UTC datetime cost more than the query."""
    rank = case(*((JobState.last_started_at >= bound, index) for index, bound in enumerate(bounds)))
    query = select(JobState.job_id, rank).where(JobState.last_started_at >= bounds[-1])
    return {job: index for job, index in session.execute(query)}
