"""Deliver a rendered message by HTTP POST, signed so that a receiver can trust it.

The body is the digest as JSON (or, with a preset, the shape Slack, Discord or Teams
expects). Three headers go with it::

    X-Sesaku-Timestamp: 1714521600
    X-Sesaku-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>
    Idempotency-Key:    <the delivery's key; the same on every retry>

Signing the timestamp with the body lets a receiver refuse a replayed request
(:func:`verify_signature`, ``tolerance_s``). A webhook URL often *is* a secret (Slack's and
Discord's carry a token in the path), so errors name the host only, never the whole URL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from monitor.errors import NotifyError

from .options import WebhookOptions
from .presets import shape
from .render import Message

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "send_webhook", "sign", "verify_signature", "webhook_body"]

SIGNATURE_HEADER = "X-Sesaku-Signature"
TIMESTAMP_HEADER = "X-Sesaku-Timestamp"
_USER_AGENT = "sesaku-monitor-webhook/1"


class _HidePostPaths(logging.Filter):
    """httpx logs every request's whole URL at INFO; a webhook URL's path is often its token.

    Our only POSTs are webhooks (lists and links are fetched with GET and HEAD), so a POST's
    URL is logged as its scheme and host only.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 2 and args[0] == "POST":
            record.args = (args[0], _host(str(args[1])), *args[2:])
        return True


logging.getLogger("httpx").addFilter(_HidePostPaths())


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str, timestamp: str | int, body: bytes | str, header: str, *, now: datetime, tolerance_s: int = 300
) -> bool:
    """True when ``header`` signs this exact ``body`` and ``timestamp`` is within ``tolerance_s`` of ``now``.

    Pass the body exactly as received: JSON parsed and dumped again is not the same bytes.
    """
    if isinstance(body, str):
        body = body.encode("utf-8")
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now.timestamp() - sent) > tolerance_s:
        return False
    # compare_digest: a byte-by-byte comparison would leak the signature through its timing;
    # bytes, because it refuses str with non-ASCII characters (which a forger may send).
    return hmac.compare_digest(sign(secret, sent, body).encode(), header.strip().encode("utf-8", "replace"))


def webhook_body(message: Message, preset: str | None) -> bytes:
    payload = shape(message, preset) if preset else message.json
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def send_webhook(
    message: Message,
    options: WebhookOptions,
    idempotency_key: str,
    *,
    now: datetime | None = None,
) -> None:
    """POST ``message``; anything but a 2xx answer in time is a NotifyError naming the host."""
    body = webhook_body(message, options.preset)
    timestamp = int((now or datetime.now(UTC)).timestamp())
    headers = _headers(options, idempotency_key, timestamp, body)
    where = _host(options.url)
    # No redirects: a POST replayed at another address is not what the user configured.
    with httpx.Client(timeout=options.timeout_s, follow_redirects=False) as client:
        try:
            response = client.post(options.url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise NotifyError(f"webhook {where} did not answer within {options.timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise NotifyError(f"webhook {where}: {_redact(str(exc), options.url) or type(exc).__name__}") from exc
    if not response.is_success:
        raise NotifyError(f"webhook {where} answered HTTP {response.status_code}{_excerpt(response)}")


def _headers(options: WebhookOptions, idempotency_key: str, timestamp: int, body: bytes) -> httpx.Headers:
    headers = httpx.Headers({name: value.get_secret_value() for name, value in options.headers.items()})
    # httpx.Headers ignores case: a user's ``content-type`` is replaced, not sent twice.
    headers["Content-Type"] = "application/json; charset=utf-8"
    headers["User-Agent"] = _USER_AGENT
    headers["Idempotency-Key"] = idempotency_key
    headers[TIMESTAMP_HEADER] = str(timestamp)
    if options.secret is not None:
        headers[SIGNATURE_HEADER] = sign(options.secret.get_secret_value(), timestamp, body)
    return headers


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _redact(text: str, url: str) -> str:
    return " ".join(text.replace(url, _host(url) + "/…").split())


def _excerpt(response: httpx.Response) -> str:
    """The start of the answer, which often says what was wrong (Slack: ``invalid_payload``)."""
    text = " ".join(response.text.split())[:120]
    return f": {text}" if text else ""
