"""Deliver a rendered message by SMTP: plain text and HTML alternatives, UTF-8 throughout.

smtplib, not aiosmtplib: delivery is one plain function the scheduler calls (DESIGN.md,
"units of work"), so an event loop would add nothing but a dependency. Every failure of
smtplib, ssl or the socket underneath becomes one :class:`NotifyError` line naming the
server; the password is only ever handed to ``SMTP.login`` (and smtplib's debug output,
which would print it base64-encoded, stays off). TLS (STARTTLS or implicit) always verifies
the server's certificate and name, against ``ca_file`` if set, else the system's CAs.
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import ssl
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from monitor.errors import NotifyError

from monitor.config.notifier_options import EmailOptions, parse_address
from notifiers.render import Message

__all__ = ["build_email", "message_id", "send_email"]

log = logging.getLogger(__name__)

_ID_SAFE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def message_id(idempotency_key: str, sender: Address) -> str:
    """A Message-ID made from the delivery's key: a retry carries the same one, so it can be dropped."""
    left = (
        idempotency_key
        if _ID_SAFE.fullmatch(idempotency_key)
        else hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    )
    return f"<sesaku-{left}@{sender.domain}>"


def build_email(message: Message, options: EmailOptions, idempotency_key: str, *, now: datetime) -> EmailMessage:
    """The MIME message, without sending it; a malformed address is a NotifyError naming it."""
    sender = _address(options.sender)
    recipients = [_address(text) for text in options.recipients]
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = recipients
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = message_id(idempotency_key, sender)
    # RFC 3834: keeps vacation responders from answering a robot.
    mail["Auto-Submitted"] = "auto-generated"
    # base64: Japanese text passes any relay intact (no 8BITMIME needed), a third larger only.
    mail.set_content(message.text, subtype="plain", charset="utf-8", cte="base64")
    mail.add_alternative(message.html, subtype="html", charset="utf-8", cte="base64")
    return mail


def send_email(message: Message, options: EmailOptions, idempotency_key: str, *, now: datetime | None = None) -> None:
    """Send ``message`` to every recipient, or raise NotifyError with one line saying why not."""
    mail = build_email(message, options, idempotency_key, now=now or datetime.now(UTC))
    server = f"{options.smtp_host}:{options.port}"
    try:
        smtp = _connect(options)
        try:
            _login(smtp, options)
            refused = smtp.send_message(mail)
        finally:
            _quit(smtp)
    except smtplib.SMTPException as exc:
        raise NotifyError(f"SMTP server {server}: {_describe_smtp(exc)}") from exc
    except ssl.SSLCertVerificationError as exc:
        trusted = f"ca_file {options.ca_file}" if options.ca_file else "the system's CAs"
        reason = _one_line(exc.verify_message or exc.reason or str(exc))
        raise NotifyError(f"SMTP server {server}: certificate verification failed: {reason} (trusting {trusted})") from exc
    except ssl.SSLError as exc:
        raise NotifyError(f"SMTP server {server}: TLS failed: {_one_line(exc.reason or str(exc))}") from exc
    except TimeoutError as exc:
        raise NotifyError(f"SMTP server {server} did not answer within {options.timeout_s:g} s") from exc
    except OSError as exc:
        raise NotifyError(f"cannot reach SMTP server {server}: {_one_line(exc.strerror or str(exc))}") from exc
    if refused:
        # Others accepted it: failing now would make a retry send them a second copy.
        log.warning("SMTP server %s refused some recipients: %s", server, _refusals(refused))


def _address(text: str) -> Address:
    try:
        return parse_address(text)
    except ValueError as exc:
        raise NotifyError(str(exc)) from None


def _tls_context(options: EmailOptions) -> ssl.SSLContext:
    """Verifying client context; with ``ca_file`` it trusts that bundle only (checked at load, read again here)."""
    try:
        return ssl.create_default_context(cafile=options.ca_file)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
        raise NotifyError(f"cannot load ca_file {options.ca_file}: {_one_line(reason)}") from exc


def _connect(options: EmailOptions) -> smtplib.SMTP:
    if options.security == "none":
        return smtplib.SMTP(options.smtp_host, options.port, timeout=options.timeout_s)
    context = _tls_context(options)
    if options.security == "tls":
        return smtplib.SMTP_SSL(options.smtp_host, options.port, timeout=options.timeout_s, context=context)
    smtp = smtplib.SMTP(options.smtp_host, options.port, timeout=options.timeout_s)
    try:
        smtp.starttls(context=context)
    except smtplib.SMTPNotSupportedError:
        smtp.close()
        raise NotifyError(f"SMTP server {options.smtp_host}:{options.port} does not offer STARTTLS") from None
    except BaseException:
        smtp.close()
        raise
    return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye; once the message is accepted (or already failed) a bad goodbye changes nothing."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _login(smtp: smtplib.SMTP, options: EmailOptions) -> None:
    if options.username is None or options.password is None:
        return
    try:
        smtp.login(options.username, options.password.get_secret_value())
    except smtplib.SMTPAuthenticationError as exc:
        raise NotifyError(
            f"SMTP server {options.smtp_host}:{options.port} refused the login of {options.username!r}: "
            f"{exc.smtp_code} {_decode(exc.smtp_error)}"
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise NotifyError(f"SMTP server {options.smtp_host}:{options.port} does not offer AUTH (login)") from exc


def _describe_smtp(exc: smtplib.SMTPException) -> str:
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "closed the connection before the message was accepted"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"refused every recipient: {_refusals(exc.recipients)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_decode(exc.smtp_error)}"
    return _one_line(str(exc)) or type(exc).__name__


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{address} ({code} {_decode(reply)})" for address, (code, reply) in refused.items())


def _decode(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return _one_line(text)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
