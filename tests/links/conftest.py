"""Fixtures of the link tests: one loopback site for the session, fast settings, a runner."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from dataclasses import replace
from typing import Any

import pytest

from monitor.links.checker import LinkCheckResult, LinkCheckSettings, check_links
from monitor.netguard import Resolver
from tests.links.site import LinkSite, running_link_site

# Short timeouts and backoffs so the whole suite stays in seconds; loopback allowed.
FAST = LinkCheckSettings(concurrency=16, per_host=2, per_host_interval=0.0, connect_timeout=1.0,
                         read_timeout=1.0, deadline=3.0, retries=1, backoff=0.05, retry_after_cap=2.0,
                         allow_private_addresses=True)


@pytest.fixture(scope="session")
def link_site() -> Iterator[LinkSite]:
    with running_link_site(hosts=3) as site:
        yield site


@pytest.fixture
def fresh_site(link_site: LinkSite) -> LinkSite:
    """The session's site with its counters zeroed."""
    link_site.reset()
    return link_site


Clock = Callable[[], datetime]


def run_checks(urls: Iterable[str], settings: LinkCheckSettings = FAST, **kwargs: Any) -> list[LinkCheckResult]:
    """Results of ``check_links`` in completion order."""
    async def collect() -> list[LinkCheckResult]:
        return [result async for result in check_links(urls, settings, **kwargs)]
    return asyncio.run(collect())


def check_one(url: str, settings: LinkCheckSettings = FAST, *, resolver: Resolver | None = None,
              clock: Clock | None = None, **changes: Any) -> LinkCheckResult:
    """The result for one URL, with ``changes`` made to ``settings``."""
    (result,) = run_checks([url], replace(settings, **changes), resolver=resolver, clock=clock)
    return result
