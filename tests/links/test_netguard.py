"""netguard: which addresses are refused, and that refusal comes before any connection."""

from __future__ import annotations

import asyncio
import ipaddress

import httpcore
import httpx
import pytest

from monitor.events import LinkOutcome
from monitor.net_failures import Failure, failure_of
from monitor.netguard import (AddressPolicy, BlockedAddress, GuardedBackend, HostPools,
                              UnresolvableHost, UnsupportedURL, parse_target,
                              resolve_allowed, system_resolver)
from tests.links.site import LinkSite

DEFAULT = AddressPolicy()
PERMISSIVE = AddressPolicy(allow_private_addresses=True)


@pytest.mark.parametrize(("address", "default", "permissive"), [
    ("93.184.216.34", True, True),
    ("2606:4700::1111", True, True),
    ("127.0.0.1", False, True),
    ("::1", False, True),
    ("10.1.2.3", False, True),
    ("192.168.0.1", False, True),
    ("100.64.0.1", False, True),          # carrier-grade NAT
    ("fd00::1", False, True),             # unique local
    ("169.254.169.254", False, False),    # cloud metadata: never, whatever the config
    ("fe80::1", False, False),
    ("::ffff:169.254.169.254", False, False),
    ("::ffff:127.0.0.1", False, True),
    ("224.0.0.1", False, False),
    ("0.0.0.0", False, False),
    ("::", False, False),
    ("240.0.0.1", False, False),
])
def test_policy(address: str, default: bool, permissive: bool) -> None:
    ip = ipaddress.ip_address(address)
    assert (DEFAULT.refusal(ip) is None) is default
    assert (PERMISSIVE.refusal(ip) is None) is permissive


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "mailto:koho@example.jp", "ftp://example.jp/a.pdf", "file:///etc/passwd",
    "http://", "http://exa mple.jp/", "http://ｅｘａｍｐｌｅ.jp/", "/relative/path.html", "",
])
def test_unsupported_urls(url: str) -> None:
    with pytest.raises(UnsupportedURL):
        parse_target(url)


def test_full_width_path_and_spaces_are_encoded_not_refused() -> None:
    assert parse_target("http://www.example.jp/ページ 1.html").raw_path == b"/%E3%83%9A%E3%83%BC%E3%82%B8%201.html"


def test_invalid_tld_fails_without_lookup() -> None:
    with pytest.raises(UnresolvableHost, match="invalid"):
        asyncio.run(system_resolver("no-such-host.invalid", 80))


def test_a_name_with_any_bad_address_is_refused() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "169.254.169.254"]
    with pytest.raises(BlockedAddress, match="link-local"):
        asyncio.run(resolve_allowed("rebind.example.test", 80, PERMISSIVE, resolver))


class _CountingBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self.connects: list[str] = []

    async def connect_tcp(self, host: str, port: int, *args: object, **kwargs: object) -> httpcore.AsyncNetworkStream:
        self.connects.append(host)
        raise httpcore.ConnectError("test backend never connects")


def test_backend_refuses_before_connecting_and_connects_to_the_checked_address() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return {"metadata.example.test": ["169.254.169.254"], "www.example.test": ["93.184.216.34"]}[host]
    inner = _CountingBackend()
    backend = GuardedBackend(DEFAULT, resolver, inner=inner)
    with pytest.raises(BlockedAddress):
        asyncio.run(backend.connect_tcp("metadata.example.test", 80))
    with pytest.raises(BlockedAddress):
        asyncio.run(backend.connect_tcp("169.254.169.254", 80))
    assert inner.connects == []
    with pytest.raises(httpcore.ConnectError):
        asyncio.run(backend.connect_tcp("www.example.test", 80))
    assert inner.connects == ["93.184.216.34"]  # the name is never resolved a second time


def test_host_pools_refuse_and_release_idle_pools(fresh_site: LinkSite) -> None:
    async def fetch_all() -> list[int]:
        transport = HostPools(PERMISSIVE, max_pools=1)
        async with httpx.AsyncClient(transport=transport) as client:
            statuses = [(await client.get(fresh_site.url(host, "/ok.html"))).status_code
                        for _ in range(2) for host in range(3)]
        async with httpx.AsyncClient(transport=HostPools(DEFAULT)) as client:
            with pytest.raises(BlockedAddress):
                await client.get(fresh_site.url(0, "/ok.html"))
        return statuses
    assert asyncio.run(fetch_all()) == [200] * 6
    # One pool kept at a time: each host's keep-alive connection was closed when the next
    # host's pool came, so the second round opened new ones.
    assert [fresh_site.stats[a].connections for a in fresh_site.addresses] == [2, 2, 2]


def test_host_pools_keep_connections_alive_until_they_expire(fresh_site: LinkSite) -> None:
    async def fetch(transport: HostPools) -> list[int]:
        async with httpx.AsyncClient(transport=transport) as client:
            return [(await client.get(fresh_site.url(host, "/ok.html"))).status_code for _ in range(3) for host in range(2)]
    assert asyncio.run(fetch(HostPools(PERMISSIVE))) == [200] * 6
    assert [fresh_site.stats[a].connections for a in fresh_site.addresses[:2]] == [1, 1]
    assert asyncio.run(fetch(HostPools(PERMISSIVE, keepalive_expiry=0.0))) == [200] * 6
    assert [fresh_site.stats[a].connections for a in fresh_site.addresses[:2]] == [4, 4]


def test_the_transport_refuses_any_scheme_but_http_whoever_built_the_request() -> None:
    async def send() -> None:
        await HostPools(PERMISSIVE).handle_async_request(httpx.Request("GET", "file:///etc/passwd"))
    with pytest.raises(UnsupportedURL, match="unsupported scheme 'file'"):
        asyncio.run(send())


@pytest.mark.parametrize(("error", "outcome", "transient", "message"), [
    (BlockedAddress("refused h: private address 10.0.0.1"), LinkOutcome.REFUSED, False, "refused h: private address 10.0.0.1"),
    (UnresolvableHost("h.invalid: reserved .invalid name"), LinkOutcome.GONE_HOST, False, "h.invalid: reserved .invalid name"),
    (UnsupportedURL("unsupported scheme 'ftp'"), LinkOutcome.INVALID, False, "unsupported scheme 'ftp'"),
    (httpx.ReadTimeout("slow"), LinkOutcome.ERROR, True, "timed out (ReadTimeout)"),
    (httpx.ConnectError("Connection refused (127.0.0.1 port 9)"), LinkOutcome.GONE_HOST, False,
     "cannot connect: Connection refused (127.0.0.1 port 9)"),
    (httpx.RemoteProtocolError("peer closed\nconnection"), LinkOutcome.ERROR, True, "answer cut short or garbled: peer closed connection"),
    (httpx.ReadError(""), LinkOutcome.ERROR, True, "connection lost (ReadError)"),
    (httpx.DecodingError("bad gzip"), LinkOutcome.ERROR, False, "DecodingError: bad gzip"),
])
def test_one_table_says_what_a_failure_means(error: Exception, outcome: LinkOutcome, transient: bool, message: str) -> None:
    assert failure_of(error) == Failure(outcome, message, transient)
