"""What to write instead of a dead or moved link: its stored repair suggestions, and a dead page's copy.

The suggestions were checked live when they were made (``monitor.links.repair_check``); these
routes only read them, so no page view probes anything. ``/links/{id}/snapshot`` shows the
visible text of the page's last stored copy as plain text: never the stored markup itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from monitor.labels import repair_label
from store.blobs import get_blob
from store.link_repairs import repairs_of
from store.models import Link

from web.api import ERRORS, Id
from web.context import reader, render
from web.errors import NotFound
from web.params import parse_id
from web.views import Reader

__all__ = ["RepairView", "api", "link_repairs", "pages"]

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", responses=ERRORS)
Read = Annotated[Reader, Depends(reader)]


class RepairView(BaseModel):
    """One suggestion, best first: the URL to write (for ``snapshot``, the dead URL, whose copy is at ``snapshot``)."""

    url: str
    reason: str
    reason_label: str
    detail: str
    checked_at: datetime
    outcome: str | None
    http_status: int | None
    snapshot: str | None  # path of the stored copy's page, for a ``snapshot`` suggestion


def link_repairs(read: Reader, link_id: int, root: str = "") -> list[RepairView]:
    """The link's suggestions (none unless it is dead or moved now)."""
    return [
        RepairView(url=r.url, reason=r.reason, reason_label=repair_label(r.reason, read.t.language), detail=r.detail,
                   checked_at=r.checked_at, outcome=r.outcome, http_status=r.http_status,
                   snapshot=f"{root}/links/{link_id}/snapshot" if r.text_sha256 else None)
        for r in repairs_of(read.session, [link_id]).get(link_id, [])
    ]


def _link(read: Reader, link_id: int) -> Link:
    link = read.session.get(Link, link_id)
    if link is None:
        raise NotFound(read.t.format("no_link", value=link_id))
    return link


@api.get("/links/{link_id}/repairs", response_model=list[RepairView], summary="What to write instead of a dead or moved link")
def repairs_json(read: Read, link_id: Id) -> list[RepairView]:
    _link(read, link_id)
    return link_repairs(read, link_id)


@pages.get("/links/{link_id}/snapshot", response_class=HTMLResponse)
def snapshot(request: Request, read: Read, link_id: str) -> Response:
    link = _link(read, parse_id(link_id, "no_link", read.t))
    stored = next((r for r in repairs_of(read.session, [link.id]).get(link.id, []) if r.text_sha256), None)
    text = get_blob(read.session, stored.text_sha256) if stored and stored.text_sha256 else None
    if stored is None or text is None:
        raise NotFound(read.t.format("no_snapshot", value=link.id))
    return render(request, "snapshot.html", link=link, stored_at=stored.checked_at, text=text.decode("utf-8", "replace"))
