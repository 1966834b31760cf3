"""Email delivery against a real SMTP server (aiosmtpd) on loopback, and its faults."""

from __future__ import annotations

import logging
import time
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from monitor.errors import NotifyError
from notifiers.digest import build_digest
from notifiers.email import build_email, send_email
from monitor.config.notifier_options import EmailOptions
from notifiers.render import Message, render
from tests.notifiers.samples import NOW, counted_events
from tests.notifiers.servers import Inbox, free_port

KEY = "3f2a9c0d1e4b5a6978877665544332211"


def options(port: int | None, **overrides: Any) -> EmailOptions:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "security": "none",
        "sender": "施策モニター <monitor@example.jp>",
        "recipients": ["担当者 <staff@example.jp>", "boss@example.jp"],
        "timeout_s": 5,
    }
    return EmailOptions.model_validate(values | overrides)


@pytest.fixture
def message() -> Message:
    return render(build_digest("team", counted_events(), now=NOW, base_url="https://monitor.example.jp"))


def received(inbox: Inbox) -> EmailMessage:
    (mail,) = inbox.messages()
    return mail


def part(mail: EmailMessage, subtype: str) -> str:
    body = mail.get_body((subtype,))
    assert body is not None, f"no text/{subtype} part"
    content: str = body.get_content()
    return content


def test_a_real_server_receives_both_parts_in_utf8(smtp_server: tuple[Controller, Inbox], message: Message) -> None:
    controller, inbox = smtp_server
    send_email(message, options(controller.port, username="monitor", password="s3cret-pw"), KEY, now=NOW)
    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "monitor@example.jp"
    assert envelope.rcpt_tos == ["staff@example.jp", "boss@example.jp"]
    mail = received(inbox)
    assert mail["Subject"] == "[sesaku-monitor] 「地元自治体が活用できる施策【戦略2】」 追加 3・終了 1・リンク切れ 2"
    assert str(mail["From"]) == "施策モニター <monitor@example.jp>"
    assert mail["To"].addresses[0].display_name == "担当者"
    assert mail["Message-ID"] == f"<sesaku-{KEY}@example.jp>"
    assert mail.get_content_type() == "multipart/alternative"
    text, html = part(mail, "plain"), part(mail, "html")
    assert "  合計: 6件" in text and "多摩の森林再生事業" in text
    assert "&lt;script&gt;" in html and "<script>" not in html
    # Headers on the wire are ASCII: encoded words, not raw UTF-8.
    raw_headers = inbox.raw()[0].split(b"\r\n\r\n", 1)[0]
    assert raw_headers.isascii()


def test_retry_carries_the_same_message_id(smtp_server: tuple[Controller, Inbox], message: Message) -> None:
    controller, inbox = smtp_server
    send_email(message, options(controller.port), KEY, now=NOW)
    send_email(message, options(controller.port), KEY)
    first, second = inbox.messages()
    assert first["Message-ID"] == second["Message-ID"]


def test_one_refused_recipient_does_not_fail_the_others(
    smtp_server: tuple[Controller, Inbox], message: Message, caplog: pytest.LogCaptureFixture
) -> None:
    # Raising would make the outbox retry, and everyone who got it would get it twice.
    controller, inbox = smtp_server
    send_email(message, options(controller.port, recipients=["staff@example.jp", "nobody@example.jp"]), KEY)
    assert inbox.envelopes[0].rcpt_tos == ["staff@example.jp"]
    assert "refused some recipients: nobody@example.jp (550 5.1.1 no such user)" in caplog.text


def test_every_recipient_refused_is_an_error(smtp_server: tuple[Controller, Inbox], message: Message) -> None:
    controller, _ = smtp_server
    with pytest.raises(NotifyError, match=r"refused every recipient: nobody@example.jp \(550 5.1.1 no such user\)"):
        send_email(message, options(controller.port, recipients=["nobody@example.jp"]), KEY)


def test_a_key_unfit_for_a_message_id_is_hashed(message: Message) -> None:
    mail = build_email(message, options(25), "delivery 42 <x>", now=NOW)
    assert mail["Message-ID"].startswith("<sesaku-") and " " not in mail["Message-ID"]


def test_refused_login_is_one_line_without_the_password(
    smtp_refusing_login: tuple[Controller, Inbox], message: Message, caplog: pytest.LogCaptureFixture
) -> None:
    controller, inbox = smtp_refusing_login
    caplog.set_level(logging.DEBUG)
    with pytest.raises(NotifyError) as caught:
        send_email(message, options(controller.port, username="monitor", password="hunter2-secret"), KEY)
    assert str(caught.value).startswith(f"SMTP server 127.0.0.1:{controller.port} refused the login of 'monitor': 535")
    assert "\n" not in str(caught.value)
    assert "hunter2-secret" not in str(caught.value) + caplog.text
    assert inbox.envelopes == []


def test_server_down(message: Message) -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(NotifyError, match=rf"cannot reach SMTP server 127.0.0.1:{port}: .*refused"):
        send_email(message, options(port), KEY)


def test_server_dropping_the_connection_mid_message(smtp_dropping: int, message: Message) -> None:
    with pytest.raises(NotifyError, match="closed the connection before the message was accepted"):
        send_email(message, options(smtp_dropping), KEY)


def test_starttls_not_offered_is_refused_before_any_login(
    smtp_server: tuple[Controller, Inbox], message: Message
) -> None:
    controller, inbox = smtp_server
    opts = options(controller.port, security="starttls", username="monitor", password="s3cret-pw")
    with pytest.raises(NotifyError, match="does not offer STARTTLS"):
        send_email(message, opts, KEY)
    assert inbox.envelopes == []


def test_malformed_recipient_is_named_before_any_connection(message: Message) -> None:
    # Options validated at load refuse it too; model_copy skips validation as a stale config would.
    opts = options(free_port()).model_copy(update={"recipients": ["staff@example.jp", "担当者 staff@@example"]})
    started = time.monotonic()
    with pytest.raises(NotifyError, match="malformed email address '担当者 staff@@example'"):
        send_email(message, opts, KEY)
    assert time.monotonic() - started < 0.5


def test_options_refuse_a_malformed_address_and_a_clear_password_to_another_host() -> None:
    with pytest.raises(ValueError, match="malformed email address 'not an address'"):
        options(25, recipients=["not an address"])
    with pytest.raises(ValueError, match="without TLS"):
        options(25, smtp_host="mail.example.jp", username="u", password="p")
    assert options(None, security="tls").port == 465
