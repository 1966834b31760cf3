"""The registry of notifier types: options checked at load, one send for every type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from monitor.errors import ConfigError
from monitor.config.notifier_options import parse_options
from notifiers import build_digest, known_types, send
from notifiers.render import render
from tests.notifiers.samples import NOW, counted_events
from tests.notifiers.servers import Inbox, Receiver


def test_known_types() -> None:
    assert known_types() == ["email", "webhook"]


def test_unknown_type_and_unknown_key_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"unknown notifier type 'sms' \(known: email, webhook\)"):
        parse_options("sms", {})
    with pytest.raises(ConfigError, match="webhook notifier options: colour: Extra inputs are not permitted"):
        parse_options("webhook", {"url": "https://example.jp/hook", "colour": "red"})


def test_option_errors_never_repeat_a_secret() -> None:
    raw = {
        "smtp_host": "mail.example.jp",
        "security": "none",
        "sender": "a@example.jp",
        "recipients": ["b@example.jp"],
        "username": "u",
        "password": "hunter2-secret",
    }
    with pytest.raises(ConfigError) as caught:
        parse_options("email", raw)
    assert "without TLS" in str(caught.value) and "hunter2-secret" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def _email(smtp: tuple[Controller, Inbox], receiver: Receiver) -> tuple[dict[str, Any], Callable[[], list[str]]]:
    controller, inbox = smtp
    raw = {
        "smtp_host": "127.0.0.1",
        "smtp_port": controller.port,
        "security": "none",
        "sender": "monitor@example.jp",
        "recipients": ["staff@example.jp"],
    }
    return raw, lambda: [mail["Message-ID"] for mail in inbox.messages()]


def _webhook(smtp: tuple[Controller, Inbox], receiver: Receiver) -> tuple[dict[str, Any], Callable[[], list[str]]]:
    return {"url": receiver.base + "/ok", "secret": "s", "allow_private_address": True}, lambda: [
        h["Idempotency-Key"] for _, h, _ in receiver.requests
    ]


@pytest.mark.parametrize("type_name, setup", [("email", _email), ("webhook", _webhook)])
def test_every_type_delivers_through_send(
    type_name: str, setup: Callable[..., Any], smtp_server: tuple[Controller, Inbox], receiver: Receiver
) -> None:
    raw, delivered = setup(smtp_server, receiver)
    digest = build_digest("team", counted_events(), now=NOW)
    send(render(digest), parse_options(type_name, raw), digest.idempotency_key, now=NOW)
    (marker,) = delivered()
    assert digest.idempotency_key in marker
