"""Which measure versions cite which URLs, and which links are still cited at all."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import ARRAY, ColumnElement, CursorResult, Text, Update, any_, bindparam, exists, select, text, update
from sqlalchemy.orm import Session

from store.batches import IN_LIST_SIZE, in_batches
from store.locks import advisory_key
from store.models import Link, MeasureLink, MeasureVersion, Snapshot, Source
from store.version_writes import insert_rows, new_ids

__all__ = ["cite_links", "cited_by_versions", "hold_citations", "host_of", "reconcile_cited", "refresh_cited", "MAX_URL_LENGTH"]

# Longer URLs are not worth checking and would not fit a PostgreSQL unique index.
MAX_URL_LENGTH = 2000

# Not a unit's name: a unit's run lock is a session advisory lock on advisory_key(unit name).
_CITATIONS_KEY = advisory_key("links.cited writers")


def hold_citations(session: Session, *, exclusive: bool = False) -> None:
    """On PostgreSQL, hold until the transaction ends the lock that keeps the daily reconcile
    (exclusive) apart from the transactions that mark links cited or uncited (shared).

    A run that cites a link already marked cited writes no links row, so the reconcile's
    anti-join, reading the committed citations only, would uncite that link under it; the
    reconcile waits instead for the runs already citing, and runs that cite meanwhile wait
    for it (seconds, once a day). Taken before a transaction's first links write, so a run
    waiting for it holds no links row the reconcile needs. SQLite has one writer at a time."""
    if session.get_bind().dialect.name == "postgresql":
        take = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        session.execute(text(f"SELECT {take}(:key)"), {"key": _CITATIONS_KEY})


# A URL whose authority is a plain host name (and port): its host needs no urlsplit, which
# was a second of a 70,000-URL baseline's CPU. Anything else (user info, an IPv6 address,
# non-ASCII, blanks urlsplit would strip or remove) is split by urlsplit as before.
_PLAIN_HOST = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([A-Za-z0-9.-]+)(?::[0-9]*)?(?=[/?#]|$)")


def host_of(url: str) -> str:
    """A URL's host as ``links.host`` keeps it (and a host's run lock names it)."""
    plain = _PLAIN_HOST.match(url)
    if plain is not None:
        return plain.group(1).lower()
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def cite_links(session: Session, citations: Sequence[tuple[int, Sequence[str]]], now: datetime) -> None:
    """Tie new measure versions to the URLs they cite: (version id, URLs) each.

    One query finds the links already known, one bulk insert adds the new ones (ids taken
    beforehand: store.version_writes), one more the citations; a link no longer cited becomes
    cited (and due) again. Plain rows throughout: a 100,000-row baseline cites tens of
    thousands of links, too many to build as ORM objects.
    """
    hold_citations(session)
    wanted = list(dict.fromkeys(url for _, urls in citations for url in urls if len(url) <= MAX_URL_LENGTH))
    ids: dict[str, int] = {}
    uncited: list[int] = []
    for batch in _url_batches(session, wanted):
        for link_id, url, cited in session.execute(select(Link.id, Link.url, Link.cited).where(batch)):
            ids[url] = link_id
            if not cited:
                uncited.append(link_id)
    for id_batch in in_batches(uncited, IN_LIST_SIZE):
        session.execute(update(Link).where(Link.id.in_(id_batch)).values(cited=True, next_check_at=now), execution_options={"synchronize_session": False})
    unknown = [url for url in wanted if url not in ids]
    ids.update(zip(unknown, new_ids(session, "links", len(unknown)), strict=True))
    insert_rows(session, "links", [
        {"id": ids[url], "url": url, "host": host_of(url), "first_seen_at": now, "cited": True, "consecutive_failures": 0, "next_check_at": now}
        for url in unknown
    ])
    insert_rows(session, "measure_links", [
        {"measure_version_id": version_id, "link_id": ids[url]}
        for version_id, urls in citations
        for url in dict.fromkeys(urls) if url in ids
    ])


def _url_batches(session: Session, urls: list[str]) -> Iterator[ColumnElement[bool]]:
    """Conditions that together match the links of ``urls``. PostgreSQL takes them all as one
    array (``= ANY``): a 100,000-row baseline's 200 ``IN`` lists cost 1.4 s of round trips and
    planning; SQLite's bound parameters are limited, so it gets ``IN`` lists of a batch each."""
    if urls and session.get_bind().dialect.name == "postgresql":
        yield Link.url == any_(bindparam("urls", urls, type_=ARRAY(Text)))
        return
    for batch in in_batches(urls, IN_LIST_SIZE):
        yield Link.url.in_(batch)


def _uncite_closed() -> Update:
    closed = (
        select(MeasureLink.link_id)
        .join(MeasureVersion, MeasureVersion.id == MeasureLink.measure_version_id)
        # source_id and a set valid_to narrow ix_measure_versions_source_open to the source's closed versions.
        .where(MeasureVersion.source_id == bindparam("source_id"), MeasureVersion.valid_to.is_not(None),
               MeasureVersion.valid_to_snapshot_id == bindparam("snapshot_id"))
    )
    still_cited = exists(
        select(MeasureLink.link_id)
        .join(MeasureVersion, MeasureVersion.id == MeasureLink.measure_version_id)
        .where(MeasureLink.link_id == Link.id, MeasureVersion.valid_to_snapshot_id.is_(None))
    )
    # No "cited is true" beside the ids: SQLite would then read every cited link through
    # ix_links_due_host (0.5 s at 1M links) instead of looking up the few ids; a link already
    # uncited is merely written uncited again.
    return update(Link).where(Link.id.in_(closed), ~still_cited).values(cited=False)


# Built once: in PostgreSQL the statement takes a quarter of a millisecond at 1M links (index
# look-ups of the closed versions' few links), and building it again took ten times that.
_UNCITE_CLOSED = _uncite_closed()


def refresh_cited(session: Session, snapshot: Snapshot) -> None:
    """A link no open measure version cites is no longer checked; its history stays.

    Only the links of the versions ``snapshot`` closed can have lost their last citation, so
    only those are looked at: a changed list costs its changed measures' links, not every link.
    """
    hold_citations(session)
    session.execute(_UNCITE_CLOSED, {"source_id": snapshot.source_id, "snapshot_id": snapshot.id},
                    execution_options={"synchronize_session": False})


def reconcile_cited(session: Session, now: datetime) -> tuple[int, int]:
    """Recompute every link's ``cited`` from the open versions of the watched (not retired)
    sources: (cited again, uncited). Two set-based statements over the whole table.

    :func:`refresh_cited` keeps the flag right as lists change, but two PostgreSQL runs that
    cite and uncite the same URL at once each see the other's citation uncommitted, and the
    flag can end wrong: a link checked that nobody cites, or one cited and never checked. Run
    daily (the ``citations`` job of monitor.runtime.jobs), this puts it right; a link cited
    again is due at once, as :func:`cite_links` makes it. Under :func:`hold_citations`, so a
    run citing meanwhile is never uncited by it."""
    hold_citations(session, exclusive=True)
    watched = (
        select(MeasureLink.link_id)
        .join(MeasureVersion, MeasureVersion.id == MeasureLink.measure_version_id)
        .join(Source, Source.id == MeasureVersion.source_id)
        .where(MeasureVersion.valid_to_snapshot_id.is_(None), Source.retired_at.is_(None))
    )
    cited_by_watched = exists(watched.where(MeasureLink.link_id == Link.id))
    if session.get_bind().dialect.name == "sqlite":
        # SQLite builds the set once for NOT IN; NOT EXISTS ran the join again for every link
        # (10.6 s of CPU at 1M links, 2.7 s this way).
        stray: ColumnElement[bool] = Link.id.not_in(watched)
    else:
        # PostgreSQL hashes both sides of NOT EXISTS; a NOT IN too big for work_mem would be
        # looked up link by link.
        stray = ~cited_by_watched
    statements = (update(Link).where(Link.cited.is_(False), cited_by_watched).values(cited=True, next_check_at=now),
                  update(Link).where(Link.cited.is_(True), stray).values(cited=False))
    # Session.execute is typed for any statement; an UPDATE's result is a CursorResult (rowcount).
    cited, uncited = (cast("CursorResult[Any]", session.execute(statement, execution_options={"synchronize_session": False})).rowcount
                      for statement in statements)
    return cited, uncited


def cited_by_versions(session: Session, version_ids: Sequence[int]) -> dict[int, set[str]]:
    """Version id → the URLs it cites (versions citing none are left out)."""
    found: dict[int, set[str]] = {}
    for batch in in_batches(list(version_ids), IN_LIST_SIZE):
        query = select(MeasureLink.measure_version_id, Link.url).join(Link, Link.id == MeasureLink.link_id).where(MeasureLink.measure_version_id.in_(batch))
        for version_id, url in session.execute(query):
            found.setdefault(version_id, set()).add(url)
    return found
