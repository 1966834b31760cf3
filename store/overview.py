"""The overview of sources a page at a time, for the web view's ``/`` and ``/api/sources``.

A deployment watches tens of thousands of lists: nothing here runs a query per source. One
query reads a page of sources with their newest and newest good snapshot found by correlated
sub-queries on ``ix_snapshots_source_fetched``, then one counts the failing streaks of the few
whose newest run was not good (as ``status`` counts them: :mod:`store.source_reads`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from store.batches import in_batches
from store.models import Event, Snapshot, Source
from store.source_reads import newest_id, runs_by_id, streaks

__all__ = ["SourceRow", "SourcesPage", "source_row", "sources_page", "recent_event_counts"]


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One source as the overview shows it: its newest run and its newest good one."""

    id: str
    title: str
    url: str
    retired: bool
    last_run_at: datetime | None
    last_status: str | None
    last_error: str | None
    records: int | None  # of the newest good snapshot
    edition: str | None
    failing_streak: int  # runs in a row, up to the newest, that failed or were suspect


@dataclass(frozen=True, slots=True)
class SourcesPage:
    rows: list[SourceRow]
    total: int
    has_next: bool


def _rows(session: Session, where: ColumnElement[bool], *, limit: int | None = None, offset: int = 0, edition: bool = True) -> list[SourceRow]:
    page = select(Source.id, Source.title, Source.url, Source.retired_at, Source.newest_snapshot_id).where(where)
    page = page.order_by(Source.retired_at.is_not(None), Source.id).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    # The newest good runs are looked up for the page's rows only, never for the rows an offset skips.
    listed = page.subquery()
    columns = (listed.c.id, listed.c.title, listed.c.url, listed.c.retired_at, listed.c.newest_snapshot_id)
    query = select(*columns, newest_id(listed.c.id, good=True))
    found = session.execute(query.order_by(listed.c.retired_at.is_not(None), listed.c.id)).all()
    snapshots = runs_by_id(session.connection(), {i for row in found for i in (row[4], row[5]) if i is not None})
    editions = _editions(session, [row[0] for row in found]) if edition else {}
    failing = streaks(session.connection(), [(row[0], snapshots.get(row[5])) for row in found if row[4] is not None and row[4] != row[5]])
    rows = []
    for source_id, title, url, retired_at, last, good in found:
        newest, newest_good = snapshots.get(last), snapshots.get(good)
        rows.append(SourceRow(
            id=source_id, title=title, url=url, retired=retired_at is not None,
            last_run_at=newest.fetched_at if newest else None, last_status=newest.status if newest else None,
            last_error=newest.error if newest else None, records=newest_good.record_count if newest_good else None,
            edition=editions.get(source_id), failing_streak=failing.get(source_id, 0),
        ))
    return rows


# Made once: an alias builds each column's expression on first use, which cost a page (and a
# list's own page) 15 ms of Python for a statement that runs in 0.2 ms.
_INNER = aliased(Snapshot, name="inner_snapshot")


def _editions(session: Session, source_ids: list[str]) -> dict[str, str]:
    """The edition (令和N年4月1日時点 …) the newest snapshot that named one gave, per source."""
    inner = _INNER
    newest = (
        select(inner.edition).where(inner.source_id == Source.id, inner.edition.is_not(None))
        .order_by(inner.fetched_at.desc(), inner.id.desc()).limit(1).correlate(Source).scalar_subquery()
    )
    found: dict[str, str] = {}
    for batch in in_batches(source_ids, 1000):
        found.update((i, e) for i, e in session.execute(select(Source.id, newest).where(Source.id.in_(batch))) if e is not None)
    return found


def sources_page(session: Session, *, limit: int, offset: int = 0, after: tuple[bool, str] | None = None) -> SourcesPage:
    """One page of the sources, current ones first then retired ones, each by id.

    ``after`` is a keyset cursor (retired, id) of the last source of the previous page:
    it reads the next page straight from the primary key however deep it is.
    """
    where: ColumnElement[bool] = true()
    if after is not None:
        retired, last_id = after
        is_retired = Source.retired_at.is_not(None)
        where = and_(is_retired, Source.id > last_id) if retired else or_(is_retired, Source.id > last_id)
    rows = _rows(session, where, limit=limit + 1, offset=offset)
    total = session.scalar(select(func.count()).select_from(Source)) or 0
    return SourcesPage(rows=rows[:limit], total=total, has_next=len(rows) > limit)


def source_row(session: Session, source_id: str) -> SourceRow | None:
    """One source as a page of them shows it (a list's own page and ``/api/sources/{id}``)."""
    rows = _rows(session, Source.id == source_id)
    return rows[0] if rows else None


def recent_event_counts(session: Session, source_ids: Sequence[str], since: datetime) -> dict[str, dict[str, int]]:
    """Per source, events by kind since ``since``: one grouped query by ix_events_source_created."""
    found: dict[str, dict[str, int]] = {}
    for batch in in_batches(list(source_ids), 1000):
        query = (
            select(Event.source_id, Event.kind, func.count())
            .where(Event.source_id.in_(batch), Event.created_at >= since)
            .group_by(Event.source_id, Event.kind).order_by(Event.source_id, Event.kind)
        )
        for source_id, kind, count in session.execute(query):
            found.setdefault(str(source_id), {})[kind] = count
    return found


