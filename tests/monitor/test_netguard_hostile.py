"""The way out against a hostile server or list: bodies that inflate, URLs that break parsers,
addresses that embed a private one. Servers are on loopback, started here.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import tracemalloc
import zlib

import pytest

from monitor.config import HttpSettings
from monitor.errors import FetchError
from monitor.events import LinkOutcome
from monitor.demo.site import LoopbackSite, Route
from monitor.lists.fetch import Trust, fetch_document
from monitor.netguard import AddressPolicy, UnsupportedURL, parse_target, redirect_target
from tests.fixtures.bombs import gzipped
from tests.links.conftest import FAST, run_checks

CAP = 1_000_000
LOOPBACK = HttpSettings(allow_private_addresses=True, total_timeout_s=20, max_bytes=CAP)


@functools.cache
def bomb(layers: int) -> bytes:
    return gzipped(64 << 20 if layers == 1 else 256 << 20, layers)


def _peak_mib(run: object) -> tuple[object, float]:
    tracemalloc.start()
    try:
        result = run()  # type: ignore[operator]
        return result, tracemalloc.get_traced_memory()[1] / (1 << 20)
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(("layers", "encoding"), [(1, "gzip"), (2, "gzip, gzip")])
def test_a_list_that_inflates_is_refused_without_inflating_in_memory(site: LoopbackSite, layers: int, encoding: str) -> None:
    site.publish("/bomb.csv", Route(bomb(layers), content_type="text/csv", headers={"Content-Encoding": encoding}))

    def fetch() -> str:
        with pytest.raises(FetchError) as refused:
            asyncio.run(fetch_document(site.url("/bomb.csv"), LOOPBACK, trust=Trust.CONFIGURED))
        return str(refused.value)

    message, peak = _peak_mib(fetch)
    assert message == f"{site.url('/bomb.csv')}: more than {CAP} bytes, over the cap (http.max_bytes)"
    # httpx inflated each 64 KiB chunk whole: 64 MiB at once, 256 MiB for the bomb in a bomb.
    assert peak < 12, f"{peak:.0f} MiB held to read a {CAP} byte list"


def test_a_page_that_inflates_is_checked_from_its_first_bytes_only(site: LoopbackSite) -> None:
    site.publish("/page.html", Route(bomb(2), content_type="text/html", headers={"Content-Encoding": "gzip, gzip"}))
    results, peak = _peak_mib(lambda: run_checks([site.url("/page.html")], FAST))
    (result,) = results  # type: ignore[misc]
    assert result.outcome is LinkOutcome.OK
    assert peak < 40, f"{peak:.0f} MiB held to check one page (its cap: 2 MiB)"


def test_plain_deflate_and_stacked_encodings_still_read(site: LoopbackSite) -> None:
    text = "施策名,所管\n多摩の魅力発信,政策企画局\n".encode() * 50
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    for path, body, encoding in [
        ("/zlib.csv", zlib.compress(text), "deflate"),
        ("/raw.csv", raw.compress(text) + raw.flush(), "deflate"),
        ("/twice.csv", zlib.compress(zlib.compress(text, wbits=31), wbits=31), "gzip, x-gzip"),
        ("/unknown.csv", text, "identity, x-custom"),
    ]:
        site.publish(path, Route(body, content_type="text/csv", headers={"Content-Encoding": encoding}))
        assert asyncio.run(fetch_document(site.url(path), LOOPBACK, trust=Trust.CONFIGURED)).body == text, path


def test_more_encodings_than_a_server_would_stack_is_one_clear_line(site: LoopbackSite) -> None:
    site.publish("/deep.csv", Route(b"x", content_type="text/csv", headers={"Content-Encoding": ", ".join(["gzip"] * 500)}))
    with pytest.raises(FetchError, match=r"deep.csv: DecodingError: 500 content encodings stacked, more than the 3 read$"):
        asyncio.run(fetch_document(site.url("/deep.csv"), LOOPBACK, trust=Trust.CONFIGURED))


@pytest.mark.parametrize(("url", "reason"), [
    ("http://xn--/", "unparseable URL"),                     # an A-label that is not punycode
    ("http://xn--zz.example.jp/", "unparseable URL"),
    ("http://93.184.216.34:99999/", "port 99999 is out of range"),
    ("http://93.184.216.34:0/", "port 0 is out of range"),
])
def test_a_url_that_breaks_idna_or_ports_is_unsupported_not_a_crash(url: str, reason: str) -> None:
    with pytest.raises(UnsupportedURL, match=reason):
        parse_target(url)
    with pytest.raises(UnsupportedURL, match=reason):
        redirect_target("http://www.example.jp/list.html", url)
    with pytest.raises(FetchError, match=reason):
        asyncio.run(fetch_document(url, HttpSettings(), trust=Trust.LEARNED))


def test_a_link_that_breaks_idna_is_invalid_and_the_run_goes_on(site: LoopbackSite) -> None:
    site.publish("/ok.html", Route(b"<html><body>ok</body></html>", content_type="text/html"))
    urls = ["http://xn--/", "http://127.0.0.1:99999/", site.url("/ok.html")]
    outcomes = {result.url: result.outcome for result in run_checks(urls, FAST)}
    assert outcomes == dict(zip(urls, [LinkOutcome.INVALID, LinkOutcome.INVALID, LinkOutcome.OK]))


@pytest.mark.parametrize(("address", "reason"), [
    ("2002:7f00:1::", "loopback address"),          # 6to4 of 127.0.0.1
    ("2002:a9fe:a9fe::1", "link-local address"),    # 6to4 of the metadata address
    ("2002:c0a8:1::", "private address"),           # 6to4 of 192.168.0.1
    ("fec0::1", "private address"),                 # site-local, the ULA's deprecated forerunner
    ("64:ff9b::7f00:1", "loopback address"),        # NAT64 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "link-local address"),
])
def test_an_ipv6_address_that_embeds_a_refused_one_is_refused(address: str, reason: str) -> None:
    assert AddressPolicy().refusal(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["2002:5db8:d822::1", "64:ff9b::5db8:d822"])
def test_an_ipv6_address_that_embeds_a_public_one_is_public(address: str) -> None:
    # 6to4 and NAT64 of 93.184.216.34; NAT64 is every IPv4 site's address on an IPv6-only network with DNS64
    assert AddressPolicy().refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("first", [1, 2, 3])
def test_raw_deflate_is_read_whatever_the_size_of_its_first_chunk(first: int) -> None:
    # A server's first chunk of one byte passed zlib's header check unjudged: the raw deflate
    # body after it was a DecodingError instead of the list.
    from monitor.inflate import CappedDecoder

    text = "施策名,所管\n多摩の魅力発信,政策企画局\n".encode() * 50
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = packer.compress(text) + packer.flush()
    decoder = CappedDecoder(["deflate"], CAP)
    for chunk in (body[:first], body[first:]):
        decoder.feed(chunk)
    assert decoder.body() == text and not decoder.over
