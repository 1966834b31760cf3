"""A list on two dates: which measures each held, and the field changes stored in between."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from store.batches import IN_LIST_SIZE, in_batches
from store.models import Event, Measure, MeasureVersion

__all__ = ["Listed", "listed_at", "stored_changes"]


class Listed(NamedTuple):
    measure_id: int
    version_id: int
    key: str
    name: str
    fields: dict[str, str]


def listed_at(session: Session, source_id: str, when: datetime) -> dict[int, Listed]:
    """Measure id → what the list said of it at ``when`` (plain rows: a list may have 100,000)."""
    query = (
        select(Measure.id, MeasureVersion.id, Measure.key, MeasureVersion.name, MeasureVersion.fields)
        .join(Measure, Measure.id == MeasureVersion.measure_id)
        .where(MeasureVersion.source_id == source_id, MeasureVersion.valid_from <= when,
               or_(MeasureVersion.valid_to.is_(None), MeasureVersion.valid_to > when))
        .order_by(MeasureVersion.measure_id)
    )
    return {row[0]: Listed(*row) for row in session.execute(query)}


def stored_changes(session: Session, measure_ids: list[int], after: datetime, until: datetime,
                   kinds: tuple[str, ...]) -> list[Event]:
    """The events of ``kinds`` of these measures created in (``after``, ``until``], oldest first."""
    found: list[Event] = []
    for part in in_batches(measure_ids, IN_LIST_SIZE):
        found += session.scalars(select(Event).where(
            Event.measure_id.in_(part), Event.kind.in_(kinds), Event.created_at > after, Event.created_at <= until))
    return sorted(found, key=lambda event: (event.created_at, event.id))
