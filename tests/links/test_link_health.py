"""Link health end to end: a seed-derived list on loopback cites pages of the multi-host link
site; ``check`` stores every check, the state, the transitions and page snapshots.

Runs on SQLite and PostgreSQL (``database_url``). Time moves by passing ``now``: a check made
during a run is recorded at ``now`` plus the seconds the run has taken.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from monitor.runtime.jobs import run_job
from monitor.links.run import check_due_links, check_host_links, hosts_with_due_links, run_link_checks
from monitor.demo.site import Route
from store.database import transaction
from store.models import Blob, Link, LinkCheck
from tests.links.health import T0, monitored, page
from tests.links.site import LinkSite

H = timedelta(hours=1)


@pytest.fixture
def world(database_url, site, link_site: LinkSite):
    """A store whose list cites whatever ``cite`` is given; other rows cite host 1's ok page."""
    return monitored(database_url, site, link_site.url(1, "/ok.html"))


def test_each_outcome_is_stored_with_one_check_per_link(world, link_site: LinkSite):
    urls = {
        "ok": link_site.url(0, "/ok.html"), "not_found": link_site.url(0, "/missing.html"),
        "soft_404": link_site.url(0, "/soft404.html"), "moved_to_top": link_site.url(0, "/old/deep/page.html"),
        "redirected": link_site.url(0, "/moved.html"), "blocked": link_site.url(2, "/forbidden.html"),
        "error": link_site.url(2, "/broken.html"), "gone_host": link_site.closed_url + "page.html",
        "refused": link_site.url(2, "/metadata"),
    }
    world.cite(*urls.values())
    report = world.run(T0)
    assert report.links.checked == len(urls) + 1  # and the filler page
    for outcome, url in urls.items():
        link = world.link(url)
        assert (link.outcome, world.checks(url)) == (outcome, 1), url
        assert link.last_checked_at is not None and link.last_checked_at >= T0
    assert world.link(urls["refused"]).final_url == "http://169.254.169.254/latest/meta-data/"
    # One failing check is not death; a permanent move is reported at once, with its target.
    assert report.links.dead == [] and world.events("link_dead") == []
    (moved,) = report.links.moved
    assert moved.url == urls["redirected"] and moved.final_url == link_site.url(1, "/new.html")


def test_dead_only_after_dead_after_failures_at_least_dead_min_hours_apart(database_url, site, link_site):
    world = monitored(database_url, site, link_site.url(1, "/ok.html"), dead_after=2, dead_min_hours=12)
    gone = link_site.url(0, "/missing.html")
    world.cite(gone)
    assert world.run(T0).links.dead == []
    second = world.run(T0 + 3 * H)  # two failures, but only 3 hours apart
    assert second.links.dead == [] and world.link(gone).consecutive_failures == 2
    third = world.run(T0 + 13 * H)
    (dead,) = third.links.dead
    assert (dead.url, dead.outcome, dead.http_status) == (gone, "not_found", 404)
    link = world.link(gone)
    assert link.dead_since is not None and T0 <= link.dead_since < T0 + H  # since the first failure
    (event,) = world.events("link_dead")
    assert event.link_id == link.id
    assert event.payload["since"] == link.dead_since.isoformat()
    assert event.payload["measures"] and set(event.payload["measures"][0]) == {"id", "name", "source_id"}
    assert world.run(T0 + 20 * H).links.dead == [] and len(world.events("link_dead")) == 1  # once


def test_a_dead_link_recovers_at_its_first_ok(world, site):
    url = site.url("/pages/notice.html")
    site.publish("/pages/notice.html", page("お知らせ", "募集中"))
    world.cite(url)
    world.run(T0)
    site.remove("/pages/notice.html")
    world.run(T0 + 25 * H)                       # healthy links wait a day
    assert world.run(T0 + 28 * H).links.dead     # failing ones two hours
    site.publish("/pages/notice.html", page("お知らせ", "募集中"))
    report = world.run(T0 + 35 * H)              # dead ones six
    (recovered,) = report.links.recovered
    assert (recovered.url, recovered.outcome, recovered.http_status) == (url, "ok", 200)
    (event,) = world.events("link_recovered")
    assert event.payload["dead_since"].startswith((T0 + 25 * H).date().isoformat())
    link = world.link(url)
    assert (link.dead_since, link.consecutive_failures, link.outcome) == (None, 0, "ok")


def test_a_permanent_move_is_reported_once_with_the_new_url(world, link_site):
    url = link_site.url(0, "/moved.html")
    world.cite(url)
    (moved,) = world.run(T0).links.moved
    assert (moved.final_url, moved.http_status, moved.outcome) == (link_site.url(1, "/new.html"), 301, "redirected")
    assert moved.measures and all(isinstance(i, int) for i in moved.measures)
    (event,) = world.events("link_moved")
    assert event.payload["final_url"] == link_site.url(1, "/new.html") and event.payload["http_status"] == 301
    assert world.link(url).moved_to == link_site.url(1, "/new.html")
    assert world.run(T0 + 25 * H).links.moved == [] and world.checks(url) == 2


def test_a_link_no_longer_cited_is_not_checked_but_keeps_its_history(world, link_site):
    old, new = link_site.url(0, "/ok.html"), link_site.url(0, "/new.html")
    world.cite(old)
    world.run(T0)
    world.cite(new)
    world.run(T0 + 25 * H)
    world.run(T0 + 50 * H)
    assert world.link(old).cited is False and world.checks(old) == 1
    assert world.link(new).cited is True and world.checks(new) == 2


def test_page_changed_on_a_text_change_but_not_on_a_markup_change(world, site):
    url = site.url("/pages/boshu.html")
    site.publish("/pages/boshu.html", page("補助金の募集", "募集期間: 5月"))
    world.cite(url)
    world.run(T0)
    site.publish("/pages/boshu.html", page("補助金の募集", "募集期間: 5月", markup=' class="main"\n  '))
    world.run(T0 + 25 * H)
    assert world.events("page_changed") == []
    site.publish("/pages/boshu.html", page("補助金の募集", "募集期間: 6月"))
    world.run(T0 + 50 * H)
    (event,) = world.events("page_changed")
    assert event.payload["url"] == url and event.payload["measures"]
    assert "5月" in event.payload["summary"] and "6月" in event.payload["summary"]
    with transaction(world.sessions) as session:
        hashes = list(session.scalars(select(LinkCheck.body_sha256).order_by(LinkCheck.checked_at)
                                      .join(Link, Link.id == LinkCheck.link_id).where(Link.url == url)))
        assert len(set(hashes)) == 3 and all(session.get(Blob, h) is not None for h in hashes)


def test_unchanged_page_adds_no_blob(world, link_site):
    world.cite(link_site.url(0, "/ok.html"))
    world.run(T0)
    with transaction(world.sessions) as session:
        blobs = session.scalar(select(func.count()).select_from(Blob))
    world.run(T0 + 25 * H)
    with transaction(world.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Blob)) == blobs


def test_run_report_links_contract(world, link_site):
    gone, moved = link_site.url(0, "/gone.html"), link_site.url(0, "/moved.html")
    world.cite(gone, moved)
    world.run(T0)
    links = world.run(T0 + 3 * H).as_dict()["links"]
    assert set(links) == {"checked", "dead", "recovered", "moved"}
    assert links["checked"] == 1 and links["recovered"] == links["moved"] == []  # only the failing link was due
    (dead,) = links["dead"]
    assert set(dead) == {"url", "outcome", "http_status", "final_url", "measures"}
    assert (dead["url"], dead["outcome"], dead["http_status"], dead["final_url"]) == (gone, "not_found", 410, gone)
    assert dead["measures"] and all(isinstance(i, int) for i in dead["measures"])


def test_no_links_option_and_disabled_section_check_nothing(database_url, site, link_site):
    world = monitored(database_url, site, link_site.url(1, "/ok.html"))
    world.cite(link_site.url(0, "/ok.html"))
    assert world.run(T0, links=False).links.checked == 0
    off = monitored(database_url, site, link_site.url(1, "/ok.html"), enabled=False)
    assert off.run(T0).links.checked == 0 and hosts_with_due_links(off.config, off.sessions, T0) == []
    assert world.run(T0).links.checked == 2


def test_a_server_that_never_answers_does_not_stall_the_run(database_url, site, link_site):
    world = monitored(database_url, site, link_site.url(1, "/ok.html"), deadline_s=1)
    hang = link_site.url(0, "/hang.html")
    world.cite(hang, link_site.url(0, "/trickle.html"))
    started = time.monotonic()
    world.run(T0)
    assert time.monotonic() - started < 8
    assert world.link(hang).outcome == "error" and "within 1s" in (_last_error(world, hang) or "")


def test_the_run_budget_leaves_what_it_could_not_check_due(database_url, site, link_site):
    world = monitored(database_url, site, link_site.url(1, "/ok.html"), deadline_s=30, read_timeout_s=30, budget_s=1.5)
    hang = link_site.url(0, "/hang.html")
    world.cite(hang)
    started = time.monotonic()
    report = world.run(T0)
    assert time.monotonic() - started < 8
    assert report.links.checked == 1 and world.checks(hang) == 0  # the filler only
    assert world.link(hang).next_check_at is not None and world.link(hang).next_check_at <= T0


def test_private_targets_are_refused_without_connecting(database_url, site, fresh_site: LinkSite):
    # Public-looking names that resolve to the metadata address or a private one (never looked up for real).
    names = {"www.city.example.jp": "169.254.169.254", "intra.example.jp": "10.1.2.3", "metadata.example.jp": "169.254.169.254"}

    async def resolver(host: str, port: int) -> list[str]:
        return [names[host]]

    world = monitored(database_url, site, fresh_site.url(1, "/ok.html"))
    site.publish("/to-metadata", Route(b"", status=302, headers={"Location": "http://metadata.example.jp/latest/meta-data/"}))
    redirect, metadata, private = site.url("/to-metadata"), "http://www.city.example.jp/seido.html", "http://intra.example.jp/"
    world.cite(redirect, metadata, private)
    world.run(T0, links=False)
    # Loopback allowed (as in every test): the redirect's first hop is fetched, its target is not.
    check_due_links(world.config, world.sessions, T0, hosts=["127.0.0.1"], resolver=resolver)
    assert world.link(redirect).outcome == "refused"
    assert world.link(redirect).final_url == "http://metadata.example.jp/latest/meta-data/"
    connections = sum(stats.connections for stats in fresh_site.stats.values())
    # http.allow_private_addresses false: nothing private is reached, loopback included.
    strict = world.config.model_copy(update={"http": world.config.http.model_copy(update={"allow_private_addresses": False})})
    run_link_checks(strict, world.sessions, T0 + 25 * H, resolver=resolver)
    for url in (redirect, metadata, private, fresh_site.url(1, "/ok.html")):
        assert world.link(url).outcome == "refused", url
    assert sum(stats.connections for stats in fresh_site.stats.values()) == connections


def test_the_per_host_unit_of_work_checks_only_its_host(world, link_site):
    a, b = link_site.url(0, "/ok.html"), link_site.url(2, "/ok.html")
    world.cite(a, b)
    world.run(T0, links=False)
    hosts = hosts_with_due_links(world.config, world.sessions, T0)
    assert {"127.0.0.2", "127.0.0.3", "127.0.0.4"} <= set(hosts)
    report = check_host_links(world.config, world.sessions, T0, "127.0.0.2")
    assert report.checked == 1 and world.checks(a) == 1 and world.checks(b) == 0
    run = run_job(world.config, world.sessions, T0, "links", "127.0.0.4")
    assert run.status == "ok" and run.result.checked == 1 and world.checks(b) == 1
    assert "127.0.0.2" not in hosts_with_due_links(world.config, world.sessions, T0 + H)


def test_results_are_written_batch_by_batch_with_progress(database_url, site, link_site):
    world = monitored(database_url, site, link_site.url(1, "/ok.html"), batch_size=2)
    world.cite(*(link_site.url(i % 3, f"/ok.html?n={i}") for i in range(5)))
    world.run(T0, links=False)
    seen: list[int] = []

    from contextlib import contextmanager

    @contextmanager
    def progress(total: int):
        seen.append(total)
        yield lambda result: seen.append(-1)

    report = run_link_checks(world.config, world.sessions, T0, progress=progress)
    assert report.checked == 6 and seen == [6] + [-1] * 6
    with transaction(world.sessions) as session:
        assert session.scalar(select(func.count()).select_from(LinkCheck)) == 6


def _last_error(world, url: str) -> str | None:
    with transaction(world.sessions) as session:
        query = select(LinkCheck.error).join(Link, Link.id == LinkCheck.link_id).where(Link.url == url)
        return session.scalar(query.order_by(LinkCheck.id.desc()).limit(1))
