"""Notifier types, keyed by the ``type`` name used in config.yaml.

Each type declares its options model and one ``send(message, options, idempotency_key,
*, now=None)``; an unknown type or option is a :class:`ConfigError` when the configuration
loads, with a message that never repeats the values given (they may be passwords).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from monitor.errors import ConfigError

from monitor.config.notifier_options import NOTIFIER_OPTIONS, EmailOptions, NotifierOptions, WebhookOptions

if TYPE_CHECKING:
    from notifiers.render import Message

__all__ = ["NotifierType", "Sender", "get_type", "known_types", "send"]


class Sender(Protocol):
    def __call__(
        self, message: Message, options: Any, idempotency_key: str, *, now: datetime | None = None
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class NotifierType:
    name: str
    description: str
    options: type[NotifierOptions]
    send: Sender


def _send_email(message: Message, options: EmailOptions, idempotency_key: str, *, now: datetime | None = None) -> None:
    from notifiers.email import send_email  # the mail stack is loaded by the processes that send

    send_email(message, options, idempotency_key, now=now)


def _send_webhook(message: Message, options: WebhookOptions, idempotency_key: str, *, now: datetime | None = None) -> None:
    from notifiers.webhook import send_webhook  # the HTTP client is loaded by the processes that send

    send_webhook(message, options, idempotency_key, now=now)


_TYPES = {
    t.name: t
    for t in (
        NotifierType("email", "SMTP mail: plain text and HTML alternatives", NOTIFIER_OPTIONS["email"], _send_email),
        NotifierType(
            "webhook",
            "HTTP POST of the JSON digest, HMAC-signed; presets slack, discord, teams",
            NOTIFIER_OPTIONS["webhook"],
            _send_webhook,
        ),
    )
}


def known_types() -> list[str]:
    return sorted(_TYPES)


def get_type(name: str) -> NotifierType:
    try:
        return _TYPES[name]
    except KeyError:
        raise ConfigError(f"unknown notifier type {name!r} (known: {', '.join(known_types())})") from None


def send(message: Message, options: NotifierOptions, idempotency_key: str, *, now: datetime | None = None) -> None:
    """Deliver ``message`` with the type its ``options`` belong to; NotifyError when it fails."""
    for notifier in _TYPES.values():
        if isinstance(options, notifier.options):
            notifier.send(message, options, idempotency_key, now=now)
            return
    raise ConfigError(f"no notifier type takes options of type {type(options).__name__}")
