"""Delivery only: build a digest from events, render it, send it by email or webhook.

Three separate steps, so the outbox can store what it will send before sending it::

    from monitor.config.notifier_options import parse_options
    from notifiers import build_digest, send
    from notifiers.render import render   # (``notifiers.render`` is the module's name too)

    digest = build_digest(notifier_id, events, now=now, language="ja", base_url=...)
    if digest.should_send:
        message = render(digest, template_dir=...)
        send(message, parse_options(type_name, raw_options), digest.idempotency_key)
"""

from importlib import import_module
from typing import Any

# Where each name lives. They are imported when first asked for, so that a process which only
# reads the configuration does not load the HTTP client and the template engine that
# sending needs.
_HOMES = {
    "Digest": "digest", "build_digest": "digest", "idempotency_key": "digest",
    "get_type": "registry", "known_types": "registry", "send": "registry",
    "Message": "render",
    "verify_signature": "webhook",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'notifiers' has no attribute {name!r}")
    return getattr(import_module(f".{_HOMES[name]}", __name__), name)


__all__ = sorted(_HOMES)
