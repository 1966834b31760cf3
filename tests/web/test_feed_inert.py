"""Feeds whatever the store holds and whoever asks: valid XML after a cell full of control
characters, and links that never come from the request's Host header."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import feedparser
import httpx
import pytest
from lxml import etree

from monitor.runtime.check import open_store
from store.database import SessionFactory, transaction
from store.models import Event, Source
from tests.conftest import make_config, source_entry
from tests.web.conftest import T0, WebDB, app_for, serving

# Every C0 control but tab, newline and CR is illegal in XML 1.0; NUL cannot even be stored in PostgreSQL text.
CONTROL = "".join(chr(c) for c in range(1, 0x20) if chr(c) not in "\t\n\r")
NAME = f"施策{CONTROL}終わり"
TURNED = "施策\u202efdp.exe"  # reads as 施策exe.pdf where U+202E is obeyed


def _hostile_events(sessions: SessionFactory) -> None:
    with transaction(sessions) as session:
        session.add(Source(id="tama", title=f"多摩{CONTROL}", url="https://www.example.jp/tama.txt", format="text", created_at=T0))
        session.flush()
        session.add(Event(created_at=T0 + timedelta(hours=1), kind="added", source_id="tama",
                          payload={"key": NAME, "name": NAME, "fields": {"施策": NAME, "備考": f"\x00{CONTROL}"}}))
        session.add(Event(created_at=T0 + timedelta(hours=2), kind="changed", source_id="tama",
                          payload={"key": NAME, "name": NAME, "fields": {"備考": {"old": "前", "new": CONTROL}}}))
        session.add(Event(created_at=T0 + timedelta(hours=3), kind="added", source_id="tama",
                          payload={"key": TURNED, "name": TURNED, "fields": {"施策": TURNED}}))


@pytest.fixture
def hostile_web(database_url: str) -> Iterator[httpx.Client]:
    config = make_config(database_url, source_entry("tama", "https://www.example.jp/tama.txt"))
    sessions = open_store(config)
    _hostile_events(sessions)
    db = WebDB(database_url, config, sessions, 0, 0, 0, 0, 0, T0 + timedelta(days=1))
    with serving(app_for(db)) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield client
    sessions.kw["bind"].dispose()


@pytest.mark.parametrize("path", ["/feed.atom", "/sources/tama/feed.atom"])
def test_feed_stays_valid_xml_after_an_event_full_of_control_characters(hostile_web: httpx.Client, path: str) -> None:
    answer = hostile_web.get(path)
    assert answer.status_code == 200, answer.text[:300]
    etree.fromstring(answer.content)  # raises on anything XML cannot hold
    feed = feedparser.parse(answer.content)
    assert not feed.bozo, feed.get("bozo_exception")
    titles = [entry.title for entry in feed.entries]
    assert len(titles) == 3 and sum("施策\\x01\\x02" in title and title.endswith("\\x1f終わり") for title in titles) == 2
    assert any("施策\\u202efdp.exe" in title for title in titles) and not any("\u202e" in title for title in titles)


@pytest.mark.parametrize("path", ["/feed.atom", "/sources/tama/feed.atom"])
def test_feed_links_never_come_from_the_host_header(served: tuple[WebDB, httpx.Client], path: str) -> None:
    db, client = served
    body = client.get(path, headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"}).text
    assert "evil.example" not in body
    links = feedparser.parse(body).entries
    assert links and all(entry.link.startswith(f"http://{db.config.web.host}:{db.config.web.port}/") for entry in links)


@pytest.mark.parametrize("path", ["/", "/changes"])
def test_a_page_shows_a_cell_s_control_and_bidi_characters_never_obeys_them(hostile_web: httpx.Client, path: str) -> None:
    answer = hostile_web.get(path)
    assert answer.status_code == 200, answer.text[:300]
    assert "施策\\u202efdp.exe" in answer.text  # the override written out, where it stands
    assert not any(char in answer.text for char in "\u202a\u202b\u202c\u202d\u202e\x1b\x07\x00")
