"""Fixtures of the link tests: one loopback site for the session, fast settings, a runner."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

import pytest

from monitor.config import HttpSettings
from monitor.config.links import LinkSettings
from monitor.links.checker import LinkCheckResult, check_links
from monitor.netguard import Resolver
from tests.links.site import LinkSite, running_link_site

# Short timeouts and backoffs so the whole suite stays in seconds.
FAST = LinkSettings(concurrency=16, per_host=2, per_host_interval_s=0.0, connect_timeout_s=1.0,
                    read_timeout_s=1.0, deadline_s=3.0, retries=1, backoff_s=0.05, retry_after_cap_s=2.0)
# The test sites are on loopback; GUARDED is the shipped default, which refuses them.
LOOPBACK = HttpSettings(allow_private_addresses=True)
GUARDED = HttpSettings()


def fast_with(**changes: Any) -> LinkSettings:
    """FAST with ``changes``, validated as config.yaml's ``links:`` would be (an unknown name is an error)."""
    return LinkSettings(**{**FAST.model_dump(), **changes})


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


def run_checks(urls: Iterable[str], settings: LinkSettings = FAST, http: HttpSettings = LOOPBACK, **kwargs: Any) -> list[LinkCheckResult]:
    """Results of ``check_links`` in completion order."""
    async def collect() -> list[LinkCheckResult]:
        return [result async for result in check_links(urls, settings, http, **kwargs)]
    return asyncio.run(collect())


def check_one(url: str, settings: LinkSettings = FAST, *, http: HttpSettings = LOOPBACK, resolver: Resolver | None = None,
              clock: Clock | None = None, **changes: Any) -> LinkCheckResult:
    """The result for one URL, with ``changes`` made to ``settings``."""
    (result,) = run_checks([url], settings.model_validate({**settings.model_dump(), **changes}), http, resolver=resolver, clock=clock)
    return result
