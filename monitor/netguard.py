"""Which URLs the daemon may reach, enforced on every TCP connection it opens.

The lists come from outside, so a URL in them must not make us reach cloud metadata, admin
ports or anything else on a private network. Two checks:

* ``parse_target(url)`` — before any request: only ``http``/``https`` with a well-formed host.
* ``GuardedBackend`` — inside httpx, at connect time: the host is resolved once with
  ``getaddrinfo``, *every* address it resolves to is checked against the ``AddressPolicy``,
  and the socket is opened to one of those checked addresses (never to the name again), so a
  redirect hop, a keep-alive reconnect or a DNS answer that changes between check and connect
  (rebinding) cannot slip past. ``guarded_transport()`` builds an httpx transport with it;
  ``HostPools`` keeps one such transport per origin for clients that talk to many hosts.

Policy (``AddressPolicy``):

=====================================================  =========  ===========================
address                                                default    allow_private_addresses
=====================================================  =========  ===========================
public (``is_global``)                                 allowed    allowed
loopback, RFC 1918, ULA, CGNAT, other non-global       refused    allowed
link-local (169.254/16 — cloud metadata —, fe80::/10)  refused    **refused**
multicast, unspecified, reserved                       refused    **refused**
=====================================================  =========  ===========================

``allow_private_addresses`` exists for tests and demos on loopback or a LAN; no published list
has a reason to cite a link-local or metadata address, so that range stays shut whatever the
configuration says. A name that resolves to several addresses is refused if any one of them
is, because an attacker's DNS can hand out the bad one on the next lookup.

Names under the reserved ``.invalid`` TLD (RFC 6761 §6.4) fail without any lookup.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass

import httpcore
import httpx

from monitor.errors import FetchError

__all__ = [
    "AddressPolicy",
    "BlockedAddress",
    "GuardedBackend",
    "HostPools",
    "Resolver",
    "UnresolvableHost",
    "UnsupportedURL",
    "guarded_transport",
    "parse_target",
    "resolve_allowed",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``(host, port) -> addresses``; raises ``UnresolvableHost`` when the name does not resolve."""

_SCHEMES = frozenset({"http", "https"})
# After IDNA encoding a host is ASCII letters, digits, hyphens and dots (or an IP literal);
# anything else (a space, a percent sign) means the URL was mangled on its way into the list.
_HOSTNAME = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$")


class UnsupportedURL(FetchError):
    """Raised when a URL is unparseable, has no host, or its scheme is not http/https."""


class UnresolvableHost(FetchError):
    """Raised when a host name does not resolve (NXDOMAIN, no address, reserved ``.invalid``)."""


class BlockedAddress(FetchError):
    """Raised before connecting when a host resolves to an address the policy refuses."""


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which resolved addresses a connection may go to; see the module docstring."""

    allow_private_addresses: bool = False

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` is refused, or None when it is allowed."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_link_local:
            return "link-local address"
        if address.is_loopback:  # before is_reserved: Python counts ::1 among ::/8, reserved
            return None if self.allow_private_addresses else "loopback address"
        if address.is_multicast or address.is_unspecified or address.is_reserved:
            return "multicast, unspecified or reserved address"
        if address.is_global or self.allow_private_addresses:
            return None
        return "private address"


def parse_target(url: str) -> httpx.URL:
    """The URL as httpx will send it; raises ``UnsupportedURL`` unless it is fetchable http(s)."""
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise UnsupportedURL(f"unparseable URL: {exc}") from exc
    if parsed.scheme not in _SCHEMES:
        raise UnsupportedURL(f"unsupported scheme {parsed.scheme or '(none)'!r}")
    host = parsed.host
    if not host:
        raise UnsupportedURL("URL has no host")
    if _ip_literal(host) is None and not _HOSTNAME.match(parsed.raw_host.decode("ascii", "replace")):
        raise UnsupportedURL(f"malformed host {host!r}")
    return parsed


async def resolve_allowed(host: str, port: int, policy: AddressPolicy, resolver: Resolver | None = None) -> list[str]:
    """Addresses of ``host`` that a socket may be opened to; raises if any of them is refused."""
    literal = _ip_literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        names = await (resolver or system_resolver)(host, port)
        addresses = [ipaddress.ip_address(name.split("%", 1)[0]) for name in names]
        if not addresses:
            raise UnresolvableHost(f"{host}: no address")
    for address in addresses:
        reason = policy.refusal(address)
        if reason is not None:
            raise BlockedAddress(f"refused {host}: {reason} {address}")
    return [str(address) for address in addresses]


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with the system's ``getaddrinfo``; ``.invalid`` names fail without a lookup."""
    if host.rstrip(".").lower().endswith(".invalid") or host.lower() == "invalid":
        raise UnresolvableHost(f"{host}: reserved .invalid name")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableHost(f"{host}: {exc}") from exc
    # Keep getaddrinfo's order (it already prefers what the system would use), without repeats.
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that resolves, checks, then connects to a checked address."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver | None = None,
                 inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._policy = policy
        self._resolver = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve_allowed(host, port, self._policy, self._resolver)
        last_error: Exception | None = None
        for address in addresses:
            # TLS still verifies against the name: httpcore passes the origin host as SNI.
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None  # resolve_allowed returns at least one address or raises
        raise last_error

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("unix sockets are never reached from a URL")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_transport(policy: AddressPolicy, *, verify: ssl.SSLContext | bool = True,
                      limits: httpx.Limits | None = None, resolver: Resolver | None = None,
                      ) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every connection goes through ``GuardedBackend``.

    No proxy and no environment (``trust_env=False``): a proxy would make the checked address
    the proxy's, not the target's.
    """
    transport = httpx.AsyncHTTPTransport(verify=verify, trust_env=False,
                                         limits=limits or httpx.Limits())
    # httpx has no public hook for httpcore's network backend; its pool hands this attribute to
    # every connection it creates. tests/links/test_netguard.py fails if that ever changes.
    transport._pool._network_backend = GuardedBackend(policy, resolver)  # noqa: SLF001
    return transport


class HostPools(httpx.AsyncBaseTransport):
    """One guarded transport (one connection pool) per origin, the least recently used closed.

    httpcore's pool scans all of its connections for every request it places, so one pool
    for a whole run costs O(connections) per request: with 80 connections that was most of
    the checker's CPU. Per origin a pool holds a handful. At most ``max_pools`` are kept;
    beyond that, idle ones are closed so that a run over thousands of hosts keeps few sockets.
    """

    def __init__(self, policy: AddressPolicy, *, verify: ssl.SSLContext | bool = True,
                 per_origin: int = 4, max_pools: int = 64, resolver: Resolver | None = None) -> None:
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=per_origin, keepalive_expiry=10)
        # One SSL context for all pools: building one (loading the CA bundle) takes milliseconds.
        context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        self._make = lambda: guarded_transport(policy, verify=context, limits=limits, resolver=resolver)
        self._max_pools = max_pools
        self._pools: OrderedDict[tuple[bytes, bytes, int | None], httpx.AsyncHTTPTransport] = OrderedDict()
        self._busy: Counter[tuple[bytes, bytes, int | None]] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.url.raw_scheme, request.url.raw_host, request.url.port)
        pool = self._pools.get(key) or self._pools.setdefault(key, self._make())
        self._pools.move_to_end(key)
        self._busy[key] += 1
        try:
            response = await pool.handle_async_request(request)
        except BaseException:
            self._release(key)
            raise
        response.stream = _Released(response.stream, lambda: self._release(key))  # type: ignore[arg-type]
        await self._evict()
        return response

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()
        self._pools.clear()

    def _release(self, key: tuple[bytes, bytes, int | None]) -> None:
        self._busy[key] -= 1
        if not self._busy[key]:
            del self._busy[key]

    async def _evict(self) -> None:
        idle = [key for key in self._pools if key not in self._busy]  # oldest first
        for key in idle[: max(0, len(self._pools) - self._max_pools)]:
            await self._pools.pop(key).aclose()


class _Released(httpx.AsyncByteStream):
    """A response stream that says when it is closed, so its pool is known to be free."""

    def __init__(self, stream: httpx.AsyncByteStream, on_close: Callable[[], None]) -> None:
        self._stream = stream
        self._on_close: Callable[[], None] | None = on_close

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._on_close is not None:
                self._on_close, on_close = None, self._on_close
                on_close()


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
