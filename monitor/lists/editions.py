"""The edition a good snapshot speaks for, and the ``edition_changed`` event when it moves on.

Parsers read the title and edition (「令和4年4月1日時点」) and the as-of date from the
document: its title line, else the PDF's Title metadata. This module completes that for
every good snapshot, parsed or not:

- a snapshot of the same bytes (HTTP 304, or the same sha256) is not parsed again, so it
  carries the title, edition and as-of date of the good snapshot before it;
- where the document names no date, the server's ``Last-Modified`` is the as-of date (the
  day in the configured time zone): a fallback, since it says when a file was written;
- a good new version whose edition differs from the previous good one's is one
  ``edition_changed`` event {old_edition, new_edition}: "edition 令和5年4月1日時点 replaces
  令和4年4月1日時点". A document that names no edition changes nothing: unknown is not new.
"""

from __future__ import annotations

from datetime import date
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from store.models import Snapshot
from store.queries import last_good_snapshot

from monitor.events import EditionChanged
from monitor.report import SourceReport
from monitor.lists.versioning import source_event

__all__ = ["settle_edition", "date_of_http_date"]


def date_of_http_date(value: str | None, tz: ZoneInfo) -> date | None:
    """The day an HTTP date (``Wed, 01 Apr 2026 00:00:00 GMT``) falls on in ``tz``, or None."""
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment.astimezone(tz).date() if moment.tzinfo else None


def settle_edition(session: Session, snapshot: Snapshot, report: SourceReport, tz: ZoneInfo) -> None:
    """Fill a good snapshot's edition and as-of date, report it, and note a new edition."""
    previous = last_good_snapshot(session, snapshot.source_id, before_id=snapshot.id)
    same_bytes = snapshot.status == "not_modified" or (previous is not None and snapshot.blob_sha256 == previous.blob_sha256)
    if previous is not None and same_bytes:
        snapshot.title, snapshot.edition, snapshot.as_of = previous.title, previous.edition, previous.as_of
    if snapshot.as_of is None:
        snapshot.as_of = date_of_http_date(snapshot.last_modified, tz)
    report.edition = snapshot.edition
    if previous is not None and previous.edition and snapshot.edition and previous.edition != snapshot.edition:
        payload = EditionChanged(previous.edition, snapshot.edition, snapshot.as_of.isoformat() if snapshot.as_of else None)
        source_event(session, snapshot.source_id, snapshot, snapshot.fetched_at, payload)
