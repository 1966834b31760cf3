"""Real servers on loopback for the notifier tests: SMTP (aiosmtpd), a dropping SMTP, HTTP.

Also SMTP over TLS (STARTTLS or implicit) with certificates made at test time by a
throwaway certificate authority (``Authority``). The fixtures that start and stop the plain
servers are in conftest.py, the TLS ones in test_email_tls.py.
"""

from __future__ import annotations

import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SMTP_LOGIN = (b"monitor", b"s3cret-pw")


class Inbox:
    """An aiosmtpd handler that keeps what it receives and has no mailbox ``nobody@``."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Envelope, address: str, options: Any) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def raw(self) -> list[bytes]:
        """Every message received, exactly as it came over the wire."""
        return [e.original_content or b"" for e in self.envelopes]

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(raw, policy=email.policy.default) for raw in self.raw()]


def free_port() -> int:
    """A port nothing listens on (aiosmtpd's Controller cannot be given port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def refuse_all(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    return AuthResult(success=False, handled=False)


def accept_monitor(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    return AuthResult(success=(auth_data.login, auth_data.password) == SMTP_LOGIN, handled=False)


class Authority:
    """A throwaway certificate authority that issues server certificates for this machine.

    EC P-256 keys (made in milliseconds) and the extensions a strict verifier wants
    (basic constraints, key usages, subject and authority key identifiers, SAN).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        public = self.key.public_key()
        self.cert = (
            _certificate(subject, subject, public)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self.key, hashes.SHA256())
        )

    def write(self, path: Path) -> Path:
        """The CA certificate as a PEM file: what a client's ``ca_file`` names."""
        path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        return path

    def server_context(self, directory: Path, hosts: tuple[str, ...] = ("localhost", "127.0.0.1")) -> ssl.SSLContext:
        """A server-side TLS context whose certificate (written to ``directory``) this authority signed."""
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
        issuer_ski = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        cert = (
            _certificate(subject, self.cert.subject, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        cert_file, key_file = directory / "server.pem", directory / "server.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        return context


def _certificate(subject: x509.Name, issuer: x509.Name, public: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign, encipher_only=False, decipher_only=False,
    )


class TLSInbox(Inbox):
    """An Inbox that also notes, for each message, the TLS version it came over and whether the client logged in."""

    def __init__(self) -> None:
        super().__init__()
        self.channels: list[tuple[str | None, bool]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        ssl_object = server.transport.get_extra_info("ssl_object")
        self.channels.append((ssl_object.version() if ssl_object else None, bool(session.authenticated)))
        return await super().handle_DATA(server, session, envelope)


class _ImplicitTLSSMTP(SMTP):
    """aiosmtpd 1.4 counts only STARTTLS as TLS for ``auth_require_tls``: a connection that is
    TLS from its first byte (port 465) counts too, and only such a connection."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        if transport.get_extra_info("ssl_object") is not None:
            self._auth_require_tls = False  # the requirement is met: this connection is encrypted


class _ImplicitTLSController(Controller):
    def factory(self) -> SMTP:
        return _ImplicitTLSSMTP(self.handler, **self.SMTP_kwargs)


@contextmanager
def tls_smtp(
    mode: Literal["starttls", "tls"],
    context: ssl.SSLContext,
    authenticator: Callable[..., AuthResult] = accept_monitor,
) -> Iterator[tuple[Controller, TLSInbox]]:
    """SMTP on loopback that takes mail only after TLS and a login (AUTH offered over TLS only).

    ``starttls``: plain at first, STARTTLS required before anything else; ``tls``: implicit TLS.
    """
    inbox = TLSInbox()
    common: dict[str, Any] = {"hostname": "127.0.0.1", "port": free_port(), "authenticator": authenticator, "auth_required": True}
    if mode == "starttls":
        controller = Controller(inbox, tls_context=context, require_starttls=True, **common)
    else:
        controller = _ImplicitTLSController(inbox, ssl_context=context, **common)
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def drop_after_data(listener: socket.socket) -> None:
    """Speak just enough SMTP to be sent a message, then hang up in the middle of it."""
    conn, _ = listener.accept()
    with conn, conn.makefile("rb") as lines:
        conn.sendall(b"220 dropper ESMTP\r\n")
        for line in lines:
            if line.upper().startswith(b"DATA"):
                conn.sendall(b"354 go ahead\r\n")
                lines.readline()
                return
            conn.sendall(b"250 ok\r\n")


class Receiver(ThreadingHTTPServer):
    """Records every POST; the path says how to answer: /ok (204), /status/500, /hang.

    ``fail_with`` set to a status answers every POST with it, whatever the path: a service
    that is down and later comes back at the same URL.
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.release = threading.Event()
        self.fail_with: int | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append((self.path, dict(self.headers.items()), body))
        if self.path.startswith("/hang"):
            self.server.release.wait(10)  # longer than any client timeout in these tests
            return
        status = int(self.path.split("/")[2]) if self.path.startswith("/status/") else 204
        status = self.server.fail_with or status
        reply = b'{"error": "no_service"}' if status >= 400 else b""
        self.send_response(status)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass
