"""Which measure versions cite which URLs, and which links are still cited at all."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from .models import Link, MeasureLink, MeasureVersion

__all__ = ["cite_links", "refresh_cited", "MAX_URL_LENGTH"]

# Longer URLs are not worth checking and would not fit a PostgreSQL unique index.
MAX_URL_LENGTH = 2000


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def cite_links(session: Session, version_id: int, urls: Iterable[str], now: datetime) -> None:
    for url in urls:
        if len(url) > MAX_URL_LENGTH:
            continue
        link = session.scalar(select(Link).where(Link.url == url))
        if link is None:
            link = Link(url=url, host=_host(url), first_seen_at=now, cited=True, consecutive_failures=0, next_check_at=now)
            session.add(link)
            session.flush()
        elif not link.cited:
            link.cited = True
            link.next_check_at = now
        session.merge(MeasureLink(measure_version_id=version_id, link_id=link.id))


def refresh_cited(session: Session) -> None:
    """A link no open measure version cites is no longer checked; its history stays."""
    still_cited = exists(
        select(MeasureLink.link_id)
        .join(MeasureVersion, MeasureVersion.id == MeasureLink.measure_version_id)
        .where(MeasureLink.link_id == Link.id, MeasureVersion.valid_to_snapshot_id.is_(None))
    )
    session.execute(update(Link).where(Link.cited.is_(True), ~still_cited).values(cited=False), execution_options={"synchronize_session": False})
