"""Fixing a source without losing it (``sesaku-monitor sources``): list them with their state,
re-key, re-baseline, retire and bring back. Each is one transaction over the store.

A source's state joins the config and the store: ``watched`` (configured, run on its
schedule), ``not yet run``, ``disabled`` (``enabled: false``), ``retired`` (kept, never run),
``left its index`` (a list its index no longer links), ``not in config`` (stored, but no
longer configured: kept, never run, still readable by ``snapshots``, ``history``, the web).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from store.database import SessionFactory, transaction
from store.models import Source
from store.source_admin import request_rebaseline, set_retired, source_rows

from monitor.config import Config
from monitor.errors import ConfigError
from monitor.lists.families import source_config
from monitor.runtime.source_state import source_state

if TYPE_CHECKING:
    from monitor.lists.rekey import RekeyResult

__all__ = ["SourceListing", "list_sources", "rekey", "rebaseline", "retire", "unretire"]


@dataclass(frozen=True, slots=True)
class SourceListing:
    id: str
    title: str
    state: str
    measures: int
    last_run_at: datetime | None
    last_status: str | None
    rebaseline_next_run: bool


def list_sources(config: Config, sessions: SessionFactory) -> list[SourceListing]:
    """Every stored source and every configured one not run yet, by id."""
    configured = {source.id: source.enabled for source in config.sources}
    with transaction(sessions) as session:
        rows = {row.id: row for row in source_rows(session)}
    listings = [SourceListing(row.id, row.title, source_state(row.id, row.parent_id, row.retired_at is not None, configured), row.measures, row.last_run_at, row.last_status,
                              row.rebaseline_requested_at is not None) for row in rows.values()]
    listings += [SourceListing(source.id, source.title, "not yet run" if source.enabled else "disabled", 0, None, None, False)
                 for source in config.sources if source.id not in rows]
    return sorted(listings, key=lambda listing: listing.id)


def _stored(session: Session, source_id: str) -> Source:
    row = session.get(Source, source_id)
    if row is None:
        raise ConfigError(f"no stored source {source_id!r}: it has never run (`sesaku-monitor sources` lists the stored ones)")
    return row


def rekey(config: Config, sessions: SessionFactory, source_id: str, now: datetime) -> RekeyResult:
    with transaction(sessions) as session:
        # Re-keying parses the stored body again: the pipeline and every parser load for it, not for `sources`.
        from monitor.lists.rekey import rekey_source

        _stored(session, source_id)
        return rekey_source(session, config, source_config(config, session, source_id), now)


def rebaseline(config: Config, sessions: SessionFactory, source_id: str, now: datetime) -> None:
    with transaction(sessions) as session:
        _stored(session, source_id)
        source_config(config, session, source_id)  # a source no longer configured cannot run again
        request_rebaseline(session, source_id, now)


def retire(config: Config, sessions: SessionFactory, source_id: str, now: datetime) -> None:
    with transaction(sessions) as session:
        row = _stored(session, source_id)
        if row.parent_id is not None and row.retired_at is None and any(s.id == row.parent_id for s in config.sources):
            raise ConfigError(f"{source_id} is a list found on the index {row.parent_id}, which would bring it back at its next run: "
                              f"narrow that index's link_pattern, or retire the index")
        set_retired(session, source_id, now)


def unretire(config: Config, sessions: SessionFactory, source_id: str) -> None:
    with transaction(sessions) as session:
        _stored(session, source_id)
        set_retired(session, source_id, None)
