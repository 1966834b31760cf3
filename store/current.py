"""The listed measures of one source: the ids and digests of all, and the whole rows of a few.

A run pairs most rows of a new version with their old selves by a digest of the text they
were published as (``measure_versions.published_digest``), so of every listed row it needs
only its ids and that digest; the key, name and fields of the few rows left over are read
afterwards (:func:`current_rows_of`). At 100,000 rows, holding every row's key, name and
content hash as well was 50 MB.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, select, text
from sqlalchemy.orm import Session

from store.batches import IN_LIST_SIZE, in_batches
from store.models import Measure, MeasureVersion
from store.queries import CurrentRow

__all__ = ["Listed", "current_rows_of", "listed_now", "stream_current_rows"]

# Rows fetched from the database at a time while streaming whole rows.
_STREAM_BATCH = 2000


@dataclass(frozen=True, slots=True)
class Listed:
    """The measures listed now, in measure id order, as columns: row ``o`` is
    ``measure_ids[o]``, ``version_ids[o]``, ``digests[o]`` (None for a version stored before
    migration 0013). Three lists, not an object per row: at 100,000 rows, making a named tuple
    of each was most of the time of reading them."""

    measure_ids: list[int]
    version_ids: list[int]
    digests: list[bytes | None]


def _plan_for_all_rows(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # Streaming is a server-side cursor there, which PostgreSQL plans for its first rows
        # (cursor_tuple_fraction 0.1): a nested loop that took minutes per fetch at 100,000
        # rows. The whole result is wanted, so plan for all of it (for this transaction only).
        session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))


def _open(source_id: str) -> list[ColumnElement[bool]]:
    return [MeasureVersion.source_id == source_id, MeasureVersion.valid_to_snapshot_id.is_(None)]


def listed_now(session: Session, source_id: str) -> Listed:
    """Every measure listed now: its ids and published digest, read from one partial index
    (``ix_measure_versions_listed``, migration 0015) in measure id order."""
    query = select(MeasureVersion.measure_id, MeasureVersion.id, MeasureVersion.published_digest).where(*_open(source_id))
    # On the session's connection, not through the ORM: plain columns need none of its result
    # machinery. All at once: three small columns of every row are kept anyway.
    rows = session.connection().execute(query.order_by(MeasureVersion.measure_id)).all()
    if not rows:
        return Listed([], [], [])
    measure_ids, version_ids, digests = (list(column) for column in zip(*rows))
    return Listed(measure_ids, version_ids, digests)


def _rows() -> Select[int, int, str, str, dict[str, str], str]:
    return (
        select(Measure.id, MeasureVersion.id, Measure.key, MeasureVersion.name, MeasureVersion.fields, MeasureVersion.content_hash)
        .join(Measure, Measure.id == MeasureVersion.measure_id)
    )


def stream_current_rows(session: Session, source_id: str) -> Iterator[CurrentRow]:
    """Every measure listed now, in measure id order, one whole plain row at a time."""
    _plan_for_all_rows(session)
    query = _rows().where(*_open(source_id)).order_by(MeasureVersion.measure_id)
    for row in session.execute(query.execution_options(yield_per=_STREAM_BATCH)):
        yield CurrentRow(*row)


def current_rows_of(session: Session, version_ids: Iterable[int]) -> dict[int, CurrentRow]:
    """Version id → its whole plain row, in batches small enough for any database."""
    found: dict[int, CurrentRow] = {}
    for batch in in_batches(list(version_ids), IN_LIST_SIZE):
        for row in session.execute(_rows().where(MeasureVersion.id.in_(batch))):
            found[row[1]] = CurrentRow(*row)
    return found
