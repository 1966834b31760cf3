"""The events a digest is made of, as plain values.

The store hands notifiers one :class:`EventView` per ``events`` row; nothing here touches the
database, so digests are built and tested from literals. ``KINDS`` is also the order in which
a digest shows them: source health first (a failing source explains a quiet digest), then
measures, then links.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from datetime import datetime
from typing import Any

__all__ = ["KINDS", "LINK_KINDS", "MEASURE_KINDS", "SOURCE_KINDS", "EventView", "LinkOutcome"]

SOURCE_KINDS = ("source_failed", "source_suspect", "source_recovered", "edition_changed", "list_added", "list_removed")
MEASURE_KINDS = ("added", "ended", "expired", "renamed", "changed", "reappeared")
LINK_KINDS = ("link_dead", "link_moved", "link_recovered", "page_changed")
KINDS = SOURCE_KINDS + MEASURE_KINDS + LINK_KINDS


@dataclass(frozen=True, slots=True)
class EventView:
    """One event row: what happened (``kind``), where, and its kind-specific ``payload``.

    ``created_at`` must be timezone-aware: SQLite hands back naive datetimes, and a naive
    time shown to a user in Tokyo would be nine hours off without anyone noticing.
    """

    id: int
    kind: str
    created_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    source_id: str | None = None
    source_title: str | None = None
    measure_id: int | None = None
    link_id: int | None = None

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None or self.created_at.utcoffset() is None:
            raise ValueError(f"event {self.id}: created_at must be timezone-aware")


class LinkOutcome(StrEnum):
    """The outcome of one check of one URL (DESIGN.md, "Link outcomes")."""

    OK = "ok"
    REDIRECTED = "redirected"      # ended, after redirects, at a real page
    MOVED_TO_TOP = "moved_to_top"  # a deep URL redirected to the site's top page
    SOFT_404 = "soft_404"          # 200, but the page says it does not exist
    NOT_FOUND = "not_found"        # 404, 410
    GONE_HOST = "gone_host"        # DNS failure, connection refused, TLS failure
    BLOCKED = "blocked"            # 401, 403, 429 (and 451)
    ERROR = "error"                # timeout, 5xx, redirect loop, other 4xx
    INVALID = "invalid"            # unparseable or not http(s)
    REFUSED = "refused"            # resolves to an address the policy forbids
