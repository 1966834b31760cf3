"""Shape a digest for the incoming webhooks of Slack, Discord and Microsoft Teams.

Each preset builds the service's own JSON from the digest payload (``Message.json``) and
respects its limits, cutting with "…" rather than being refused: Slack blocks (≤ 50
blocks, ≤ 3000 characters of mrkdwn each), Discord ``content`` (≤ 2000 characters), and a
Teams Adaptive Card in a ``message`` envelope (what Teams Workflows webhooks accept, now that
Office 365 connectors and their MessageCard are retired), one TextBlock per line.

What a list says is text in every dialect, never syntax: one escaper per dialect, applied
to every value from the payload, while the preset writes its own bold and links around
them. Slack: ``&``, ``<``, ``>`` become entities, so ``<!channel>`` or ``<https://x|y>`` in a
cell is shown, not obeyed. Discord and Teams (markdown): punctuation that makes links,
emphasis, code, quotes or headings is backslash-escaped, so ``[公式サイト](https://phish…)``
is no masked link, and ``@everyone`` / ``@here`` carry a zero-width space; Discord is also
told to parse no mention at all (``allowed_mentions``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from monitor.errors import ConfigError
from monitor.inert import visible

from notifiers.render import Message

__all__ = ["PRESETS", "markdown_escape", "shape", "slack_escape"]

_SLACK_SECTION = 3000
_SLACK_BLOCKS = 50
_SLACK_HEADER = 150
_DISCORD_CONTENT = 2000
# Teams refuses messages over about 28 KB: a card of this many short lines stays under it.
_TEAMS_BLOCKS = 150
_LINE = 300

# Links, emphasis, code, spoilers, quotes, headings, mentions: what a value could start.
_MARKDOWN = re.compile(r"([\\`*_~|<>\[\]()#])")
_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)
# In a link target these would end it early or be read as markdown.
_URL_UNSAFE = str.maketrans({c: f"%{ord(c):02X}" for c in " ()[]<>\\|`*_~\"'"})


def shape(message: Message, preset: str) -> dict[str, Any]:
    try:
        build = PRESETS[preset]
    except KeyError:
        raise ConfigError(f"unknown webhook preset {preset!r} (known: {', '.join(sorted(PRESETS))})") from None
    return build(message)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_escape(text: str) -> str:
    """``text`` as Slack mrkdwn shows it: links and mentions (``<…>``) written as text."""
    return visible(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_escape(text: str) -> str:
    """``text`` as Discord and Teams markdown show it, pinging nobody."""
    escaped = _MARKDOWN.sub(r"\\\1", visible(text))
    return _MASS_MENTION.sub("@\u200b\\1", escaped)


def _slack(message: Message) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(visible(message.subject), _SLACK_HEADER)}}
    ]
    sections = [_slack_source(source) for source in message.json["sources"]] or [slack_escape(message.text)]
    for text in sections[: _SLACK_BLOCKS - 1]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, _SLACK_SECTION)}})
    # ``text`` is what notifications and old clients show, as mrkdwn.
    return {"text": slack_escape(message.subject), "blocks": blocks}


def _slack_source(source: dict[str, Any]) -> str:
    lines = [f"*{_slack_link(source['title'], source['url'])}*"]
    for group in source["kinds"]:
        lines.append(f"*{slack_escape(group['label'])}* ({group['count']})")
        for entry in group["entries"]:
            lines.append("• " + _slack_link(entry["title"], entry["url"]))
            lines += [f"    {slack_escape(line)}" for line in _entry_lines(entry)]
    return "\n".join(lines)


def _slack_link(text: str, url: str | None) -> str:
    if not url:
        return slack_escape(text)
    return f"<{slack_escape(url).replace('|', '%7C')}|{slack_escape(text).replace('|', '¦')}>"


def _md_link(text: str, url: str | None) -> str:
    return f"[{markdown_escape(text)}]({visible(url).translate(_URL_UNSAFE)})" if url else markdown_escape(text)


def _discord(message: Message) -> dict[str, Any]:
    lines = [f"**{markdown_escape(message.subject)}**"]
    if not message.json["sources"]:
        lines.append(markdown_escape(message.text))
    for source in message.json["sources"]:
        lines += ["", f"**{_md_link(source['title'], source['url'])}**"]
        for group in source["kinds"]:
            lines.append(f"**{markdown_escape(group['label'])}** ({group['count']})")
            for entry in group["entries"]:
                lines.append("• " + _md_link(entry["title"], entry["url"]))
                lines += [f"  {markdown_escape(line)}" for line in _entry_lines(entry)]
    return {"content": _cut("\n".join(lines), _DISCORD_CONTENT), "allowed_mentions": {"parse": []}}


def _teams(message: Message) -> dict[str, Any]:
    body = [_text_block(markdown_escape(message.subject), weight="Bolder", size="Medium")]
    if not message.json["sources"]:
        body.append(_text_block(markdown_escape(message.text)))
    for source in message.json["sources"]:
        body.append(_text_block(_md_link(source["title"], source["url"]), weight="Bolder", spacing="Large"))
        for group in source["kinds"]:
            body.append(_text_block(f"{markdown_escape(group['label'])} ({group['count']})", weight="Bolder", spacing="Medium"))
            for entry in group["entries"]:
                body.append(_text_block("• " + _md_link(entry["title"], entry["url"]), spacing="Small"))
                body += [_text_block(markdown_escape(line), spacing="None", isSubtle=True) for line in _entry_lines(entry)]
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


def _entry_lines(entry: dict[str, Any]) -> list[str]:
    """An entry's details as short lines of plain text (each dialect escapes them); long texts
    are cut, the full digest is one click away."""
    lines = [f"{fact['label']}: {fact['value']}" for fact in entry["facts"]]
    lines += [f"{change['column']}: {change['old']} → {change['new']}" for change in entry["changes"]]
    lines += [f"- {measure['name']}" for measure in entry["measures"]]
    return [_cut(" ".join(line.split()), _LINE) for line in lines]


PRESETS: dict[str, Callable[[Message], dict[str, Any]]] = {"slack": _slack, "discord": _discord, "teams": _teams}
