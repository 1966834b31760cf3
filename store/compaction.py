"""Keeping ``link_checks`` small: every change of outcome is kept, and past ``keep_days`` one check
per link per day.

A week of checks of five million URLs is ~35 million rows; kept whole that is hundreds of GB a
year, where what a person reads from old history is when a link changed state and how it did day
by day. A check is removed only when it is older than the cut-off, is not the first check of its
link on its (UTC) day, and has the same outcome as the check before it, so every transition
survives: removing a repeat never makes two different outcomes neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from typing import Any

from sqlalchemy import ColumnElement, Date, cast, delete, func, select
from sqlalchemy.orm import Session

from store.batches import IN_LIST_SIZE, in_batches
from store.models import LinkCheck

__all__ = ["compact_link_checks"]

BATCH = 5_000


def _day(session: Session) -> ColumnElement[Any]:
    """The UTC day of a check, as each database spells it (SQLite keeps times as text)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(LinkCheck.checked_at)
    return cast(func.timezone("UTC", LinkCheck.checked_at), Date)


def _removable(session: Session, cutoff: datetime, limit: int, link_ids: Sequence[int] | None) -> list[int]:
    scope = LinkCheck.checked_at < cutoff + timedelta(days=1)
    if link_ids is not None:
        scope = scope & LinkCheck.link_id.in_(link_ids)
    ranked = select(
        LinkCheck.id, LinkCheck.checked_at, LinkCheck.outcome,
        func.lag(LinkCheck.outcome).over(partition_by=LinkCheck.link_id, order_by=(LinkCheck.checked_at, LinkCheck.id)).label("before"),
        func.row_number().over(partition_by=(LinkCheck.link_id, _day(session)), order_by=(LinkCheck.checked_at, LinkCheck.id)).label("nth"),
    ).where(scope).subquery()
    query = (select(ranked.c.id)
             .where(ranked.c.checked_at < cutoff, ranked.c.nth > 1, ranked.c.before == ranked.c.outcome)
             .limit(limit))
    return list(session.scalars(query))


def compact_link_checks(session: Session, now: datetime, keep_days: int, *, link_ids: Sequence[int] | None = None,
                        batch: int = BATCH) -> int:
    """Remove one batch of old repeated checks (of ``link_ids``, or of every link); returns how many
    (0: nothing left to compact).

    In batches so that a first compaction of a year of history never holds one long transaction
    over the table the link jobs write to: the links job compacts the links it just checked, a
    batch at a time, so the history of a fleet's millions of links stays small as it is written."""
    cutoff = now - timedelta(days=keep_days)
    if link_ids is None:
        ids = _removable(session, cutoff, batch, None)
    else:
        ids = [found for part in in_batches(list(link_ids), IN_LIST_SIZE) for found in _removable(session, cutoff, batch, part)][:batch]
    if ids:
        session.execute(delete(LinkCheck).where(LinkCheck.id.in_(ids)))
    return len(ids)
