"""The operator's hold on a source (``sesaku-monitor sources``): its rows with their state,
its measures' latest versions to re-key, and the retire / rebaseline marks a run reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.orm import Session

from store.blobs import get_blob
from store.links import hold_citations
from store.models import Link, Measure, MeasureLink, MeasureVersion, Snapshot, Source
from store.queries import GOOD_STATUSES

__all__ = ["SourceRow", "source_rows", "latest_versions", "last_good_body", "set_retired", "request_rebaseline", "retired_ids"]


@dataclass(frozen=True, slots=True)
class SourceRow:
    """A stored source as ``sources`` lists it."""

    id: str
    title: str
    url: str
    parent_id: str | None
    retired_at: datetime | None
    rebaseline_requested_at: datetime | None
    measures: int  # listed now
    last_run_at: datetime | None
    last_status: str | None


def retired_ids(session: Session) -> set[str]:
    """The ids of retired sources: the few rows the tick leaves out, not one row per list."""
    return set(session.scalars(select(Source.id).where(Source.retired_at.is_not(None))))


def source_rows(session: Session) -> list[SourceRow]:
    """Every stored source, with how many measures it lists now and its last run (three queries, whatever the count)."""
    counts = select(MeasureVersion.source_id, func.count()).where(MeasureVersion.valid_to_snapshot_id.is_(None)).group_by(MeasureVersion.source_id)
    listed = {source_id: count for source_id, count in session.execute(counts)}
    newest = select(Source.newest_snapshot_id).where(Source.newest_snapshot_id.is_not(None))
    last = {snapshot.source_id: snapshot for snapshot in session.scalars(select(Snapshot).where(Snapshot.id.in_(newest)))}
    return [
        SourceRow(source.id, source.title, source.url, source.parent_id, source.retired_at, source.rebaseline_requested_at,
                  listed.get(source.id, 0), last[source.id].fetched_at if source.id in last else None,
                  last[source.id].status if source.id in last else None)
        for source in session.scalars(select(Source).order_by(Source.id))
    ]


def latest_versions(session: Session, source_id: str) -> list[tuple[Measure, MeasureVersion]]:
    """Every measure of the source with its latest version: the open one, or an ended measure's last."""
    latest = select(func.max(MeasureVersion.id)).where(MeasureVersion.source_id == source_id).group_by(MeasureVersion.measure_id)
    query = (select(Measure, MeasureVersion).join(MeasureVersion, MeasureVersion.measure_id == Measure.id)
             .where(MeasureVersion.id.in_(latest)).order_by(Measure.id))
    return [(measure, version) for measure, version in session.execute(query)]


def last_good_body(session: Session, source_id: str) -> tuple[Snapshot, bytes] | None:
    """The newest good snapshot whose bytes are kept (a 304 keeps none), and those bytes."""
    snapshot = session.scalar(select(Snapshot).where(Snapshot.source_id == source_id, Snapshot.status.in_(GOOD_STATUSES),
                                                     Snapshot.blob_sha256.is_not(None)).order_by(Snapshot.id.desc()).limit(1))
    body = get_blob(session, snapshot.blob_sha256) if snapshot is not None and snapshot.blob_sha256 else None
    return (snapshot, body) if snapshot is not None and body is not None else None


def set_retired(session: Session, source_id: str, when: datetime | None) -> None:
    """Retire the source at ``when`` (kept, not run), or bring it back with None.

    Its links follow: a link cited by no open version of a watched source is no longer cited
    (so no longer checked, never ``link_dead`` for a list nobody watches), and cited again when
    the source comes back."""
    hold_citations(session)
    session.execute(update(Source).where(Source.id == source_id).values(retired_at=when))
    session.flush()
    mine = _cited_by(Source.id == source_id)
    if when is None:
        session.execute(update(Link).where(Link.id.in_(mine)).values(cited=True).execution_options(synchronize_session=False))
        return
    watched = _cited_by(Source.retired_at.is_(None))
    session.execute(update(Link).where(Link.id.in_(mine), Link.id.not_in(watched)).values(cited=False)
                    .execution_options(synchronize_session=False))


def _cited_by(which: ColumnElement[bool]) -> Select[int]:
    """The ids of links an open version of the sources ``which`` names cites."""
    return (select(MeasureLink.link_id).join(MeasureVersion, MeasureVersion.id == MeasureLink.measure_version_id)
            .join(Source, Source.id == MeasureVersion.source_id)
            .where(MeasureVersion.valid_to_snapshot_id.is_(None), which))


def request_rebaseline(session: Session, source_id: str, now: datetime) -> None:
    """The source's next good run stores a fresh baseline (monitor.lists.pipeline clears the mark)."""
    session.execute(update(Source).where(Source.id == source_id).values(rebaseline_requested_at=now))
