"""Real servers on loopback for the notifier tests: SMTP (aiosmtpd), a dropping SMTP, HTTP.

The fixtures that start and stop them are in conftest.py.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.smtp import AuthResult, Envelope

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
