"""``check``: one run over every configured source (and, later, the links they cite)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone

from notifiers.outbox import deliver_all
from store.database import SessionFactory, open_engine, session_factory

from .config import Config
from .pipeline import run_source
from .report import RunReport, new_run_id

__all__ = ["open_store", "run_check", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def open_store(config: Config) -> SessionFactory:
    engine = open_engine(config.database.url, busy_timeout_s=config.database.busy_timeout_s)
    return session_factory(engine)


def run_check(config: Config, sessions: SessionFactory, *, source_ids: Sequence[str] = (), clock: Callable[[], datetime] = utc_now) -> RunReport:
    """Run every (or every named) source once; one source's failure never stops the others."""
    sources = [config.source(i) for i in source_ids] if source_ids else config.sources
    report = RunReport(run_id=new_run_id(), started_at=clock())
    for source in sources:
        report.sources.append(run_source(config, source, sessions, clock()))
    report.finished_at = clock()
    # Digests last, so that they hold this run's events; a failed send is kept for a retry.
    deliver_all(config, sessions, clock())
    return report
