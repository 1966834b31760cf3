"""A misbehaving multi-host web site on loopback, for the link checker's tests.

``LinkSite`` serves the same routes on several addresses (127.0.0.2, 127.0.0.3, …), each on
its own port, from an asyncio loop in a background thread, so the code under test runs its
own loop. Every host counts accepted connections, requests per target and requests in flight
(and the most ever in flight), which is how the tests see per-host politeness from outside.

Stateful routes (``/busy.html``, ``/flaky.html``) key their state on the whole target, so a
test that adds ``?t=<name>`` gets a fresh state whatever ran before it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["LinkSite", "running_link_site"]

HUGE_SIZE = 2 * 1024**3  # announced, generated as it is sent, never stored
TOP = "<html><head><title>東京都 トップページ</title></head><body><h1>ようこそ</h1></body></html>"
SOFT_404_JA = ("<html><head><title>お探しのページは見つかりません｜東京都</title></head>"
               "<body><h1>お探しのページは見つかりません</h1><p>移動または削除された可能性があります。</p></body></html>")
SOFT_404_EN = "<html><head><title>Example</title></head><body><h1>404 Not Found</h1></body></html>"
# A host that answers 200 with the same page for any path under /catchall/, echoing the path.
CATCHALL = "<html><head><title>総合案内</title></head><body><p>{path} へようこそ</p></body></html>"


@dataclass
class _HostStats:
    connections: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    starts: list[float] = field(default_factory=list)
    hits: Counter[str] = field(default_factory=Counter)


Send = Callable[[int, dict[str, str], bytes], Awaitable[None]]


class LinkSite:
    """The running site: ``url(i, path)`` addresses host ``i``; stats are per host address."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses
        self.ports: dict[str, int] = {}
        self.stats: dict[str, _HostStats] = defaultdict(_HostStats)
        self.closed_url = f"http://127.0.0.250:{_unused_port('127.0.0.250')}/"  # nothing listens
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()

    def url(self, host: int, path: str, scheme: str = "http") -> str:
        address = self.addresses[host]
        return f"{scheme}://{address}:{self.ports[address]}{path}"

    def reset(self) -> None:
        with self._lock:
            self.stats.clear()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True, name="link-site").start()
        if not ready.wait(5):
            raise RuntimeError("link site did not start")

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(5)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        for address in self.addresses:
            server = self._loop.run_until_complete(asyncio.start_server(
                lambda r, w, a=address: self._connection(a, r, w), address, 0))
            self.ports[address] = server.sockets[0].getsockname()[1]
        ready.set()
        self._loop.run_forever()

    async def _shutdown(self) -> None:
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()
        self._loop.call_soon(self._loop.stop)

    # -- HTTP/1.1 with keep-alive, just enough of it --------------------------------------------
    async def _connection(self, address: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats[address].connections += 1
        try:
            first = await reader.readexactly(1)
            if not first.isalpha():  # a TLS ClientHello on this plain port: refuse like nginx
                writer.write(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return
            head = first + await reader.readuntil(b"\r\n\r\n")
            while await self._request(address, head, writer):
                head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return
        finally:
            writer.close()

    async def _request(self, address: str, head: bytes, writer: asyncio.StreamWriter) -> bool:
        method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        stats = self.stats[address]
        with self._lock:
            stats.hits[target] += 1
            stats.in_flight += 1
            stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
            stats.starts.append(time.monotonic())
            hits = stats.hits[target]

        async def send(status: int, headers: dict[str, str], body: bytes) -> None:
            lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + (b"" if method == "HEAD" else body))
            await writer.drain()

        try:
            return await self._route(address, method, target, hits, send, writer)
        finally:
            with self._lock:
                stats.in_flight -= 1

    async def _route(self, address: str, method: str, target: str, hits: int, send: Send,
                     writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False closes the connection."""
        path = urlsplit(target).path
        html = {"Content-Type": "text/html; charset=utf-8"}
        pdf = {"Content-Type": "application/pdf"}
        simple: dict[str, tuple[int, dict[str, str], str]] = {
            "/": (200, html, TOP), "/index.html": (200, html, TOP),
            "/ok.html": (200, html, f"<html><head><title>OK {address}</title></head><body>本文</body></html>"),
            "/new.html": (200, html, "<html><head><title>新しいページ</title></head></html>"),
            "/section/": (200, html, "<html><head><title>事業の一覧</title></head></html>"),
            "/%E3%83%9A%E3%83%BC%E3%82%B8%201.html": (200, html, "<html><title>ページ 1</title></html>"),
            "/doc.pdf": (200, pdf, "%PDF-1.4 fake"),
            "/missing.html": (404, html, "<html><title>404</title></html>"),
            "/gone.html": (410, html, ""),
            "/forbidden.html": (403, html, ""),
            "/broken.html": (500, html, ""),
            "/soft404.html": (200, html, SOFT_404_JA),
            "/soft404-en.html": (200, html, SOFT_404_EN),
            "/old/deep/page.html": (301, {"Location": "/"}, ""),
            "/old/deep/index-redirect.html": (302, {"Location": "/index.html"}, ""),
            "/temporary.html": (302, {"Location": "/ok.html"}, ""),
            "/section": (301, {"Location": "/section/"}, ""),
            "/loop-a": (302, {"Location": "/loop-b"}, ""),
            "/loop-b": (302, {"Location": "/loop-a"}, ""),
            "/metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, ""),
            "/busy-long.html": (429, {"Retry-After": "3600"}, ""),
            "/bad-location": (302, {"Location": "http://[::1"}, ""),
            "/to-mailto": (301, {"Location": "mailto:koho@example.jp"}, ""),
        }
        if path in simple:
            status, headers, body = simple[path]
            await send(status, headers, body.encode("utf-8"))
        elif path == "/moved.html":  # a permanent move to the next host
            other = self.addresses[(self.addresses.index(address) + 1) % len(self.addresses)]
            await send(301, {"Location": f"http://{other}:{self.ports[other]}/new.html"}, b"")
        elif path == "/head-refused.pdf":
            await send(405, {}, b"") if method == "HEAD" else await send(200, pdf, b"%PDF-1.4 fake")
        elif path.startswith("/catchall/"):
            await send(200, html, CATCHALL.format(path=path).encode("utf-8"))
        elif path == "/busy.html":
            await send(429, {"Retry-After": "1"}, b"") if hits == 1 else await send(200, html, b"<title>ok</title>")
        elif path == "/flaky.html":
            await send(503, {}, b"") if hits == 1 else await send(200, html, b"<title>ok</title>")
        elif path.startswith("/work/"):  # a little work, for the concurrency and interval tests
            await asyncio.sleep(0.05)
            await send(200, {"Content-Type": "application/octet-stream"}, b"done")
        elif path == "/slow.html":
            await asyncio.sleep(0.3)
            await send(200, html, b"<title>slow</title>")
        elif path == "/hang.html":
            await asyncio.Event().wait()  # accepted, read, never answered
        elif path == "/trickle.html":
            await _trickle(writer)
            return False
        elif path == "/huge.html":
            await _huge(writer)
            return False
        else:
            await send(404, html, b"<title>404</title>")
        return True


async def _trickle(writer: asyncio.StreamWriter) -> None:
    """Headers at once, then one byte a second of a 1,000-byte page."""
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(1000):
        writer.write(b"a")
        await writer.drain()
        await asyncio.sleep(1)


async def _huge(writer: asyncio.StreamWriter) -> None:
    """A 2 GiB page, made up as it is sent, until the client hangs up."""
    writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {HUGE_SIZE}\r\n\r\n".encode())
    writer.write(b"<html><head><title>big</title></head><body>")
    chunk = b"x" * 65536
    for _ in range(HUGE_SIZE // len(chunk)):
        writer.write(chunk)
        await writer.drain()


def _unused_port(address: str) -> int:
    """A port on ``address`` that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


@contextmanager
def running_link_site(hosts: int = 3) -> Iterator[LinkSite]:
    """A started ``LinkSite`` on 127.0.0.2 … 127.0.0.(hosts+1)."""
    site = LinkSite([f"127.0.0.{n}" for n in range(2, hosts + 2)])
    site.start()
    try:
        yield site
    finally:
        site.stop()
