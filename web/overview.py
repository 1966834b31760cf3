"""The overview of the watched lists, a page at a time: ``/`` and ``/api/sources``.

A page costs the same whether 10 or 30,000 lists are watched: the sources of the page and
their newest runs come from one query (``store.overview``), their recent changes and dead
links from one grouped query each, never a query per source.
"""

from __future__ import annotations

import re
from datetime import datetime

from store.overview import sources_page

from web.errors import BadRequest
from web.schemas import Overview, SourcesPage
from web.views import ChangeFilter, Reader, source_summaries

__all__ = ["CURSOR", "overview_page", "sources_api_page"]

# A cursor is the (retired, id) of the last source of a page: "0:tokyo-tama" or "1:old-list".
CURSOR = r"^[01]:[a-z0-9][a-z0-9._-]{0,79}$"
_CURSOR = re.compile(CURSOR)
LATEST = 20


def overview_page(read: Reader, page: int, now: datetime) -> Overview:
    """Page ``page`` of the lists (``web.page_size`` a page) and the latest events."""
    found = sources_page(read.session, limit=read.size, offset=(page - 1) * read.size)
    return Overview(
        sources=source_summaries(read.session, found.rows, now), latest=read.changes(ChangeFilter(), 1, size=LATEST).items,
        page=page, pages=max(1, -(-found.total // read.size)), total=found.total,
    )


def _after(cursor: str) -> tuple[bool, str]:
    if not _CURSOR.match(cursor):
        raise BadRequest(f"cursor {cursor[:90]!r} is not one this API gave (next_cursor of a page, e.g. 0:tokyo-tama)")
    retired, source_id = cursor.split(":", 1)
    return retired == "1", source_id


def sources_api_page(read: Reader, now: datetime, *, page: int, limit: int | None, cursor: str | None) -> SourcesPage:
    """``limit`` lists (default ``web.page_size``) from page ``page``, or right after ``cursor``."""
    size = limit or read.size
    if cursor is not None and page != 1:
        raise BadRequest("give page or cursor, not both: a cursor already says where the page starts")
    after = _after(cursor) if cursor is not None else None
    found = sources_page(read.session, limit=size, offset=0 if after else (page - 1) * size, after=after)
    last = found.rows[-1] if found.rows and found.has_next else None
    return SourcesPage(
        items=source_summaries(read.session, found.rows, now), total=found.total, page=page, limit=size, has_next=found.has_next,
        next_cursor=f"{int(last.retired)}:{last.id}" if last else None,
    )
