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
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable, Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.blobs import put_blob
from store.database import SessionFactory, transaction
from store.models import Snapshot, Source
from store.queries import last_good_snapshot, last_snapshot

from monitor.config import Config, GuardSettings, SourceConfig
from monitor.lists.encoding import decode_text
from monitor.errors import FetchError, ParseError
from monitor.events import ListAdded, ListRemoved, SourceFailed, SourceRecovered, SourceSuspect
from monitor.lists.fetch import Fetched, fetch_document, trust_of
from monitor.lists.parsers import Document
from monitor.lists.records import normalize_text
from monitor.report import SourceReport
from monitor.lists.versioning import source_event

__all__ = ["ListLink", "RunList", "find_lists", "list_title", "child_id", "slug", "child_config", "source_config", "runner_of", "run_family", "with_lists"]

log = logging.getLogger("sesaku_monitor.families")

RunList = Callable[[Config, SourceConfig, SessionFactory, datetime], SourceReport]

# 「(PDF:245KB)」「[Excel]」「(テキスト:1.2MB)」 after NFKC: a bracket naming a file type or a
# size says what the file is, not what the list is.
_FILE_NOTE = re.compile(
    r"\s*[(\[<][^()\[\]<>]*?(?:\b(?:pdf|xlsx?|xlsm|csv|excel|word|docx?|zip|txt|text)\b|エクセル|ワード|テキスト"
    r"|\d\s*(?:kb|mb|gb|キロバイト|メガバイト))[^()\[\]<>]*[)\]>]",
    re.IGNORECASE,
)
# A child id is <index id>-<slug>[-n]: index ids are at most 48 characters (source_kinds),
# slugs at most 28, and a repeated slug's number at most 3, so it fits the 80 of an id.
_SLUG_MAX, _HASH_LEN = 28, 8


@dataclass(frozen=True, slots=True)
class ListLink:
    """One list of a family, as the index links it."""

    id: str
    title: str
    url: str


def list_title(text: str) -> str:
    """The link text without its notes of file type and size."""
    return normalize_text(_FILE_NOTE.sub("", normalize_text(text)))


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
    text, _ = decode_text(document.body, document.content_type, document.url)
    pattern = re.compile(source.link_pattern or "")
    links: list[ListLink] = []
    warnings: list[str] = []
    for anchor in BeautifulSoup(text, "lxml").find_all("a", href=True):
        url = urljoin(document.url, str(anchor["href"]).strip())
        title = list_title(_anchor_text(anchor, url))
        if not (pattern.search(title) or pattern.search(unquote(url))):
            continue
        if urlsplit(url).scheme not in ("http", "https"):
            warnings.append(f"{url[:200]}: a list found on a page is fetched over http(s) only; the link is left out")
            continue
        if any(link.url == url for link in links):
            continue  # the same file linked twice (an icon and its text) is one list
        list_id = _unique(child_id(source.id, title, source.link_id_pattern), links)
        if list_id in reserved:
            warnings.append(f"{url}: its id {list_id!r} is a configured source's; the link is left out")
            continue
        links.append(ListLink(list_id, title, url))
    return links, warnings


def _anchor_text(anchor: Tag, url: str) -> str:
    image = anchor.find("img", alt=True)
    for text in (anchor.get_text(" "), image.get("alt") if image else "", anchor.get("title")):
        if isinstance(text, str) and normalize_text(text):
            return text
    # Nothing names the link: the file name does, until the file is renamed.
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def _unique(list_id: str, links: list[ListLink]) -> str:
    taken = {link.id for link in links}
    number = 2
    candidate = list_id
    while candidate in taken:
        candidate, number = f"{list_id}-{number}", number + 1
    return candidate


def child_config(parent: SourceConfig, link: ListLink) -> SourceConfig:
    """The list's own source: the index's settings for its lists, with the link's id, title and URL."""
    return parent.model_copy(update={"id": link.id, "title": link.title, "url": link.url, "kind": "list", "link_pattern": None, "link_id_pattern": None})


def source_config(config: Config, session: Session, source_id: str) -> SourceConfig:
    """A configured source, or a list of a configured index as the index last found it."""
    found = _found_on_index(config, session, source_id)
    if found is not None:
        index, row = found
        return child_config(index, ListLink(row.id, row.title, row.url))
    return config.source(source_id)


def runner_of(config: Config, session: Session, source_id: str) -> SourceConfig:
    """The configured source whose run covers ``source_id``: itself, or the index a list was found on."""
    found = _found_on_index(config, session, source_id)
    return found[0] if found is not None else config.source(source_id)


def _found_on_index(config: Config, session: Session, source_id: str) -> tuple[SourceConfig, Source] | None:
    """The configured index ``source_id`` was found on, and its stored row; None for any other id."""
    row = session.get(Source, source_id)
    indexes = {source.id: source for source in config.sources if source.kind == "index"}
    if row is None or row.parent_id not in indexes:
        return None
    return indexes[row.parent_id], row


def with_lists(report: SourceReport) -> list[SourceReport]:
    """A source's report followed by its lists' reports, as the run report lists them."""
    return [report, *report.lists]


def run_family(config: Config, source: SourceConfig, sessions: SessionFactory, now: datetime, run_list: RunList) -> SourceReport:
    """Run the index, then each of its lists with ``run_list``; the lists' reports go in ``report.lists``."""
    report, links = _run_index(config, source, sessions, now)
    for link in links:
        report.lists.append(run_list(config, child_config(source, link), sessions, now))
    return report


def _run_index(config: Config, source: SourceConfig, sessions: SessionFactory, now: datetime) -> tuple[SourceReport, list[ListLink]]:
    with transaction(sessions) as session:
        known = _known_lists(session, source, now)
        last = last_snapshot(session, source.id)
        first = last_good_snapshot(session, source.id) is None
    last_status = last.status if last else None
    try:
        fetched = asyncio.run(fetch_document(source.url, config.http, trust=trust_of(config, source)))
    except FetchError as exc:
        return _trouble(sessions, source, "failed", str(exc), last_status, now, None), known
    reserved = {other.id for other in config.sources}
    try:
        links, warnings = find_lists(Document(fetched.body, fetched.url, fetched.content_type), source, reserved)
        problem = _judge(links, known, source, config.guard)
    except ParseError as exc:
        problem = str(exc)
    if problem is not None:
        return _trouble(sessions, source, "suspect", problem, last_status, now, fetched.body), known
    with transaction(sessions) as session:
        report = _store_index(session, source, known, links, fetched, now, first=first)
        if last_status in ("failed", "suspect"):
            source_event(session, source.id, session.get(Snapshot, report.snapshot_id), now, SourceRecovered(last_status))
    report.warnings = warnings
    log.info("index %s: %s, %s lists", source.id, report.status, len(links))
    return report, links


def _known_lists(session: Session, source: SourceConfig, now: datetime) -> list[ListLink]:
    """The index's current lists (as the last good run left them); the index's row is made or updated."""
    row = session.get(Source, source.id)
    if row is None:
        session.add(Source(id=source.id, title=source.title, url=source.url, format="index", created_at=now))
    else:
        row.title, row.url, row.format = source.title, source.url, "index"
    children = session.scalars(select(Source).where(Source.parent_id == source.id, Source.retired_at.is_(None)).order_by(Source.created_at, Source.id))
    return [ListLink(child.id, child.title, child.url) for child in children]


def _judge(links: list[ListLink], known: list[ListLink], source: SourceConfig, guard: GuardSettings) -> str | None:
    """None when the index may change the family, else one line saying why not."""
    if not links:
        return f"no link on the index page matches link_pattern {source.link_pattern!r} (an error page, or the page was redesigned?)"
    gone = len({link.id for link in known} - {link.id for link in links})
    share = source.max_loss_share if source.max_loss_share is not None else guard.max_loss_share
    if known and gone > len(known) * share:
        return f"{gone} of the {len(known)} lists left the index at once: more than {share:.0%} (guard.max_loss_share)"
    return None


def _store_index(session: Session, source: SourceConfig, known: list[ListLink], links: list[ListLink], fetched: Fetched, now: datetime, *, first: bool) -> SourceReport:
    snapshot = Snapshot(
        source_id=source.id, fetched_at=now, status="", http_status=fetched.status, etag=fetched.etag,
        last_modified=fetched.last_modified, content_type=fetched.content_type or None,
        blob_sha256=put_blob(session, fetched.body, now), record_count=len(links),
    )
    session.add(snapshot)
    session.flush()
    added, removed = _sync_lists(session, source, known, links, now)
    snapshot.status = "baseline" if first else "changed" if added or removed else "unchanged"
    report = SourceReport(id=source.id, status=snapshot.status, records=len(links), snapshot_id=snapshot.id)
    if not first:
        for kind, changed, bucket in ((ListAdded, added, report.lists_added), (ListRemoved, removed, report.lists_removed)):
            for link in changed:
                event = kind(link.id, link.title, link.url)
                bucket.append(event.to_payload())
                source_event(session, source.id, snapshot, now, event)
    return report


def _sync_lists(session: Session, source: SourceConfig, known: list[ListLink], links: list[ListLink], now: datetime) -> tuple[list[ListLink], list[ListLink]]:
    """Make, update, bring back and retire the lists' rows; the lists that came and went."""
    known_ids = {link.id for link in known}
    added = []
    for link in links:
        row = session.get(Source, link.id)
        if row is None:
            session.add(Source(id=link.id, title=link.title, url=link.url, format=source.format, parent_id=source.id, created_at=now))
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


def _trouble(sessions: SessionFactory, source: SourceConfig, status: str, error: str, last_status: str | None, now: datetime, body: bytes | None) -> SourceReport:
    """A failed or suspect index: kept, reported once when it starts, and no list retired."""
    log.warning("index %s %s: %s", source.id, status, error)
    with transaction(sessions) as session:
        blob = put_blob(session, body, now) if body is not None else None
        snapshot = Snapshot(source_id=source.id, fetched_at=now, status=status, error=error, blob_sha256=blob)
        session.add(snapshot)
        session.flush()
        if last_status != status:
            payload = SourceFailed(error, now.isoformat()) if status == "failed" else SourceSuspect(error)
            source_event(session, source.id, snapshot, now, payload)
        return SourceReport(id=source.id, status=status, error=error, snapshot_id=snapshot.id)
