"""The ended measures of one source that this run may list again (``reappeared``).

Loaded once per run, at the first addition: by key, every ended measure (a key listed again
is that measure, however long ago it ended); by likeness, those ended within
``reappear_within_days`` (``reappear.py`` decides). Each ended measure returns at most once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from store.ended import ended_since, last_fields
from store.models import Measure
from store.queries import ended_measure_ids

from monitor.config import SourceConfig
from monitor.lists.identity import Entry, stored_entry, stored_fields
from monitor.lists.reappear import Gone, reappearing, window_start

__all__ = ["Returning"]


class Returning:
    def __init__(self, session: Session, source: SourceConfig, now: datetime, ignore: Sequence[str]) -> None:
        self._session, self._source = session, source
        self._by_key = ended_measure_ids(session, source.id)
        rows = ended_since(session, source.id, window_start(now, source.reappear_within_days))
        self._gone = [Gone(row.measure_id, stored_entry(row.key, row.name, row.fields, row.content_hash, source, ignore))
                      for row in rows]
        self._taken: set[int] = set()
        self._fields: dict[int, dict[str, str]] = {}

    def take(self, entries: Sequence[Entry]) -> list[Measure | None]:
        """For each new entry, the ended measure it is (now taken), or None for a new measure."""
        found: list[int | None] = [self._by_key_of(entry.key) for entry in entries]
        left = {index: entry for index, entry in enumerate(entries) if found[index] is None}
        gone = [candidate for candidate in self._gone if candidate.measure_id not in self._taken]
        if left and gone:
            for index, measure_id in reappearing(left, gone, self._source.match_threshold).items():
                found[index] = measure_id
                self._taken.add(measure_id)
        ids = [measure_id for measure_id in found if measure_id is not None]
        self._fields.update(last_fields(self._session, ids))
        return [self._session.get(Measure, measure_id) if measure_id is not None else None for measure_id in found]

    def last_fields(self, measure_id: int) -> Mapping[str, str]:
        """The fields a taken measure had when it ended."""
        return stored_fields(self._fields.get(measure_id, {}), self._source)

    def _by_key_of(self, key: str) -> int | None:
        ids = self._by_key.get(key)
        while ids:
            measure_id = ids.pop()  # the latest ended first
            if measure_id not in self._taken:
                self._taken.add(measure_id)
                return measure_id
        return None
