"""Helpers of the link-health tests: a seed list whose URLs point at the loopback sites."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select

from monitor.lists.cells import extract_urls
from monitor.runtime.check import open_store, run_check
from monitor.config import Config
from monitor.demo.site import LoopbackSite, Route
from monitor.report import RunReport
from store.database import SessionFactory, transaction
from store.models import Event, Link, LinkCheck
from tests.conftest import TAMA, make_config, seed_text, source_entry

T0 = datetime(2026, 4, 1, tzinfo=timezone.utc)
HTML = "text/html; charset=utf-8"
# Fast and impolite on purpose (loopback); dead at the 2nd failing check, however soon.
FAST_LINKS: dict[str, Any] = {
    "enabled": True, "per_host_interval_s": 0, "connect_timeout_s": 1, "read_timeout_s": 1, "deadline_s": 3, "retries": 0,
    "backoff_s": 0.05, "retry_after_cap_s": 1, "dead_min_hours": 0, "budget_s": 30,
}


def citing_list(urls: Sequence[str], filler: str) -> str:
    """The 戦略2 seed with its first cited URLs replaced by ``urls``, every other one by ``filler``."""
    text = seed_text(TAMA)
    cited = extract_urls(text)
    assert len(cited) > len(urls), "the seed cites enough URLs"
    replacement = {url: urls[i] if i < len(urls) else filler for i, url in enumerate(cited)}
    for url in sorted(replacement, key=len, reverse=True):
        text = text.replace(url, replacement[url])
    return text


@dataclass
class Monitored:
    """A configured store whose one list (on ``site``) cites the URLs it is given."""

    config: Config
    sessions: SessionFactory
    site: LoopbackSite
    filler: str

    def cite(self, *urls: str) -> None:
        self.site.publish("/tama.txt", Route(citing_list(urls, self.filler).encode("utf-8")))

    def run(self, now: datetime, **kwargs: Any) -> RunReport:
        return run_check(self.config, self.sessions, clock=lambda: now, **kwargs)

    def link(self, url: str) -> Link:
        with transaction(self.sessions) as session:
            link = session.scalar(select(Link).where(Link.url == url))
            assert link is not None, url
            return link

    def checks(self, url: str) -> int:
        with transaction(self.sessions) as session:
            query = select(func.count()).select_from(LinkCheck).join(Link, Link.id == LinkCheck.link_id).where(Link.url == url)
            return session.scalar(query) or 0

    def events(self, kind: str) -> list[Event]:
        with transaction(self.sessions) as session:
            return list(session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))


def monitored(database_url: str, site: LoopbackSite, filler: str, **links: Any) -> Monitored:
    config = make_config(database_url, source_entry("tama", site.url("/tama.txt")), links={**FAST_LINKS, **links})
    return Monitored(config, open_store(config), site, filler)


def page(title: str, text: str, *, markup: str = "") -> Route:
    """An HTML page; ``markup`` goes into attributes only (what a reader never sees)."""
    body = f"<html><head><title>{title}</title></head><body{markup}><h1{markup}>{title}</h1><p{markup}>{text}</p></body></html>"
    return Route(body.encode("utf-8"), content_type=HTML)
