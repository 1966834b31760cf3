"""Our outage is not their death: a link run whose failures are network-level across many hosts
(or with the configured canary failing too) is one ``links_outage`` event, and no failure of it
counts toward ``dead_after``. Real failures (a 404) on a few hosts are dead as before.

Closed ports on several loopback addresses (127.0.0.40 …) refuse connections like hosts behind
a broken uplink. Runs on SQLite and PostgreSQL (``database_url``).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from monitor.links.run import check_host_links
from store.links import host_of
from tests.links.health import T0, monitored
from tests.links.site import LinkSite, _unused_port

H = timedelta(hours=1)
DAY_BEFORE = T0 - 25 * H  # checked then, healthy links are due again at T0
PORT = _unused_port("127.0.0.40")


def host_by_host(world, hosts: list[str], rounds: tuple) -> None:
    """Each round, one links job a host a minute apart, as the daemon and the fleet run them."""
    for round_start in rounds:
        for minute, host in enumerate(hosts):
            check_host_links(world.config, world.sessions, round_start + minute * timedelta(minutes=1), host)


def refusing(count: int, first: int = 40) -> list[str]:
    """One page on each of ``count`` loopback hosts where nothing listens."""
    return [f"http://127.0.0.{first + n}:{PORT}/page.html" for n in range(count)]


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's names)
        self._answer(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(with_body=False)

    def _answer(self, with_body: bool) -> None:
        found = self.path == "/page.html"  # anything else is a 404, as on a real site (the soft-404 probe)
        body = b"<html><head><title>page</title></head><body><h1>page</h1><p>still here</p></body></html>" if found else b"not found"
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def answered_first(world, urls: list[str], at) -> None:
    """The hosts of ``urls`` answer one run at ``at`` (a day before the outage), then go quiet:
    only a link that answered can tell that our network, not its host, failed."""
    servers = [ThreadingHTTPServer((url.split("/")[2].split(":")[0], PORT), _Page) for url in urls]
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    try:
        world.run(at)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    assert all(world.link(url).last_ok_at is not None for url in urls)


def test_many_hosts_refusing_is_one_outage_and_no_death(database_url, site, link_site: LinkSite):
    world = monitored(database_url, site, link_site.url(1, "/ok.html"))  # dead at the 2nd failure
    urls = refusing(6)
    world.cite(*urls)
    answered_first(world, urls, DAY_BEFORE)
    for hours in (0, 3, 6):
        report = world.run(T0 + hours * H)
        assert report.links.dead == []
    assert world.events("link_dead") == []
    events = world.events("links_outage")
    assert len(events) == 3  # one per run, not one per link
    payload = events[0].payload
    assert (payload["failed_hosts"], payload["checked_hosts"], payload["links"]) == (6, 7, 6)  # 7: the filler's host
    assert payload["error"].startswith("cannot connect")
    for url in urls:
        link = world.link(url)
        assert (link.dead_since, link.consecutive_failures, link.failing_since) == (None, 0, None)
        assert world.checks(url) == 4  # each check is kept (the day before's too)
        assert link.next_check_at is not None and link.next_check_at < T0 + 6 * H + 3 * H  # rechecked soon


def test_a_real_404_on_a_few_hosts_is_dead_as_before(database_url, site, link_site: LinkSite):
    world = monitored(database_url, site, link_site.url(1, "/ok.html"))
    gone = [link_site.url(0, "/missing.html"), link_site.url(2, "/missing.html")]
    world.cite(*gone, link_site.url(1, "/new.html"))
    world.run(T0)
    report = world.run(T0 + 3 * H)
    assert sorted(entry.url for entry in report.links.dead) == sorted(gone)
    assert world.events("links_outage") == []


def test_network_failures_on_fewer_hosts_than_outage_min_hosts_count(database_url, site, link_site: LinkSite):
    world = monitored(database_url, site, link_site.url(1, "/ok.html"))
    urls = refusing(4)  # 4 of 5 hosts: the share is there, the hosts are not (outage_min_hosts 5)
    world.cite(*urls)
    answered_first(world, urls, DAY_BEFORE)
    world.run(T0)
    report = world.run(T0 + 3 * H)
    assert sorted(entry.url for entry in report.links.dead) == sorted(urls)
    assert world.events("links_outage") == []


def test_a_failing_canary_makes_even_one_host_our_outage(database_url, site, link_site: LinkSite):
    (canary,) = refusing(1, first=60)
    world = monitored(database_url, site, link_site.url(1, "/ok.html"), canary_url=canary)
    (url,) = refusing(1)
    world.cite(url)
    answered_first(world, [url], DAY_BEFORE)
    world.run(T0)
    assert world.run(T0 + 3 * H).links.dead == []
    events = world.events("links_outage")
    assert len(events) == 2 and events[0].payload["canary_url"] == canary
    assert world.link(url).consecutive_failures == 0


def test_a_canary_that_answers_leaves_the_failures_counted(database_url, site, link_site: LinkSite):
    world = monitored(database_url, site, link_site.url(1, "/ok.html"), canary_url=link_site.url(0, "/ok.html"))
    (url,) = refusing(1)
    world.cite(url)
    world.run(T0)
    assert [entry.url for entry in world.run(T0 + 3 * H).links.dead] == [url]
    assert world.events("links_outage") == []


def test_one_host_at_a_time_as_the_daemon_runs_them_sees_the_outage_too(database_url, site, link_site: LinkSite):
    # The daemon's and the fleet's links jobs check one host each: an uplink down for hours would
    # make every link dead if a job judged its one host alone.
    world = monitored(database_url, site, link_site.url(1, "/ok.html"))
    urls = refusing(6)
    world.cite(*urls)
    answered_first(world, urls, DAY_BEFORE)
    hosts = [host_of(url) for url in (link_site.url(1, "/"), *urls)]
    host_by_host(world, hosts, (T0, T0 + 2 * H, T0 + 4 * H, T0 + 6 * H))  # each failing link is due again every 2 h
    assert world.events("link_dead") == []
    # The first hosts' failures counted before the outage was visible are undone once it is.
    assert [world.link(url).consecutive_failures for url in urls] == [0, 0, 0, 0, 0, 0]
    outages = world.events("links_outage")
    assert len(outages) == 3  # at most one per recheck_failing_h (2 h) while it lasts, not one per host job (24 of them held)
    assert (outages[0].payload["failed_hosts"], outages[0].payload["checked_hosts"]) == (5, 6)


def test_one_host_failing_alone_among_answering_hosts_is_counted(database_url, site, link_site: LinkSite):
    world = monitored(database_url, site, link_site.url(1, "/ok.html"))
    (url,) = refusing(1)
    world.cite(url, link_site.url(0, "/ok.html"), link_site.url(2, "/ok.html"))
    world.run(T0, links=False)
    hosts = sorted({host_of(u) for u in (url, link_site.url(0, "/"), link_site.url(1, "/"), link_site.url(2, "/"))})
    host_by_host(world, hosts, (T0, T0 + 2 * H))
    assert [entry for entry in world.events("link_dead")] and world.events("links_outage") == []


def test_hosts_that_never_answered_are_dead_however_many_fail_together(database_url, site, link_site: LinkSite):
    # Abolished hosts (NXDOMAIN, closed ports) cited by a new edition all fail at once, run after
    # run: no link of theirs ever answered, so they say nothing of our network and die.
    world = monitored(database_url, site, link_site.url(1, "/ok.html"))
    urls = refusing(6)
    world.cite(*urls)
    world.run(T0)
    report = world.run(T0 + 3 * H)
    assert sorted(entry.url for entry in report.links.dead) == sorted(urls)
    assert world.events("links_outage") == []


def test_hosts_silent_past_the_bound_are_dead_even_together(database_url, site, link_site: LinkSite):
    # Six hosts that answered, then went quiet together (abolished the same day): held as our
    # outage at first, told dead once none has answered for dead_min_hours + 2 healthy rechecks.
    world = monitored(database_url, site, link_site.url(1, "/ok.html"))
    urls = refusing(6)
    world.cite(*urls)
    answered_first(world, urls, DAY_BEFORE)
    assert world.run(T0).links.dead == [] and len(world.events("links_outage")) == 1
    world.run(T0 + 40 * H)  # 65 h without an answer: past 0 + 2 x 24 h, counted
    report = world.run(T0 + 43 * H)
    assert sorted(entry.url for entry in report.links.dead) == sorted(urls)
