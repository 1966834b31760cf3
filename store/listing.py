"""A list as it was published: which measure each row of a good snapshot was, in order.

Versions keep what a measure says, not where it stood: a row inserted above shifts every
row number below it, and since row numbers never count as a change (monitor.lists.identity)
the versions of those rows keep the numbers they were first published with. So each good
snapshot that was applied stores its rows' measure ids in published order, with the cells
of the columns no version keeps up to date (the row numbers), as one JSON blob: a list
republished in the same order costs no new bytes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from store.blobs import get_blob, put_blob
from store.models import Measure, MeasureVersion, Snapshot
from store.queries import GOOD_STATUSES

__all__ = ["Listing", "put_listing", "listing_at", "versions_in_force", "first_good_fetch"]


@dataclass(frozen=True, slots=True)
class Listing:
    """The rows of one snapshot: ``measure_ids[n]`` was row n; ``cells[column][n]`` its cell."""

    measure_ids: list[int]
    cells: dict[str, list[str]]

    def cells_of(self, position: int) -> dict[str, str]:
        return {column: values[position] for column, values in self.cells.items()}


def put_listing(session: Session, snapshot: Snapshot, measure_ids: Sequence[int], cells: Mapping[str, Sequence[str]], now: datetime) -> None:
    data = {"measure_ids": list(measure_ids), "cells": {column: list(values) for column, values in cells.items()}}
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    snapshot.listing_sha256 = put_blob(session, body, now)


def listing_at(session: Session, source_id: str, when: datetime | None) -> Listing | None:
    """The listing of the last snapshot applied at or before ``when`` (now when None)."""
    query = select(Snapshot.listing_sha256).where(Snapshot.source_id == source_id, Snapshot.listing_sha256.is_not(None))
    if when is not None:
        query = query.where(Snapshot.fetched_at <= when)
    digest = session.scalar(query.order_by(Snapshot.fetched_at.desc(), Snapshot.id.desc()).limit(1))
    if digest is None:
        return None
    with _LOCK:
        found = _PARSED.get(digest)
    if found is None:
        body = get_blob(session, digest)
        if body is None:
            return None
        data = json.loads(body)
        found = Listing(measure_ids=[int(i) for i in data["measure_ids"]], cells={str(c): [str(v) for v in values] for c, values in data["cells"].items()})
        _remember(digest, found)
    return found


# A listing is named by the hash of its bytes, so a parsed one never goes stale: the last few are
# kept, and paging through a 50,000-row list does not parse its listing again for every page.
_PARSED: dict[str, Listing] = {}
_KEEP = 8
_LOCK = threading.Lock()


def _remember(digest: str, listing: Listing) -> None:
    with _LOCK:  # the web view reads from several threads
        if len(_PARSED) >= _KEEP:
            del _PARSED[next(iter(_PARSED))]
        _PARSED[digest] = listing


def versions_in_force(session: Session, source_id: str, when: datetime | None, measure_ids: Sequence[int]) -> dict[int, tuple[Measure, MeasureVersion]]:
    """Measure id → (measure, the version of it listed at ``when``, now when None), for the given ids."""
    query = (
        select(Measure, MeasureVersion).join(Measure, Measure.id == MeasureVersion.measure_id)
        .where(MeasureVersion.source_id == source_id, MeasureVersion.measure_id.in_(list(measure_ids)))
    )
    if when is None:
        query = query.where(MeasureVersion.valid_to.is_(None))
    else:
        query = query.where(MeasureVersion.valid_from <= when, or_(MeasureVersion.valid_to.is_(None), MeasureVersion.valid_to > when))
    return {measure.id: (measure, version) for measure, version in session.execute(query)}


def first_good_fetch(session: Session, source_id: str) -> datetime | None:
    """When the source's first good snapshot was fetched: monitoring knows no list before it."""
    query = select(func.min(Snapshot.fetched_at)).where(Snapshot.source_id == source_id, Snapshot.status.in_(GOOD_STATUSES))
    first = session.scalar(query)
    return first if isinstance(first, datetime) else None
