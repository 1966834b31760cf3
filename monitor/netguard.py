"""Which URLs the daemon may reach, enforced on every TCP connection it opens.

The lists come from outside, so a URL in them must not make us reach cloud metadata, admin
ports or anything else on a private network. Two checks:

* ``parse_target(url)`` — before any request: only ``http``/``https`` with a well-formed host.
* ``GuardedBackend`` — inside httpx, at connect time: the host is resolved once with
  ``getaddrinfo``, *every* address it resolves to is checked against the ``AddressPolicy``,
  and the socket is opened to one of those checked addresses (never to the name again), so a
  redirect hop, a keep-alive reconnect or a DNS answer that changes between check and connect
  (rebinding) cannot slip past; its sockets are plain asyncio streams (``AsyncioBackend``,
  lighter than httpcore's AnyIO default). ``HostPools`` is the httpx transport that opens
  every connection through it.

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
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
from httpcore._utils import is_socket_readable  # noqa: PLC2701 (a small, stable helper)
import httpx
from httpx._transports.default import map_httpcore_exceptions  # noqa: PLC2701 (httpcore → httpx errors)

from monitor.errors import FetchError

__all__ = [
    "AddressPolicy",
    "AsyncioBackend",
    "BlockedAddress",
    "GuardedBackend",
    "HostPools",
    "Resolver",
    "UnresolvableHost",
    "UnsupportedURL",
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


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend on plain asyncio streams.

    httpcore's default for asyncio goes through AnyIO: a cancel scope per read and write, and
    a dict of socket attributes rebuilt each time a pooled connection is checked for reuse.
    On a link check run that was a quarter of the CPU per request. Same contract, same
    httpcore exceptions (``ConnectError``, ``ReadTimeout`` …), fewer layers.
    """

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, local_addr=(local_address, 0) if local_address else None)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc) or "connect timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        sock = writer.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return _AsyncioStream(reader, writer)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("unix sockets are never reached from a URL")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(str(exc) or "read timed out") from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            if self._writer.is_closing():
                raise ConnectionResetError("connection closed")
            self._writer.write(buffer)
            if self._writer.transport.get_write_buffer_size():  # the kernel did not take it all
                async with asyncio.timeout(timeout):
                    await self._writer.drain()
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(str(exc) or "write timed out") from exc
        except OSError as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        self._writer.close()  # no wait: a TLS close_notify must not hold a check

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError as exc:
            self._writer.close()
            raise httpcore.ConnectTimeout(str(exc) or "TLS handshake timed out") from exc
        except (OSError, ssl.SSLError) as exc:  # ssl.SSLError is an OSError; named for the reader
            self._writer.close()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # asked before reusing a pooled connection: closed or not
            return (self._reader.at_eof() or self._writer.is_closing()
                    or is_socket_readable(self._writer.get_extra_info("socket")))
        if info in ("ssl_object", "socket"):
            return self._writer.get_extra_info(info)
        if info in ("client_addr", "server_addr"):
            return self._writer.get_extra_info("sockname" if info == "client_addr" else "peername")
        return None


Origin = tuple[bytes, bytes, int]


class HostPools(httpx.AsyncBaseTransport):
    """Keep-alive HTTP/1.1 connections per origin, each opened through ``GuardedBackend``.

    Built for the link checker, which already caps the requests in flight to each host, so a
    transport has little left to do: take an idle connection to the origin or open one, send,
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
        # One SSL context for all origins: building one (loading the CA bundle) takes milliseconds.
        self._context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        self._context.set_alpn_protocols(["http/1.1"])
        self._backend = GuardedBackend(policy, resolver)
        self._per_origin = per_origin
        self._max_pools = max_pools
        self._expiry = keepalive_expiry
        self._idle: OrderedDict[Origin, list[httpcore.AsyncHTTP11Connection]] = OrderedDict()
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=request.headers.raw, content=request.stream, extensions=request.extensions,
        )
        origin = core.url.origin
        key = (origin.scheme, origin.host, origin.port)
        with map_httpcore_exceptions():
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

    async def _idle_connection(self, key: Origin) -> httpcore.AsyncHTTP11Connection | None:
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if connection.is_idle() and not connection.has_expired():
                return connection
            await connection.aclose()
        return None

    async def _connect(self, origin: httpcore.Origin, request: httpcore.Request) -> httpcore.AsyncHTTP11Connection:
        timeout = request.extensions.get("timeout", {}).get("connect")
        host = origin.host.decode("ascii")
        stream = await self._backend.connect_tcp(host, origin.port, timeout=timeout)
        if origin.scheme == b"https":
            # TLS verifies against the name, though the socket went to a checked address.
            stream = await stream.start_tls(self._context, server_hostname=host, timeout=timeout)
        return httpcore.AsyncHTTP11Connection(origin=origin, stream=stream, keepalive_expiry=self._expiry)

    async def _take_back(self, key: Origin, connection: httpcore.AsyncHTTP11Connection) -> None:
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

    def __init__(self, stream: Any, pools: HostPools, key: Origin, connection: httpcore.AsyncHTTP11Connection) -> None:
        self._stream = stream
        self._pools: HostPools | None = pools
        self._key = key
        self._connection = connection

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with map_httpcore_exceptions():
            async for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        try:
            with map_httpcore_exceptions():
                await self._stream.aclose()
        finally:
            if self._pools is not None:
                self._pools, pools = None, self._pools
                await pools._take_back(self._key, self._connection)  # noqa: SLF001


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
