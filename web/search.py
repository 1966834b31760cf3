"""Search across every list, and downloads: ``/search``, ``/api/search``, ``/search.csv|.xlsx``
and ``/sources/{id}.csv|.xlsx?as_of=``.

A hit is one version of a measure whose text holds every term: the current text, or a past
one (status ``ended``, with the day it stopped being listed), so a planner finds a measure
by what it used to say too. The search itself is ``store.search``. A hit that is the same
measure as one in another list (``store.siblings``) is marked with it: 「他の一覧にも掲載」.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from store.models import Measure, MeasureVersion
from store.search import search_terms, search_versions

from web.api import ERRORS
from web.context import reader, render
from web.errors import BadRequest, NotFound
from web.export import CSV, XLSX, csv_bytes, download, xlsx_bytes
from web.schemas import AlsoIn
from web.siblings import also_in
from web.params import MAX_PAGE, bounded_int, parse_date, parse_page, parse_source
from web.views import Reader, day_start

__all__ = ["SearchHit", "SearchPage", "pages", "api", "MAX_QUERY", "MAX_TERMS", "MAX_LIMIT", "EXPORT_HITS"]

MAX_QUERY, MAX_TERMS, MAX_LIMIT = 200, 8, 100
EXPORT_HITS = 10_000  # a search export holds the newest this many hits
Read = Annotated[Reader, Depends(reader)]
Text = Annotated[str | None, Query()]
FORMATS = {"csv": CSV, "xlsx": XLSX}


class SearchHit(BaseModel):
    measure_id: int
    version_id: int
    source_id: str
    source_title: str
    name: str
    status: Literal["current", "ended"]
    ended_on: date | None  # the local day this text stopped being listed
    measure_listed: bool  # the measure is listed now (with other text, when status is ended)
    valid_from: datetime
    fields: dict[str, str]
    page: str
    also_in: list[AlsoIn] = []


class SearchPage(BaseModel):
    q: str
    page: int
    limit: int
    has_next: bool
    items: list[SearchHit]


def parse_query(q: str | None, read: Reader) -> list[str]:
    terms = search_terms(q or "")
    if len(q or "") > MAX_QUERY or len(terms) > MAX_TERMS:
        raise BadRequest(read.t.format("bad_query", most=MAX_QUERY, terms=MAX_TERMS))
    return terms


def parse_limit(value: str | None, read: Reader) -> int:
    if value is None or not value.strip():
        return min(read.size, MAX_LIMIT)
    number = bounded_int(value.strip(), MAX_LIMIT)
    if number is None:
        raise BadRequest(read.t.format("bad_limit", value=value.strip()[:40], most=MAX_LIMIT))
    return number


def _hit(read: Reader, measure: Measure, version: MeasureVersion, others: list[AlsoIn]) -> SearchHit:
    return SearchHit(
        measure_id=measure.id, version_id=version.id, source_id=version.source_id, source_title=read.titles.get(version.source_id, version.source_id),
        name=version.name, status="current" if version.valid_to is None else "ended",
        ended_on=version.valid_to.astimezone(read.tz).date() if version.valid_to else None, measure_listed=measure.ended_at is None,
        valid_from=version.valid_from, fields={str(k): str(v) for k, v in version.fields.items()}, page=f"/measures/{measure.id}",
        also_in=others,
    )


def find(read: Reader, q: str, terms: list[str], page: int, limit: int) -> SearchPage:
    rows = search_versions(read.session, terms, limit=limit + 1, offset=(page - 1) * limit) if terms else []
    shown = rows[:limit]
    others = also_in(read.session, sorted({m.id for m, _ in shown}))
    return SearchPage(q=q, page=page, limit=limit, has_next=len(rows) > limit, items=[_hit(read, m, v, others.get(m.id, [])) for m, v in shown])


def _columns(fields: list[dict[str, str]]) -> list[str]:
    columns: list[str] = []
    for row in fields:
        columns.extend(c for c in row if c not in columns)
    return columns


def _file(fmt: str, header: list[str], rows: list[list[str]], name: str) -> Response:
    body = csv_bytes(header, rows) if fmt == "csv" else xlsx_bytes(header, rows, name)
    return download(body, f"{name}.{fmt}", FORMATS[fmt])


pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", responses=ERRORS)


@pages.get("/search", response_class=HTMLResponse)
def search_page(request: Request, read: Read, q: Text = None, page: Text = None, limit: Text = None) -> Response:
    terms, number, size = parse_query(q, read), parse_page(page, read.t), parse_limit(limit, read)
    found = find(read, " ".join(terms), terms, number, size)
    return render(request, "search.html", found=found, terms=terms)


def search_export(read: Reader, fmt: str, q: str | None) -> Response:
    terms = parse_query(q, read)
    hits = find(read, " ".join(terms), terms, 1, EXPORT_HITS).items
    columns = _columns([hit.fields for hit in hits])
    header = ["list", "status", "ended_on", "measure_id", "measure_url", *columns]
    rows = [[hit.source_title, hit.status, hit.ended_on.isoformat() if hit.ended_on else "", str(hit.measure_id), hit.page,
             *(hit.fields.get(c, "") for c in columns)] for hit in hits]
    return _file(fmt, header, rows, "search")


def source_export(read: Reader, source_id: str, fmt: str, as_of: str | None) -> Response:
    found = parse_source(source_id, read.t) or ""
    if found not in read.titles:
        raise NotFound(read.t.format("no_source", value=source_id[:80]))
    day = parse_date(as_of, read.t)
    # As on the list page: the list at the end of that day, local time.
    when = day_start(day, read.tz, next_day=True) - timedelta(microseconds=1) if day else None
    listed = read.published_rows(found, when)
    columns = _columns([m.fields for m in listed])
    rows = [[str(m.measure_id), *(m.fields.get(c, "") for c in columns)] for m in listed]
    return _file(fmt, ["measure_id", *columns], rows, f"{found}-{day.isoformat() if day else 'current'}")


# One route per format: a source id may hold a dot, so /sources/{id}.{fmt} would take /sources/a.b.
@pages.get("/search.csv")
def search_csv(read: Read, q: Text = None) -> Response:
    return search_export(read, "csv", q)


@pages.get("/search.xlsx")
def search_xlsx(read: Read, q: Text = None) -> Response:
    return search_export(read, "xlsx", q)


@pages.get("/sources/{source_id}.csv")
def source_csv(read: Read, source_id: str, as_of: Text = None) -> Response:
    return source_export(read, source_id, "csv", as_of)


@pages.get("/sources/{source_id}.xlsx")
def source_xlsx(read: Read, source_id: str, as_of: Text = None) -> Response:
    return source_export(read, source_id, "xlsx", as_of)


@api.get("/search", response_model=SearchPage, summary="Measure versions, current and past, whose text holds every word of q")
def search_api(
    read: Read, q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY, description="Words separated by spaces; each must be found")],
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1, limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> SearchPage:
    terms = parse_query(q, read)
    return find(read, " ".join(terms), terms, page, limit)
