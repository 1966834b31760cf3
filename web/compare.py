"""A list compared between two dates: ``/sources/{id}/compare?from=…&to=…`` as a page, JSON and CSV.

What the list held at the end of each day (local time) is read from the versioned tables; what
changed in a measure listed on both days is what the pipeline stored in between (its
``changed``/``renamed`` events), folded to the first old and the last new text of each column,
so nothing is decided a second time here. Which measure is of which kind is decided in the
database (store.compare) and kept until the source is written again (a list of 50,000 changes
is classified once, not on every page); only the measures shown are read, folded and
word-diffed. The CSV streams the whole comparison, read a batch at a time.
"""

from __future__ import annotations

import threading
import weakref
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from monitor.events import ChangedFields, FieldChange as StoredChange, Renamed, read_payload
from store.batches import in_batches
from store.compare import KINDS, Compared, Step, Window, compared, generation, kinds, stored_changes
from store.models import Event, Source

from web.api import ERRORS, MAX_LIMIT
from web.context import reader, render, state_of
from web.errors import BadRequest, NotFound
from web.export import CSV, csv_chunks, streamed_download
from web.params import MAX_PAGE, bounded_int, check_range, parse_date, parse_page, parse_source
from web.textdiff import FieldChange, shown_changes
from web.views import Reader, day_start

__all__ = ["Comparison", "ComparedMeasure", "PAGE", "api", "classified", "fold", "pages", "window_of"]

Read = Annotated[Reader, Depends(reader)]
Kind = Literal["added", "ended", "renamed", "changed"]
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", responses=ERRORS)
_STEPPED = ("renamed", "changed")
PAGE = 200  # measures a page: a list changed wholesale is read 200 at a time
CURSOR = r"^(added|ended|renamed|changed):[0-9]{1,12}$"
CSV_BATCH = 500


class ComparedMeasure(BaseModel):
    change: Kind
    measure_id: int
    key: str
    name: str
    old_name: str | None = None  # renamed only
    fields: dict[str, str] = {}  # added and ended: what it said
    changes: dict[str, FieldChange] = {}  # changed and renamed: old → new, with a word diff when long


class Comparison(BaseModel):
    source_id: str
    source_title: str
    date_from: date
    date_to: date
    monitored_since: date | None  # the first good snapshot; a date before it shows the list as first seen
    counts: dict[str, int]
    """Every measure of each kind between the two dates, whatever page this is."""
    kind: Kind | None
    """The kind asked for, or None: every kind in turn (added, ended, renamed, changed)."""
    items: list[ComparedMeasure]
    total: int
    page: int
    limit: int
    has_next: bool
    next_cursor: str | None
    """Pass as ``cursor`` for the page after this one."""
    added: list[ComparedMeasure]
    """This page's items of each kind (added, ended, renamed, changed), as before pages."""
    ended: list[ComparedMeasure]
    renamed: list[ComparedMeasure]
    changed: list[ComparedMeasure]


def fold(events: Iterable[Step | Event]) -> tuple[dict[str, StoredChange], tuple[str, str] | None]:
    """The stored steps of one measure, oldest first, as one step: each column's first old and last
    new text (dropped when they are the same), and the first old and last new name if it was renamed."""
    first_old: dict[str, str] = {}
    last_new: dict[str, str] = {}
    names: list[tuple[str, str]] = []
    for event in events:
        data = read_payload(event.kind, event.payload)
        if not isinstance(data, ChangedFields):
            continue
        for column, change in data.fields.items():
            first_old.setdefault(column, change.old)
            last_new[column] = change.new
        if isinstance(data, Renamed):
            names.append((data.old_name, data.new_name))
    changes = {c: StoredChange(first_old[c], last_new[c]) for c in first_old if first_old[c] != last_new[c]}
    renamed = (names[0][0], names[-1][1]) if names and names[0][0] != names[-1][1] else None
    return changes, renamed


# Engine → (source, from, to, generation) → ids by kind: the few comparisons being paged through.
_KEPT = 16
_classified: weakref.WeakKeyDictionary[Engine, OrderedDict[tuple[object, ...], dict[str, list[int]]]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def classified(session: Session, window: Window) -> dict[str, list[int]]:
    """``store.compare.kinds`` of ``window``, read again only when the source has been written since."""
    engine = session.get_bind()
    key = (*window, generation(session, window.source_id))
    with _lock:
        kept = _classified.setdefault(engine, OrderedDict()) if isinstance(engine, Engine) else OrderedDict()
        if key in kept:
            kept.move_to_end(key)
            return kept[key]
    found = kinds(session, window)
    with _lock:
        kept[key] = found
        while len(kept) > _KEPT:
            kept.popitem(last=False)
    return found


def window_of(read: Reader, source_id: str, first: date, last: date) -> tuple[Source, Window, date | None]:
    source = read.session.get(Source, source_id)
    if source is None:
        raise NotFound(read.t.format("no_source", value=source_id[:80]))
    since = read.monitored_since(source_id)
    # Before monitoring began nothing was recorded: the first list fetched stands for those days.
    return source, Window(source_id, _end_of(max(first, since) if since else first, read), _end_of(last, read)), since


def _end_of(day: date, read: Reader) -> datetime:
    """The last moment of ``day`` in the configured time zone: "the list on a day" is as it ended."""
    return day_start(day, read.tz, next_day=True) - timedelta(microseconds=1)


def shown(session: Session, window: Window, picked: list[tuple[str, int]]) -> list[ComparedMeasure]:
    """The picked measures (kind, id) as shown: what they said, or their folded, word-diffed changes."""
    rows: dict[int, Compared] = {}
    for kind in KINDS:
        rows.update((row.measure_id, row) for row in compared(session, window, kind, [m for k, m in picked if k == kind]))
    steps = stored_changes(session, [m for k, m in picked if k in _STEPPED], window)
    found = []
    for kind, measure_id in picked:
        row = rows.get(measure_id)
        if row is not None:
            changes = shown_changes(fold(steps.get(measure_id, []))[0]) if kind in _STEPPED else {}
            found.append(ComparedMeasure(change=row.kind, measure_id=measure_id, key=row.key, name=row.name,
                                         old_name=row.old_name, fields=row.fields, changes=changes))
    return found


def _start(by_kind: dict[str, list[int]], order: tuple[str, ...], page: int, limit: int, cursor: str | None) -> int:
    """Where in ``order``'s kinds, one after the other, a page starts."""
    if cursor is None:
        return (page - 1) * limit
    kind, after = cursor.split(":")
    if kind not in order:
        raise BadRequest(f"cursor {cursor!r} is of kind {kind}, not of kind={order[0]} asked for")
    before = sum(len(by_kind[k]) for k in order[:order.index(kind)])
    return before + bisect_right(by_kind[kind], int(after))


def _slice(by_kind: dict[str, list[int]], order: tuple[str, ...], start: int, limit: int) -> list[tuple[str, int]]:
    picked: list[tuple[str, int]] = []
    for kind in order:
        ids = by_kind[kind]
        picked += [(kind, m) for m in ids[max(start, 0):max(start, 0) + limit - len(picked)]]
        start -= len(ids)
        if len(picked) == limit:
            break
    return picked


def compare(read: Reader, source_id: str, first: date, last: date, *, kind: str | None = None,
            page: int = 1, limit: int = PAGE, cursor: str | None = None) -> Comparison:
    """One page (``limit`` measures) of the comparison: of ``kind``, or of every kind in turn."""
    if cursor is not None and page != 1:
        raise BadRequest("give page or cursor, not both: a cursor already says where the page starts")
    source, window, since = window_of(read, source_id, first, last)
    by_kind = classified(read.session, window)
    order = (kind,) if kind else KINDS
    start = _start(by_kind, order, page, limit, cursor)
    total = sum(len(by_kind[k]) for k in order)
    items = shown(read.session, window, _slice(by_kind, order, start, limit))
    has_next = start + len(items) < total
    return Comparison(
        source_id=source_id, source_title=source.title, date_from=first, date_to=last, monitored_since=since,
        counts={k: len(by_kind[k]) for k in KINDS}, kind=kind,
        items=items, total=total, page=page, limit=limit, has_next=has_next,
        next_cursor=f"{items[-1].change}:{items[-1].measure_id}" if has_next and items else None,
        **{k: [m for m in items if m.change == k] for k in KINDS},
    )


def _dates(read: Reader, date_from: str | None, date_to: str | None) -> tuple[date, date]:
    first, last = parse_date(date_from, read.t), parse_date(date_to, read.t)
    if first is None or last is None:
        raise BadRequest(read.t.compare_needs_dates)
    check_range(first, last, read.t)
    return first, last


def _kind(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if value.strip() not in KINDS:
        raise BadRequest(f"kind={value[:40]!r} is not one of {', '.join(KINDS)}")
    return value.strip()


def _limit(value: str | None) -> int:
    if value is None or not value.strip():
        return PAGE
    number = bounded_int(value.strip(), MAX_LIMIT)
    if number is None:
        raise BadRequest(f"limit={value[:40]!r} is not a number from 1 to {MAX_LIMIT}")
    return number


From = Annotated[str | None, Query(alias="from")]
To = Annotated[str | None, Query(alias="to")]
Text = Annotated[str | None, Query()]


@pages.get("/sources/{source_id}/compare", response_class=HTMLResponse)
def compare_page(request: Request, read: Read, source_id: str, date_from: From = None, date_to: To = None,
                 kind: Text = None, page: Text = None, limit: Text = None) -> Response:
    """The counts of each kind, then each kind's first page; with ``kind``, that kind a page at a time."""
    chosen, (first, last) = parse_source(source_id, read.t) or "", _dates(read, date_from, date_to)
    asked, size, number = _kind(kind), _limit(limit), parse_page(page, read.t)
    sections = [compare(read, chosen, first, last, kind=k, page=number if asked else 1, limit=size) for k in ((asked,) if asked else KINDS)]
    return render(request, "compare.html", comparison=sections[0], sections=sections, asked=asked)


@pages.get("/sources/{source_id}/compare.csv")
def compare_csv(request: Request, read: Read, source_id: str, date_from: From = None, date_to: To = None) -> Response:
    """The whole comparison, one row per field, streamed: its own session, as the request's closes first."""
    chosen, (first, last) = parse_source(source_id, read.t) or "", _dates(read, date_from, date_to)
    _, window, _ = window_of(read, chosen, first, last)
    sessions = state_of(request).sessions

    def rows() -> Iterator[list[str]]:
        with sessions() as session:
            by_kind = classified(session, window)
            for kind in KINDS:
                for part in in_batches(by_kind[kind], CSV_BATCH):
                    steps = stored_changes(session, part, window) if kind in _STEPPED else {}
                    for row in compared(session, window, kind, part):
                        yield from _csv_rows(row, fold(steps.get(row.measure_id, []))[0])

    return streamed_download(csv_chunks(CSV_HEADER, rows()), f"{chosen}-{first}-{last}.csv", CSV)


CSV_HEADER = ("change", "measure_id", "key", "name", "column", "old", "new")


def _csv_rows(row: Compared, changes: dict[str, StoredChange]) -> Iterator[list[str]]:
    """A measure's rows: its rename, each changed field old → new, or what an added (new) or ended (old) one said."""
    head = [row.kind, str(row.measure_id), row.key, row.name]
    if row.old_name is not None:
        yield [*head, "(name)", row.old_name, row.name]
    for column, change in changes.items():
        yield [*head, column, change.old, change.new]
    for column, value in row.fields.items():
        yield [*head, column, *(("", value) if row.kind == "added" else (value, ""))]


@api.get("/sources/{source_id}/compare", response_model=Comparison,
         summary="The list on two dates: measures added, ended, renamed and changed (old → new) in between, a page at a time")
def compare_json(
    read: Read, source_id: str, date_from: From = None, date_to: To = None, kind: Kind | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Measures per page (default {PAGE})")] = PAGE,
    cursor: Annotated[str | None, Query(pattern=CURSOR, max_length=21, description="next_cursor of the page before (instead of page)")] = None,
) -> Comparison:
    chosen, (first, last) = parse_source(source_id, read.t) or "", _dates(read, date_from, date_to)
    return compare(read, chosen, first, last, kind=kind, page=page, limit=limit, cursor=cursor)
