"""What the store knows of a source's columns: the renames it announced (its events of a kind),
the columns and values its current versions hold."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Event, MeasureVersion

__all__ = ["payloads_of_kind", "latest_columns", "current_fields"]


def payloads_of_kind(session: Session, source_id: str, kind: str) -> list[dict[str, Any]]:
    """The payloads of the source's events of one kind, oldest first."""
    query = select(Event.payload).where(Event.source_id == source_id, Event.kind == kind).order_by(Event.id)
    return [payload for payload in session.scalars(query) if isinstance(payload, dict)]


def latest_columns(session: Session, source_id: str) -> list[str]:
    """The columns of the newest version: the header of the last run that changed a row."""
    # The newest id first, from ix_measure_versions_source_span alone, then its one row: ordered
    # with its fields, SQLite read the fields of every version of the newest time (all 100,000
    # of a baseline: 0.13-0.18 s of the next run) to sort them by id.
    newest = select(MeasureVersion.id).where(MeasureVersion.source_id == source_id)
    newest = newest.order_by(MeasureVersion.valid_from.desc(), MeasureVersion.id.desc()).limit(1)
    fields = session.scalar(select(MeasureVersion.fields).where(MeasureVersion.id == newest.scalar_subquery()))
    return list(fields) if isinstance(fields, dict) else []


def current_fields(session: Session, source_id: str) -> Iterator[dict[str, str]]:
    """The fields of every current version, streamed."""
    query = select(MeasureVersion.fields).where(MeasureVersion.source_id == source_id, MeasureVersion.valid_to_snapshot_id.is_(None))
    yield from session.scalars(query.execution_options(yield_per=1000))
