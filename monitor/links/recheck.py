"""``links --recheck``: check chosen links now, whatever their schedule, as a links run would.

Every chosen link still dead or moved afterwards has its repair suggestions checked again
(``monitor.links.repair_check``): the way to refresh them, or to give them to links that died
before suggestions existed.

The links are checked by the links job's own path (``monitor.links.run.check_links_now``): the
same checker, per-host politeness and run locks, the same records and events. A host another
runner is checking right now is left to it and its links are reported as skipped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from store.database import SessionFactory, transaction
from store.link_state import DueLink, cited_links, dead_links, link_by_url

from monitor.config import Config
from monitor.errors import ConfigError
from monitor.lists.cells import normalize_url
from monitor.links.repair_check import suggest_repairs
from monitor.links.run import ProgressFactory, check_links_now
from monitor.links.views import checked_links
from monitor.netguard import Resolver

__all__ = ["Which", "recheck"]

Which = Literal["url", "dead", "all"]


def recheck(config: Config, sessions: SessionFactory, now: datetime, which: Which, url: str | None = None, *,
            progress: ProgressFactory | None = None, resolver: Resolver | None = None) -> dict[str, Any]:
    """Check one known ``url``, every dead link or every cited link now; their states after."""
    with transaction(sessions) as session:
        chosen = _chosen(session, which, url)
    report, skipped = check_links_now(config, sessions, now, chosen, progress=progress, resolver=resolver)
    changes = {entry.url: kind for kind, entries in (("dead", report.dead), ("recovered", report.recovered),
                                                     ("moved", report.moved)) for entry in entries}
    left = {link.id for link in skipped}
    with transaction(sessions) as session:
        links = checked_links(session, [link.id for link in chosen if link.id not in left])
    ids = {link.url: link.id for link in chosen}
    suggest_repairs(config, sessions, now, [ids[link["url"]] for link in links if link["since"] or link["moved_to"]], resolver=resolver)
    return {
        "checked": report.checked,
        "links": [{**link, "change": changes.get(link["url"])} for link in links],
        "skipped": [link.url for link in skipped],
    }


def _chosen(session: Any, which: Which, url: str | None) -> list[DueLink]:
    if which == "all":
        return cited_links(session)
    if which == "dead":
        return [DueLink(link.id, link.url, link.host) for link in dead_links(session)]
    link = link_by_url(session, url or "") or link_by_url(session, normalize_url(url or ""))
    if link is None:
        raise ConfigError(f"links --recheck: no link {url!r} is known (a URL a list cites: see `sesaku-monitor links --dead`)")
    return [DueLink(link.id, link.url, link.host)]
