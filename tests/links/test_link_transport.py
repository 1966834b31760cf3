"""The checker's own request path: asyncio network backend, requests sent to the transport.

What ``AsyncClient.send`` and httpcore's AnyIO backend used to do for the checker and it now
does itself: cookies kept across requests, an unusable Location failing before the answer is
recorded, TLS, pooled connections that the server closed while idle.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.events import LinkOutcome as O
from tests.links.conftest import FAST, check_one, fast_with, run_checks


class _Server:
    """A tiny HTTP/1.1 server on 127.0.0.1 in a thread; optionally TLS."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.connections = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def url(self, path: str) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> _Server:
        self._thread.start()
        assert self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0, ssl=self.tls))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                target = head.split(" ", 2)[1].split("?", 1)[0]
                cookie = "s=1" in head.lower().split("\r\ncookie:", 1)[-1].split("\r\n", 1)[0] \
                    if "\r\ncookie:" in head.lower() else False
                status, headers, body = "200 OK", {"Content-Type": "text/html"}, b"<title>fine</title>"
                if target == "/bad-location":
                    status, headers = "302 Found", {"Location": "http://exa mple.jp/"}
                elif target == "/set-cookie":
                    status, headers = "302 Found", {"Location": "/needs-cookie", "Set-Cookie": "s=1; Path=/"}
                elif target == "/needs-cookie" and not cookie:
                    status, body = "404 Not Found", b"<title>no cookie</title>"
                elif target not in ("/needs-cookie", "/ok", "/closes"):
                    status, body = "404 Not Found", b"<title>not here</title>"
                lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()),
                         f"Content-Length: {len(body)}"]
                writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
                await writer.drain()
                if target == "/closes":  # keep-alive implied, then hang up while idle
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            writer.close()


@pytest.fixture
def server() -> Iterator[_Server]:
    with _Server() as running:
        yield running


def test_unusable_location_fails_before_the_answer_is_recorded(server: _Server) -> None:
    result = check_one(server.url("/bad-location"), retries=0)
    assert result.outcome is O.INVALID
    assert (result.http_status, result.final_url, result.redirect_chain) == (None, None, ())
    assert result.error is not None and "unusable redirect" in result.error


def test_cookies_set_by_a_host_are_sent_back(server: _Server) -> None:
    result = check_one(server.url("/set-cookie"), retries=0)
    assert (result.outcome, result.http_status) == (O.REDIRECTED, 200)
    assert result.redirect_chain == ((server.url("/set-cookie"), 302),)


def test_a_connection_closed_while_idle_is_not_reused(server: _Server) -> None:
    settings = fast_with(per_host=1, concurrency=1, per_host_interval_s=0.2, retries=0, sibling_probe=False)
    results = run_checks([server.url("/closes"), server.url("/ok"), server.url("/ok?again")], settings)
    assert [r.outcome for r in results] == [O.OK, O.OK, O.OK]
    assert server.connections == 2  # a new one after the hang-up, then kept alive


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    crypto = pytest.importorskip("cryptography")
    del crypto
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


def test_tls_handshake_and_verification(certificate: tuple[Path, Path]) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    with _Server(tls=context) as tls:
        unverified = check_one(tls.url("/ok"), verify_tls=False, retries=0, sibling_probe=False)
        assert (unverified.outcome, unverified.http_status, unverified.error) == (O.OK, 200, None)
        refused = check_one(tls.url("/ok"), retries=0)  # self-signed: not trusted
        assert refused.outcome is O.GONE_HOST and refused.http_status is None
        assert refused.error is not None and "CERTIFICATE_VERIFY_FAILED" in refused.error
