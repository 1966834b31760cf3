"""What ``sesaku-monitor links`` shows, as plain data: the overview, dead links, one URL's history.

Read-only over the store; the command line prints these as tables or JSON, and tests call
them directly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from store.link_state import citing_measures, dead_links, link_by_url, link_checks_of, link_counts, links_by_id
from store.link_repairs import Repair, repairs_of
from store.models import Link

from monitor.lists.cells import normalize_url
from monitor.errors import ConfigError

__all__ = ["checked_links", "dead_link_list", "link_history", "link_summary"]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def link_summary(session: Session) -> dict[str, Any]:
    """How many cited links are healthy, failing, dead, moved; last outcomes; no longer cited."""
    counts = link_counts(session)
    return {
        "cited": counts.cited, "unchecked": counts.unchecked, "healthy": counts.healthy, "failing": counts.failing,
        "dead": counts.dead, "moved": counts.moved, "not_cited": counts.not_cited, "by_outcome": counts.by_outcome,
    }


def dead_link_list(session: Session) -> list[dict[str, Any]]:
    """Every dead cited link: since when (its first failing check), its last check, who cites it, its repairs."""
    links = dead_links(session)
    measures = citing_measures(session, [link.id for link in links])
    repairs = repairs_of(session, [link.id for link in links])
    return [{**_state(link), "measures": measures.get(link.id, []), "repairs": [_repair(r) for r in repairs.get(link.id, [])]}
            for link in links]


def checked_links(session: Session, link_ids: list[int]) -> list[dict[str, Any]]:
    """The state of each link of ``link_ids`` (in that order): what a recheck prints."""
    links = {link.id: link for link in links_by_id(session, link_ids)}
    return [_state(links[link_id]) for link_id in link_ids if link_id in links]


def link_history(session: Session, url: str) -> dict[str, Any]:
    """One link's state and every check of it, oldest first; ``ConfigError`` for an unknown URL."""
    link = link_by_url(session, url) or link_by_url(session, normalize_url(url))
    if link is None:
        raise ConfigError(f"no link {url!r} is known (see `sesaku-monitor links --dead` or the web view)")
    checks = [
        {"checked_at": _iso(check.checked_at), "outcome": check.outcome, "http_status": check.http_status,
         "final_url": check.final_url, "redirect_chain": check.redirect_chain or [], "elapsed_ms": check.elapsed_ms,
         "error": check.error, "body_sha256": check.body_sha256}
        for check in link_checks_of(session, link.id)
    ]
    measures = citing_measures(session, [link.id]).get(link.id, [])
    return {**_state(link), "cited": link.cited, "first_seen_at": _iso(link.first_seen_at),
            "measures": measures, "checks": checks}


def _repair(repair: Repair) -> dict[str, Any]:
    return {"url": repair.url, "reason": repair.reason, "detail": repair.detail, "checked_at": _iso(repair.checked_at),
            "outcome": repair.outcome, "http_status": repair.http_status}


def _state(link: Link) -> dict[str, Any]:
    return {
        "id": link.id, "url": link.url, "outcome": link.outcome, "http_status": link.http_status, "final_url": link.final_url,
        "since": _iso(link.dead_since), "consecutive_failures": link.consecutive_failures,
        "last_checked_at": _iso(link.last_checked_at), "last_ok_at": _iso(link.last_ok_at),
        "moved_to": link.moved_to, "next_check_at": _iso(link.next_check_at),
    }
