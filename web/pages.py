"""The HTML pages and the Atom feeds. Parameters arrive as text and are checked in web.params."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from monitor.config import WebSettings

from web.chart import history_chart
from web.context import reader, render, state_of
from web.feeds import atom_feed
from web.labels import KINDS, LINK_STATES
from web.overview import overview_page
from web.listing import column_classes, mark_phones, name_column
from web.params import check_range, parse_date, parse_id, parse_kinds, parse_page, parse_source, parse_state
from web.repairs import link_repairs
from web.schemas import EventView
from web.views import ChangeFilter, Reader

__all__ = ["feed_base", "router"]

router = APIRouter(include_in_schema=False)
Read = Annotated[Reader, Depends(reader)]
Text = Annotated[str | None, Query()]
FEED_SIZE = 50


def _query(**params: object) -> str:
    """A query string of the non-empty ``params`` (lists repeat the key), for pagination links."""
    pairs = [(k, v) for k, value in params.items() for v in (value if isinstance(value, list) else [value]) if v not in (None, "")]
    return "?" + urlencode(pairs) if pairs else ""


@router.get("/", response_class=HTMLResponse)
def index(request: Request, read: Read, page: Text = None) -> Response:
    number = parse_page(page, read.t)
    overview = overview_page(read, number, state_of(request).clock())
    return render(
        request, "index.html", overview=overview,
        prev=_query(page=number - 1) if number > 1 else None, next=_query(page=number + 1) if number < overview.pages else None,
    )


@router.get("/changes", response_class=HTMLResponse)
def changes(request: Request, read: Read, source: Text = None, kind: Annotated[list[str] | None, Query()] = None,
            date_from: Annotated[str | None, Query(alias="from")] = None, date_to: Annotated[str | None, Query(alias="to")] = None,
            page: Text = None) -> Response:
    t = read.t
    filters = ChangeFilter(parse_source(source, t), parse_kinds(kind or [], t), parse_date(date_from, t), parse_date(date_to, t))
    check_range(filters.first, filters.last, t)
    number = parse_page(page, t)
    found = read.changes(filters, number)
    keep = {"source": filters.source_id, "kind": filters.kinds or [], "from": date_from, "to": date_to}
    return render(
        request, "changes.html", changes=found, filters=filters, kinds=KINDS, sources=read.titles,
        newer=_query(**keep, page=number - 1) if number > 1 else None, older=_query(**keep, page=number + 1) if found.has_next else None,
    )


@router.get("/sources/{source_id}", response_class=HTMLResponse)
def source(request: Request, read: Read, source_id: str, as_of: Text = None, page: Text = None) -> Response:
    t = read.t
    day, number = parse_date(as_of, t), parse_page(page, t)
    listing = read.source_list(parse_source(source_id, t) or "", day, number, state_of(request).clock(), counts=False)
    keep = {"as_of": day.isoformat() if day else None}
    since, named = read.monitored_since(listing.source.id), name_column(listing.columns, listing.measures)
    return render(
        request, "source.html", listing=listing, classes=column_classes(listing.columns, listing.measures, named),
        name_column=named, phones=mark_phones, monitored_since=since,
        before_monitoring=day is not None and since is not None and day < since,
        prev=_query(**keep, page=number - 1) if number > 1 else None, next=_query(**keep, page=number + 1) if listing.has_next else None,
    )


@router.get("/measures/{measure_id}", response_class=HTMLResponse)
def measure(request: Request, read: Read, measure_id: str) -> Response:
    return render(request, "measure.html", measure=read.measure(parse_id(measure_id, "no_measure", read.t)))


@router.get("/links", response_class=HTMLResponse)
def links(request: Request, read: Read, state: Text = None, page: Text = None) -> Response:
    chosen, number = parse_state(state, read.t), parse_page(page, read.t)
    found = read.links(chosen, number)
    return render(
        request, "links.html", links=found, states=LINK_STATES,
        prev=_query(state=chosen, page=number - 1) if number > 1 else None, next=_query(state=chosen, page=number + 1) if found.has_next else None,
    )


@router.get("/links/{link_id}", response_class=HTMLResponse)
def link(request: Request, read: Read, link_id: str) -> Response:
    found = read.link(parse_id(link_id, "no_link", read.t))
    repairs = link_repairs(read, found.id, request.scope.get("root_path", ""))
    return render(request, "link.html", link=found, repairs=repairs, chart=history_chart(found.checks, read.t, read.tz))


def feed_base(settings: WebSettings) -> str:
    """Where feed links point: ``web.base_url``, else the address ``serve`` listens on.

    Never the request's Host header: anyone can send one, and a feed reader or cache would
    then hand every subscriber links to the sender's host.
    """
    if settings.base_url:
        return settings.base_url
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}"


def _feed(request: Request, events: list[EventView], path: str, title: str, page: str = "/changes") -> Response:
    state = state_of(request)
    body = atom_feed(events, base_url=feed_base(state.settings), feed_path=path, title=title, t=state.labels, now=state.clock(), page_path=page)
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@router.get("/feed.atom")
def feed(request: Request, read: Read) -> Response:
    return _feed(request, read.changes(ChangeFilter(), 1, size=FEED_SIZE).items, "/feed.atom", read.t.feed_title)


@router.get("/sources/{source_id}/feed.atom")
def source_feed(request: Request, read: Read, source_id: str) -> Response:
    source_id = parse_source(source_id, read.t) or ""
    events = read.changes(ChangeFilter(source_id=source_id), 1, size=FEED_SIZE).items
    title = read.t.format("feed_source_title", title=read.titles.get(source_id, source_id))
    return _feed(request, events, f"/sources/{source_id}/feed.atom", title, "/changes" + _query(source=source_id))


@router.get("/api-guide", response_class=HTMLResponse)
def api_guide(request: Request, read: Read) -> Response:
    return render(request, "api.html", sources=read.titles, base=feed_base(state_of(request).settings))
