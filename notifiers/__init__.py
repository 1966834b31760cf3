"""Delivery only: build a digest from events, render it, send it by email or webhook.

Three separate steps, so the outbox can store what it will send before sending it::

    digest = build_digest(notifier_id, events, now=now, language="ja", base_url=...)
    if digest.should_send:
        message = render(digest, template_dir=...)
        send(message, parse_options(type_name, raw_options), digest.idempotency_key)
"""

from .digest import Digest, build_digest, idempotency_key
from .events import KINDS, EventView
from .options import EmailOptions, NotifierOptions, WebhookOptions
from .registry import get_type, known_types, parse_options, send
from .render import Message, check_template_dir, render
from .webhook import verify_signature

__all__ = [
    "KINDS",
    "Digest",
    "EmailOptions",
    "EventView",
    "Message",
    "NotifierOptions",
    "WebhookOptions",
    "build_digest",
    "check_template_dir",
    "get_type",
    "idempotency_key",
    "known_types",
    "parse_options",
    "render",
    "send",
    "verify_signature",
]
