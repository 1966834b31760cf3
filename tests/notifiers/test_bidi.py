"""A list's bidirectional overrides never reorder what a person reads: terminal, mail or chat.

U+202E (RIGHT-TO-LEFT OVERRIDE) in a cell makes ``https://example.jp/\\u202efdp.exe`` look like
``https://example.jp/exe.pdf`` and turns around the rest of its line, our own words included.
"""

from __future__ import annotations

import pytest

from monitor.inert import visible
from notifiers.digest import build_digest
from notifiers.presets import shape
from notifiers.render import render
from tests.notifiers.samples import NOW, event, measure

RLO = "\u202e"
SPOOF = f"https://example.jp/{RLO}fdp.exe"
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]


@pytest.mark.parametrize("control", BIDI)
def test_every_bidi_override_and_isolate_is_shown_as_its_escape(control: str) -> None:
    assert visible(f"施策{control}名") == f"施策\\u{ord(control):04x}名"


def test_a_digest_shows_a_spoofed_name_and_url_with_the_override_written_out() -> None:
    events = [event(1, "added", {"key": "a", "name": f"補助金{RLO}申請", "fields": {"URL": SPOOF}}, measure_id=1),
              event(2, "link_dead", {"url": SPOOF, "outcome": "not_found", "measures": [measure(1, f"補助金{RLO}申請")]}, link_id=5)]
    message = render(build_digest("team", events, now=NOW, base_url="https://monitor.example.jp"))
    for text in (message.subject, message.text, message.html, str(shape(message, "slack")), str(shape(message, "discord"))):
        assert RLO not in text
    assert "補助金\\u202e申請" in message.text and "https://example.jp/\\u202efdp.exe" in message.text
