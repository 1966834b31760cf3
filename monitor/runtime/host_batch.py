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
  raised, puts its claimed job back in the queue (unless its unit is already waiting there);
* a host that succeeded since it was found due is not checked again (as :func:`run_unit`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from procrastinate import App

from store.database import SessionFactory, engine_of, transaction
from store.errors import StoreError
from store.jobstate import job_states, record_finish, record_start
from store.locks import new_holder
from store.process_locks import process_locks

from monitor.config import Config
from monitor.config.links import LinkSettings
from monitor.errors import MonitorError
from monitor.links.run import check_due_links
from monitor.runtime.jobs import job_id

__all__ = ["UnitBusy", "hosts_per_job", "run_hosts", "run_links_job"]


class UnitBusy(MonitorError):
    """Raised when a unit's run lock is held by a runner outside the queue (so: retry later)."""


@dataclass(frozen=True, slots=True)
class _Claimed:
    job: int
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
RETURNING jobs.id, jobs.args
"""

# Done (or skipped): gone, as procrastinate deletes a succeeded job.
_FINISH = "DELETE FROM procrastinate_jobs WHERE id = ANY(%(ids)s) AND status = 'doing'"

# Not done: closed and queued again in one statement, unless the unit is already waiting.
_PUT_BACK = """
WITH closed AS (
    DELETE FROM procrastinate_jobs WHERE id = ANY(%(ids)s) AND status = 'doing'
    RETURNING queue_name, task_name, priority, lock, queueing_lock, args
)
INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args)
SELECT * FROM closed
ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING
"""


async def run_links_job(app: App, config: Config, sessions: SessionFactory, where: tuple[str, str], job: int,
                        host: str, due_at: datetime) -> str:
    """Run the links job ``job`` of ``host`` (``where``: its queue and task), with the links jobs it claims."""
    claimed = await _claim(app, where, job, hosts_per_job(config.links) - 1)
    units = [(host, due_at), *((other.key, other.due_at) for other in claimed)]
    try:
        outcome = await asyncio.to_thread(run_hosts, config, sessions, units)
    except BaseException:
        await _settle(app, claimed, set())
        raise
    await _settle(app, claimed, {key for key, what in outcome.items() if not what.startswith("busy")})
    name = job_id("links", host)
    if outcome[host].startswith("busy"):
        raise UnitBusy(f"{name}: {outcome[host]}")
    others = [f"{job_id('links', key)}: {outcome[key]}" for key, _ in units[1:]]
    return "; ".join([f"{name}: {outcome[host]}", *others])


async def _claim(app: App, where: tuple[str, str], job: int, limit: int) -> list[_Claimed]:
    """Up to ``limit`` links jobs waiting in the queue, now ``doing`` under the worker running ``job``."""
    if limit <= 0:
        return []
    rows = await app.connector.execute_query_all_async(_CLAIM, queue=where[0], task=where[1], id=job, limit=limit)
    return [_Claimed(row["id"], row["args"]["key"], datetime.fromisoformat(row["args"]["due_at"])) for row in rows]


async def _settle(app: App, claimed: Sequence[_Claimed], done: set[str]) -> None:
    """Finish the claimed jobs whose host is in ``done``; put the others back in the queue."""
    finished = [other.job for other in claimed if other.key in done]
    back = [other.job for other in claimed if other.key not in done]
    if finished:
        await app.connector.execute_query_async(_FINISH, ids=finished)
    if back:
        await app.connector.execute_query_async(_PUT_BACK, ids=back)


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
    locks = process_locks(engine_of(sessions), new_holder().rsplit(":", 1)[0], config.worker.stalled_after_s)
    held: list[str] = []
    try:
        for host, _ in units:
            if host not in outcome:
                busy = locks.try_lock(names[host])
                outcome[host] = f"busy: another runner holds it ({busy})" if busy is not None else "ok"
                if busy is None:
                    held.append(host)
        if held:
            _check(config, sessions, held, names)
    finally:
        for host in held:
            locks.unlock(names[host])
    return outcome


def _check(config: Config, sessions: SessionFactory, hosts: list[str], names: dict[str, str]) -> None:
    now = datetime.now(timezone.utc)
    with transaction(sessions) as session:
        for host in hosts:
            record_start(session, names[host], now)
    try:
        check_due_links(config, sessions, now, hosts=hosts)
    except Exception as exc:  # recorded for each host, then raised again: the job is retried
        if isinstance(exc, StoreError):  # the database itself failed: writing the error would fail too
            raise
        with transaction(sessions) as session:
            for host in hosts:
                record_finish(session, names[host], now, f"{type(exc).__name__}: {exc}")
        raise
    with transaction(sessions) as session:
        for host in hosts:
            record_finish(session, names[host], now, None)


