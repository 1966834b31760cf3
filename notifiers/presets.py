"""Shape a digest for the incoming webhooks of Slack, Discord and Microsoft Teams.

Each preset builds the service's own JSON from the digest payload (``Message.json``) and
respects its limits, cutting with "…" rather than being refused: Slack blocks (≤ 50
blocks, ≤ 3000 characters of mrkdwn each), Discord ``content`` (≤ 2000 characters, with
mentions disabled so that a measure named ``@everyone`` pings nobody), and a Teams Adaptive
Card in a ``message`` envelope (what Teams Workflows webhooks accept, now that Office 365
connectors and their MessageCard are retired), one TextBlock per line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from monitor.errors import ConfigError

from .render import Message

__all__ = ["PRESETS", "shape"]

_SLACK_SECTION = 3000
_SLACK_BLOCKS = 50
_SLACK_HEADER = 150
_DISCORD_CONTENT = 2000
# Teams refuses messages over about 28 KB: a card of this many short lines stays under it.
_TEAMS_BLOCKS = 150
_LINE = 300


def shape(message: Message, preset: str) -> dict[str, Any]:
    try:
        build = PRESETS[preset]
    except KeyError:
        raise ConfigError(f"unknown webhook preset {preset!r} (known: {', '.join(sorted(PRESETS))})") from None
    return build(message)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slack(message: Message) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(message.subject, _SLACK_HEADER)}}
    ]
    sections = [_slack_source(source) for source in message.json["sources"]] or [_slack_escape(message.text)]
    for text in sections[: _SLACK_BLOCKS - 1]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, _SLACK_SECTION)}})
    # ``text`` is what notifications and old clients show.
    return {"text": message.subject, "blocks": blocks}


def _slack_source(source: dict[str, Any]) -> str:
    lines = [f"*{_slack_link(source['title'], source['url'])}*"]
    for group in source["kinds"]:
        lines.append(f"*{_slack_escape(group['label'])}* ({group['count']})")
        for entry in group["entries"]:
            lines.append("• " + _slack_link(entry["title"], entry["url"]))
            lines += [f"    {_slack_escape(line)}" for line in _entry_lines(entry)]
    return "\n".join(lines)


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn treats these three as control characters (links, mentions).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(text: str, url: str | None) -> str:
    return f"<{url}|{_slack_escape(text).replace('|', '¦')}>" if url else _slack_escape(text)


def _discord(message: Message) -> dict[str, Any]:
    return {"content": _cut(message.text, _DISCORD_CONTENT), "allowed_mentions": {"parse": []}}


def _teams(message: Message) -> dict[str, Any]:
    body = [_text_block(message.subject, weight="Bolder", size="Medium")]
    if not message.json["sources"]:
        body.append(_text_block(message.text))
    for source in message.json["sources"]:
        body.append(_text_block(_md_link(source["title"], source["url"]), weight="Bolder", spacing="Large"))
        for group in source["kinds"]:
            body.append(_text_block(f"{group['label']} ({group['count']})", weight="Bolder", spacing="Medium"))
            for entry in group["entries"]:
                body.append(_text_block("• " + _md_link(entry["title"], entry["url"]), spacing="Small"))
                body += [_text_block(line, spacing="None", isSubtle=True) for line in _entry_lines(entry)]
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": body[:_TEAMS_BLOCKS],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def _text_block(text: str, **style: str | bool) -> dict[str, Any]:
    return {"type": "TextBlock", "text": _cut(text, _LINE), "wrap": True, **style}


def _md_link(text: str, url: str | None) -> str:
    # Brackets in a name would end the link text early.
    return f"[{text.replace('[', '(').replace(']', ')')}]({url})" if url else text


def _entry_lines(entry: dict[str, Any]) -> list[str]:
    """An entry's details as short lines; long texts are cut, the full digest is one click away."""
    lines = [f"{fact['label']}: {fact['value']}" for fact in entry["facts"]]
    lines += [f"{change['column']}: {change['old']} → {change['new']}" for change in entry["changes"]]
    lines += [f"- {measure['name']}" for measure in entry["measures"]]
    return [_cut(" ".join(line.split()), _LINE) for line in lines]


PRESETS: dict[str, Callable[[Message], dict[str, Any]]] = {"slack": _slack, "discord": _discord, "teams": _teams}
