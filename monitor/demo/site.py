"""A small programmable web site on loopback, for the offline demo and the tests.

Each route answers with a status, headers and a body, optionally late, trickling, cut short
or never; ETag / If-None-Match work as on a real server; what is POSTed is kept in
``received`` (a webhook receiver for the demo). Routes can be swapped while the
site runs, which is how the demo and the tests publish "version 2" of a list.
"""

from __future__ import annotations

import hashlib
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Route", "LoopbackSite", "running_site"]


@dataclass(frozen=True, slots=True)
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    hang_s: float = 0.0
    trickle_bytes_per_s: float = 0.0
    truncate_at: int | None = None
    etag: bool = True


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.site.receive(self.path, dict(self.headers), self.rfile.read(length))
        self._answer(send_body=True)

    def _answer(self, send_body: bool) -> None:
        site = self.server.site
        site.count(self.path)
        route = site.route(self.path.split("?", 1)[0])
        if route is None:
            route = Route(b"<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>", 404, "text/html; charset=utf-8")
        if route.hang_s:
            time.sleep(route.hang_s)
            return
        time.sleep(route.delay_s)
        tag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
        if route.etag and route.status == 200 and self.headers.get("If-None-Match") == tag:
            self.send_response(304)
            self.send_header("ETag", tag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(len(route.body)))
        if route.etag and route.status == 200:
            self.send_header("ETag", tag)
        for name, value in route.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self._send_body(route)

    def _send_body(self, route: Route) -> None:
        body = route.body if route.truncate_at is None else route.body[: route.truncate_at]
        try:
            if route.trickle_bytes_per_s:
                for index in range(len(body)):
                    self.wfile.write(body[index:index + 1])
                    self.wfile.flush()
                    time.sleep(1 / route.trickle_bytes_per_s)
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            return
        if route.truncate_at is not None:
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: "LoopbackSite"

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], client_address: object) -> None:
        # A checker that has read enough closes early: that is expected, not worth a traceback.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class LoopbackSite:
    """``site.publish("/list.txt", Route(...))`` then fetch ``site.url("/list.txt")``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._routes: dict[str, Route] = {}
        self._hits: dict[str, int] = {}
        self.received: list[tuple[str, dict[str, str], bytes]] = []  # POSTed (path, headers, body)
        self._lock = threading.Lock()
        self._server = _Server((host, port), _Handler)
        self._server.site = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="loopback-site", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        # socketserver's stubs allow a bytes host; a server bound to a str host reports a str.
        assert isinstance(host, str)
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def publish(self, path: str, route: Route) -> None:
        with self._lock:
            self._routes[path] = route

    def remove(self, path: str) -> None:
        with self._lock:
            self._routes.pop(path, None)

    def route(self, path: str) -> Route | None:
        with self._lock:
            return self._routes.get(path)

    def count(self, path: str) -> None:
        with self._lock:
            self._hits[path] = self._hits.get(path, 0) + 1

    def receive(self, path: str, headers: dict[str, str], body: bytes) -> None:
        with self._lock:
            self.received.append((path, headers, body))

    def hits(self, path: str) -> int:
        with self._lock:
            return self._hits.get(path, 0)

    def start(self) -> "LoopbackSite":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def running_site(host: str = "127.0.0.1") -> Iterator[LoopbackSite]:
    site = LoopbackSite(host).start()
    try:
        yield site
    finally:
        site.stop()
