"""A links job of the fleet checks the due links of several hosts in one pass of the checker.

A ``links:<host>`` job is small (one host's due links, at that host's polite pace), and each
job had its fixed costs: procrastinate fetching and finishing it, a thread with an event loop
and a checker of its own, ``job_state`` read and written, the due links read and compacted.
bench/fleet.py found a worker taking up host jobs slower than it could check them (10–12
hosts checked at once of 20 slots) at 2.5–4.3 ms of CPU per check. So a links job, once
fetched, claims up to ``hosts_per_job(links) - 1`` more links jobs waiting in the queue, in
one statement, and checks every host it could lock side by side, as ``check`` does:

* claimed jobs are marked ``doing`` under this job's worker (procrastinate's own way of saying
  who runs a job): nobody else fetches them, and if this worker dies they are stalled jobs
  like any other, closed and queued again by the sweep of :mod:`monitor.runtime.worker`;
* each host is checked under its own run lock (``links:<host>``, as :func:`run_job` takes it),
  so per-host politeness holds fleet-wide; a host whose lock is held elsewhere, or a pass that
  raised, puts its claimed job back in the queue (unless its unit is already waiting there)
  with one attempt more and the task's backoff, as procrastinate retries the job itself; out
  of attempts, the job is failed with one line in the log, and the unit waits for its period;
* a host that succeeded since it was found due is not checked again (as :func:`run_unit`);
* settling the claimed jobs is one statement per kind; if it fails while the worker lives (a
  queue pool timed out), the worker's heartbeat tries it again, so no claimed job is left
  ``doing`` under a live worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from procrastinate import App, BaseRetryStrategy
from procrastinate.jobs import Job
from sqlalchemy.orm import Session

from store.database import SessionFactory, transaction
from store.errors import StoreError
from store.jobstate import job_states, record_finish, record_start
from store.process_locks import RunLockHeld, take_run_lock

from monitor.config import Config
from monitor.config.links import LinkSettings
from monitor.errors import MonitorError
from monitor.links.run import check_due_links
from monitor.runtime.jobs import job_id
from monitor.runtime.outage import database_gone

__all__ = ["UnitBusy", "hosts_per_job", "run_hosts", "run_links_job", "settle_left_over"]

log = logging.getLogger("sesaku_monitor.worker")


class UnitBusy(MonitorError):
    """Raised when a unit's run lock is held by a runner outside the queue (so: retry later)."""


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    job: Job  # as procrastinate reads it (attempts), for the retry strategy
    key: str
    due_at: datetime


def hosts_per_job(links: LinkSettings) -> int:
    """As many hosts as one pass keeps busy: ``links.concurrency`` checks in flight, ``per_host`` each."""
    return max(1, links.concurrency // links.per_host)


# Like procrastinate's fetch_job (a job whose lock is running or has an earlier job waiting is
# left), for many jobs at once, and given to the worker that runs job %(id)s.
_CLAIM = """
WITH candidate AS (
    SELECT jobs.id FROM procrastinate_jobs AS jobs
     WHERE jobs.status = 'todo' AND jobs.queue_name = %(queue)s AND jobs.task_name = %(task)s
       AND jobs.args->>'kind' = 'links' AND (jobs.scheduled_at IS NULL OR jobs.scheduled_at <= now())
       AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs AS other
                        WHERE other.lock = jobs.lock AND (other.status = 'doing' OR (other.status = 'todo' AND other.id < jobs.id)))
     ORDER BY jobs.priority DESC, jobs.id
     LIMIT %(limit)s
       FOR UPDATE OF jobs SKIP LOCKED
)
UPDATE procrastinate_jobs AS jobs
   SET status = 'doing', worker_id = (SELECT worker_id FROM procrastinate_jobs WHERE id = %(id)s)
  FROM candidate
 WHERE jobs.id = candidate.id
RETURNING jobs.*
"""

# Done (or skipped): gone, as procrastinate deletes a succeeded job.
_FINISH = "DELETE FROM procrastinate_jobs WHERE id = ANY(%(ids)s) AND status = 'doing'"

# Not done: closed and queued again in one statement, one attempt more (none for a busy host)
# and not before its time (as procrastinate's retry_job), unless the unit is already waiting.
_PUT_BACK = """
WITH again AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(at)s::timestamptz[], %(added)s::int[]) AS again(id, at, added)
), closed AS (
    DELETE FROM procrastinate_jobs AS jobs USING again WHERE jobs.id = again.id AND jobs.status = 'doing'
    RETURNING jobs.queue_name, jobs.task_name, jobs.priority, jobs.lock, jobs.queueing_lock, jobs.args,
              jobs.attempts + again.added, again.at
)
INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args, attempts, scheduled_at)
SELECT * FROM closed
ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING
"""

# Out of attempts: failed, as procrastinate leaves a job that raised its last time.
_FAIL = "UPDATE procrastinate_jobs SET status = 'failed', attempts = attempts + 1 WHERE id = ANY(%(ids)s) AND status = 'doing'"


async def run_links_job(app: App, retry: BaseRetryStrategy, config: Config, sessions: SessionFactory, where: tuple[str, str],
                        job: int, host: str, due_at: datetime) -> str:
    """Run the links job ``job`` of ``host`` (``where``: its queue and task), with the links jobs it claims;
    a claimed host not done is retried as ``retry`` says, as procrastinate retries the job itself."""
    claimed = await _claim(app, where, job, hosts_per_job(config.links) - 1)
    units = [(host, due_at), *((other.key, other.due_at) for other in claimed)]
    try:
        outcome = await asyncio.to_thread(run_hosts, config, sessions, units)
    except BaseException as exc:
        await _settle(app, _plan(retry, claimed, {other.key: exc for other in claimed}))
        raise
    busy = {key: UnitBusy(f"{job_id('links', key)}: {what}") for key, what in outcome.items() if what.startswith("busy")}
    await _settle(app, _plan(retry, claimed, busy))
    name = job_id("links", host)
    if host in busy:
        raise busy[host]
    others = [f"{job_id('links', key)}: {outcome[key]}" for key, _ in units[1:]]
    return "; ".join([f"{name}: {outcome[host]}", *others])


async def _claim(app: App, where: tuple[str, str], job: int, limit: int) -> list[_Claimed]:
    """Up to ``limit`` links jobs waiting in the queue, now ``doing`` under the worker running ``job``."""
    if limit <= 0:
        return []
    rows = await app.connector.execute_query_all_async(_CLAIM, queue=where[0], task=where[1], id=job, limit=limit)
    return [_Claimed(row["id"], Job.from_row(row), row["args"]["key"], datetime.fromisoformat(row["args"]["due_at"])) for row in rows]


@dataclass(frozen=True, slots=True)
class _Settlement:
    """What becomes of claimed jobs: finished, queued again at a time, or failed (with a line to log each)."""

    finish: list[int]
    again: list[tuple[int, datetime, int]]  # job, not before, attempts to add (0 for a busy host)
    fail: list[tuple[int, str]]

    @property
    def jobs(self) -> list[int]:
        return [*self.finish, *(job for job, _, _ in self.again), *(job for job, _ in self.fail)]


def _plan(retry: BaseRetryStrategy, claimed: Sequence[_Claimed], failures: Mapping[str, BaseException]) -> _Settlement:
    """Each claimed job whose host has no failure is finished; the others are retried with
    ``retry``'s backoff while it allows, then failed (the unit runs again at its next period).
    A busy host (another runner is checking it) is no failure of its own: it waits the first
    retry's time, and its attempts are not counted; where jobs are not retried (``retries: 0``)
    it is finished, as the runner holding it checks its due links (put back at once, every
    links job fetched meanwhile would claim it and put it back again)."""
    plan = _Settlement([], [], [])
    for other in claimed:
        failure = failures.get(other.key)
        if failure is None:
            plan.finish.append(other.id)
            continue
        busy = isinstance(failure, UnitBusy)
        decision = retry.get_retry_decision(exception=failure, job=other.job.evolve(attempts=0) if busy else other.job)
        if busy and decision is None:
            plan.finish.append(other.id)
        elif decision is not None:
            plan.again.append((other.id, decision.retry_at or datetime.now(timezone.utc), 0 if busy else 1))
        else:
            attempts = other.job.attempts + 1
            plan.fail.append((other.id, f"{job_id('links', other.key)}: failed after {attempts} attempt(s) ({_one_line(failure)}); "
                                            "it runs again at its next period"))
    return plan


def _one_line(error: BaseException) -> str:
    while error.__cause__ is not None:  # procrastinate's "Database error." says what only its cause says
        error = error.__cause__
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


# Settlements that failed while this worker lives (a queue pool timed out): their jobs are
# ``doing`` under a worker that still beats, which no stalled sweep takes, so each heartbeat
# tries them again (settle_left_over). Not retried in place: during a server restart that
# held the worker's shutdown. Every statement only touches jobs still ``doing``: applying one
# twice, or after the sweep took its jobs (this worker stopped), changes nothing.
_LEFT_OVER: list[_Settlement] = []


async def _settle(app: App, plan: _Settlement) -> None:
    """Apply ``plan``; if the queue's database fails, keep it for the next heartbeat (one line)."""
    if not plan.jobs:
        return
    try:
        await _apply(app, plan)
    except Exception as exc:  # noqa: BLE001 (whatever the queue's database raised: tried again, not lost)
        _LEFT_OVER.append(plan)
        # An outage is said once, by the worker (monitor.runtime.outage); anything else here is news.
        (log.debug if database_gone(exc) else log.warning)(
            "links jobs %s: could not be settled (%s); tried again at the next heartbeat", ", ".join(map(str, plan.jobs)), _one_line(exc))


async def settle_left_over(app: App) -> int:
    """Apply the settlements that failed earlier (each heartbeat of the worker); how many are left."""
    for plan in list(_LEFT_OVER):
        await _apply(app, plan)  # raises while the database is unavailable: the next heartbeat tries again
        _LEFT_OVER.remove(plan)
        log.info("links jobs %s: settled now", ", ".join(map(str, plan.jobs)))
    return len(_LEFT_OVER)


async def _apply(app: App, plan: _Settlement) -> None:
    if plan.finish:
        await app.connector.execute_query_async(_FINISH, ids=plan.finish)
    if plan.again:
        jobs, times, added = zip(*plan.again)
        await app.connector.execute_query_async(_PUT_BACK, ids=list(jobs), at=list(times), added=list(added))
    if plan.fail:
        await app.connector.execute_query_async(_FAIL, ids=[job for job, _ in plan.fail])
        for _, line in plan.fail:
            log.error("%s", line)


def run_hosts(config: Config, sessions: SessionFactory, units: Sequence[tuple[str, datetime]]) -> dict[str, str]:
    """Check the due links of each host of ``units`` (host, when it was found due) whose run lock is
    free, in one pass; what became of each host: ``ok``, ``skipped: …`` or ``busy: …``."""
    names = {host: job_id("links", host) for host, _ in units}
    with transaction(sessions) as session:
        states = job_states(session, names.values())
        succeeded = {name: state.last_success_at for name, state in states.items()}
    outcome: dict[str, str] = {}
    for host, due_at in units:
        last = succeeded.get(names[host])
        if last is not None and last >= due_at:
            outcome[host] = f"skipped, it succeeded at {last.isoformat()}"
    held: dict[str, RunLockHeld] = {}
    try:
        for host, _ in units:
            if host not in outcome:
                taken = take_run_lock(sessions, names[host], dead_peer_s=config.worker.stalled_after_s,
                                      lease_s=config.schedule.lock_lease_s, busy_wait_s=config.database.busy_timeout_s)
                outcome[host] = f"busy: another runner holds it ({taken})" if isinstance(taken, str) else "ok"
                if isinstance(taken, RunLockHeld):
                    held[host] = taken
        if held:
            _check(config, sessions, list(held), names)
    finally:
        for taken in held.values():
            taken.release()
    return outcome


def _check(config: Config, sessions: SessionFactory, hosts: list[str], names: dict[str, str]) -> None:
    now = datetime.now(timezone.utc)
    _record(sessions, [names[host] for host in hosts], lambda session, name: record_start(session, name, now))
    try:
        check_due_links(config, sessions, now, hosts=hosts)
    except Exception as exc:  # recorded for each host, then raised again: the job is retried
        if isinstance(exc, StoreError):  # the database itself failed: writing the error would fail too
            raise
        error = f"{type(exc).__name__}: {exc}"
        _record(sessions, [names[host] for host in hosts], lambda session, name: record_finish(session, name, now, error))
        raise
    _record(sessions, [names[host] for host in hosts], lambda session, name: record_finish(session, name, now, None))


def _record(sessions: SessionFactory, names: list[str], write: Callable[[Session, str], None]) -> None:
    """``write`` the job state of each of ``names`` in one transaction. Their rows are read in one
    query first, so that each write finds its row in the session: one query a host was 5 % of a
    worker's CPU per check (16 hosts a pass, a start and a finish each)."""
    with transaction(sessions) as session:
        job_states(session, names)
        for name in names:
            write(session, name)


