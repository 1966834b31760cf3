"""Email over TLS against a real aiosmtpd on loopback: STARTTLS and implicit TLS, with a login.

A throwaway certificate authority made at test time signs the server's certificate for
127.0.0.1 and localhost; the client trusts it through ``ca_file`` and verifies the
certificate and the name, as it would against a real provider with the system's CAs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from monitor.config import parse_config
from monitor.errors import ConfigError, NotifyError
from notifiers.digest import build_digest
from notifiers.email import send_email
from monitor.config.notifier_options import EmailOptions
from notifiers.render import Message, render
from tests.notifiers.samples import NOW, counted_events
from tests.notifiers.servers import Authority, TLSInbox, tls_smtp
from tests.notifiers.world import SMTP_PASSWORD

KEY = "3f2a9c0d1e4b5a6978877665544332211"
SUBJECT = "[sesaku-monitor] 「地元自治体が活用できる施策【戦略2】」 追加 3・終了 1・リンク切れ 2"


@pytest.fixture
def message() -> Message:
    return render(build_digest("team", counted_events(), now=NOW, base_url="https://monitor.example.jp"))


@pytest.fixture
def authority() -> Authority:
    return Authority("sesaku test CA")


@pytest.fixture
def ca_file(authority: Authority, tmp_path: Path) -> Path:
    """The PEM file the client trusts: the test authority's certificate only."""
    return authority.write(tmp_path / "ca.pem")


@pytest.fixture(params=["starttls", "tls"])
def tls_server(request: pytest.FixtureRequest, authority: Authority, tmp_path: Path) -> Iterator[tuple[Controller, TLSInbox]]:
    """STARTTLS (required) or implicit TLS, certificate by the trusted authority, login required."""
    with tls_smtp(request.param, authority.server_context(tmp_path / "server")) as served:
        yield served


@pytest.fixture(params=["starttls", "tls"])
def rogue_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Controller, TLSInbox]]:
    """The same servers, with a certificate for the right names signed by another authority."""
    context = Authority("someone else's CA").server_context(tmp_path / "rogue")
    with tls_smtp(request.param, context) as served:
        yield served


def options(controller: Controller, ca_file: Path | None, **overrides: Any) -> EmailOptions:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": controller.port,
        "security": "tls" if controller.ssl_context is not None else "starttls",
        "username": "monitor",
        "password": SMTP_PASSWORD,
        "sender": "施策モニター <monitor@example.jp>",
        "recipients": ["担当者 <staff@example.jp>"],
        "timeout_s": 5,
        "ca_file": None if ca_file is None else str(ca_file),
    }
    return EmailOptions.model_validate(values | overrides)


def test_digest_delivered_over_tls_with_a_login_from_the_environment(
    tls_server: tuple[Controller, TLSInbox], ca_file: Path, message: Message
) -> None:
    controller, inbox = tls_server
    security = "tls" if controller.ssl_context is not None else "starttls"
    # As config.yaml would say it: the password from ${SMTP_PASSWORD} (set by conftest).
    config = parse_config({"notifiers": [{"id": "team-mail", "type": "email", "options": {
        "smtp_host": "127.0.0.1", "smtp_port": controller.port, "security": security,
        "username": "monitor", "password": "${SMTP_PASSWORD}",
        "sender": "施策モニター <monitor@example.jp>", "recipients": ["担当者 <staff@example.jp>"],
        "timeout_s": 5, "ca_file": str(ca_file),
    }}]})
    opts = config.notifiers[0].options
    assert isinstance(opts, EmailOptions) and opts.ca_file == str(ca_file)
    started = time.monotonic()
    send_email(message, opts, KEY, now=NOW)
    assert time.monotonic() - started < 2
    (version, logged_in), = inbox.channels
    assert version in ("TLSv1.2", "TLSv1.3") and logged_in
    (mail,) = inbox.messages()
    assert mail["Subject"] == SUBJECT
    assert mail["Message-ID"] == f"<sesaku-{KEY}@example.jp>"
    body = mail.get_body(("plain",))
    assert body is not None and "多摩の森林再生事業" in body.get_content()


def test_certificate_from_an_untrusted_authority_is_refused_before_anything_is_sent(
    rogue_server: tuple[Controller, TLSInbox], ca_file: Path, message: Message, caplog: pytest.LogCaptureFixture
) -> None:
    controller, inbox = rogue_server
    caplog.set_level(logging.DEBUG)
    with pytest.raises(NotifyError) as caught:
        send_email(message, options(controller, ca_file), KEY)
    text = str(caught.value)
    assert text.startswith(f"SMTP server 127.0.0.1:{controller.port}: certificate verification failed: ")
    assert f"(trusting ca_file {ca_file})" in text and "\n" not in text
    assert SMTP_PASSWORD not in text + caplog.text
    assert inbox.envelopes == []


def test_name_not_in_the_certificate_is_refused(authority: Authority, ca_file: Path, tmp_path: Path, message: Message) -> None:
    context = authority.server_context(tmp_path / "other-name", hosts=("mail.example.jp",))
    with tls_smtp("tls", context) as (controller, inbox):
        with pytest.raises(NotifyError, match=r"certificate verification failed: .*mismatch.*'127\.0\.0\.1'"):
            send_email(message, options(controller, ca_file), KEY)
    assert inbox.envelopes == []


def test_wrong_password_over_tls_is_one_line_without_the_password(
    tls_server: tuple[Controller, TLSInbox], ca_file: Path, message: Message, caplog: pytest.LogCaptureFixture
) -> None:
    controller, inbox = tls_server
    caplog.set_level(logging.DEBUG)
    with pytest.raises(NotifyError) as caught:
        send_email(message, options(controller, ca_file, password="hunter2-secret"), KEY)
    text = str(caught.value)
    assert text.startswith(f"SMTP server 127.0.0.1:{controller.port} refused the login of 'monitor': 535")
    assert "\n" not in text
    assert "hunter2-secret" not in text + caplog.text
    assert inbox.envelopes == []


def test_the_system_store_does_not_trust_a_private_authority(
    tls_server: tuple[Controller, TLSInbox], message: Message
) -> None:
    # Without ca_file the system's CAs decide, and none of them signed the test authority.
    controller, inbox = tls_server
    with pytest.raises(NotifyError, match=r"certificate verification failed: .*\(trusting the system's CAs\)$"):
        send_email(message, options(controller, None), KEY)
    assert inbox.envelopes == []


def test_ca_file_is_checked_when_the_configuration_loads(tmp_path: Path, ca_file: Path) -> None:
    def load(**values: Any) -> Any:
        opts = {"smtp_host": "smtp.example.jp", "sender": "a@example.jp", "recipients": ["b@example.jp"]} | values
        return parse_config({"notifiers": [{"id": "m", "type": "email", "options": opts}]})

    with pytest.raises(ConfigError, match="ca_file: .*no such file"):
        load(ca_file=str(tmp_path / "missing.pem"))
    (tmp_path / "empty.pem").write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="ca_file: .*cannot load certificates from"):
        load(ca_file=str(tmp_path / "empty.pem"))
    with pytest.raises(ConfigError, match="ca_file needs security starttls or tls"):
        load(ca_file=str(ca_file), security="none", smtp_host="127.0.0.1")
    assert load(ca_file=str(ca_file)).notifiers[0].options.ca_file == str(ca_file)


def test_ca_file_gone_after_loading_is_a_notify_error(ca_file: Path, message: Message) -> None:
    opts = EmailOptions.model_validate(
        {"smtp_host": "127.0.0.1", "smtp_port": 1, "sender": "a@example.jp", "recipients": ["b@example.jp"], "ca_file": str(ca_file)}
    )
    ca_file.unlink()
    with pytest.raises(NotifyError, match=rf"cannot load ca_file {ca_file}: "):
        send_email(message, opts, KEY)
