"""What the pages and the JSON API show: plain pydantic models, filled by ``web.views``.

The HTML templates and ``/api/...`` read the same objects, so the two never disagree; the
API's OpenAPI document is generated from these classes. Times are aware UTC datetimes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from web.textdiff import DiffRun, FieldChange

__all__ = [
    "Problem", "EventView", "SourceSummary", "Overview", "SourcesPage", "ChangesPage", "ListedMeasure", "SourceList",
    "FieldView", "VersionView", "LinkSummary", "CitedLink", "MeasureView", "AlsoIn", "CheckView", "CitingMeasure", "LinkView",
    "LinksPage", "DiffRun", "FieldChange",
]


class Problem(BaseModel):
    """An error: the status and a message meant for a person."""

    status: int
    detail: str


class EventView(BaseModel):
    id: int
    kind: str
    kind_label: str
    created_at: datetime
    source_id: str | None
    source_title: str | None
    measure_id: int | None
    link_id: int | None
    summary: str
    details: list[str]
    fields: list[FieldChange]
    url: str | None
    """A URL from the payload, as text (it is a link only when it is http(s))."""
    page: str
    """The path of the page that shows what this event is about."""
    payload: dict[str, Any]


class SourceSummary(BaseModel):
    id: str
    title: str
    url: str
    retired: bool
    last_run_at: datetime | None
    last_status: str | None
    last_error: str | None
    edition: str | None
    records: int | None
    recent_changes: dict[str, int]
    dead_links: int


class Overview(BaseModel):
    """``/``: one page of the watched lists (current ones first, by id) and the latest events."""

    sources: list[SourceSummary]
    latest: list[EventView]
    page: int = 1
    pages: int = 1
    total: int = 0


class SourcesPage(BaseModel):
    """``/api/sources``: one page of the watched lists, current ones first, each by id."""

    items: list[SourceSummary]
    total: int
    """How many lists are stored, retired ones included."""
    page: int
    limit: int
    has_next: bool
    next_cursor: str | None
    """Pass as ``cursor`` for the page after this one (read by key, as fast at the end as at the start)."""


class ChangesPage(BaseModel):
    page: int
    has_next: bool
    items: list[EventView]


class ListedMeasure(BaseModel):
    measure_id: int
    version_id: int
    key: str
    name: str
    fields: dict[str, str]
    valid_from: datetime
    valid_to: datetime | None


class SourceList(BaseModel):
    source: SourceSummary
    as_of: date | None
    total: int
    page: int
    has_next: bool
    columns: list[str]
    measures: list[ListedMeasure]


class FieldView(BaseModel):
    column: str
    value: str
    change: FieldChange | None


class VersionView(BaseModel):
    id: int
    number: int
    valid_from: datetime
    valid_to: datetime | None
    end_date: date | None
    name: str
    fields: list[FieldView]


class LinkSummary(BaseModel):
    id: int
    url: str
    state: str
    outcome: str | None
    http_status: int | None
    since: datetime | None
    last_checked_at: datetime | None
    consecutive_failures: int


class CitedLink(LinkSummary):
    current: bool
    """Cited by the measure's current version (else only by older versions)."""


class AlsoIn(BaseModel):
    """The same measure in another list (store.siblings): its page, and the name both lists gave it."""

    measure_id: int
    source_id: str
    source_title: str
    name: str
    shared_name: str
    """Differs from ``name`` when the other list renamed it since."""
    ended: bool
    page: str


class MeasureView(BaseModel):
    id: int
    source_id: str
    source_title: str
    key: str
    name: str
    first_seen_at: datetime
    ended_at: datetime | None
    expired_end_date: date | None
    versions: list[VersionView]
    """Newest first."""
    links: list[CitedLink]
    events: list[EventView]
    also_in: list[AlsoIn] = []
    """The same measure in other lists: same name (now or once) and close content."""


class CheckView(BaseModel):
    checked_at: datetime
    outcome: str
    http_status: int | None
    elapsed_ms: int | None
    final_url: str | None
    error: str | None


class CitingMeasure(BaseModel):
    measure_id: int
    name: str
    source_id: str
    current: bool


class LinkView(LinkSummary):
    host: str
    cited: bool
    first_seen_at: datetime
    last_ok_at: datetime | None
    failing_since: datetime | None
    dead_since: datetime | None
    final_url: str | None
    moved_to: str | None
    measures: list[CitingMeasure]
    checks: list[CheckView]
    """Oldest first, at most the newest 1,000."""
    events: list[EventView]


class LinksPage(BaseModel):
    state: str | None
    page: int
    has_next: bool
    items: list[LinkSummary]
