"""Which measure versions cite which URLs, and which links are still cited at all."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from store.batches import IN_LIST_SIZE, in_batches
from store.models import Link, MeasureLink, MeasureVersion, Snapshot
from store.version_writes import insert_rows, new_ids

__all__ = ["cite_links", "cited_by_versions", "refresh_cited", "MAX_URL_LENGTH"]

# Longer URLs are not worth checking and would not fit a PostgreSQL unique index.
MAX_URL_LENGTH = 2000


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def cite_links(session: Session, citations: Sequence[tuple[int, Sequence[str]]], now: datetime) -> None:
    """Tie new measure versions to the URLs they cite: (version id, URLs) each.

    One query per batch finds the links already known, one executemany adds the new ones (ids
    taken beforehand: store.version_writes), one more the citations; a link no longer cited
    becomes cited (and due) again. Plain rows throughout: a 100,000-row baseline cites tens of
    thousands of links, too many to build as ORM objects.
    """
    wanted = list(dict.fromkeys(url for _, urls in citations for url in urls if len(url) <= MAX_URL_LENGTH))
    ids: dict[str, int] = {}
    uncited: list[int] = []
    for batch in in_batches(wanted, IN_LIST_SIZE):
        for link_id, url, cited in session.execute(select(Link.id, Link.url, Link.cited).where(Link.url.in_(batch))):
            ids[url] = link_id
            if not cited:
                uncited.append(link_id)
    for id_batch in in_batches(uncited, IN_LIST_SIZE):
        session.execute(update(Link).where(Link.id.in_(id_batch)).values(cited=True, next_check_at=now), execution_options={"synchronize_session": False})
    unknown = [url for url in wanted if url not in ids]
    ids.update(zip(unknown, new_ids(session, "links", len(unknown)), strict=True))
    insert_rows(session, "links", [
        {"id": ids[url], "url": url, "host": _host(url), "first_seen_at": now, "cited": True, "consecutive_failures": 0, "next_check_at": now}
        for url in unknown
    ])
    insert_rows(session, "measure_links", [
        {"measure_version_id": version_id, "link_id": ids[url]}
        for version_id, urls in citations
        for url in dict.fromkeys(urls) if url in ids
    ])


def refresh_cited(session: Session, snapshot: Snapshot) -> None:
    """A link no open measure version cites is no longer checked; its history stays.

    Only the links of the versions ``snapshot`` closed can have lost their last citation, so
    only those are looked at: a changed list costs its changed measures' links, not every link.
    """
    closed = (
        select(MeasureLink.link_id)
        .join(MeasureVersion, MeasureVersion.id == MeasureLink.measure_version_id)
        # source_id and a set valid_to narrow ix_measure_versions_source_open to the source's closed versions.
        .where(MeasureVersion.source_id == snapshot.source_id, MeasureVersion.valid_to.is_not(None),
               MeasureVersion.valid_to_snapshot_id == snapshot.id)
    )
    still_cited = exists(
        select(MeasureLink.link_id)
        .join(MeasureVersion, MeasureVersion.id == MeasureLink.measure_version_id)
        .where(MeasureLink.link_id == Link.id, MeasureVersion.valid_to_snapshot_id.is_(None))
    )
    session.execute(
        update(Link).where(Link.id.in_(closed), Link.cited.is_(True), ~still_cited).values(cited=False),
        execution_options={"synchronize_session": False},
    )


def cited_by_versions(session: Session, version_ids: Sequence[int]) -> dict[int, set[str]]:
    """Version id → the URLs it cites (versions citing none are left out)."""
    found: dict[int, set[str]] = {}
    for batch in in_batches(list(version_ids), IN_LIST_SIZE):
        query = select(MeasureLink.measure_version_id, Link.url).join(Link, Link.id == MeasureLink.link_id).where(MeasureLink.measure_version_id.in_(batch))
        for version_id, url in session.execute(query):
            found.setdefault(version_id, set()).add(url)
    return found
