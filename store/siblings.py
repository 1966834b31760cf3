"""One measure across lists: the measures of other lists that are the same measure.

Two lists (戦略2 and the nationwide list) both publish 「都のアセット開放等の取組の全国展開」,
each with its own columns. Measures of different sources are the same when they shared a
normalised name (``measure_versions.name``, in any version: a rename in one list keeps the
pair, and says so) and their content is close: some cell of one, other than the name, is
near some cell of the other (rapidfuzz ``partial_ratio``: 「デジタルサービス局」 inside
「デジタルサービス局 デジタルサービス推進部 …」). Lists without such cells pair on the name alone.
The pairs come from one self-join of ``measure_versions`` on ``name``, batched by measure.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from rapidfuzz import fuzz
from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.orm import Session, aliased

from store.batches import IN_LIST_SIZE, in_batches
from store.models import Measure, MeasureVersion, Source

__all__ = ["CLOSE", "Sibling", "close_content", "siblings_of"]

CLOSE = 80       # partial_ratio of two cells that say the same (a department, a summary)
_SHORTEST = 4    # a cell shorter than this (「-」, 「継続」) says nothing about content


@dataclass(frozen=True, slots=True)
class Sibling:
    """The same measure in another list: its page, and the name they shared if it has another now."""

    measure_id: int
    source_id: str
    source_title: str
    name: str
    ended_at: datetime | None
    shared_name: str  # the name both lists gave it; differs from ``name`` after a rename there

    @property
    def renamed(self) -> bool:
        return self.shared_name != self.name


def _cells(fields: Mapping[str, object], name: str) -> list[str]:
    # The stored name is normalised (NFKC, one space: lists.records.normalize_text, which the
    # store may not import); the name cell as published must be too, or it would be left in and
    # score 100 against the other list's name cell, making any two same-named measures one.
    return [text for text in (str(v).strip() for v in fields.values())
            if len(text) >= _SHORTEST and " ".join(unicodedata.normalize("NFKC", text).split()) != name]


def close_content(mine: Mapping[str, object], theirs: Mapping[str, object], name: str) -> bool:
    """Whether two versions' cells say the same measure (the name apart)."""
    a, b = _cells(mine, name), _cells(theirs, name)
    if not a or not b:
        return True
    return any(fuzz.partial_ratio(x, y, score_cutoff=CLOSE) for x in a for y in b)


def _prefix(version: type[MeasureVersion]) -> ColumnElement[str]:
    # Literally the expression of migration 0010's index (bound parameters would not match it).
    return func.substr(version.name, literal_column("1"), literal_column("200"))


def _pairs(session: Session, measure_ids: Sequence[int]) -> set[tuple[int, int, str]]:
    mine, theirs = aliased(MeasureVersion), aliased(MeasureVersion)
    found: set[tuple[int, int, str]] = set()
    for batch in in_batches(list(measure_ids), IN_LIST_SIZE):
        query = (select(mine.measure_id, theirs.measure_id, mine.name).distinct()
                 .join(theirs, (_prefix(theirs) == _prefix(mine)) & (theirs.name == mine.name) & (theirs.source_id != mine.source_id))
                 .where(mine.measure_id.in_(batch), func.length(mine.name) >= _SHORTEST))  # a blank name is no name
        found.update((int(a), int(b), str(n)) for a, b, n in session.execute(query))
    return found


def _newest(session: Session, measure_ids: Iterable[int]) -> dict[int, tuple[Measure, MeasureVersion, str]]:
    """Each measure, its newest version and its list's title."""
    newest: dict[int, tuple[Measure, MeasureVersion, str]] = {}
    for batch in in_batches(sorted(set(measure_ids)), IN_LIST_SIZE):
        query = (select(Measure, MeasureVersion, Source.title).join(MeasureVersion, MeasureVersion.measure_id == Measure.id)
                 .join(Source, Source.id == Measure.source_id).where(Measure.id.in_(batch)).order_by(MeasureVersion.valid_from, MeasureVersion.id))
        newest.update((measure.id, (measure, version, title)) for measure, version, title in session.execute(query))
    return newest


def siblings_of(session: Session, measure_ids: Sequence[int]) -> dict[int, list[Sibling]]:
    """For each measure, the same measure in other lists (by list, then id); measures without any are left out."""
    pairs = _pairs(session, measure_ids)
    if not pairs:
        return {}
    newest = _newest(session, {a for a, _, _ in pairs} | {b for _, b, _ in pairs})
    found: dict[int, dict[int, Sibling]] = {}
    for mine, theirs, shared in sorted(pairs):
        (_, my_version, _), (measure, their_version, title) = newest[mine], newest[theirs]
        known = found.get(mine, {}).get(theirs)
        # Of the names a pair shared, the one the other list still uses says "not renamed".
        if (known and not known.renamed) or not close_content(my_version.fields, their_version.fields, shared):
            continue
        found.setdefault(mine, {})[theirs] = Sibling(measure.id, measure.source_id, title, measure.name, measure.ended_at, shared)
    return {m: sorted(s.values(), key=lambda s: (s.source_id, s.measure_id)) for m, s in found.items()}
