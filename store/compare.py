"""A list on two dates, compared in SQL: which measures were added, ended, renamed and changed
in between, what each said, and the field changes stored in between.

A measure listed on both days is changed when its two versions differ in content (the
pipeline's digest of the normalised cells, so an edit undone is no change) and a changed or
renamed event was stored in between (a version the pipeline judged no change stores none);
renamed when a renamed event was stored and the two versions' names (normalised as stored)
differ. :func:`kinds` decides that for every measure in one pass over two indexes
(migration 0012), so a page of 200 of a list's 50,000 changes reads 200 measures' rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Subquery, and_, case, func, null, or_, select
from sqlalchemy.orm import Session, aliased

from store.batches import IN_LIST_SIZE, in_batches
from store.models import Event, Measure, MeasureVersion, Snapshot

__all__ = ["KINDS", "Compared", "Step", "Window", "compared", "generation", "kinds", "stored_changes"]

KINDS = ("added", "ended", "renamed", "changed")
_STEPS = ("changed", "renamed")  # the event kinds a measure listed on both days changes by


class Window(NamedTuple):
    """A source between two moments (each the end of a day)."""

    source_id: str
    first: datetime
    last: datetime


class Compared(NamedTuple):
    kind: str
    measure_id: int
    key: str
    name: str  # on the last day (on the first for an ended measure)
    old_name: str | None  # renamed only
    fields: dict[str, str]  # added: as listed on the last day; ended: on the first; else empty


def _in_force(version: Any, when: datetime) -> ColumnElement[bool]:
    return and_(version.valid_from <= when, or_(version.valid_to.is_(None), version.valid_to > when))


def _digests(window: Window) -> Subquery:
    """Measure id → its content digest on each day (null when not listed), for the measures
    that differ: one scan of ix_measure_versions_source_span."""
    v = MeasureVersion
    before = func.max(case((_in_force(v, window.first), v.content_hash)))
    after = func.max(case((_in_force(v, window.last), v.content_hash)))
    return (select(v.measure_id, before.label("before"), after.label("after"))
            .where(v.source_id == window.source_id, v.valid_from <= window.last, or_(v.valid_to.is_(None), v.valid_to > window.first))
            .group_by(v.measure_id)
            .having(or_(before.is_(None), after.is_(None), before != after))
            .subquery())


def _event_between(measure_id: Any, window: Window, kinds: Sequence[str]) -> ColumnElement[bool]:
    return (select(Event.id).where(Event.measure_id == measure_id, Event.kind.in_(kinds),
                                   Event.created_at > window.first, Event.created_at <= window.last).exists())


def _name_at(measure_id: Any, when: datetime) -> Any:
    v = aliased(MeasureVersion)
    return select(v.name).where(v.measure_id == measure_id, _in_force(v, when)).limit(1).scalar_subquery()


def kinds(session: Session, window: Window) -> dict[str, list[int]]:
    """Every measure that differs between the two days, by kind (KINDS order), each by id."""
    d = _digests(window)
    renamed = and_(_event_between(d.c.measure_id, window, ("renamed",)),
                   _name_at(d.c.measure_id, window.first) != _name_at(d.c.measure_id, window.last))
    kind = case((d.c.before.is_(None), "added"), (d.c.after.is_(None), "ended"),
                (~_event_between(d.c.measure_id, window, _STEPS), None), (renamed, "renamed"), else_="changed")
    found: dict[str, list[int]] = {k: [] for k in KINDS}
    for measure_id, of_kind in session.execute(select(d.c.measure_id, kind).order_by(d.c.measure_id)):
        if of_kind is not None:
            found[of_kind].append(measure_id)
    return found


def compared(session: Session, window: Window, kind: str, measure_ids: list[int]) -> list[Compared]:
    """What the list said of these measures of ``kind`` (``kinds`` found them), in that order."""
    if not measure_ids:
        return []  # a page of one kind asks nothing of the others; building the query is most of the cost
    shown, other = aliased(MeasureVersion, name="shown"), aliased(MeasureVersion, name="other")
    listed = kind in ("added", "ended")  # only these show their fields; a changed one its stored steps
    query = (select(shown.measure_id, Measure.key, shown.name, other.name if kind == "renamed" else null(), shown.fields if listed else null())
             .join(Measure, Measure.id == shown.measure_id)
             .where(_in_force(shown, window.first if kind == "ended" else window.last)))
    if kind == "renamed":
        query = query.join(other, and_(other.measure_id == shown.measure_id, _in_force(other, window.first)))
    rows: dict[int, Compared] = {}
    for part in in_batches(measure_ids, IN_LIST_SIZE):
        for measure_id, key, name, old_name, fields in session.execute(query.where(shown.measure_id.in_(part))):
            rows[measure_id] = Compared(kind, measure_id, key, name, old_name, {str(k): str(v) for k, v in (fields or {}).items()})
    return [rows[m] for m in measure_ids if m in rows]


class Step(NamedTuple):
    """A stored changed or renamed event, as much of it as folding needs."""

    kind: str
    payload: dict[str, Any]


def stored_changes(session: Session, measure_ids: list[int], window: Window) -> dict[int, list[Step]]:
    """Measure id → its changed and renamed events in (first, last], oldest first."""
    found: dict[int, list[Step]] = {}
    for part in in_batches(measure_ids, IN_LIST_SIZE):
        # The time is checked here: offered it, SQLite walks ix_events_kind_created's window for
        # every batch (1 s for 10,000 measures) instead of each measure's few events.
        query = select(Event.measure_id, Event.kind, Event.payload, Event.created_at, Event.id).where(Event.measure_id.in_(part), Event.kind.in_(_STEPS))
        rows = sorted((row for row in session.execute(query) if window.first < row.created_at <= window.last), key=lambda row: (row.created_at, row.id))
        for measure_id, kind, payload, _, _ in rows:
            found.setdefault(measure_id, []).append(Step(kind, payload))
    return found


def generation(session: Session, source_id: str) -> tuple[int, int]:
    """The source's newest snapshot and event ids: every write that moves its versions (a run,
    a rekey, a rebaseline) adds one, so a comparison read at the same generation still holds."""
    snapshot = session.scalar(select(func.max(Snapshot.id)).where(Snapshot.source_id == source_id))
    event = session.scalar(select(Event.id).where(Event.source_id == source_id).order_by(Event.created_at.desc(), Event.id.desc()).limit(1))
    return snapshot or 0, event or 0
