"""The one way out: which URLs the daemon may reach, enforced on every request and connection.

The lists come from outside, so a URL in them must not make us reach cloud metadata, admin
ports or anything else on a private network. Every request the daemon makes — a list and its
redirects, pagination, index pages and the lists found on them, link checks, page snapshots,
the sibling probe, webhooks — is sent by a ``GuardedClient``, and so passes three checks:

* ``parse_target(url)`` / ``redirect_target(current, location)`` — before a request: only
  ``http``/``https`` with a well-formed host, for a URL and for every redirect's ``Location``.
  ``HostPools`` refuses any other scheme again for each request it is handed.
* ``GuardedBackend`` — at connect time: the host is resolved once with ``getaddrinfo``,
  *every* address it resolves to is checked against the ``AddressPolicy``, and the socket is
  opened to one of those checked addresses (never to the name again), so a redirect hop, a
  keep-alive reconnect or a DNS answer that changes between check and connect (rebinding)
  cannot slip past; its sockets are plain asyncio streams (``monitor.asyncio_backend``,
  lighter than httpcore's AnyIO default). ``HostPools``, the httpx transport under every
  ``GuardedClient``, opens every connection through it.
* ``read_capped(response, cap)`` — a body is read, decompressed, up to its cap and no further,
  each compression layer inflating no more than the cap leaves (``monitor.inflate``).

A ``GuardedClient`` never follows a redirect itself: a caller that follows one asks
``redirect_target`` for the next hop and sends again, so every hop is checked like the first
and no redirect body is read. What the exceptions raised here mean (outcome, one line) is
decided once, in ``monitor/net_failures.py``.

Policy (``AddressPolicy``):

=====================================================  =========  ===========================
address                                                default    allow_private_addresses
=====================================================  =========  ===========================
public (``is_global``)                                 allowed    allowed
loopback, RFC 1918, ULA, site-local, CGNAT, other     refused    allowed
link-local (169.254/16 — cloud metadata —, fe80::/10)  refused    **refused**
multicast, unspecified, reserved                       refused    **refused**
=====================================================  =========  ===========================

``allow_private_addresses`` exists for tests and demos on loopback or a LAN; no published list
has a reason to cite a link-local or metadata address, so that range stays shut whatever the
configuration says. An IPv4-mapped, 6to4 (``2002::/16``) or NAT64 (``64:ff9b::/96``) IPv6
address is judged by the IPv4 address it carries. A name that resolves to several addresses is refused if any one of them
is, because an attacker's DNS can hand out the bad one on the next lookup.

Names under the reserved ``.invalid`` TLD (RFC 6761 §6.4) fail without any lookup.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import re
import socket
import ssl
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpcore
import httpx

from monitor.asyncio_backend import AsyncioBackend
from monitor.errors import FetchError
from monitor.http11 import Http11Connection
from monitor.inflate import CappedDecoder

__all__ = [
    "AddressPolicy",
    "BlockedAddress",
    "GuardedBackend",
    "GuardedClient",
    "HostPools",
    "Resolver",
    "UnresolvableHost",
    "UnsupportedURL",
    "parse_target",
    "read_capped",
    "redirect_target",
    "resolve_allowed",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``(host, port) -> addresses``; raises ``UnresolvableHost`` when the name does not resolve."""

_SCHEMES = frozenset({"http", "https"})
_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")  # Python < 3.13 counts it as global
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
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
        if isinstance(address, ipaddress.IPv6Address):
            if address in _SITE_LOCAL:  # deprecated (RFC 3879) but still routed inside sites
                return None if self.allow_private_addresses else "private address"
            # 6to4 and NAT64 (RFC 6052's well-known prefix, what DNS64 answers on an IPv6-only
            # network) carry an IPv4 address that a host with such a route reaches.
            address = address.ipv4_mapped or address.sixtofour or _nat64(address) or address
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
        host = parsed.host  # decoded lazily: a bad A-label ("xn--") raises idna's error here
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise UnsupportedURL(f"unparseable URL: {exc}") from exc
    if parsed.scheme not in _SCHEMES:
        raise UnsupportedURL(f"unsupported scheme {parsed.scheme or '(none)'!r}")
    if not host:
        raise UnsupportedURL("URL has no host")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise UnsupportedURL(f"port {parsed.port} is out of range")
    if _ip_literal(host) is None and not _HOSTNAME.match(parsed.raw_host.decode("ascii", "replace")):
        raise UnsupportedURL(f"malformed host {host!r}")
    return parsed


def redirect_target(current: str, location: str) -> str:
    """The absolute URL a Location header points to; ``UnsupportedURL`` unless it is fetchable http(s)."""
    try:
        target = str(httpx.URL(current).join(location))
        parse_target(target)
    except (httpx.InvalidURL, ValueError, UnsupportedURL) as exc:
        raise UnsupportedURL(f"unusable redirect to {location!r}: {exc}") from exc
    return target


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
        self._inner = inner or AsyncioBackend()

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


Origin = tuple[bytes, bytes, int]
# httpcore's failures as httpx's public exceptions, as httpx's own transport maps them; most
# specific first, since a class is mapped by the first entry it is an instance of.
_HTTPX_OF: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)
_HTTPCORE_ERRORS = tuple(source for source, _ in _HTTPX_OF)


@contextmanager
def _httpx_errors() -> Iterator[None]:
    """httpcore's exceptions re-raised as httpx's, the message kept: an httpx transport's contract."""
    try:
        yield
    except _HTTPCORE_ERRORS as exc:
        mapped = next(target for source, target in _HTTPX_OF if isinstance(exc, source))
        raise mapped(str(exc)) from exc


class HostPools(httpx.AsyncBaseTransport):
    """Keep-alive HTTP/1.1 connections per origin (``monitor.http11``), each opened through ``GuardedBackend``.

    The transport under every ``GuardedClient``. Built for the link checker, which already
    caps the requests in flight to each host (a list fetch or a webhook sends one request at
    a time), so a transport has little left to do: take an idle connection to the origin or open one, send,
    and take the connection back when the response is closed. httpx's transport over
    httpcore's pool did the same with locks, AnyIO cancel scopes and a scan of the pool per
    request, a fifth of the CPU per URL on loopback. Idle connections are kept up to
    ``per_origin`` per origin and for ``max_pools`` origins, the least recently used closed
    first, so a run over thousands of hosts keeps few sockets; a connection idle for longer
    than ``keepalive_expiry`` seconds, or closed by its server, is not reused. No proxy, whatever
    the environment says: a proxy would make the checked address the proxy's, not the target's.
    """

    def __init__(self, policy: AddressPolicy, *, verify: ssl.SSLContext | bool = True,
                 per_origin: int = 4, max_pools: int = 64, resolver: Resolver | None = None,
                 keepalive_expiry: float = 10.0) -> None:
        # One SSL context for all origins, built at the first https one: loading the CA bundle takes
        # ~0.1 s of CPU, which a plain-http fetch (a loopback or intranet list) never needs.
        self._verify = verify
        self._context: ssl.SSLContext | None = None
        self._backend = GuardedBackend(policy, resolver)
        self._per_origin = per_origin
        self._max_pools = max_pools
        self._expiry = keepalive_expiry
        self._idle: OrderedDict[Origin, list[Http11Connection]] = OrderedDict()
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in _SCHEMES:  # whoever built the request, nothing but http(s) leaves
            raise UnsupportedURL(f"unsupported scheme {url.scheme or '(none)'!r}")
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=request.headers.raw, content=request.stream, extensions=request.extensions,
        )
        origin = core.url.origin
        key = (origin.scheme, origin.host, origin.port)
        with _httpx_errors():
            connection = await self._idle_connection(key) or await self._connect(origin, core)
            try:
                response = await connection.handle_async_request(core)
            except BaseException:
                await connection.aclose()
                raise
        return httpx.Response(status_code=response.status, headers=response.headers,
                              stream=_Returned(response.stream, self, key, connection),
                              extensions=response.extensions)

    async def aclose(self) -> None:
        self._closed = True
        for connections in self._idle.values():
            for connection in connections:
                await connection.aclose()
        self._idle.clear()

    async def _idle_connection(self, key: Origin) -> Http11Connection | None:
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if connection.is_idle() and not connection.has_expired():
                return connection
            await connection.aclose()
        return None

    async def _connect(self, origin: httpcore.Origin, request: httpcore.Request) -> Http11Connection:
        timeout = request.extensions.get("timeout", {}).get("connect")
        host = origin.host.decode("ascii")
        stream = await self._backend.connect_tcp(host, origin.port, timeout=timeout)
        if origin.scheme == b"https":
            # TLS verifies against the name, though the socket went to a checked address.
            stream = await stream.start_tls(self._tls_context(), server_hostname=host, timeout=timeout)
        return Http11Connection(origin=origin, stream=stream, keepalive_expiry=self._expiry)

    def _tls_context(self) -> ssl.SSLContext:
        if self._context is None:
            verify = self._verify
            self._context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
            self._context.set_alpn_protocols(["http/1.1"])
        return self._context

    async def _take_back(self, key: Origin, connection: Http11Connection) -> None:
        """A response was closed: keep its connection for the next request to the origin."""
        idle = self._idle.get(key)
        if self._closed or not connection.is_idle() or (idle is not None and len(idle) >= self._per_origin):
            await connection.aclose()
            return
        if idle is None:
            idle = self._idle[key] = []
        idle.append(connection)
        self._idle.move_to_end(key)
        while len(self._idle) > self._max_pools:
            _, oldest = self._idle.popitem(last=False)
            for stale in oldest:
                await stale.aclose()


class _Returned(httpx.AsyncByteStream):
    """A response body that hands its connection back to ``HostPools`` once closed."""

    def __init__(self, stream: Any, pools: HostPools, key: Origin, connection: Http11Connection) -> None:
        self._stream = stream
        self._pools: HostPools | None = pools
        self._key = key
        self._connection = connection

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        try:
            with _httpx_errors():
                await self._stream.aclose()
        finally:
            pools, self._pools = self._pools, None
            if pools is not None:
                await pools._take_back(self._key, self._connection)  # noqa: SLF001


class GuardedClient:
    """The one way out: default headers, timeouts and a cookie jar over ``HostPools``.

    ``send`` hands each request straight to the transport: what ``httpx.AsyncClient.send``
    adds per request (auth and redirect machinery, event hooks, a timing wrapper, a cookie
    round-trip through urllib's jar even without cookies) was a fifth of the link checker's
    CPU per URL, and its redirect following would read each redirect's body whole. No
    redirect is followed here (see the module docstring), no proxy is used, and the response
    comes back unread: read it with ``read_capped`` and close it.
    """

    def __init__(self, policy: AddressPolicy, *, timeout: httpx.Timeout, headers: Mapping[str, str] | None = None,
                 verify: ssl.SSLContext | bool = True, per_origin: int = 4, max_pools: int = 64,
                 resolver: Resolver | None = None) -> None:
        self._pools = HostPools(policy, verify=verify, per_origin=per_origin, max_pools=max_pools, resolver=resolver)
        self._headers = httpx.Headers({"Accept": "*/*", "Accept-Encoding": "gzip, deflate", **(headers or {})})
        self._cookies = httpx.Cookies()
        self._extensions: dict[str, Any] = {"timeout": timeout.as_dict()}

    async def __aenter__(self) -> GuardedClient:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self._pools.aclose()

    async def send(self, method: str, url: httpx.URL | str, *, headers: Mapping[str, str] | None = None,
                   content: bytes | None = None) -> httpx.Response:
        """One exchange, its body unread; raises httpx's or netguard's exceptions."""
        request = httpx.Request(method, url, headers=self._headers, content=content, extensions=self._extensions)
        if headers:
            request.headers.update(headers)
        if request.url.userinfo and "authorization" not in request.headers:
            # As httpx.AsyncClient would: a list behind Basic auth names its user:password in its URL.
            credentials = f"{request.url.username}:{request.url.password}".encode()
            request.headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode("ascii")
        if self._cookies.jar:
            self._cookies.set_cookie_header(request)
        response = await self._pools.handle_async_request(request)
        response.request = request
        if "set-cookie" in response.headers:
            self._cookies.extract_cookies(response)
        return response


async def read_capped(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    """The decoded body up to ``cap`` bytes, and whether more was left unread (a gzip bomb stops here).

    Decoded by ``monitor.inflate``, never by httpx, whose decoders inflate a chunk whole.
    """
    decoder = CappedDecoder(response.headers.get_list("content-encoding", split_commas=True), cap)
    async for chunk in response.aiter_raw():
        decoder.feed(chunk)
        if decoder.over:
            return decoder.body(), True
    return decoder.body(), False


def _nat64(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF) if address in _NAT64 else None


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
