"""Which added measures are ended ones listed again (pure: no database, no network).

A measure dropped from one edition and back in a later one is the same measure, even when
its key changed meanwhile (a bureau renamed in a reorganisation): an added entry as alike as
a rename (the source's ``match_threshold``) to a measure ended within ``reappear_within_days``
is that measure, ``reappeared``, and keeps its history. Ended measures whose key is listed
again reappear by key, however long ago they ended (``versioning``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.lists.identity import Entry
from monitor.lists.match import pair_similar

__all__ = ["Gone", "reappearing", "window_start"]


@dataclass(frozen=True, slots=True)
class Gone:
    """An ended measure as a candidate (ended since :func:`window_start`): its last version as an entry."""

    measure_id: int
    entry: Entry


def window_start(now: datetime, within_days: int) -> datetime:
    """The earliest end that may still reappear by likeness: the candidates are loaded from it on."""
    return now - timedelta(days=within_days)


def reappearing(added: Mapping[int, Entry], gone: Sequence[Gone], threshold: float) -> dict[int, int]:
    """Added entry (by its position) → id of the ended measure it is; one-to-one, the most alike first."""
    candidates = {index: candidate.entry for index, candidate in enumerate(gone)}
    return {n: gone[o].measure_id for o, n in pair_similar(candidates, added, threshold)}
