"""Repair suggestions end to end: dead and moved links on loopback get candidates checked live and stored.

Host names resolve through the test's resolver to 127.0.0.x (never a real look-up); a name
that maps to 127.0.0.250 has nothing listening, so its links are ``gone_host``. Runs on SQLite
and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from monitor.links.run import check_due_links
from notifiers.outbox import prepare_delivery
from monitor.links.views import dead_link_list
from store.database import transaction
from store.link_repairs import repairs_of
from store.models import Delivery
from tests.conftest import make_config
from tests.links.health import T0, monitored, page
from tests.links.site import LinkSite
from tests.web.conftest import serving
from web.app import create_app

H = timedelta(hours=1)
CLOSED = "127.0.0.250"


@pytest.fixture
def scene(database_url, site, link_site: LinkSite):
    live_address = link_site.addresses[0]
    port = link_site.ports[live_address]
    names = {
        "www.toshiseibi.metro.tokyo.lg.jp": live_address, "www.toshisei.metro.tokyo.lg.jp": CLOSED,
        "www.kankyo.metro.tokyo.jp": CLOSED, "www.kankyo.metro.tokyo.lg.jp": live_address,
        "www.sangyo.metro.tokyo.jp": CLOSED, "www.sangyo.metro.tokyo.lg.jp": live_address,
    }

    async def resolver(host: str, port: int) -> list[str]:
        return [names[host]]

    urls = {
        "live": f"http://www.toshiseibi.metro.tokyo.lg.jp:{port}/ok.html",
        "damaged": f"http://www.toshisei.metro.tokyo.lg.jp:{port}/ok.html",
        "old_host": f"http://www.kankyo.metro.tokyo.jp:{port}/new.html",
        "answers_anything": f"http://www.sangyo.metro.tokyo.jp:{port}/catchall/jigyo.html",
        "moved": link_site.url(0, "/moved.html"),
        "removed": site.url("/pages/notice.html"),
    }
    site.publish("/pages/notice.html", page("お知らせ", "募集中"))
    # Generous timeouts: nothing here hangs (a closed port refuses at once), but a loaded machine is slow.
    world = monitored(database_url, site, link_site.url(1, "/ok.html"), connect_timeout_s=10, read_timeout_s=10, deadline_s=20)
    world.cite(*urls.values())
    world.run(T0, links=False)
    first = check_due_links(world.config, world.sessions, T0, resolver=resolver)
    site.remove("/pages/notice.html")
    check_due_links(world.config, world.sessions, T0 + 25 * H, resolver=resolver)
    last = check_due_links(world.config, world.sessions, T0 + 28 * H, resolver=resolver)
    world.resolver = resolver  # type: ignore[attr-defined]
    return world, urls, first, last, link_site


def _repairs(world, url: str) -> list[tuple[str, str, str | None]]:
    link_id = world.link(url).id
    with transaction(world.sessions) as session:
        return [(r.url, r.reason, r.outcome) for r in repairs_of(session, [link_id]).get(link_id, [])]


def test_each_dead_or_moved_link_gets_the_candidates_that_answered(scene):
    world, urls, first, last, link_site = scene
    assert [entry.url for entry in first.moved] == [urls["moved"]]
    for name in ("damaged", "old_host", "answers_anything", "removed"):
        assert world.link(urls[name]).dead_since is not None, name
    port = link_site.ports[link_site.addresses[0]]
    assert _repairs(world, urls["moved"]) == [(link_site.url(1, "/new.html"), "redirect", "ok")]
    # OCR damage: the known live host one label and two letters away, checked and answering.
    assert _repairs(world, urls["damaged"]) == [(urls["live"], "near_host", "ok")]
    assert _repairs(world, urls["old_host"]) == [(f"http://www.kankyo.metro.tokyo.lg.jp:{port}/new.html", "successor_host", "ok")]
    # The successor host answers 200 for any path there (a soft 404): no suggestion at all.
    assert _repairs(world, urls["answers_anything"]) == []
    assert _repairs(world, urls["removed"]) == [(urls["removed"], "snapshot", None)]
    assert _repairs(world, urls["live"]) == []


def test_links_dead_lists_each_suggestion_with_its_reason(scene):
    world, urls, *_ = scene
    with transaction(world.sessions) as session:
        dead = {link["url"]: link for link in dead_link_list(session)}
    (suggestion,) = dead[urls["damaged"]]["repairs"]
    assert suggestion["url"] == urls["live"] and suggestion["reason"] == "near_host"
    assert suggestion["detail"] == "www.toshisei.metro.tokyo.lg.jp → www.toshiseibi.metro.tokyo.lg.jp"
    # Checked right after the run in which the link died, on that run's clock.
    assert T0 + 25 * H <= datetime.fromisoformat(suggestion["checked_at"]) < T0 + 26 * H and suggestion["http_status"] == 200
    assert dead[urls["answers_anything"]]["repairs"] == []


def test_a_recovered_link_shows_no_suggestion(scene):
    world, urls, *_ = scene
    world.site.publish("/pages/notice.html", page("お知らせ", "再開"))
    check_due_links(world.config, world.sessions, T0 + 40 * H, resolver=world.resolver)
    assert world.link(urls["removed"]).dead_since is None
    assert _repairs(world, urls["removed"]) == []


def test_no_suggestions_past_repair_max_links(database_url, site, link_site: LinkSite):
    world = monitored(database_url, site, link_site.url(1, "/ok.html"), repair_max_links=0)
    world.cite(link_site.url(0, "/moved.html"))
    world.run(T0, links=False)
    check_due_links(world.config, world.sessions, T0)
    assert world.link(link_site.url(0, "/moved.html")).moved_to and _repairs(world, link_site.url(0, "/moved.html")) == []


def test_the_link_page_and_the_api_show_the_suggestions_and_the_stored_copy(scene):
    world, urls, *_ = scene
    damaged, removed = world.link(urls["damaged"]).id, world.link(urls["removed"]).id
    with serving(create_app(world.config, world.sessions)) as base, httpx.Client(base_url=base, timeout=30) as client:
        (suggested,) = client.get(f"/api/links/{damaged}/repairs").json()
        assert (suggested["url"], suggested["reason"], suggested["outcome"]) == (urls["live"], "near_host", "ok")
        assert suggested["reason_label"] == "よく似た稼働中のホスト名（誤記の可能性）"
        page_html = client.get(f"/links/{damaged}").text
        assert "修正候補" in page_html and f'href="{urls["live"]}"' in page_html and "よく似た稼働中のホスト名" in page_html
        (copy,) = client.get(f"/api/links/{removed}/repairs").json()
        assert copy["reason"] == "snapshot" and copy["snapshot"] == f"/links/{removed}/snapshot"
        assert f'href="/links/{removed}/snapshot"' in client.get(f"/links/{removed}").text
        stored = client.get(copy["snapshot"])
        # The page's words as plain text, never its markup.
        assert stored.status_code == 200 and "募集中" in stored.text and "&lt;h1" not in stored.text and "<h1>お知らせ" not in stored.text
        assert client.get(f"/links/{damaged}/snapshot").status_code == 404
        assert client.get("/api/links/999999/repairs").status_code == 404


def test_the_digest_names_a_dead_links_best_candidate(database_url, scene):
    world, urls, *_ = scene
    notifier = {"id": "hook", "type": "webhook", "since": "2026-01-01",
                "options": {"url": "http://127.0.0.1:9/hook", "allow_private_address": True}}
    config = world.config.model_copy(update={"notifiers": make_config(database_url, notifiers=[notifier]).notifiers})
    delivery_id, _ = prepare_delivery(config, world.sessions, T0 + 30 * H, "hook")
    with transaction(world.sessions) as session:
        text = session.get(Delivery, delivery_id).payload["text"]
    assert f"候補: {urls['live']} (よく似た稼働中のホスト名（誤記の可能性）)" in text
    assert "候補: 最後に保存したページの写し" in text
