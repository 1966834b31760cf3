"""The checker's own request path: asyncio network backend, requests sent to the transport.

What ``AsyncClient.send`` and httpcore's AnyIO backend used to do for the checker and it now
does itself: cookies kept across requests, an unusable Location failing before the answer is
recorded, TLS, pooled connections that the server closed while idle.
"""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import pytest

from monitor.events import LinkOutcome as O
from tests.links.conftest import check_one, fast_with, run_checks
from tests.raw_http import CLOSE, RawHTTPServer


def _page(status: str, body: bytes = b"<title>fine</title>", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Content-Type: text/html", *(f"{k}: {v}" for k, v in (headers or {}).items()),
             f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _needs_cookie(request: bytes) -> bytes:
    cookie = any(line.lower().startswith(b"cookie:") and b"s=1" in line for line in request.split(b"\r\n"))
    return _page("200 OK") if cookie else _page("404 Not Found", b"<title>no cookie</title>")


def _publish(server: RawHTTPServer) -> RawHTTPServer:
    server.answers.update({
        "/ok": _page("200 OK"),
        "/closes": _page("200 OK") + CLOSE,  # keep-alive implied, then hang up while idle
        "/bad-location": _page("302 Found", headers={"Location": "http://exa mple.jp/"}),
        "/set-cookie": _page("302 Found", headers={"Location": "/needs-cookie", "Set-Cookie": "s=1; Path=/"}),
        "/needs-cookie": _needs_cookie,
    })
    return server


@pytest.fixture
def server(raw_http: RawHTTPServer) -> RawHTTPServer:
    return _publish(raw_http)


def test_unusable_location_fails_before_the_answer_is_recorded(server: RawHTTPServer) -> None:
    result = check_one(server.url("/bad-location"), retries=0)
    assert result.outcome is O.INVALID
    assert (result.http_status, result.final_url, result.redirect_chain) == (None, None, ())
    assert result.error is not None and "unusable redirect" in result.error


def test_cookies_set_by_a_host_are_sent_back(server: RawHTTPServer) -> None:
    result = check_one(server.url("/set-cookie"), retries=0)
    assert (result.outcome, result.http_status) == (O.REDIRECTED, 200)
    assert result.redirect_chain == ((server.url("/set-cookie"), 302),)


def test_a_connection_closed_while_idle_is_not_reused(server: RawHTTPServer) -> None:
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
    with RawHTTPServer(tls=context) as tls:
        _publish(tls)
        unverified = check_one(tls.url("/ok"), verify_tls=False, retries=0, sibling_probe=False)
        assert (unverified.outcome, unverified.http_status, unverified.error) == (O.OK, 200, None)
        refused = check_one(tls.url("/ok"), retries=0)  # self-signed: not trusted
        assert refused.outcome is O.GONE_HOST and refused.http_status is None
        assert refused.error is not None and "CERTIFICATE_VERIFY_FAILED" in refused.error
