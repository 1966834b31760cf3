"""Answers a hostile server gives the link checker: each is that link's outcome, never the run's end."""

from __future__ import annotations

import pytest

from monitor.demo.site import LoopbackSite, Route
from monitor.events import LinkOutcome
from tests.links.conftest import FAST, run_checks


@pytest.mark.parametrize("retry_after", ["\u00b2", "\u00b9\u00b3", "9" * 400, "Mon, 01 Jan 99999 00:00:00 GMT"])
def test_a_retry_after_no_clock_reads_leaves_the_outcome_and_the_other_links_are_checked(site: LoopbackSite, retry_after: str) -> None:
    # "²" (latin-1, as header bytes are read) passed str.isdigit and ended the whole run in float().
    site.publish("/busy", Route(b"busy", status=429, headers={"Retry-After": retry_after}))
    site.publish("/ok.html", Route(b"<html><body>ok</body></html>", content_type="text/html"))
    outcomes = {result.url: result.outcome for result in run_checks([site.url("/busy"), site.url("/ok.html")], FAST)}
    assert outcomes == {site.url("/busy"): LinkOutcome.BLOCKED, site.url("/ok.html"): LinkOutcome.OK}
