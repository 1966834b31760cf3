"""The units of work as plain functions, and the one way every kind of job is run.

A kind of job (:class:`JobKind`) is a function ``(config, sessions, now, key) -> result``,
plus where its keys and its schedule come from. :func:`run_job` runs any kind the same way,
whoever calls it (the daemon, a one-shot ``check``, the demo, later a worker fleet):

1. take the run lock ``<kind>:<key>`` in the database, or come back ``busy``
   (:func:`store.process_locks.take_run_lock`): on PostgreSQL a session advisory lock that
   dies with its connection, one connection for all the units of a process; on SQLite a
   lease (:mod:`store.locks`), renewed while the work runs (``leases_kept``);
2. record the start in ``job_state``, run, record the success or the error;
3. give the lock back.

While another process keeps SQLite locked, each step (the lock too) is retried a few times
(nothing of it was committed, so running it again is safe), then the error is recorded and raised.

Another kind is one line, e.g.::

    register(JobKind("links", check_host_links, keys=hosts_with_due_links,
                     schedule=lambda config, host: config.schedule.links))
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from store.database import SessionFactory, retry_when_locked, transaction
from store.errors import StoreError
from store.jobstate import record_finish, record_start
from store.links import reconcile_cited
from store.locks import lock_name
from store.process_locks import RunLockHeld, leases_kept, take_run_lock
from store.source_admin import retired_ids

from monitor.config import Config
from monitor.errors import ConfigError
from monitor.report import LinkReport, SourceReport
from monitor.runtime.search_backlog import SEARCH_EVERY, index_search, search_keys
from monitor.schedule import ScheduleSpec

if TYPE_CHECKING:
    from notifiers.outbox import DeliveryRun

__all__ = ["JobKind", "JobRun", "KINDS", "register", "get_kind", "job_id", "run_job", "run_source_job", "source_report"]

log = logging.getLogger("sesaku_monitor.jobs")
T = TypeVar("T")


def _never_an_error(result: Any) -> str | None:
    return None


class UnitKeys(Protocol):
    """The keys of a kind's units by ``now`` (the hosts with links due by then); without it, by the wall clock."""

    def __call__(self, config: Config, sessions: SessionFactory, now: datetime | None = None, /) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class JobKind:
    """One kind of unit of work, as the scheduler sees it."""

    name: str
    run: Callable[[Config, SessionFactory, datetime, str], Any]
    keys: UnitKeys
    schedule: Callable[[Config, str], ScheduleSpec]
    # A result that says "it ran, but did not succeed" (a list that failed to fetch).
    error_of: Callable[[Any], str | None] = _never_an_error


@dataclass(frozen=True, slots=True)
class JobRun:
    """What one call of :func:`run_job` came to: ``busy`` means another runner holds the lock."""

    job_id: str
    status: Literal["ok", "failed", "busy"]
    started_at: datetime
    duration_s: float
    error: str | None = None
    result: Any = None


KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> None:
    KINDS[kind.name] = kind


def get_kind(name: str) -> JobKind:
    try:
        return KINDS[name]
    except KeyError:
        raise ConfigError(f"no kind of job {name!r} (known: {', '.join(sorted(KINDS))})") from None


def job_id(kind: str, key: str) -> str:
    """The name of a job, of its ``job_state`` row and of its run lock."""
    return lock_name(kind, key)


def _retrying(config: Config, work: Callable[[], T]) -> T:
    return retry_when_locked(work, wait_s=config.database.busy_timeout_s)


def _acquire(config: Config, sessions: SessionFactory, name: str, wait_s: float) -> RunLockHeld | str:
    """Wait up to ``wait_s`` for the lock: the lock, or who keeps it."""
    deadline = time.monotonic() + wait_s
    while True:
        held = take_run_lock(sessions, name, dead_peer_s=config.worker.stalled_after_s, lease_s=config.schedule.lock_lease_s,
                             busy_wait_s=config.database.busy_timeout_s)
        remaining = deadline - time.monotonic()
        if not isinstance(held, str) or remaining <= 0:
            return held
        time.sleep(min(0.5, remaining))


def run_job(config: Config, sessions: SessionFactory, now: datetime, kind_name: str, key: str, *, wait_s: float = 0.0) -> JobRun:
    """Run one unit of work under its run lock, recording it in ``job_state``.

    Raises what the work raised (after recording it), so the caller decides whether to carry
    on: the daemon logs it and keeps running; ``check`` reports it.
    """
    kind = get_kind(kind_name)
    name = job_id(kind_name, key)
    started = time.monotonic()
    held = _acquire(config, sessions, name, wait_s)
    if isinstance(held, str):
        return JobRun(name, "busy", now, time.monotonic() - started, error=f"another runner holds it ({held})")
    try:
        _retrying(config, lambda: _write(sessions, lambda session: record_start(session, name, now)))
        try:
            with leases_kept(sessions, [held], config.schedule.lock_lease_s):
                result = _retrying(config, lambda: kind.run(config, sessions, now, key))
        except Exception as exc:  # recorded, then raised again: never swallowed here
            if not isinstance(exc, StoreError):  # the database itself failed: writing the error would only wait again
                _record_error(config, sessions, name, now, f"{type(exc).__name__}: {exc}")
            raise
        error = kind.error_of(result)
        _retrying(config, lambda: _write(sessions, lambda session: record_finish(session, name, now, error)))
        return JobRun(name, "failed" if error else "ok", now, time.monotonic() - started, error, result)
    finally:
        held.release()


def _write(sessions: SessionFactory, change: Callable[[Any], None]) -> None:
    with transaction(sessions) as session:
        change(session)


def _record_error(config: Config, sessions: SessionFactory, name: str, now: datetime, error: str) -> None:
    try:
        _retrying(config, lambda: _write(sessions, lambda session: record_finish(session, name, now, error)))
    except StoreError as exc:
        # The database itself is what failed: the error being raised says more than this one.
        log.warning("job %s: could not record its error: %s", name, exc)


# The list pipeline (parsers, BeautifulSoup), the link checker (httpx, its failure table) and the
# notifiers (digest, rendering, senders) are imported by the first job that needs them, not by
# every process that imports the kinds: a worker serves links jobs before it has paid for the
# other wings, a `check` of the lists never pays for the links, `status` never pays.


def _run_source(config: Config, sessions: SessionFactory, now: datetime, source_id: str) -> SourceReport:
    from monitor.lists.pipeline import run_source

    return run_source(config, config.source(source_id), sessions, now)


def _check_host_links(config: Config, sessions: SessionFactory, now: datetime, host: str) -> LinkReport:
    from monitor.links.run import check_host_links

    return check_host_links(config, sessions, now, host)


def _hosts_with_due_links(config: Config, sessions: SessionFactory, now: datetime | None = None) -> list[str]:
    from monitor.links.run import hosts_with_due_links

    return hosts_with_due_links(config, sessions, now)


def _source_error(report: SourceReport) -> str | None:
    return None if report.ok else f"{report.status}: {report.error}"


def _source_schedule(config: Config, source_id: str) -> ScheduleSpec:
    return config.source(source_id).schedule or config.schedule.sources


def _source_ids(config: Config, sessions: SessionFactory, now: datetime | None = None) -> list[str]:
    """Enabled sources, less those retired in the store (``sources retire``): nobody runs them."""
    with transaction(sessions) as session:
        retired = retired_ids(session)
    return [source.id for source in config.sources if source.enabled and source.id not in retired]


def _reconcile_citations(config: Config, sessions: SessionFactory, now: datetime, key: str) -> str:
    """The daily repair of ``links.cited`` (store.links.reconcile_cited): what a race between two runs left wrong."""
    with transaction(sessions) as session:
        cited, uncited = reconcile_cited(session, now)
    said = f"{cited} link(s) cited again, {uncited} no longer cited"
    if cited or uncited:
        log.info("citations: %s (their cited mark was wrong)", said)
    return said


def _notifier_job(config: Config, sessions: SessionFactory, now: datetime, notifier_id: str) -> DeliveryRun:
    from notifiers.outbox import notifier_job

    return notifier_job(config, sessions, now, notifier_id)


def _notifier_ids(config: Config, sessions: SessionFactory, now: datetime | None = None) -> list[str]:
    from notifiers.outbox import notifier_ids

    return notifier_ids(config, sessions)


def _notifier_tick(config: Config, notifier_id: str) -> ScheduleSpec:
    from notifiers.outbox import notifier_tick

    return notifier_tick(config, notifier_id)


def _notifier_error(run: DeliveryRun) -> str | None:
    from notifiers.outbox import run_error

    return run_error(run)


# Once a day, wherever links are checked; one unit for the whole store, key "links".
CITATIONS_DAILY = ScheduleSpec(every=timedelta(days=1))

register(JobKind("source", _run_source, keys=_source_ids, schedule=_source_schedule, error_of=_source_error))
register(JobKind("links", _check_host_links, keys=_hosts_with_due_links, schedule=lambda config, host: config.schedule.links))
register(JobKind("notifier", _notifier_job, keys=_notifier_ids, schedule=_notifier_tick, error_of=_notifier_error))
register(JobKind("citations", _reconcile_citations, keys=lambda config, sessions, now=None: ["links"] if config.links.enabled else [],
                 schedule=lambda config, key: CITATIONS_DAILY))
register(JobKind("search", index_search, keys=search_keys, schedule=lambda config, key: SEARCH_EVERY))


def run_source_job(config: Config, sessions: SessionFactory, now: datetime, source_id: str, *, wait_s: float = 0.0) -> JobRun:
    """Run one source (fetch → parse → match → diff → store) under its lock."""
    return run_job(config, sessions, now, "source", source_id, wait_s=wait_s)


def source_report(run: JobRun, source_id: str) -> SourceReport:
    """The run report entry of a source job; a source left busy by another runner is failed."""
    if isinstance(run.result, SourceReport):
        return run.result
    return SourceReport(id=source_id, status="failed", error=run.error)
