"""Counts for ``status``: a source's failing streak, dead links, the outbox by status."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import Delivery, Link, Snapshot
from store.queries import last_good_snapshot

__all__ = ["failing_streak", "link_counts", "delivery_counts"]


def failing_streak(session: Session, source_id: str) -> int:
    """How many fetches in a row, up to the newest, failed or were suspect."""
    good = last_good_snapshot(session, source_id)
    query = select(func.count()).select_from(Snapshot).where(Snapshot.source_id == source_id)
    if good is not None:
        query = query.where(Snapshot.id > good.id)
    return session.scalar(query) or 0


def link_counts(session: Session) -> dict[str, int]:
    """Links still cited, and of those the dead (``dead_since`` set) and the failing."""
    cited = Link.cited.is_(True)
    count = select(func.count()).select_from(Link)
    return {
        "cited": session.scalar(count.where(cited)) or 0,
        "dead": session.scalar(count.where(cited, Link.dead_since.is_not(None))) or 0,
        "failing": session.scalar(count.where(cited, Link.consecutive_failures > 0)) or 0,
    }


def delivery_counts(session: Session) -> dict[str, int]:
    """The outbox: deliveries by status (pending, sent, failed, …)."""
    rows = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
    return {status: count for status, count in rows}
