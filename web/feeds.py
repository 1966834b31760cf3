"""Atom feeds of changes (feedgen): one entry per event, linking to the page it is about.

Entry ids are the event's absolute ``/api/events/{id}`` URL, so they stay the same whatever
page the entry links to and whichever feed (all lists, one list) carries it. Every text
goes through :func:`xml_text` first: XML 1.0 cannot hold most control characters at all
(lxml refuses them), so one odd cell would otherwise break the whole feed, and a feed reader
would obey a bidi override as a page would (monitor.inert).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from feedgen.feed import FeedGenerator

from monitor.inert import visible, written_out

from web.labels import Labels
from web.schemas import EventView

__all__ = ["atom_feed", "xml_text"]

# What XML 1.0 forbids beyond what monitor.inert writes out: surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` with what XML cannot hold, and what a reader would obey, written out as ``\\xNN`` / ``\\uNNNN``."""
    return _NOT_XML.sub(written_out, visible(text))


def _content(event: EventView, t: Labels) -> str:
    lines = [event.summary, *event.details]
    for change in event.fields:
        lines.append(f"{change.column}: {change.old} → {change.new}")
    if event.source_title:
        lines.append(f"{t.source}: {event.source_title}")
    return xml_text("\n".join(lines))


def atom_feed(events: Sequence[EventView], *, base_url: str, feed_path: str, title: str, t: Labels, now: datetime,
              page_path: str = "/changes") -> bytes:
    """The feed as bytes; ``base_url`` has no trailing slash, paths start with one; ``page_path``
    is the page showing the same changes (a list's feed: ``/changes?source=…``)."""
    feed = FeedGenerator()
    feed.id(base_url + feed_path)
    feed.title(xml_text(title))
    feed.author({"name": t.site})
    feed.link(href=base_url + feed_path, rel="self", type="application/atom+xml")
    feed.link(href=base_url + page_path, rel="alternate", type="text/html")
    feed.language(t.language)
    feed.generator("sesaku-monitor")
    # An empty feed is as fresh as the request; otherwise as its newest entry.
    feed.updated(events[0].created_at if events else now)
    for event in events:
        entry = feed.add_entry(order="append")
        entry.id(f"{base_url}/api/events/{event.id}")
        entry.title(xml_text(event.summary))
        entry.link(href=base_url + event.page, rel="alternate", type="text/html")
        entry.updated(event.created_at)
        entry.published(event.created_at)
        entry.category(term=event.kind, label=xml_text(event.kind_label))
        entry.content(_content(event, t), type="text")
    return feed.atom_str(pretty=True)
