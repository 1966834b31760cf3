"""Webhook delivery to a real HTTP receiver on loopback: signature, payload, presets, faults."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import notifiers
from monitor.errors import NotifyError
from notifiers.digest import build_digest
from monitor.config.notifier_options import WebhookOptions
from notifiers.presets import markdown_escape
from notifiers.render import Message, render
from notifiers.webhook import send_webhook, sign, verify_signature
from tests.notifiers.samples import NOW, all_kinds, counted_events
from tests.notifiers.servers import Receiver, free_port

SECRET = "whsec-test-0123456789"
KEY = "delivery-key-1"


@pytest.fixture
def message() -> Message:
    return render(build_digest("team", counted_events(), now=NOW, base_url="https://monitor.example.jp"))


def hook(url: str, **overrides: Any) -> WebhookOptions:
    return WebhookOptions.model_validate({"url": url, "secret": SECRET, "timeout_s": 2, "allow_private_address": True} | overrides)


def test_receiver_verifies_the_signature_and_reads_the_digest(receiver: Receiver, message: Message) -> None:
    extra = {"Authorization": "Bearer t0k", "content-type": "text/plain"}
    send_webhook(message, hook(receiver.base + "/ok", headers=extra), KEY, now=NOW)
    ((_, headers, body),) = receiver.requests
    assert headers["Idempotency-Key"] == KEY
    assert headers["Authorization"] == "Bearer t0k"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Sesaku-Timestamp"] == str(int(NOW.timestamp()))
    assert verify_signature(
        SECRET, headers["X-Sesaku-Timestamp"], body, headers["X-Sesaku-Signature"], now=NOW + timedelta(seconds=3)
    )
    payload = json.loads(body)
    assert payload["subject"] == "[sesaku-monitor] 「地元自治体が活用できる施策【戦略2】」 追加 3・終了 1・リンク切れ 2"
    assert payload["counts"] == {"added": 3, "ended": 1, "link_dead": 2}
    assert "多摩の森林再生事業".encode() in body  # UTF-8, not \\u escapes


def test_no_secret_no_signature(receiver: Receiver, message: Message) -> None:
    send_webhook(message, hook(receiver.base + "/ok", secret=None), KEY, now=NOW)
    ((_, headers, _),) = receiver.requests
    assert "X-Sesaku-Signature" not in headers and headers["Idempotency-Key"] == KEY


@pytest.mark.parametrize("status", [500, 404])
def test_error_status_is_one_line_without_the_url_path(receiver: Receiver, message: Message, status: int) -> None:
    url = f"{receiver.base}/status/{status}/T000/B000/XXXXsecrettoken"
    with pytest.raises(NotifyError) as caught:
        send_webhook(message, hook(url), KEY)
    assert str(caught.value) == f'webhook {receiver.base} answered HTTP {status}: {{"error": "no_service"}}'


def test_a_receiver_that_never_answers_times_out(receiver: Receiver, message: Message) -> None:
    started = time.monotonic()
    with pytest.raises(NotifyError, match=rf"webhook {receiver.base} did not answer within 0.5 s"):
        send_webhook(message, hook(receiver.base + "/hang", timeout_s=0.5), KEY)
    assert time.monotonic() - started < 3


def test_connection_refused(message: Message) -> None:
    port = free_port()
    with pytest.raises(NotifyError, match=rf"webhook http://127.0.0.1:{port}: .*refused"):
        send_webhook(message, hook(f"http://127.0.0.1:{port}/hook/secret-path"), KEY)


def test_verify_signature_refuses_tampering_replays_and_garbage() -> None:
    body, ts = b'{"total":1}', int(NOW.timestamp())
    good = sign(SECRET, ts, body)
    assert verify_signature(SECRET, ts, body, good, now=NOW)
    assert verify_signature(SECRET, str(ts), body.decode(), good, now=NOW)
    assert not verify_signature(SECRET, ts, b'{"total":2}', good, now=NOW)
    assert not verify_signature("other-secret", ts, body, good, now=NOW)
    assert not verify_signature(SECRET, ts, body, good, now=NOW + timedelta(seconds=301))
    assert not verify_signature(SECRET, ts + 1, body, good, now=NOW)
    assert not verify_signature(SECRET, "yesterday", body, good, now=NOW)
    assert not verify_signature(SECRET, ts, body, "sha256=00", now=NOW)
    assert not verify_signature(SECRET, ts, body, "sha256=é", now=NOW)


def test_slack_preset_shape_escapes_control_characters(receiver: Receiver, message: Message) -> None:
    send_webhook(message, hook(receiver.base + "/ok", preset="slack"), KEY, now=NOW)
    payload = json.loads(receiver.requests[0][2])
    assert payload["text"] == message.subject
    header, section = payload["blocks"][:2]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": message.subject}}
    mrkdwn = section["text"]["text"]
    assert section["text"]["type"] == "mrkdwn" and len(mrkdwn) <= 3000
    assert "&lt;script&gt;" in mrkdwn and "<script>" not in mrkdwn
    assert "<https://monitor.example.jp/measures/1|多摩の森林再生事業>" in mrkdwn


def test_discord_preset_shape_pings_nobody(receiver: Receiver) -> None:
    events = counted_events() + all_kinds()
    big = render(build_digest("team", events * 20, now=NOW))
    send_webhook(big, hook(receiver.base + "/ok", preset="discord"), KEY, now=NOW)
    payload = json.loads(receiver.requests[0][2])
    assert set(payload) == {"content", "allowed_mentions"}
    assert payload["allowed_mentions"] == {"parse": []}
    assert len(payload["content"]) <= 2000 and payload["content"].endswith("…")


def test_teams_preset_is_an_adaptive_card(receiver: Receiver, message: Message) -> None:
    send_webhook(message, hook(receiver.base + "/ok", preset="teams"), KEY, now=NOW)
    payload = json.loads(receiver.requests[0][2])
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    texts = [block["text"] for block in card["body"]]
    assert texts[0] == markdown_escape(message.subject)
    assert "• [多摩の森林再生事業](https://monitor.example.jp/measures/1)" in texts
    assert all(block["type"] == "TextBlock" and block["wrap"] for block in card["body"])


def test_presets_of_an_all_quiet_digest(receiver: Receiver) -> None:
    quiet = render(build_digest("team", [], now=NOW, all_quiet=True, language="en"))
    for preset in ("slack", "discord", "teams"):
        send_webhook(quiet, hook(receiver.base + "/ok", preset=preset), KEY, now=NOW)
    bodies = [body.decode() for _, _, body in receiver.requests]
    assert all("Nothing has changed since the last message." in body for body in bodies)


def test_options_refuse_bad_urls_and_header_injection() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        hook("file:///etc/passwd")
    with pytest.raises(ValueError, match="invalid header"):
        hook("https://example.jp/", headers={"X-A": "b\r\nX-Evil: 1"})


def test_the_readme_snippet_verifies_a_real_delivery(receiver: Receiver, message: Message) -> None:
    readme = (Path(notifiers.__file__).parent / "README.md").read_text(encoding="utf-8")
    (snippet,) = [block for block in re.findall(r"```python\n(.*?)```", readme, re.DOTALL) if "def verify(" in block]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)
    send_webhook(message, hook(receiver.base + "/ok"), KEY)  # signed now: the snippet reads the real clock
    ((_, headers, body),) = receiver.requests
    assert namespace["verify"](SECRET, headers, body)
    assert not namespace["verify"](SECRET, headers, body + b" ")
