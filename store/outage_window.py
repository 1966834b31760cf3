"""The hosts checked lately and those whose latest check gave no answer at all: how a run of one
host (the daemon's and the fleet's links jobs) sees whether the whole network, not that host, is
failing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from store.link_state import answering
from store.models import Event, Link, LinkCheck

__all__ = ["absolve_recent_failures", "outage_announced", "recent_hosts"]

# Outcomes with no HTTP answer that mean "could not reach it" (monitor.links.run._network_failure).
NETWORK_OUTCOMES = frozenset({"gone_host", "error"})


def recent_hosts(session: Session, since: datetime, until: datetime, answered_since: datetime) -> tuple[set[str], set[str]]:
    """(hosts with a check in ``since`` … ``until``, those of them whose latest check there gave no
    answer), read through the link_checks time index. Only links that answered lately and began
    failing, if at all, in the window count (``store.link_state.answering``): a group of dead
    hosts checked together is no outage."""
    window = and_(LinkCheck.checked_at >= since, LinkCheck.checked_at <= until, answering(answered_since, since))
    latest = (select(Link.host, func.max(LinkCheck.checked_at).label("at")).join(Link, Link.id == LinkCheck.link_id)
              .where(window).group_by(Link.host).subquery())
    query = (select(latest.c.host, LinkCheck.http_status, LinkCheck.outcome).join(Link, Link.id == LinkCheck.link_id)
             .join(latest, and_(Link.host == latest.c.host, LinkCheck.checked_at == latest.c.at)).where(window))
    checked: set[str] = set()
    answered: set[str] = set()
    for host, status, outcome in session.execute(query):
        checked.add(host)
        if status is not None or outcome not in NETWORK_OUTCOMES:
            answered.add(host)  # of two checks at the same instant, one answer is enough
    return checked, checked - answered


def outage_announced(session: Session, since: datetime) -> bool:
    """Whether a ``links_outage`` event was written at ``since`` or later: one outage, one event,
    however many links jobs run into it."""
    query = select(Event.id).where(Event.kind == "links_outage", Event.created_at >= since).limit(1)
    return session.scalar(query) is not None


def absolve_recent_failures(session: Session, since: datetime) -> int:
    """Undo the count of failures to connect that began at ``since`` or later, once a run sees
    that they were our outage: the first hosts a one-host-at-a-time daemon checked in it could
    not tell yet. Only a link's first such failure (it answered before); returns how many."""
    result = session.execute(
        update(Link)
        .where(Link.failing_since >= since, Link.consecutive_failures == 1, Link.dead_since.is_(None),
               Link.last_ok_at.is_not(None), Link.http_status.is_(None), Link.outcome.in_(NETWORK_OUTCOMES))
        .values(consecutive_failures=0, failing_since=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
