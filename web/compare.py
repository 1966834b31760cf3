"""A list compared between two dates: ``/sources/{id}/compare?from=…&to=…`` as a page, JSON and CSV.

What the list held at the end of each day (local time) is read from the versioned tables; what
changed in a measure listed on both days is what the pipeline stored in between (its
``changed``/``renamed`` events), folded to the first old and the last new text of each column,
so a field edited and edited back is no change, and nothing is decided a second time here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from monitor.events import ChangedFields, EventKind, FieldChange as StoredChange, Renamed, read_payload
from store.compare import Listed, listed_at, stored_changes
from store.models import Event, Source

from web.api import ERRORS
from web.context import reader, render
from web.errors import BadRequest, NotFound
from web.export import CSV, csv_bytes, download
from web.params import check_range, parse_date, parse_source
from web.textdiff import FieldChange, shown_changes
from web.views import Reader, day_start

__all__ = ["Comparison", "ComparedMeasure", "api", "compare", "fold", "pages"]

Read = Annotated[Reader, Depends(reader)]
Text = Annotated[str | None, Query()]
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", responses=ERRORS)


class ComparedMeasure(BaseModel):
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
    added: list[ComparedMeasure]
    ended: list[ComparedMeasure]
    renamed: list[ComparedMeasure]
    changed: list[ComparedMeasure]


def fold(events: Iterable[Event]) -> tuple[dict[str, StoredChange], tuple[str, str] | None]:
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


def _listed(measure: Listed) -> ComparedMeasure:
    return ComparedMeasure(measure_id=measure.measure_id, key=measure.key, name=measure.name,
                           fields={str(k): str(v) for k, v in measure.fields.items()})


def compare(read: Reader, source_id: str, first: date, last: date) -> Comparison:
    source = read.session.get(Source, source_id)
    if source is None:
        raise NotFound(read.t.format("no_source", value=source_id[:80]))
    since = read.monitored_since(source_id)
    # Before monitoring began nothing was recorded: the first list fetched stands for those days.
    until_first, until_last = _end_of(max(first, since) if since else first, read), _end_of(last, read)
    before, after = listed_at(read.session, source_id, until_first), listed_at(read.session, source_id, until_last)
    kept = [mid for mid in after if mid in before and before[mid].version_id != after[mid].version_id]
    steps: dict[int, list[Event]] = {}
    for event in stored_changes(read.session, kept, until_first, until_last, (EventKind.CHANGED, EventKind.RENAMED)):
        steps.setdefault(event.measure_id or 0, []).append(event)
    renamed: list[ComparedMeasure] = []
    changed: list[ComparedMeasure] = []
    for measure_id in kept:
        changes, names = fold(steps.get(measure_id, []))
        if not changes and names is None:
            continue  # a new version the pipeline judged no change (width, spacing)
        now = after[measure_id]
        entry = ComparedMeasure(measure_id=measure_id, key=now.key, name=now.name, changes=shown_changes(changes),
                                old_name=names[0] if names else None)
        (renamed if names else changed).append(entry)
    return Comparison(
        source_id=source_id, source_title=source.title, date_from=first, date_to=last,
        monitored_since=since,
        added=[_listed(after[m]) for m in after if m not in before], ended=[_listed(before[m]) for m in before if m not in after],
        renamed=renamed, changed=changed,
    )


def _end_of(day: date, read: Reader) -> datetime:
    """The last moment of ``day`` in the configured time zone: "the list on a day" is as it ended."""
    return day_start(day, read.tz, next_day=True) - timedelta(microseconds=1)


def _dates(read: Reader, date_from: str | None, date_to: str | None) -> tuple[date, date]:
    first, last = parse_date(date_from, read.t), parse_date(date_to, read.t)
    if first is None or last is None:
        raise BadRequest(read.t.compare_needs_dates)
    check_range(first, last, read.t)
    return first, last


def _compared(read: Reader, source_id: str, date_from: str | None, date_to: str | None) -> Comparison:
    chosen = parse_source(source_id, read.t) or ""
    return compare(read, chosen, *_dates(read, date_from, date_to))


From = Annotated[str | None, Query(alias="from")]
To = Annotated[str | None, Query(alias="to")]


@pages.get("/sources/{source_id}/compare", response_class=HTMLResponse)
def compare_page(request: Request, read: Read, source_id: str, date_from: From = None, date_to: To = None) -> Response:
    return render(request, "compare.html", comparison=_compared(read, source_id, date_from, date_to))


@pages.get("/sources/{source_id}/compare.csv")
def compare_csv(read: Read, source_id: str, date_from: From = None, date_to: To = None) -> Response:
    found = _compared(read, source_id, date_from, date_to)
    rows: list[list[str]] = []
    for change, measures in (("added", found.added), ("ended", found.ended), ("renamed", found.renamed), ("changed", found.changed)):
        for m in measures:
            if change == "renamed":
                rows.append([change, str(m.measure_id), m.key, m.name, "(name)", m.old_name or "", m.name])
            rows += [[change, str(m.measure_id), m.key, m.name, c, f.old, f.new] for c, f in m.changes.items()]
            if change in ("added", "ended"):
                rows += [[change, str(m.measure_id), m.key, m.name, c, "" if change == "added" else v, v if change == "added" else ""]
                         for c, v in m.fields.items()]
    body = csv_bytes(["change", "measure_id", "key", "name", "column", "old", "new"], rows)
    return download(body, f"{found.source_id}-{found.date_from}-{found.date_to}.csv", CSV)


@api.get("/sources/{source_id}/compare", response_model=Comparison,
         summary="The list on two dates: measures added, ended, renamed and changed (old → new) in between")
def compare_json(read: Read, source_id: str, date_from: From = None, date_to: To = None) -> Comparison:
    return _compared(read, source_id, date_from, date_to)
