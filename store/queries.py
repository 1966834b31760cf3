"""Read queries over the versioned tables (the pipeline, the CLI, notifiers and web share them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from .models import Event, Measure, MeasureVersion, Snapshot, Source

__all__ = [
    "GOOD_STATUSES", "last_snapshot", "last_good_snapshot", "current_versions", "versions_at_snapshot",
    "list_as_of", "measure_history", "snapshots_of", "events_after", "source_titles",
]

# A snapshot that moved (or confirmed) the baseline; failed and suspect ones never do.
GOOD_STATUSES = ("baseline", "changed", "unchanged", "not_modified")


def last_snapshot(session: Session, source_id: str) -> Snapshot | None:
    return session.scalar(select(Snapshot).where(Snapshot.source_id == source_id).order_by(Snapshot.id.desc()).limit(1))


def last_good_snapshot(session: Session, source_id: str, before_id: int | None = None) -> Snapshot | None:
    query = select(Snapshot).where(Snapshot.source_id == source_id, Snapshot.status.in_(GOOD_STATUSES))
    if before_id is not None:
        query = query.where(Snapshot.id < before_id)
    return session.scalar(query.order_by(Snapshot.id.desc()).limit(1))


def _with_measure(query: Select) -> Select:
    return query.join(Measure, Measure.id == MeasureVersion.measure_id).order_by(MeasureVersion.measure_id)


def current_versions(session: Session, source_id: str) -> list[tuple[Measure, MeasureVersion]]:
    """Every measure listed now, with its open version."""
    query = select(Measure, MeasureVersion).where(MeasureVersion.source_id == source_id, MeasureVersion.valid_to_snapshot_id.is_(None))
    return [tuple(row) for row in session.execute(_with_measure(query))]


def versions_at_snapshot(session: Session, source_id: str, snapshot_id: int) -> list[tuple[Measure, MeasureVersion]]:
    """The list as it stood after snapshot ``snapshot_id`` (a failed snapshot shows the last good list)."""
    query = select(Measure, MeasureVersion).where(
        MeasureVersion.source_id == source_id,
        MeasureVersion.valid_from_snapshot_id <= snapshot_id,
        or_(MeasureVersion.valid_to_snapshot_id.is_(None), MeasureVersion.valid_to_snapshot_id > snapshot_id),
    )
    return [tuple(row) for row in session.execute(_with_measure(query))]


def list_as_of(session: Session, source_id: str, when: datetime) -> list[tuple[Measure, MeasureVersion]]:
    """The list as it stood at ``when``."""
    query = select(Measure, MeasureVersion).where(
        MeasureVersion.source_id == source_id,
        MeasureVersion.valid_from <= when,
        or_(MeasureVersion.valid_to.is_(None), MeasureVersion.valid_to > when),
    )
    return [tuple(row) for row in session.execute(_with_measure(query))]


def measure_history(session: Session, measure_id: int) -> tuple[Measure, list[MeasureVersion]] | None:
    measure = session.get(Measure, measure_id)
    if measure is None:
        return None
    versions = session.scalars(select(MeasureVersion).where(MeasureVersion.measure_id == measure_id).order_by(MeasureVersion.valid_from, MeasureVersion.id))
    return measure, list(versions)


def snapshots_of(session: Session, source_id: str, limit: int = 50) -> list[Snapshot]:
    return list(session.scalars(select(Snapshot).where(Snapshot.source_id == source_id).order_by(Snapshot.id.desc()).limit(limit)))


def events_after(session: Session, after_id: int, *, source_ids: list[str] | None = None, kinds: list[str] | None = None, limit: int | None = None) -> list[Event]:
    query = select(Event).where(Event.id > after_id)
    if source_ids is not None:
        query = query.where(or_(Event.source_id.in_(source_ids), Event.source_id.is_(None)))
    if kinds is not None:
        query = query.where(Event.kind.in_(kinds))
    query = query.order_by(Event.id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def source_titles(session: Session) -> dict[str, str]:
    return {source.id: source.title for source in session.scalars(select(Source))}
