"""The listed measures of one source as a stream of plain rows, and the fields of a few of them.

A run pairs most rows of a new version with their old selves by published text alone, so it
needs every current row's fields only once, to read that text, and keeps the fields of the
few rows left over: streamed, a 100,000-row list is never held twice in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from store.batches import IN_LIST_SIZE, in_batches
from store.models import Measure, MeasureVersion
from store.queries import CurrentRow

__all__ = ["NOT_LOADED", "stream_current_rows", "stream_listed", "fields_of_versions"]

# Rows fetched from the database at a time while streaming.
_STREAM_BATCH = 2000
# The fields of a streamed row that were not read (a run reads those of the few rows it needs).
NOT_LOADED: dict[str, str] = {}


def _current(session: Session, source_id: str, *columns: Any) -> Iterable[Any]:
    if session.get_bind().dialect.name == "postgresql":
        # Streaming is a server-side cursor there, which PostgreSQL plans for its first rows
        # (cursor_tuple_fraction 0.1): a nested loop that took minutes per fetch at 100,000
        # rows. The whole result is wanted, so plan for all of it (for this transaction only).
        session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
    query = (
        select(Measure.id, MeasureVersion.id, Measure.key, MeasureVersion.name, *columns, MeasureVersion.content_hash)
        .join(Measure, Measure.id == MeasureVersion.measure_id)
        .where(MeasureVersion.source_id == source_id, MeasureVersion.valid_to_snapshot_id.is_(None))
        .order_by(MeasureVersion.measure_id)
    )
    return session.execute(query.execution_options(yield_per=_STREAM_BATCH))


def stream_current_rows(session: Session, source_id: str) -> Iterator[CurrentRow]:
    """Every measure listed now, in measure id order, one plain row at a time."""
    for row in _current(session, source_id, MeasureVersion.fields):
        yield CurrentRow(*row)


def stream_listed(session: Session, source_id: str) -> Iterator[tuple[CurrentRow, bytes | None]]:
    """Every measure listed now, in measure id order, with its version's published digest and
    without its fields (``NOT_LOADED``): decoding 100,000 rows of JSON was most of a run's reading."""
    for measure_id, version_id, key, name, digest, content_hash in _current(session, source_id, MeasureVersion.published_digest):
        yield CurrentRow(measure_id, version_id, key, name, NOT_LOADED, content_hash), digest


def fields_of_versions(session: Session, version_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Version id → its fields, in batches small enough for any database."""
    found: dict[int, dict[str, str]] = {}
    for batch in in_batches(list(version_ids), IN_LIST_SIZE):
        for version_id, fields in session.execute(select(MeasureVersion.id, MeasureVersion.fields).where(MeasureVersion.id.in_(batch))):
            found[version_id] = fields
    return found
