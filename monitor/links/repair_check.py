"""Repair suggestions, checked live and stored: the I/O edge of ``monitor.links.repair``.

``suggest_repairs(config, sessions, now, link_ids)`` reads what is known of each link and the
hosts with an ok check in the last ``LIVE_DAYS`` days, asks ``repair.candidates`` what to try,
checks the candidate URLs with the link checker (netguard, per-host politeness, soft-404
probe), and stores those that answer with a healthy page, best first, with the snapshot
after them. A candidate's host is asked only under its run lock (``links:<host>``, as every
runner that checks it takes it), so politeness holds across the fleet: a host another runner
holds is not probed this time (its candidates are not shown), and the hosts the caller
already holds (``held``: those its pass checks) are probed under its locks. Bounded: ``links.repair_max_links`` links, ``PER_LINK`` live candidates each, and
``links.repair_budget_s`` of wall time; a candidate not checked in time is not shown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from store.blobs import blob_time, get_blob, put_blob
from store.database import SessionFactory, transaction
from store.link_repairs import Repair, live_hosts, replace_repairs
from store.link_state import links_by_id
from store.links import host_of

from monitor.config import Config
from monitor.events import LinkOutcome
from monitor.links.checker import LinkCheckResult, check_links
from monitor.links.host_locks import host_locks
from monitor.links.outcome import HEALTHY
from monitor.links.page_text import page_text
from monitor.links.repair import BrokenLink, Candidate, Reason, candidates
from monitor.netguard import Resolver

__all__ = ["LIVE_DAYS", "PER_LINK", "suggest_repairs"]

log = logging.getLogger("sesaku_monitor.links")
LIVE_DAYS = 30
PER_LINK = 4


def suggest_repairs(config: Config, sessions: SessionFactory, now: datetime, link_ids: Iterable[int], *,
                    held: Collection[str] = (), resolver: Resolver | None = None) -> dict[int, list[Repair]]:
    """Check the candidates of ``link_ids`` (dead or moved links) live; store and return what answered."""
    settings = config.links
    ids = list(dict.fromkeys(link_ids))[: settings.repair_max_links]
    if not ids:
        return {}
    with transaction(sessions) as session:
        links = links_by_id(session, ids)
        live = live_hosts(session, now - timedelta(days=LIVE_DAYS))
    # A moved link's stored page is its new page: only a dead one's copy stands in for it.
    wanted = {link.id: _bounded(candidates(BrokenLink(link.url, link.moved_to, link.body_sha256 is not None and link.dead_since is not None),
                                           live, settings.successor_hosts)) for link in links}
    urls = [c.url for found in wanted.values() for c in found if c.reason is not Reason.SNAPSHOT]
    results = _checked_under_locks(urls, config, sessions, now, set(held), resolver) if urls else {}
    repairs = {link_id: _answered(found, results, now) for link_id, found in wanted.items()}
    bodies = {link.id: link.body_sha256 for link in links}
    with transaction(sessions) as session:
        for link_id, chosen in repairs.items():
            repairs[link_id] = chosen = [_with_text(session, r, bodies[link_id], now) for r in chosen]
            replace_repairs(session, link_id, chosen)
    return repairs


def _with_text(session: Session, repair: Repair, body_sha256: str | None, now: datetime) -> Repair:
    """A snapshot suggestion with its page's visible text stored, dated when the copy was taken."""
    if repair.reason != Reason.SNAPSHOT.value or body_sha256 is None:
        return repair
    body = get_blob(session, body_sha256)
    if body is None:
        return repair
    text = put_blob(session, page_text(body).encode("utf-8"), now)
    return replace(repair, checked_at=blob_time(session, body_sha256) or now, text_sha256=text)


def _bounded(found: list[Candidate]) -> list[Candidate]:
    live = [c for c in found if c.reason is not Reason.SNAPSHOT][:PER_LINK]
    return live + [c for c in found if c.reason is Reason.SNAPSHOT]


def _checked_under_locks(urls: list[str], config: Config, sessions: SessionFactory, now: datetime, held: set[str],
                         resolver: Resolver | None) -> dict[str, LinkCheckResult]:
    """Check the ``urls`` whose host is in ``held`` or whose run lock is free now, under those locks."""
    others = sorted({host_of(url) for url in urls} - held)
    with host_locks(config, sessions, others, why="repair suggestions") as taken:
        free = held | set(taken)
        asked = [url for url in urls if host_of(url) in free]
        return asyncio.run(_checked(asked, config, now, resolver)) if asked else {}


async def _checked(urls: list[str], config: Config, now: datetime, resolver: Resolver | None) -> dict[str, LinkCheckResult]:
    results: dict[str, LinkCheckResult] = {}
    started = time.monotonic()
    # Dated on the run's clock, like the link checks of the run they follow.
    clock = lambda: now + timedelta(seconds=time.monotonic() - started)  # noqa: E731
    try:
        async with asyncio.timeout(config.links.repair_budget_s):
            async for result in check_links(urls, config.links, config.http, clock=clock, resolver=resolver):
                results[result.url] = result
    except TimeoutError:
        log.info("repair suggestions: budget of %gs spent; %d of %d candidates checked",
                 config.links.repair_budget_s, len(results), len(set(urls)))
    return results


def _answered(found: list[Candidate], results: Mapping[str, LinkCheckResult], now: datetime) -> list[Repair]:
    """The candidates whose check found a healthy page (a redirect's target in its place), each URL once."""
    kept: dict[str, Repair] = {}
    for candidate in found:
        if candidate.reason is Reason.SNAPSHOT:
            kept.setdefault(f"snapshot:{candidate.url}", Repair(candidate.url, candidate.reason.value, candidate.detail, now, None, None))
            continue
        result = results.get(candidate.url)
        if result is None or result.outcome not in HEALTHY:
            continue
        url = result.final_url if result.outcome is LinkOutcome.REDIRECTED and result.final_url else candidate.url
        kept.setdefault(url, Repair(url, candidate.reason.value, candidate.detail, result.checked_at, result.outcome.value,
                                    result.http_status))
    return list(kept.values())
