"""Which listed measures end within a range of days: the read behind 「終了予定」 and the calendar feed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Measure, MeasureVersion, Source

__all__ = ["Ending", "department_of", "ending_between"]

# Lists name the department column in many ways; the first of these a list uses is its department.
_DEPARTMENT_COLUMNS = ("担当部署", "所管局", "所管課", "所管", "部署", "担当課", "担当", "department")


def department_of(fields: Mapping[str, str]) -> str:
    """The department a measure belongs to, from the first column named like one (or "")."""
    for word in _DEPARTMENT_COLUMNS:
        for column, value in fields.items():
            if word in column and value.strip():
                return value.strip()
    return ""


class Ending(NamedTuple):
    """One measure listed now whose end date (as read from its cells) falls in the range asked for."""

    measure_id: int
    source_id: str
    source_title: str
    name: str
    end_date: date
    fields: dict[str, str]


def ending_between(session: Session, first: date, last: date, *, source_id: str | None = None,
                   limit: int = 5_000) -> list[Ending]:
    """Measures of the current versions of every (or one) watched list ending on ``first`` … ``last``,
    soonest first; retired lists and ended measures are left out (nobody acts on them)."""
    query = (
        select(Measure.id, MeasureVersion.source_id, Source.title, MeasureVersion.name, MeasureVersion.end_date,
               MeasureVersion.fields)
        .join(Measure, Measure.id == MeasureVersion.measure_id)
        .join(Source, Source.id == MeasureVersion.source_id)
        .where(MeasureVersion.valid_to_snapshot_id.is_(None), Measure.ended_snapshot_id.is_(None),
               Source.retired_at.is_(None), MeasureVersion.end_date.between(first, last))
        .order_by(MeasureVersion.end_date, MeasureVersion.source_id, Measure.id)
        .limit(limit)
    )
    if source_id is not None:
        query = query.where(MeasureVersion.source_id == source_id)
    # ``end_date`` is never NULL here: the range above leaves those rows out.
    return [Ending(measure_id, source, title, name, end, fields) for measure_id, source, title, name, end, fields
            in session.execute(query) if end is not None]
