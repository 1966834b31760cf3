"""Repair candidates of a dead or moved link, as plain data (``monitor.links.repair``)."""

from __future__ import annotations

import pytest

from monitor.config.links import LinkSettings
from monitor.links.repair import BrokenLink, Candidate, Reason, candidates

TOKYO = LinkSettings().successor_hosts  # the shipped table: metro.tokyo.jp → metro.tokyo.lg.jp


def test_the_permanent_redirect_comes_first_and_the_snapshot_last():
    broken = BrokenLink("https://www.metro.tokyo.jp/tosei/a.html", moved_to="https://www.metro.tokyo.lg.jp/tosei/b.html",
                        has_snapshot=True)
    assert candidates(broken, [], TOKYO) == [
        Candidate("https://www.metro.tokyo.lg.jp/tosei/b.html", Reason.REDIRECT, "permanent redirect"),
        Candidate("https://www.metro.tokyo.lg.jp/tosei/a.html", Reason.SUCCESSOR_HOST, "metro.tokyo.jp → metro.tokyo.lg.jp"),
        Candidate("https://www.metro.tokyo.jp/tosei/a.html", Reason.SNAPSHOT, "last stored copy"),
    ]


@pytest.mark.parametrize(("url", "expected"), [
    ("http://www.toshiseibi.metro.tokyo.jp/seisaku/tama/shien.html?x=1",
     "http://www.toshiseibi.metro.tokyo.lg.jp/seisaku/tama/shien.html?x=1"),
    ("https://metro.tokyo.jp:8443/a", "https://metro.tokyo.lg.jp:8443/a"),
])
def test_the_successor_host_keeps_scheme_port_path_and_query(url, expected):
    (candidate,) = candidates(BrokenLink(url), [], TOKYO)
    assert (candidate.url, candidate.reason) == (expected, Reason.SUCCESSOR_HOST)


@pytest.mark.parametrize("url", ["https://www.metro.tokyo.lg.jp/a.html", "https://www.notmetro.tokyo.jp/a.html",
                                 "https://example.jp/a.html"])
def test_no_successor_for_a_host_the_rule_does_not_cover(url):
    assert candidates(BrokenLink(url), [], TOKYO) == []


def test_a_configured_rule_generalises_the_successor_table():
    (candidate,) = candidates(BrokenLink("https://www.city.old.example.jp/p"), [], {"old.example.jp": "new.example.jp"})
    assert candidate.url == "https://www.city.new.example.jp/p"


def test_an_ocr_damaged_host_gets_the_known_live_host_one_label_apart():
    live = ["www.toshiseibi.metro.tokyo.lg.jp", "www.kankyo.metro.tokyo.lg.jp", "www.toshiseib.metro.tokyo.lg.jp"]
    found = candidates(BrokenLink("https://www.toshisei.metro.tokyo.lg.jp/seisaku/tama/shien.html"), live, TOKYO)
    # Closest first: one letter missing before two; a host farther off is no suggestion.
    assert [(c.url, c.reason) for c in found] == [
        ("https://www.toshiseib.metro.tokyo.lg.jp/seisaku/tama/shien.html", Reason.NEAR_HOST),
        ("https://www.toshiseibi.metro.tokyo.lg.jp/seisaku/tama/shien.html", Reason.NEAR_HOST),
    ]
    assert found[1].detail == "www.toshisei.metro.tokyo.lg.jp → www.toshiseibi.metro.tokyo.lg.jp"


@pytest.mark.parametrize("live", [
    "www.toshiseibi.metro.tokyo.lg.jp",   # itself
    "ww2.toshisei.metro.tokyo.lg.jp",     # short labels are other hosts, not typos
    "www.toshisei.metro.osaka.lg.jp",     # two labels differ
    "www.toshiseibi.tokyo.lg.jp",         # another shape
    "www.tosh.metro.tokyo.lg.jp",         # four letters away
])
def test_hosts_that_are_not_near_misses(live):
    assert candidates(BrokenLink("https://www.toshiseibi.metro.tokyo.lg.jp/a"), [live], {}) == []


def test_each_url_is_suggested_once():
    broken = BrokenLink("https://www.metro.tokyo.jp/a", moved_to="https://www.metro.tokyo.lg.jp/a")
    assert [c.reason for c in candidates(broken, [], TOKYO)] == [Reason.REDIRECT]
