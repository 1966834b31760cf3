"""Deliver a rendered message by HTTP POST, signed so that a receiver can trust it.

The body is the digest as JSON (or, with a preset, the shape Slack, Discord or Teams
expects). Three headers go with it::

    X-Sesaku-Timestamp: 1714521600
    X-Sesaku-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>
    Idempotency-Key:    <the delivery's key; the same on every retry>

Signing the timestamp with the body lets a receiver refuse a replayed request
(:func:`verify_signature`, ``tolerance_s``). A webhook URL often *is* a secret (Slack's and
Discord's carry a token in the path), so errors name the host only, never the whole URL.

The POST goes out through the daemon's one way out (``monitor.netguard.GuardedClient``): a
private or loopback address is refused unless this notifier says ``allow_private_address:
true`` (``http.allow_private_addresses`` is about what lists make us fetch, not about where
we deliver), link-local and metadata addresses always are, and a redirect is never followed:
a POST replayed at another address is not what the operator configured.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from monitor.errors import FetchError, NotifyError
from monitor.net_failures import failure_of
from monitor.netguard import AddressPolicy, GuardedClient, parse_target, read_capped

from monitor.config.notifier_options import WebhookOptions
from notifiers.presets import shape
from notifiers.render import Message

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "send_webhook", "sign", "verify_signature", "webhook_body"]

SIGNATURE_HEADER = "X-Sesaku-Signature"
TIMESTAMP_HEADER = "X-Sesaku-Timestamp"
_USER_AGENT = "sesaku-monitor-webhook/1"
_EXCERPT_BYTES = 4096  # of a receiver's answer: enough for its one-line reason


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
    try:
        status, answer = asyncio.run(_post(options, headers, body))
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise NotifyError(f"webhook {where} did not answer within {options.timeout_s:g} s") from exc
    except (httpx.HTTPError, FetchError) as exc:
        raise NotifyError(f"webhook {where}: {_redact(failure_of(exc).message, options.url)}") from exc
    if not 200 <= status < 300:
        raise NotifyError(f"webhook {where} answered HTTP {status}{_excerpt(answer)}")


async def _post(options: WebhookOptions, headers: httpx.Headers, body: bytes) -> tuple[int, str]:
    """The receiver's status and the start of its answer; no redirect is followed."""
    policy = AddressPolicy(allow_private_addresses=options.allow_private_address)
    async with asyncio.timeout(options.timeout_s), \
            GuardedClient(policy, timeout=httpx.Timeout(options.timeout_s), per_origin=1) as client:
        response = await client.send("POST", parse_target(options.url), headers=headers, content=body)
        try:
            answer, _ = await read_capped(response, _EXCERPT_BYTES)
        finally:
            await response.aclose()
    return response.status_code, answer.decode("utf-8", "replace")


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


def _excerpt(answer: str) -> str:
    """The start of the answer, which often says what was wrong (Slack: ``invalid_payload``)."""
    text = " ".join(answer.split())[:120]
    return f": {text}" if text else ""
