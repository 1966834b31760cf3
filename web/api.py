"""``/api/...``: the same read models as JSON, described by the OpenAPI document.

Parameters are typed, so the document says what is accepted; a value that is not (page 0,
a date 2025-13-40, an unknown kind) is a 400 with a message, as on the pages, and the 422
FastAPI would document is replaced by that 400 in the document too.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.openapi.utils import get_openapi

from web.context import reader, state_of
from web.labels import KINDS, LINK_STATES
from web.params import MAX_ID, MAX_PAGE, SOURCE_ID, check_range
from web.overview import CURSOR, sources_api_page
from web.schemas import ChangesPage, EventView, LinksPage, LinkView, MeasureView, Problem, SourceList, SourcesPage
from web.views import ChangeFilter, Reader

__all__ = ["router", "install_api"]

Kind = Literal[KINDS]  # type: ignore[valid-type]
State = Literal[LINK_STATES]  # type: ignore[valid-type]
Read = Annotated[Reader, Depends(reader)]
Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1 is the newest page")]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
MAX_LIMIT = 500
SourceId = Annotated[str, Path(pattern=SOURCE_ID, max_length=80)]
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "A malformed parameter"},
    404: {"model": Problem, "description": "No such id"},
    503: {"model": Problem, "description": "The database cannot be read"},
}

router = APIRouter(prefix="/api", responses=ERRORS)


@router.get("/sources", response_model=SourcesPage, summary="The watched lists with their last run, a page at a time")
def sources(
    request: Request, read: Read, page: Page = 1,
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT, description="Lists per page (default web.page_size)")] = None,
    cursor: Annotated[str | None, Query(pattern=CURSOR, max_length=82, description="next_cursor of the page before (instead of page)")] = None,
) -> SourcesPage:
    return sources_api_page(read, state_of(request).clock(), page=page, limit=limit, cursor=cursor)


@router.get("/sources/{source_id}", response_model=SourceList, summary="A list as it stands, or as it stood on a day")
def source(request: Request, read: Read, source_id: SourceId, as_of: date | None = None, page: Page = 1) -> SourceList:
    return read.source_list(source_id, as_of, page, state_of(request).clock())


@router.get("/changes", response_model=ChangesPage, summary="Events, newest first")
def changes(
    read: Read, source: Annotated[str | None, Query(pattern=SOURCE_ID, max_length=80)] = None,
    kind: Annotated[list[Kind] | None, Query()] = None,
    date_from: Annotated[date | None, Query(alias="from", description="First day, local time")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="Last day, local time, included")] = None,
    page: Page = 1,
) -> ChangesPage:
    check_range(date_from, date_to, read.t)
    return read.changes(ChangeFilter(source, list(kind) if kind else None, date_from, date_to), page)


@router.get("/events/{event_id}", response_model=EventView, summary="One event")
def event(read: Read, event_id: Id) -> EventView:
    return read.event(event_id)


@router.get("/measures/{measure_id}", response_model=MeasureView, summary="A measure: every version, its links and events")
def measure(read: Read, measure_id: Id) -> MeasureView:
    return read.measure(measure_id)


@router.get("/links", response_model=LinksPage, summary="Links, optionally by state")
def links(read: Read, state: State | None = None, page: Page = 1) -> LinksPage:
    return read.links(state, page)


@router.get("/links/{link_id}", response_model=LinkView, summary="A link: state, citing measures, check history")
def link(read: Read, link_id: Id) -> LinkView:
    return read.link(link_id)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with its 422 responses replaced by the 400 this API really sends."""
    if app.openapi_schema is None:
        document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
        schemas = document.get("components", {}).get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        app.openapi_schema = document
    return app.openapi_schema


def install_api(app: FastAPI) -> None:
    app.include_router(router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
