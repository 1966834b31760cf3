"""``check``: one run over every configured source (and, later, the links they cite)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from store.database import SessionFactory, open_engine, session_factory, transaction
from store.errors import StoreError

from monitor.config import Config, SourceConfig
from monitor.lists.families import runner_of, with_lists
from monitor.runtime.jobs import run_source_job, source_report
from monitor.report import NotifierReport, RunReport, SourceReport, new_run_id

if TYPE_CHECKING:
    from monitor.links.run import ProgressFactory

__all__ = ["open_store", "run_check", "utc_now"]

log = logging.getLogger("sesaku_monitor.check")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def open_store(config: Config) -> SessionFactory:
    engine = open_engine(config.database.url, busy_timeout_s=config.database.busy_timeout_s)
    return session_factory(engine)


def run_check(config: Config, sessions: SessionFactory, *, source_ids: Sequence[str] = (), clock: Callable[[], datetime] = utc_now,
              links: bool = True, link_progress: ProgressFactory | None = None, notify: bool = True) -> RunReport:
    """Run every (or every named) source once, then check every due link (unless ``links`` is
    False or ``links.enabled`` is off), then send the digests owed (unless ``notify`` is False:
    they wait for the next `notify`, daemon or worker); one source's failure never stops the others."""
    sources = _runners(config, sessions, source_ids) if source_ids else config.sources
    report = RunReport(run_id=new_run_id(), started_at=clock())
    if config.notifiers:
        # Imported only where there are notifiers: the outbox and its renderers are a tenth of a check's start-up.
        from notifiers.outbox import start_cursors

        start_cursors(config, sessions, report.started_at)  # a notifier new to the database starts with this run
    for source in sources:
        if not source.enabled:
            report.sources.append(SourceReport(id=source.id, status="disabled", error="enabled: false in the configuration; not run"))
            continue
        report.sources.extend(_run_one(config, sessions, clock(), source.id))
    if links:
        # Imported only for the links: the checker and its failure table were 0.1 s of a `check --no-links` start-up.
        from monitor.links.run import run_link_checks

        # After the lists, so that links they started or stopped citing are (not) checked.
        report.links = run_link_checks(config, sessions, clock(), progress=link_progress)
    report.finished_at = clock()
    if notify:
        from notifiers.outbox import deliver_all

        # Digests last, so that they hold this run's events; a failed send is kept for a retry.
        report.notifiers = [
            NotifierReport(run.notifier_id, len(run.prepared), len(run.sent), [error for _, error in run.failed], run.error)
            for run in deliver_all(config, sessions, clock())
        ]
    return report


def _run_one(config: Config, sessions: SessionFactory, now: datetime, source_id: str) -> list[SourceReport]:
    """One source's entries of the report. What its run raised that no stage expected (a
    parser's bug met by one hostile list) fails that source alone: the others still run."""
    try:
        # The source's run lock: a daemon running it now is waited for, never overlapped.
        run = run_source_job(config, sessions, now, source_id, wait_s=config.schedule.lock_wait_s)
    except Exception as exc:
        if _of_the_database(exc):
            raise  # refused, gone, locked: every other source would fail the same way
        log.exception("source %s: the run failed unexpectedly", source_id)
        # A driver's error names its SQL on further lines: the report's error is one line.
        said = exc.orig if isinstance(exc, DBAPIError) else exc
        return [SourceReport(id=source_id, status="failed", error=f"{type(exc).__name__}: {said}")]
    return with_lists(source_report(run, source_id))


def _of_the_database(exc: Exception) -> bool:
    """The database refused (what store/ raises: its OperationalErrors become StoreError) or its connection went."""
    from monitor.runtime.outage import database_gone  # psycopg's import, paid only when a run has failed

    return isinstance(exc, StoreError) or database_gone(exc)


def _runners(config: Config, sessions: SessionFactory, source_ids: Sequence[str]) -> list[SourceConfig]:
    """The configured sources to run for ``--source``: a list found on an index runs with its index."""
    with transaction(sessions) as session:
        runners = [runner_of(config, session, source_id) for source_id in source_ids]
    return list({source.id: source for source in runners}.values())
