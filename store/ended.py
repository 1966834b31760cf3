"""Measures a source no longer lists, with their last version: the candidates to reappear."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from store.batches import IN_LIST_SIZE, in_batches
from store.models import Measure, MeasureVersion

__all__ = ["EndedRow", "ended_since", "last_fields"]


class EndedRow(NamedTuple):
    measure_id: int
    key: str
    name: str
    fields: dict[str, str]
    content_hash: str
    ended_at: datetime


def _ended_with_last_version() -> Select:
    # A measure's last version is the one closed by the snapshot that ended the measure.
    last = and_(MeasureVersion.measure_id == Measure.id, MeasureVersion.valid_to_snapshot_id == Measure.ended_snapshot_id)
    return (select(Measure.id, Measure.key, MeasureVersion.name, MeasureVersion.fields, MeasureVersion.content_hash, Measure.ended_at)
            .join(MeasureVersion, last))


def ended_since(session: Session, source_id: str, since: datetime) -> list[EndedRow]:
    """The source's measures ended at ``since`` or later, the earliest ended first."""
    query = _ended_with_last_version().where(Measure.source_id == source_id, Measure.ended_at >= since)
    return [EndedRow(*row) for row in session.execute(query.order_by(Measure.ended_at, Measure.id))]


def last_fields(session: Session, measure_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Measure id → the fields of its last version, for ended measures."""
    found: dict[int, dict[str, str]] = {}
    for batch in in_batches(list(measure_ids), IN_LIST_SIZE):
        for row in session.execute(_ended_with_last_version().where(Measure.id.in_(batch))):
            found[row.id] = row.fields
    return found
