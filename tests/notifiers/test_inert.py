"""What a list says reaches chat and mail as text: no mention, no masked link, no raw control character.

Payloads are read as a loopback webhook receiver got them, mail as a loopback SMTP server got it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from notifiers.digest import build_digest
from notifiers.email import send_email
from monitor.config.notifier_options import WebhookOptions
from notifiers.render import Message, render
from notifiers.webhook import send_webhook
from tests.notifiers.samples import NOW, event, measure
from tests.notifiers.servers import Inbox, Receiver
from tests.notifiers.test_email import options, part, received

PHISH = "[公式サイトはこちら](https://phish.invalid/login)"
PING = "@everyone @here 至急"
CONTROL = "ベル\x07エスケープ\x1b[31m赤\x00"
CHANNEL_URL = "https://www.example.jp/<!channel>/page.html"
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@pytest.fixture
def hostile() -> Message:
    events = [
        event(1, "added", {"key": "a", "name": PHISH, "fields": {"備考": PING}}, measure_id=1),
        event(2, "added", {"key": "b", "name": CONTROL, "fields": {}}, measure_id=2),
        event(3, "link_dead", {"url": CHANNEL_URL, "outcome": "not_found", "measures": [measure(1, PHISH)]}, link_id=5),
        event(4, "link_moved", {"url": CHANNEL_URL, "final_url": "https://a.example.jp/", "outcome": "redirected",
                                "measures": [measure(2, "<!here> 事業")]}, link_id=6),
    ]
    return render(build_digest("team", events, now=NOW, base_url="https://monitor.example.jp"))


def _sent(receiver: Receiver, message: Message, preset: str) -> Any:
    hook = WebhookOptions.model_validate({"url": receiver.base + "/ok", "timeout_s": 2, "preset": preset, "allow_private_address": True})
    send_webhook(message, hook, "key-1", now=NOW)
    return json.loads(receiver.requests[-1][2])


def _strings(payload: Any) -> list[str]:
    if isinstance(payload, dict):
        return [s for value in payload.values() for s in _strings(value)]
    if isinstance(payload, list):
        return [s for value in payload for s in _strings(value)]
    return [payload] if isinstance(payload, str) else []


def test_slack_shows_mentions_and_links_from_a_list_as_text(receiver: Receiver, hostile: Message) -> None:
    payload = _sent(receiver, hostile, "slack")
    mrkdwn = "\n".join(block["text"]["text"] for block in payload["blocks"][1:])
    assert "<!channel>" not in mrkdwn and "<!here>" not in mrkdwn
    assert "&lt;!channel&gt;" in mrkdwn and "&lt;!here&gt; 事業" in mrkdwn
    # Slack's own links remain: every <…> left is one the preset wrote, to an http(s) URL.
    assert re.findall(r"<([^|>]*)\|", mrkdwn) and all(u.startswith("https://") for u in re.findall(r"<([^|>]*)\|", mrkdwn))
    assert not RAW_CONTROL.search(mrkdwn) and "\\x1b[31m" in mrkdwn


@pytest.mark.parametrize("preset", ["discord", "teams"])
def test_discord_and_teams_show_masked_links_and_mass_mentions_as_text(receiver: Receiver, hostile: Message, preset: str) -> None:
    payload = _sent(receiver, hostile, preset)
    text = payload["content"] if preset == "discord" else "\n".join(b["text"] for b in payload["attachments"][0]["content"]["body"])
    assert PHISH not in text
    assert "\\[公式サイトはこちら\\]\\(https://phish.invalid/login\\)" in text
    # The only markdown links are those the preset made, to the web view or a cited http(s) URL.
    targets = re.findall(r"(?<!\\)\]\(([^)]*)\)", text)
    assert targets and all(t.startswith(("https://monitor.example.jp/", "https://www.example.jp/%3C!channel%3E/")) for t in targets)
    assert "@everyone" not in text and "@here" not in text and "@\u200beveryone" in text
    assert not RAW_CONTROL.search(text) and "\\\\x07" in text
    if preset == "discord":
        assert payload["allowed_mentions"] == {"parse": []}


def test_mail_text_part_and_subject_carry_no_raw_control_character(smtp_server: tuple[Controller, Inbox], hostile: Message) -> None:
    controller, inbox = smtp_server
    send_email(hostile, options(controller.port), "key-1", now=NOW)
    mail = received(inbox)
    text, html = part(mail, "plain"), part(mail, "html")
    assert "ベル\\x07エスケープ\\x1b[31m赤\\x00" in text
    assert not RAW_CONTROL.search(text) and not RAW_CONTROL.search(html)
