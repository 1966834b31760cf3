"""What ends soon: the 「終了予定」 page, its JSON, and iCalendar feeds that calendar apps subscribe to.

A planner needs 「来年3月末で終わる施策」 months ahead, not the day after: every measure listed now
whose end date (read from its cells by the pipeline) falls within the next ``days`` days, by list
and department, and the same dates as all-day events in ``/calendar.ics`` (and one feed per list).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from monitor.inert import visible
from store.ending import Ending, department_of, ending_between
from store.models import Source

from web.api import ERRORS
from web.context import reader, render, state_of
from web.errors import BadRequest, NotFound
from web.labels import Labels
from web.pages import feed_base
from web.params import bounded_int, parse_source
from web.views import Reader

__all__ = ["api", "department_of", "ics_calendar", "pages"]

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", responses=ERRORS)
Read = Annotated[Reader, Depends(reader)]
Text = Annotated[str | None, Query()]
DEFAULT_DAYS, MAX_DAYS = 90, 3_650
# A calendar shows what ended lately too: a subscriber who opens it in April still sees March's ends.
CALENDAR_PAST = timedelta(days=92)
def _days(value: str | None, t: Labels) -> int:
    if value is None or not value.strip():
        return DEFAULT_DAYS
    days = bounded_int(value.strip(), MAX_DAYS)
    if days is None:
        raise BadRequest(t.format("bad_days", value=value.strip()[:40], most=MAX_DAYS))
    return days


def _source(read: Reader, value: str | None) -> str | None:
    source_id = parse_source(value, read.t)
    if source_id is not None and read.session.get(Source, source_id) is None:
        raise NotFound(read.t.format("no_source", value=source_id[:80]))
    return source_id


def _today(request: Request) -> date:
    state = state_of(request)
    return state.clock().astimezone(state.tz).date()


def _grouped(endings: Iterable[Ending]) -> list[tuple[str, list[tuple[str, list[Ending]]]]]:
    """(list title, [(department, endings)]) in the order of the soonest end in each."""
    lists: dict[str, dict[str, list[Ending]]] = {}
    for ending in endings:
        lists.setdefault(ending.source_title, {}).setdefault(department_of(ending.fields), []).append(ending)
    return [(title, list(departments.items())) for title, departments in lists.items()]


@pages.get("/ending", response_class=HTMLResponse)
def ending_page(request: Request, read: Read, days: Text = None, source: Text = None) -> Response:
    span, source_id, today = _days(days, read.t), _source(read, source), _today(request)
    endings = ending_between(read.session, today, today + timedelta(days=span), source_id=source_id)
    return render(request, "ending.html", groups=_grouped(endings), count=len(endings), days=span, today=today,
                  last=today + timedelta(days=span),
                  source_id=source_id, sources=read.titles, calendar=f"/sources/{source_id}/calendar.ics" if source_id else "/calendar.ics")


@api.get("/ending", summary="Measures listed now that end within the next `days` days (default 90)")
def ending_json(request: Request, read: Read, days: Text = None, source: Text = None) -> Response:
    span, source_id, today = _days(days, read.t), _source(read, source), _today(request)
    endings = ending_between(read.session, today, today + timedelta(days=span), source_id=source_id)
    return JSONResponse({"today": today.isoformat(), "days": span, "items": [
        {"measure_id": e.measure_id, "source_id": e.source_id, "source_title": e.source_title, "name": e.name,
         "end_date": e.end_date.isoformat(), "department": department_of(e.fields)} for e in endings]})


def _calendar(request: Request, read: Read, source_id: str | None, title: str) -> Response:
    today, state = _today(request), state_of(request)
    endings = ending_between(read.session, today - CALENDAR_PAST, today + timedelta(days=MAX_DAYS), source_id=source_id)
    body = ics_calendar(endings, title=title, base_url=feed_base(state.settings), now=state.clock(), t=read.t)
    return Response(body, media_type="text/calendar; charset=utf-8")


@pages.get("/calendar.ics")
def calendar(request: Request, read: Read) -> Response:
    return _calendar(request, read, None, read.t.calendar_title)


@pages.get("/sources/{source_id}/calendar.ics")
def source_calendar(request: Request, read: Read, source_id: str) -> Response:
    chosen = _source(read, source_id)
    return _calendar(request, read, chosen, read.t.format("calendar_source_title", title=read.titles.get(chosen or "", chosen)))


def ics_calendar(endings: Iterable[Ending], *, title: str, base_url: str, now: datetime, t: Labels) -> bytes:
    """One all-day VEVENT per measure on its end date; the UID stays the same while the date does,
    so a subscribed calendar updates an event instead of doubling it."""
    from icalendar import Calendar, Event  # only for the calendar feeds

    feed = Calendar()
    feed.add("prodid", "-//sesaku-monitor//ending//JA")
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    # A title from config.yaml may end in a newline (``title: |``); icalendar asserts on one here.
    feed.add("x-wr-calname", visible(" ".join(title.split())))
    for ending in endings:
        event = Event()
        event.add("uid", f"measure-{ending.measure_id}-{ending.end_date:%Y%m%d}@sesaku-monitor")
        event.add("dtstamp", now)
        event.add("dtstart", ending.end_date)
        event.add("dtend", ending.end_date + timedelta(days=1))
        event.add("summary", visible(t.format("calendar_event", name=ending.name)))
        department = department_of(ending.fields)
        event.add("description", visible("\n".join(part for part in (ending.source_title, department) if part)))
        event.add("url", f"{base_url.rstrip('/')}/measures/{ending.measure_id}")
        event.add("transp", "TRANSPARENT")
        feed.add_component(event)
    return feed.to_ical()
