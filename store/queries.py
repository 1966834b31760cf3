"""Read queries over the versioned tables (the pipeline, the CLI, notifiers and web share them)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from store.batches import IN_LIST_SIZE, in_batches
from store.link_state import failing
from store.models import Event, Link, LinkCheck, Measure, MeasureLink, MeasureVersion, Snapshot, Source
from store.types import GOOD_STATUSES

__all__ = [
    "GOOD_STATUSES", "CurrentRow", "last_snapshot", "last_good_snapshot",
    "expiring_versions", "ended_measure_ids", "versions_at_snapshot",
    "measure_history", "snapshots_of", "events_after", "source_titles",
]



def last_snapshot(session: Session, source_id: str) -> Snapshot | None:
    return session.scalar(select(Snapshot).where(Snapshot.source_id == source_id).order_by(Snapshot.id.desc()).limit(1))


def last_good_snapshot(session: Session, source_id: str, before_id: int | None = None) -> Snapshot | None:
    query = select(Snapshot).where(Snapshot.source_id == source_id, Snapshot.status.in_(GOOD_STATUSES))
    if before_id is not None:
        query = query.where(Snapshot.id < before_id)
    return session.scalar(query.order_by(Snapshot.id.desc()).limit(1))


def _with_measure(query: Select) -> Select:
    return query.join(Measure, Measure.id == MeasureVersion.measure_id).order_by(MeasureVersion.measure_id)


class CurrentRow(NamedTuple):
    """What matching needs of one listed measure, without loading it as an ORM object."""

    measure_id: int
    version_id: int
    key: str
    name: str
    fields: dict[str, str]
    content_hash: str


def expiring_versions(session: Session, source_id: str, today: date) -> list[tuple[Measure, MeasureVersion]]:
    """Measures listed now whose end date has passed and was not reported as such yet."""
    query = select(Measure, MeasureVersion).where(
        MeasureVersion.source_id == source_id, MeasureVersion.valid_to_snapshot_id.is_(None), MeasureVersion.end_date < today,
        or_(Measure.expired_end_date.is_(None), Measure.expired_end_date != MeasureVersion.end_date),
    )
    return [tuple(row) for row in session.execute(_with_measure(query))]


def ended_measure_ids(session: Session, source_id: str) -> dict[str, list[int]]:
    """Key → ids of the source's ended measures with that key, the latest ended last."""
    query = select(Measure.key, Measure.id).where(Measure.source_id == source_id, Measure.ended_at.is_not(None))
    found: dict[str, list[int]] = {}
    for key, measure_id in session.execute(query.order_by(Measure.ended_at, Measure.id)):
        found.setdefault(key, []).append(measure_id)
    return found


def versions_at_snapshot(session: Session, source_id: str, snapshot_id: int) -> list[tuple[Measure, MeasureVersion]]:
    """The list as it stood after snapshot ``snapshot_id`` (a failed snapshot shows the last good list)."""
    query = select(Measure, MeasureVersion).where(
        MeasureVersion.source_id == source_id,
        MeasureVersion.valid_from_snapshot_id <= snapshot_id,
        or_(MeasureVersion.valid_to_snapshot_id.is_(None), MeasureVersion.valid_to_snapshot_id > snapshot_id),
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


def source_titles(session: Session, ids: Iterable[str] | None = None) -> dict[str, str]:
    """Every source's title, or only those of ``ids`` (a page naming 20 events needs 20, not 18,000)."""
    # Two columns, not ORM objects: at 18,000 lists the objects took seconds, the rows milliseconds.
    if ids is None:
        return {id_: title for id_, title in session.execute(select(Source.id, Source.title))}
    found: dict[str, str] = {}
    for batch in in_batches(sorted(set(ids)), IN_LIST_SIZE):
        found.update((id_, title) for id_, title in session.execute(select(Source.id, Source.title).where(Source.id.in_(batch))))
    return found


# Read queries of the web view. Each one narrows an indexed range (see tests/web/test_indexes.py):
# the timeline by created_at, a measure's history by measure_id, a link's checks by link_id.
__all__ += [
    "timeline", "list_page", "list_size", "link_history", "links_of_versions",
    "citing_versions", "dead_link_counts", "links_page",
]


def timeline(
    session: Session, *, source_id: str | None = None, kinds: list[str] | None = None, since: datetime | None = None,
    until: datetime | None = None, measure_id: int | None = None, link_id: int | None = None, limit: int = 50, offset: int = 0,
) -> list[Event]:
    """Events newest first, ``since`` <= created_at < ``until``."""
    query = select(Event)
    for column, value in ((Event.source_id, source_id), (Event.measure_id, measure_id), (Event.link_id, link_id)):
        if value is not None:
            query = query.where(column == value)
    if kinds:
        query = query.where(Event.kind.in_(kinds))
    if since is not None:
        query = query.where(Event.created_at >= since)
    if until is not None:
        query = query.where(Event.created_at < until)
    return list(session.scalars(query.order_by(Event.created_at.desc(), Event.id.desc()).limit(limit).offset(offset)))


def _listed(source_id: str, when: datetime | None) -> list:
    if when is None:
        return [MeasureVersion.source_id == source_id, MeasureVersion.valid_to.is_(None)]
    return [MeasureVersion.source_id == source_id, MeasureVersion.valid_from <= when, or_(MeasureVersion.valid_to.is_(None), MeasureVersion.valid_to > when)]


def list_page(session: Session, source_id: str, when: datetime | None, *, limit: int, offset: int) -> list[tuple[Measure, MeasureVersion]]:
    """One page of the list as it stands (``when`` None) or as it stood at ``when``."""
    query = select(Measure, MeasureVersion).where(*_listed(source_id, when)).limit(limit).offset(offset)
    return [tuple(row) for row in session.execute(_with_measure(query))]


def list_size(session: Session, source_id: str, when: datetime | None) -> int:
    return session.scalar(select(func.count()).select_from(MeasureVersion).where(*_listed(source_id, when))) or 0


def link_history(session: Session, link_id: int, limit: int = 1000) -> list[LinkCheck]:
    """The newest ``limit`` checks of a link, oldest first (for a chart)."""
    query = select(LinkCheck).where(LinkCheck.link_id == link_id).order_by(LinkCheck.checked_at.desc(), LinkCheck.id.desc()).limit(limit)
    return list(reversed(list(session.scalars(query))))


def links_of_versions(session: Session, version_ids: list[int]) -> list[tuple[int, Link]]:
    """(version id, link) for every link the given measure versions cite."""
    if not version_ids:
        return []
    query = select(MeasureLink.measure_version_id, Link).join(Link, Link.id == MeasureLink.link_id).where(MeasureLink.measure_version_id.in_(version_ids))
    return [(version_id, link) for version_id, link in session.execute(query.order_by(Link.url))]


def citing_versions(session: Session, link_id: int, limit: int = 500) -> list[tuple[Measure, MeasureVersion]]:
    """The measure versions that cite a link (newest first), with their measures."""
    query = (
        select(Measure, MeasureVersion)
        .join(MeasureLink, MeasureLink.measure_version_id == MeasureVersion.id)
        .join(Measure, Measure.id == MeasureVersion.measure_id)
        .where(MeasureLink.link_id == link_id)
        .order_by(MeasureVersion.valid_from.desc(), MeasureVersion.id.desc())
        .limit(limit)
    )
    return [(measure, version) for measure, version in session.execute(query)]


def dead_link_counts(session: Session, source_ids: list[str] | None = None) -> dict[str, int]:
    """How many dead links each source's current list cites (of every source, or of ``source_ids``)."""
    if source_ids is not None and len(source_ids) == 1:
        return {source_ids[0]: _dead_links_of(session, source_ids[0])}
    # Starting from the (few) dead links by ix_links_dead_since, never from every citation.
    dead = select(Link.id).where(Link.dead_since.is_not(None))
    query = (
        select(MeasureVersion.source_id, func.count(func.distinct(MeasureLink.link_id)))
        .join(MeasureVersion, MeasureVersion.id == MeasureLink.measure_version_id)
        .where(MeasureLink.link_id.in_(dead), MeasureVersion.valid_to.is_(None))
        .group_by(MeasureVersion.source_id)
    )
    if source_ids is None:
        return {source_id: count for source_id, count in session.execute(query)}
    found: dict[str, int] = {}
    for batch in in_batches(source_ids, IN_LIST_SIZE):
        found.update((source_id, count) for source_id, count in session.execute(query.where(MeasureVersion.source_id.in_(batch))))
    return found


def _dead_links_of(session: Session, source_id: str) -> int:
    """One source's (a list's own page): per dead link, does any current version of the source cite it
    (EXISTS stops at the first), 1 ms where the grouped count over their every citation took 30."""
    cites = (
        select(MeasureLink.link_id).join(MeasureVersion, MeasureVersion.id == MeasureLink.measure_version_id)
        .where(MeasureLink.link_id == Link.id, MeasureVersion.source_id == source_id, MeasureVersion.valid_to.is_(None))
    )
    return session.scalar(select(func.count()).select_from(Link).where(Link.dead_since.is_not(None), cites.exists())) or 0


def links_page(session: Session, *, state: str | None, limit: int, offset: int) -> list[Link]:
    """Links by state: ``dead`` (newest death first), ``failing``, ``ok``, or all (dead, then failing, then by id)."""
    query = select(Link)
    if state == "dead":
        query = query.where(Link.dead_since.is_not(None)).order_by(Link.dead_since.desc(), Link.id.desc())
    elif state == "failing":
        query = query.where(failing()).order_by(Link.id)
    elif state == "ok":
        query = query.where(Link.consecutive_failures == 0, Link.last_checked_at.is_not(None)).order_by(Link.id)
    else:
        query = query.order_by(Link.dead_since.is_(None), Link.consecutive_failures == 0, Link.dead_since.desc(), Link.id)
    return list(session.scalars(query.limit(limit).offset(offset)))
