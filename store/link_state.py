"""Reading link state: which links are due, who cites them, and the overviews of ``links``.

Writing a check is the link runner's business (``monitor/link_record.py``); these are the
queries it and the command line need, plain SQL over ``links``, ``link_checks`` and
``measure_links`` that runs the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, union
from sqlalchemy.orm import Session

from store.batches import IN_LIST_SIZE, in_batches
from store.models import Link, LinkCheck, Measure, MeasureLink, MeasureVersion

__all__ = ["DueLink", "LinkCounts", "cited_links", "citing_measures", "dead_links", "due_hosts", "due_links", "link_by_url",
           "link_checks_of", "link_counts", "links_by_id", "cited_hosts", "failing", "answering"]


def failing() -> ColumnElement[bool]:
    """The one meaning of a failing link (status, `links`, /links): its last checks failed and
    it is not dead yet; a dead link is counted as dead, never twice."""
    return and_(Link.consecutive_failures > 0, Link.dead_since.is_(None))


def answering(answered_since: datetime, failing_since: datetime | None = None) -> ColumnElement[bool]:
    """A link that answered at ``answered_since`` or later and has not failed since (held outage
    checks change nothing), or, given ``failing_since``, whose failing began then or later: only
    such a link's failure to connect can be our outage. One that never answered, or failed for
    long, or is dead says nothing of our network (an abolished host fails alone, however many)."""
    fresh = Link.consecutive_failures == 0 if failing_since is None else or_(Link.consecutive_failures == 0, Link.failing_since >= failing_since)
    return and_(Link.last_ok_at >= answered_since, Link.dead_since.is_(None), fresh)


@dataclass(frozen=True, slots=True)
class DueLink:
    id: int
    url: str
    host: str
    answering: bool = False


@dataclass(frozen=True, slots=True)
class LinkCounts:
    """The overview ``sesaku-monitor links`` prints."""

    cited: int
    unchecked: int
    healthy: int
    failing: int
    dead: int
    moved: int
    not_cited: int
    by_outcome: dict[str, int]


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(Link.cited.is_(True), or_(Link.next_check_at.is_(None), Link.next_check_at <= now))


def due_links(session: Session, now: datetime, hosts: Sequence[str] | None = None,
              answered_since: datetime | None = None) -> list[DueLink]:
    """Cited links whose next check is not after ``now`` (all hosts, or only ``hosts``), most overdue
    first, each marked whether it answered at ``answered_since`` or later (default: ever)."""
    query = select(Link.id, Link.url, Link.host, answering(answered_since or datetime.min.replace(tzinfo=now.tzinfo))).where(_due(now))
    if hosts is not None:
        query = query.where(Link.host.in_(list(hosts)))
    query = query.order_by(Link.next_check_at.is_not(None), Link.next_check_at, Link.id)
    return [DueLink(*row) for row in session.execute(query)]


def due_hosts(session: Session, now: datetime) -> list[str]:
    """Hosts with at least one due link."""
    # Two ranges of ix_links_due_host, not one OR: each half is then read from the index alone.
    never = select(Link.host).where(Link.cited.is_(True), Link.next_check_at.is_(None))
    due = select(Link.host).where(Link.cited.is_(True), Link.next_check_at <= now)
    return sorted(session.scalars(union(never, due)))


def cited_hosts(session: Session) -> list[str]:
    """Hosts with at least one cited link (due now or later)."""
    return list(session.scalars(select(Link.host).where(Link.cited.is_(True)).distinct().order_by(Link.host)))


def citing_measures(session: Session, link_ids: Iterable[int]) -> dict[int, list[dict[str, object]]]:
    """For each link, the measures whose current version cites it: ``{id, name, source_id}``."""
    ids = list(link_ids)
    if not ids:
        return {}
    query = (
        select(MeasureLink.link_id, Measure.id, Measure.name, Measure.source_id)
        .join(MeasureVersion, MeasureVersion.id == MeasureLink.measure_version_id)
        .join(Measure, Measure.id == MeasureVersion.measure_id)
        .where(MeasureLink.link_id.in_(ids), MeasureVersion.valid_to.is_(None))
        .distinct()
        .order_by(MeasureLink.link_id, Measure.id)
    )
    found: dict[int, list[dict[str, object]]] = defaultdict(list)
    for link_id, measure_id, name, source_id in session.execute(query):
        found[link_id].append({"id": measure_id, "name": name, "source_id": source_id})
    return dict(found)


def link_by_url(session: Session, url: str) -> Link | None:
    return session.scalar(select(Link).where(Link.url == url))


def link_checks_of(session: Session, link_id: int) -> list[LinkCheck]:
    """Every check of a link, oldest first."""
    query = select(LinkCheck).where(LinkCheck.link_id == link_id).order_by(LinkCheck.checked_at, LinkCheck.id)
    return list(session.scalars(query))


def links_by_id(session: Session, link_ids: Iterable[int]) -> list[Link]:
    return [link for batch in in_batches(list(link_ids), IN_LIST_SIZE)
            for link in session.scalars(select(Link).where(Link.id.in_(batch)))]


def cited_links(session: Session) -> list[DueLink]:
    """Every cited link, by host then id (``links --recheck --all``)."""
    query = select(Link.id, Link.url, Link.host).where(Link.cited.is_(True)).order_by(Link.host, Link.id)
    return [DueLink(*row) for row in session.execute(query)]


def dead_links(session: Session) -> list[Link]:
    """Cited links that are dead now, longest dead first."""
    query = select(Link).where(Link.dead_since.is_not(None), Link.cited.is_(True)).order_by(Link.dead_since, Link.id)
    return list(session.scalars(query))


def link_counts(session: Session) -> LinkCounts:
    """How many cited links are in each state, and the outcomes of their last checks."""
    cited = Link.cited.is_(True)

    def count(*where: ColumnElement[bool]) -> int:
        return session.scalar(select(func.count()).select_from(Link).where(*where)) or 0

    outcomes = session.execute(select(Link.outcome, func.count()).where(cited, Link.outcome.is_not(None)).group_by(Link.outcome))
    return LinkCounts(
        cited=count(cited),
        unchecked=count(cited, Link.last_checked_at.is_(None)),
        healthy=count(cited, Link.last_checked_at.is_not(None), Link.consecutive_failures == 0, Link.dead_since.is_(None)),
        failing=count(cited, failing()),
        dead=count(cited, Link.dead_since.is_not(None)),
        moved=count(cited, Link.moved_to.is_not(None)),
        not_cited=count(Link.cited.is_(False)),
        by_outcome={outcome: n for outcome, n in sorted(outcomes) if outcome is not None},
    )
