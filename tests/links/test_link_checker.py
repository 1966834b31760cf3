"""The checker against a real misbehaving site on loopback: outcomes, limits, time bounds."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from monitor.lists.cells import normalize_url
from monitor.links import checker
from monitor.links.checker import check_links, terminal_progress
from monitor.events import LinkOutcome as O
from monitor.links.outcome import permanent_move
from tests.links.conftest import FAST, GUARDED, LOOPBACK, check_one, fast_with, run_checks
from tests.links.site import LinkSite


@pytest.mark.parametrize(("path", "outcome", "status"), [
    ("/ok.html", O.OK, 200),
    ("/doc.pdf", O.OK, 200),
    ("/missing.html", O.NOT_FOUND, 404),
    ("/gone.html", O.NOT_FOUND, 410),
    ("/forbidden.html", O.BLOCKED, 403),
    ("/soft404.html", O.SOFT_404, 200),
    ("/soft404-en.html", O.SOFT_404, 200),
    ("/catchall/seido.html", O.SOFT_404, 200),          # found out by the sibling probe
    ("/old/deep/page.html", O.MOVED_TO_TOP, 200),
    ("/old/deep/index-redirect.html", O.MOVED_TO_TOP, 200),
    ("/temporary.html", O.REDIRECTED, 200),
    ("/section", O.REDIRECTED, 200),
    ("/ページ 1.html", O.OK, 200),                       # encoded as a browser would
])
def test_outcomes(link_site: LinkSite, path: str, outcome: O, status: int) -> None:
    result = check_one(link_site.url(0, path))
    assert (result.outcome, result.http_status, result.error) == (outcome, status, None)


def test_ok_page_carries_its_body_and_hash(link_site: LinkSite) -> None:
    result = check_one(link_site.url(0, "/ok.html"))
    assert result.body is not None and b"<title>OK 127.0.0.2</title>" in result.body
    assert result.body_sha256 and result.content_type == "text/html; charset=utf-8"
    assert result.final_url == result.url and result.redirect_chain == ()
    assert result.checked_at.tzinfo is not None


def test_passes_started_together_load_the_ca_bundle_once(link_site: LinkSite, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fleet worker starts its links jobs together, each pass in a thread of its own: they share
    one TLS context, built once (loading the CA bundle is ~0.1 s of CPU each time)."""
    built: list[dict[str, Any]] = []
    create = httpx.create_ssl_context

    def slow_create(**options: Any) -> Any:
        built.append(options)
        time.sleep(0.1)  # as slow as the real one on a busy machine: the threads meet here
        return create(**options)

    monkeypatch.setattr(httpx, "create_ssl_context", slow_create)
    monkeypatch.setattr(checker, "_TLS", {})
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: check_one(link_site.url(0, "/ok.html")), range(4)))
    assert [result.outcome for result in results] == [O.OK] * 4
    assert len(built) == 1


def test_failing_pages_keep_no_body(link_site: LinkSite) -> None:
    result = check_one(link_site.url(0, "/soft404.html"))
    assert result.body is None and result.body_sha256 is not None


def test_documents_are_checked_with_head(fresh_site: LinkSite) -> None:
    assert check_one(fresh_site.url(0, "/doc.pdf")).body is None
    assert fresh_site.stats["127.0.0.2"].hits["/doc.pdf"] == 1


def test_head_refused_falls_back_to_get(fresh_site: LinkSite) -> None:
    result = check_one(fresh_site.url(0, "/head-refused.pdf"))
    assert result.outcome is O.OK and fresh_site.stats["127.0.0.2"].hits["/head-refused.pdf"] == 2


def test_cross_host_permanent_move(link_site: LinkSite) -> None:
    result = check_one(link_site.url(0, "/moved.html"))
    new = link_site.url(1, "/new.html")
    assert (result.outcome, result.final_url) == (O.REDIRECTED, new)
    assert result.redirect_chain == ((link_site.url(0, "/moved.html"), 301),)
    assert permanent_move(result) == new


def test_trivial_and_temporary_redirects_are_not_moves(link_site: LinkSite) -> None:
    assert permanent_move(check_one(link_site.url(0, "/section"))) is None
    assert permanent_move(check_one(link_site.url(0, "/temporary.html"))) is None


def test_redirect_loop(link_site: LinkSite) -> None:
    result = check_one(link_site.url(0, "/loop-a"))
    assert result.outcome is O.ERROR and "loop" in (result.error or "")
    assert [status for _, status in result.redirect_chain] == [302, 302]


@pytest.mark.parametrize("path", ["/bad-location", "/to-mailto"])
def test_redirect_to_something_unfetchable(link_site: LinkSite, path: str) -> None:
    result = check_one(link_site.url(0, path))
    assert result.outcome is O.INVALID and "redirect" in (result.error or "") + str(result.redirect_chain)


def test_progress_bar_only_on_a_terminal() -> None:
    with terminal_progress(10) as progress:
        assert progress is None  # pytest captures stderr: not a terminal


def test_redirect_cap(link_site: LinkSite) -> None:
    result = check_one(link_site.url(0, "/old/deep/page.html"), max_redirects=0)
    assert result.outcome is O.ERROR and "more than 0 redirects" in (result.error or "")


def test_redirect_to_metadata_is_refused_before_connecting(link_site: LinkSite) -> None:
    # allow_private_addresses lets loopback through but never link-local; the refusal comes
    # from the resolver check, which runs before any socket is opened.
    result = check_one(link_site.url(0, "/metadata"))
    assert result.outcome is O.REFUSED
    assert result.error == "refused 169.254.169.254: link-local address 169.254.169.254"
    assert result.final_url == "http://169.254.169.254/latest/meta-data/"


def test_metadata_address_is_refused_directly() -> None:
    assert check_one("http://169.254.169.254/latest/meta-data/").outcome is O.REFUSED


def test_loopback_is_refused_by_default(fresh_site: LinkSite) -> None:
    result = check_one(fresh_site.url(0, "/ok.html"), http=GUARDED)
    assert result.outcome is O.REFUSED and "loopback" in (result.error or "")
    assert fresh_site.stats["127.0.0.2"].connections == 0


def test_a_resolved_name_is_connected_to_the_checked_address(link_site: LinkSite) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.2"]
    url = link_site.url(0, "/ok.html").replace("127.0.0.2", "www.city.example.test")
    assert check_one(url, resolver=resolver).outcome is O.OK
    (refused,) = run_checks([url], http=GUARDED, resolver=resolver)
    assert refused.outcome is O.REFUSED


@pytest.mark.parametrize(("url", "outcome"), [
    ("http://www.city.nowhere.invalid/", O.GONE_HOST),
    ("javascript:void(0)", O.INVALID),
    ("mailto:koho@example.jp", O.INVALID),
    ("http://exa mple.jp/", O.INVALID),
    ("http://ｗｗｗ.example.jp/", O.INVALID),
])
def test_unreachable_and_invalid(url: str, outcome: O) -> None:
    result = check_one(url)
    assert result.outcome is outcome and result.error and result.http_status is None


def test_full_width_url_checks_once_normalized(link_site: LinkSite) -> None:
    raw = link_site.url(0, "/ok.html").replace("http://127.0.0.2", "ｈｔｔｐ：／／１２７．０．０．２")
    assert check_one(raw).outcome is O.INVALID
    assert check_one(normalize_url(raw)).outcome is O.OK


def test_connection_refused(link_site: LinkSite) -> None:
    result = check_one(link_site.closed_url)
    assert result.outcome is O.GONE_HOST and result.attempts == 1


def test_tls_to_a_plain_http_port(link_site: LinkSite) -> None:
    result = check_one(link_site.url(0, "/ok.html", scheme="https"))
    assert result.outcome is O.GONE_HOST and "SSL" in (result.error or "")


def test_hanging_server_times_out(link_site: LinkSite) -> None:
    started = time.monotonic()
    result = check_one(link_site.url(0, "/hang.html"), read_timeout_s=0.3, retries=0)
    assert result.outcome is O.ERROR and "ReadTimeout" in (result.error or "")
    assert time.monotonic() - started < 2


def test_trickling_server_hits_the_deadline(link_site: LinkSite) -> None:
    started = time.monotonic()
    result = check_one(link_site.url(0, "/trickle.html"), read_timeout_s=2.0, deadline_s=1.5)
    assert result.outcome is O.ERROR and result.error == "no complete answer within 1.5s"
    assert result.attempts == 1 and time.monotonic() - started < 3  # the deadline is not retried


def test_huge_body_is_cut_at_the_cap(link_site: LinkSite) -> None:
    result = check_one(link_site.url(0, "/huge.html"), max_body_bytes=100_000)
    assert result.outcome is O.OK and result.body_truncated
    assert result.body is not None and len(result.body) == 100_000


def test_429_is_retried_after_retry_after(fresh_site: LinkSite) -> None:
    started = time.monotonic()
    result = check_one(fresh_site.url(0, "/busy.html?t=retry"))
    assert (result.outcome, result.attempts) == (O.OK, 2)
    assert time.monotonic() - started >= 1.0


def test_retry_after_beyond_the_cap_is_not_waited_for(link_site: LinkSite) -> None:
    # A cap of 10 s: waiting it (or the hour asked) would show however loaded the machine is.
    started = time.monotonic()
    result = check_one(link_site.url(0, "/busy-long.html"), retry_after_cap_s=10.0)
    assert (result.outcome, result.http_status, result.attempts) == (O.BLOCKED, 429, 1)
    assert time.monotonic() - started < 5


def test_5xx_is_retried_with_backoff(link_site: LinkSite) -> None:
    assert (check_one(link_site.url(0, "/flaky.html?t=once")).outcome, ) == (O.OK,)
    result = check_one(link_site.url(0, "/broken.html"), retries=2)
    assert (result.outcome, result.http_status, result.attempts) == (O.ERROR, 500, 3)


def test_sibling_probe_is_made_once_per_directory(fresh_site: LinkSite) -> None:
    urls = [fresh_site.url(0, f"/catchall/page{n}.html") for n in range(6)]
    assert {r.outcome for r in run_checks(urls)} == {O.SOFT_404}
    hits = fresh_site.stats["127.0.0.2"].hits
    assert sum(hits.values()) == 7  # six pages and one made-up neighbour


def test_per_host_cap_is_never_exceeded(fresh_site: LinkSite) -> None:
    urls = [fresh_site.url(host, f"/work/{n}") for n in range(12) for host in range(3)]
    # Pages that redirect to another host must respect that host's cap too.
    urls += [fresh_site.url(host, f"/moved.html?n={n}") for n in range(6) for host in range(3)]
    results = run_checks(urls, fast_with(concurrency=32, per_host=2))
    assert len(results) == len(urls) and all(r.outcome in (O.OK, O.REDIRECTED) for r in results)
    assert {a: s.max_in_flight for a, s in fresh_site.stats.items()} == {a: 2 for a in fresh_site.addresses}


def test_interval_between_checks_of_one_host(fresh_site: LinkSite) -> None:
    urls = [fresh_site.url(0, f"/work/{n}") for n in range(5)]
    # Timed where the host sees them, as a host minds them: each request's way there may be late by
    # tens of milliseconds on a loaded machine (0.183 s apart for 0.2 s), never early; without the
    # interval, two at a time, they come at once.
    run_checks(urls, fast_with(per_host=2, per_host_interval_s=0.5))
    starts = fresh_site.stats["127.0.0.2"].starts
    assert len(starts) == 5
    assert min(b - a for a, b in zip(starts, starts[1:])) >= 0.4


def test_a_hanging_host_does_not_stall_the_others(link_site: LinkSite) -> None:
    hanging = [link_site.url(0, f"/hang.html?n={n}") for n in range(4)]
    fast = [link_site.url(1, f"/work/{n}") for n in range(20)]
    settings = fast_with(concurrency=4, per_host=2, read_timeout_s=1.5, retries=0)
    started = time.monotonic()
    order = [r.url for r in run_checks(hanging + fast, settings)]
    assert set(order[:20]) == set(fast)  # all of the fast host while the other one hangs
    assert time.monotonic() - started < 4


def test_duplicates_are_checked_once_and_progress_is_told(link_site: LinkSite) -> None:
    seen: list[str] = []
    url = link_site.url(0, "/ok.html")
    results = run_checks([url, url, "mailto:x@example.jp"], progress=lambda r: seen.append(r.url))
    assert sorted(seen) == sorted(r.url for r in results) == sorted([url, "mailto:x@example.jp"])


def test_checked_at_comes_from_the_clock(link_site: LinkSite) -> None:
    from datetime import UTC, datetime
    moment = datetime(2024, 4, 1, tzinfo=UTC)
    assert check_one(link_site.url(0, "/ok.html"), clock=lambda: moment).checked_at == moment


def test_stopping_early_cancels_the_rest(link_site: LinkSite) -> None:
    import asyncio

    async def first() -> O:
        urls = [link_site.url(1, "/ok.html")] + [link_site.url(0, f"/hang.html?stop={n}") for n in range(3)]
        # The hanging checks would last 10 s (and their retry as long) unless cancelled.
        async for result in check_links(urls, fast_with(read_timeout_s=10.0, deadline_s=30.0), LOOPBACK):
            return result.outcome
        raise AssertionError("no result")
    started = time.monotonic()
    assert asyncio.run(first()) is O.OK
    assert time.monotonic() - started < 5


def test_an_error_inside_a_check_reaches_the_caller_and_stops_the_run(link_site: LinkSite) -> None:
    def broken_clock():
        raise RuntimeError("clock broke")
    urls = [link_site.url(0, "/ok.html"), link_site.url(1, "/ok.html"), link_site.url(0, "/hang.html?x=1")]
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="clock broke"):
        run_checks(urls, clock=broken_clock)
    assert time.monotonic() - started < FAST.deadline_s  # the hanging check was cancelled, not waited for
