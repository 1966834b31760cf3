"""Atom feeds, parsed by feedparser and checked entry by entry against the JSON API."""

from __future__ import annotations

import calendar

import feedparser
import httpx

from tests.web.conftest import app_for, serving


def _entries_match_api(feed, items, base: str) -> None:
    assert len(feed.entries) == len(items)
    for entry, item in zip(feed.entries, items, strict=True):
        assert entry.id == f"{base}/api/events/{item['id']}"
        assert entry.title == item["summary"]
        assert entry.link == base + item["page"]
        assert entry.tags[0].term == item["kind"]
        assert calendar.timegm(entry.updated_parsed) == int(_timestamp(item["created_at"]))
        assert item["summary"] in entry.content[0].value


def _timestamp(iso: str) -> float:
    from datetime import datetime
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _configured_base(db) -> str:
    """Without web.base_url, feeds link to the address serve is configured to listen on."""
    return f"http://{db.config.web.host}:{db.config.web.port}"


def test_feed_of_all_changes_has_one_entry_per_event_newest_first(served):
    db, client = served
    base = _configured_base(db)
    answer = client.get("/feed.atom")
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(answer.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "施策一覧の変更" and feed.feed.language == "ja"
    assert any(link.rel == "self" and link.href == f"{base}/feed.atom" for link in feed.feed.links)
    _entries_match_api(feed, client.get("/api/changes").json()["items"], base)


def test_feed_of_one_source_and_every_entry_links_to_a_page_that_exists(served):
    db, client = served
    base = _configured_base(db)
    feed = feedparser.parse(client.get("/sources/tama/feed.atom").content)
    assert feed.feed.title == "多摩のまちづくり 戦略2 の変更"
    _entries_match_api(feed, client.get("/api/changes", params={"source": "tama"}).json()["items"], base)
    assert {entry.tags[0].term for entry in feed.entries} == {"added", "ended", "changed", "renamed"}
    for entry in feed.entries:
        assert client.get(entry.link.removeprefix(base)).status_code == 200
    xss = next(e for e in feed.entries if e.tags[0].term == "added")
    assert xss.title == "追加: <script>alert(1)</script>"  # text, escaped in the XML, not markup
    assert xss.content[0].type == "text/plain"


def test_feed_links_use_the_configured_base_url(web_db):
    with serving(app_for(web_db, base_url="https://monitor.example.jp/sesaku")) as base, httpx.Client(base_url=base) as client:
        feed = feedparser.parse(client.get("/feed.atom").content)
    assert feed.entries and all(e.link.startswith("https://monitor.example.jp/sesaku/") for e in feed.entries)
    assert all(e.id.startswith("https://monitor.example.jp/sesaku/api/events/") for e in feed.entries)
