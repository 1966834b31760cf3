"""What a reader of the pages notices (issue 18 item 5): old → new on the change lists, dead
links first, a list's feed pointing at that list's changes, an API page for people.

Runs once on SQLite and once on PostgreSQL (``served``)."""

from __future__ import annotations

import re

import feedparser

from tests.web.conftest import DEAD_URL_PART, XSS_URL

PHONE_CHANGE = '<span class="column">連絡先:</span><del>03-5388-9999</del> → <ins>03-5388-7777</ins>'


def test_overview_and_changes_show_old_and_new_of_a_changed_field(served):
    _, client = served
    for path in ("/", "/changes"):
        html = client.get(path).text
        assert PHONE_CHANGE in html, path
    long = client.get("/changes", params={"source": "tama", "kind": "changed"}).text
    assert '<span class="diff">' in long and "<ins>詳細な</ins>" in long  # a long text as one word diff


def test_links_list_the_dead_first_then_the_failing(served):
    _, client = served
    urls = re.findall(r'<tr><td><a href="/links/\d+">([^<]*)</a>', client.get("/links").text)
    assert DEAD_URL_PART in urls[0] and urls[1] == XSS_URL and len(urls) > 2
    assert [u for u in urls[2:] if DEAD_URL_PART in u or u == XSS_URL] == []


def test_a_lists_feed_points_at_that_lists_changes(served):
    _, client = served
    feed = feedparser.parse(client.get("/sources/tama/feed.atom").content)
    alternate = [link.href for link in feed.feed.links if link.rel == "alternate"]
    assert len(alternate) == 1 and alternate[0].endswith("/changes?source=tama")
    everything = feedparser.parse(client.get("/feed.atom").content)
    assert [link.href for link in everything.feed.links if link.rel == "alternate"][0].endswith("/changes")


def test_the_nav_leads_to_an_api_page_whose_examples_answer(served):
    _, client = served
    home = client.get("/").text
    assert '<a href="/api-guide">JSON API</a>' in home
    guide = client.get("/api-guide")
    assert guide.status_code == 200 and "<h1>JSON API の使い方</h1>" in guide.text
    assert 'href="/api/openapi.json"' in guide.text
    examples = re.findall(r'<a href="(/api/[^"]+)"><code>GET ', guide.text)
    assert len(examples) >= 8 and "/api/search?q=補助金" in examples
    for path in examples:
        if not re.search(r"/(measures|links|events)/1$", path):
            assert client.get(path.replace("&amp;", "&")).status_code == 200, path


def test_an_ended_event_keeps_the_last_cells_of_its_measure(served):
    _, client = served
    ended = client.get("/api/changes", params={"source": "tama", "kind": "ended"}).json()["items"]
    assert [e["payload"]["name"] for e in ended] == ["まちづくり推進コンシェルジュ"]
    fields = ended[0]["payload"]["fields"]
    assert fields["施策"] == "まちづくり推進コンシェルジュ" and fields["担当部署"] and fields["連絡先"].startswith("03-")
