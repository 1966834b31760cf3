"""Families of lists: an index page whose links are the lists (``kind: index``).

An index source names a page and a ``link_pattern`` (a regex searched in each link's text
and in its href); every matching link is a list of its own, run like any source with the
settings the index gives its children (format, key_columns, name_column, …), stored with
``sources.parent_id`` set to the index.

A list found on an index is a URL learned from a page: only an http(s) link can be one (any
other is left out with a warning), and it is fetched as learned (``fetch.trust_of``), never
read from disk, through the same address guard as everything else.

A child's id is the index's id, '-', and a slug of the link's text, never of its URL, so a
file renamed on the server (``r4_list.pdf`` → ``r5_list.pdf``) is the same list. Where the
link text changes with every edition, ``link_id_pattern`` picks the lasting part of it
(``戦略\\s*(\\d+)`` → ``-2``). Notes of file type and size (「(PDF:245KB)」) are no part of the
title or the id.

A list that appears on the index or leaves it is a ``list_added`` / ``list_removed`` event
{list_id, title, url}; the first run of an index is its baseline and reports none. An index
page that cannot be fetched, matches no link, or lost more than ``max_loss_share`` of its
lists at once is ``failed`` / ``suspect`` like a list, retires nothing, and the lists known
from the last good run are run as before.

An index is a source whose parse yields lists: ``monitor.lists.pipeline`` fetches it, keeps
its snapshots and reports its trouble and recovery by the same code as a list's. This module
holds only what is an index's own: reading its links (``read_index``), its guard
(``judge_index``) and moving the family to a good snapshot (``apply_index``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence, Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import select

from store.models import Source

from monitor.config import Config, SourceConfig
from monitor.lists.records import normalize_text

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from store.models import Snapshot

    from monitor.config import GuardSettings
    from monitor.lists.parsers import Document
    from monitor.report import SourceReport

# Reading an index (its page decoded, its links, a CKAN answer) and writing its events import
# their modules where they run: the commands that only look a source up (runner_of,
# source_config: `sources`, `links`, `snapshots`, …) otherwise loaded versioning and every parser.

__all__ = ["ListLink", "FoundLists", "find_lists", "read_index", "judge_index", "current_lists", "apply_index", "list_title",
           "child_id", "slug", "child_config", "source_config", "runner_of", "with_lists"]

# A child id is <index id>-<slug>[-n]: index ids are at most 48 characters (source_kinds),
# slugs at most 28, and a repeated slug's number at most 3, so it fits the 80 of an id.
_SLUG_MAX, _HASH_LEN = 28, 8
@dataclass(frozen=True, slots=True)
class ListLink:
    """One list of a family, as the index links it."""

    id: str
    title: str
    url: str
    format: str | None = None  # a CKAN resource's own; None: the index's format


@dataclass(frozen=True, slots=True)
class FoundLists:
    """What an index's parse yields: the lists it links, in page order, and why links were left out."""

    links: list[ListLink]
    warnings: list[str]


def list_title(text: str) -> str:
    """The link text without its notes of file type and size."""
    from monitor.lists.index_links import note_free

    return note_free(text)


def slug(name: str) -> str:
    """Lower-case ASCII words joined by '-', with a short hash where the name has other letters.

    Japanese names have no ASCII spelling to speak of, so 「戦略2 …」 becomes ``2-<hash>``;
    the hash is of the whole normalised name, so two names never share a slug by accident.
    """
    text = normalize_text(name).lower()
    words = "-".join(re.findall(r"[a-z0-9]+", text))
    if text.isascii() and words and len(words) <= _SLUG_MAX:
        return words
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH_LEN]
    words = words[: _SLUG_MAX - _HASH_LEN - 1].strip("-")
    return f"{words}-{digest}" if words else digest


def child_id(parent_id: str, title: str, id_pattern: str | None) -> str:
    """The child's id: from the part of its title ``id_pattern`` picks (its first group), else the whole title."""
    name = normalize_text(title)  # full-width 「戦略２」 is matched as 「戦略2」
    match = re.search(id_pattern, name) if id_pattern else None
    if match is not None:
        name = next((group for group in match.groups() if group), match.group(0))
    return f"{parent_id}-{slug(name)}"


def find_lists(document: Document, source: SourceConfig, reserved: AbstractSet[str] = frozenset()) -> tuple[list[ListLink], list[str]]:
    """The lists an index page links, in page order, and warnings about links left out."""
    from monitor.lists.encoding import decode_text
    from monitor.lists.index_links import DEFAULT_CONTEXT, index_links

    text, _ = decode_text(document.body, document.content_type, document.url)
    links: list[ListLink] = []
    warnings: list[str] = []
    for found in index_links(text, document.url, source.link_pattern or "", source.link_id_pattern, source.link_context or DEFAULT_CONTEXT):
        url, title = found.url, found.title
        if urlsplit(url).scheme not in ("http", "https"):
            warnings.append(f"{url[:200]}: a list found on a page is fetched over http(s) only; the link is left out")
            continue
        if any(link.url == url for link in links):
            continue  # the same file linked twice (an icon and its text) is one list
        list_id = _unique(f"{source.id}-{slug(found.id_name)}", links)
        if list_id in reserved:
            warnings.append(f"{url}: its id {list_id!r} is a configured source's; the link is left out")
            continue
        links.append(ListLink(list_id, title, url))
        if len(links) > source.max_lists:
            break  # suspect (judge_index): not read past
    return links, warnings


def read_index(document: Document, config: Config, source: SourceConfig) -> FoundLists:
    """The parse of an index page: its lists, none of them taking a configured source's id."""
    if source.kind == "ckan":
        return _dataset_lists(document, source)
    links, warnings = find_lists(document, source, {other.id for other in config.sources})
    return FoundLists(links, warnings)


def _dataset_lists(document: Document, source: SourceConfig) -> FoundLists:
    """A CKAN dataset's resources as the lists of an index (monitor/lists/ckan.py)."""
    from monitor.lists.ckan import dataset_resources

    resources, warnings = dataset_resources(document.body, document.url)
    links: list[ListLink] = []
    for resource in resources[: source.max_lists + 1]:
        links.append(ListLink(_unique(f"{source.id}-{slug(resource.id_name)}", links), resource.title, resource.url, resource.format))
    return FoundLists(links, warnings)


def _unique(list_id: str, links: list[ListLink]) -> str:
    taken = {link.id for link in links}
    number = 2
    candidate = list_id
    while candidate in taken:
        candidate, number = f"{list_id}-{number}", number + 1
    return candidate


def child_config(parent: SourceConfig, link: ListLink) -> SourceConfig:
    """The list's own source: the index's settings for its lists, with the link's id, title and URL."""
    return parent.model_copy(update={"id": link.id, "title": link.title, "url": link.url, "format": link.format or parent.format, "kind": "list", "link_pattern": None, "link_id_pattern": None})


def source_config(config: Config, session: Session, source_id: str) -> SourceConfig:
    """A configured source, or a list of a configured index as the index last found it."""
    found = _found_on_index(config, session, source_id)
    if found is not None:
        index, row = found
        return child_config(index, ListLink(row.id, row.title, row.url, row.format))
    return config.source(source_id)


def runner_of(config: Config, session: Session, source_id: str) -> SourceConfig:
    """The configured source whose run covers ``source_id``: itself, or the index a list was found on."""
    found = _found_on_index(config, session, source_id)
    return found[0] if found is not None else config.source(source_id)


def _found_on_index(config: Config, session: Session, source_id: str) -> tuple[SourceConfig, Source] | None:
    """The configured index ``source_id`` was found on, and its stored row; None for any other id."""
    row = session.get(Source, source_id)
    indexes = {source.id: source for source in config.sources if source.is_index}
    if row is None or row.parent_id not in indexes:
        return None
    return indexes[row.parent_id], row


def with_lists(report: SourceReport) -> list[SourceReport]:
    """A source's report followed by its lists' reports, as the run report lists them."""
    return [report, *report.lists]


def current_lists(session: Session, index_id: str) -> list[ListLink]:
    """The index's lists as its last good run left them (the ones it yields while it is in trouble)."""
    children = session.scalars(select(Source).where(Source.parent_id == index_id, Source.retired_at.is_(None)).order_by(Source.created_at, Source.id))
    return [ListLink(child.id, child.title, child.url, child.format) for child in children]


def judge_index(links: Sequence[ListLink], known: Sequence[ListLink], source: SourceConfig, guard: GuardSettings) -> str | None:
    """None when the index may change the family, else one line saying why not (the index's guard)."""
    if not links:
        return f"no link on the index page matches link_pattern {source.link_pattern!r} (an error page, or the page was redesigned?)"
    if len(links) > source.max_lists:
        return f"more than {source.max_lists} lists on the index page, more than an index may have (max_lists): not followed"
    gone = len({link.id for link in known} - {link.id for link in links})
    share = source.max_loss_share if source.max_loss_share is not None else guard.max_loss_share
    if known and gone > len(known) * share:
        return f"{gone} of the {len(known)} lists left the index at once: more than {share:.0%} (guard.max_loss_share)"
    return None


def apply_index(session: Session, source: SourceConfig, known: Sequence[ListLink], links: Sequence[ListLink], snapshot: Snapshot,
                now: datetime, report: SourceReport, *, baseline: bool) -> None:
    """Move the family to a good snapshot's lists; after the baseline, each list that came or went is an event."""
    from monitor.events import ListAdded, ListRemoved
    from monitor.lists.versioning import source_event

    added, removed = _sync_lists(session, source, known, links, now)
    if baseline:
        return
    for kind, changed, bucket in ((ListAdded, added, report.lists_added), (ListRemoved, removed, report.lists_removed)):
        for link in changed:
            event = kind(link.id, link.title, link.url)
            bucket.append(event.to_payload())
            source_event(session, source.id, snapshot, now, event)


def _sync_lists(session: Session, source: SourceConfig, known: Sequence[ListLink], links: Sequence[ListLink], now: datetime) -> tuple[list[ListLink], list[ListLink]]:
    """Make, update, bring back and retire the lists' rows; the lists that came and went."""
    known_ids = {link.id for link in known}
    added = []
    for link in links:
        row = session.get(Source, link.id)
        if row is None:
            session.add(Source(id=link.id, title=link.title, url=link.url, format=link.format or source.format, parent_id=source.id, created_at=now))
        else:
            # A renamed file keeps its row: the URL follows, the list and its history stay.
            row.title, row.url, row.parent_id, row.retired_at = link.title, link.url, source.id, None
        if link.id not in known_ids:
            added.append(link)
    current = {link.id for link in links}
    removed = [link for link in known if link.id not in current]
    for link in removed:
        row = session.get(Source, link.id)
        if row is not None:
            row.retired_at = now
    session.flush()
    return added, removed
