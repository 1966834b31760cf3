"""Repair suggestions of dead or moved links: the hosts known to be alive, and the stored suggestions.

Suggestions are written once, after their candidates were checked live
(``monitor.links.repair_check``), and read by ``links --dead``, the web view, the API and the
digest. A link that recovered keeps its rows until its next suggestion, but they are not read:
only a link that is dead or moved now has suggestions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from store.batches import IN_LIST_SIZE, in_batches
from store.models import Link, LinkRepair

__all__ = ["Repair", "live_hosts", "repairs_of", "replace_repairs"]


@dataclass(frozen=True, slots=True)
class Repair:
    url: str
    reason: str
    detail: str
    checked_at: datetime
    outcome: str | None
    http_status: int | None
    text_sha256: str | None = None  # a snapshot's visible text, stored as a blob


def live_hosts(session: Session, since: datetime) -> list[str]:
    """Hosts with a link whose last ok check is not before ``since``."""
    query = select(Link.host).where(Link.last_ok_at >= since).distinct().order_by(Link.host)
    return [host for host in session.scalars(query) if host]


def replace_repairs(session: Session, link_id: int, repairs: Sequence[Repair]) -> None:
    """The link's suggestions become ``repairs``, best first."""
    session.execute(delete(LinkRepair).where(LinkRepair.link_id == link_id))
    session.add_all(LinkRepair(link_id=link_id, rank=rank, url=r.url, reason=r.reason, detail=r.detail, checked_at=r.checked_at,
                               outcome=r.outcome, http_status=r.http_status, text_sha256=r.text_sha256)
                    for rank, r in enumerate(repairs))


def repairs_of(session: Session, link_ids: Iterable[int]) -> dict[int, list[Repair]]:
    """The suggestions of each link of ``link_ids`` that is dead or moved now, best first."""
    found: dict[int, list[Repair]] = defaultdict(list)
    for batch in in_batches(list(dict.fromkeys(link_ids)), IN_LIST_SIZE):
        query = (
            select(LinkRepair).join(Link, Link.id == LinkRepair.link_id)
            .where(LinkRepair.link_id.in_(batch), or_(Link.dead_since.is_not(None), Link.moved_to.is_not(None)))
            .order_by(LinkRepair.link_id, LinkRepair.rank)
        )
        for row in session.scalars(query):
            found[row.link_id].append(Repair(row.url, row.reason, row.detail, row.checked_at, row.outcome, row.http_status,
                                             row.text_sha256))
    return dict(found)
