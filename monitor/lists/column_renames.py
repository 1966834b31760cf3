"""Renamed columns in one run: the aliases in effect, a rename detected, and its one event.

The aliases in effect are the source's ``column_aliases`` over those its earlier
``column_renamed`` events announced (so a detected rename is remembered by the event that
told it). A rename is looked for only when the header lost a column the newest stored
version has: most runs cost two small queries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from store.columns import current_fields, latest_columns, payloads_of_kind
from store.models import Snapshot

from monitor.config import SourceConfig
from monitor.events import ColumnRenamed, EventKind
from monitor.lists.columns import aliases_in_effect, apply_aliases, detect_renames, value_counts
from monitor.lists.identity import stored_fields
from monitor.lists.records import ParsedList
from monitor.lists.versioning import source_event
from monitor.report import SourceReport

__all__ = ["SettledColumns", "announce_renames", "learned_aliases", "settle_columns"]


@dataclass(slots=True)
class SettledColumns:
    """The source with every alias in effect, the list read under them, the renames found now."""

    source: SourceConfig
    parsed: ParsedList
    renames: list[ColumnRenamed] = field(default_factory=list)


def learned_aliases(renames: Iterable[ColumnRenamed]) -> dict[str, str]:
    """Header → name, from announced renames, oldest first: both headers read as the name stored."""
    learned: dict[str, str] = {}
    for rename in renames:
        for header in (rename.old_column, rename.new_column):
            if header and header != rename.stored_as:
                learned[header] = rename.stored_as
    return learned


def settle_columns(session: Session, source: SourceConfig, parsed: ParsedList, *, detect: bool) -> SettledColumns:
    """Read ``parsed`` under the aliases in effect and, when ``detect``, under a rename it shows."""
    announced = [ColumnRenamed.from_payload(p) for p in payloads_of_kind(session, source.id, EventKind.COLUMN_RENAMED)]
    settled = _settled(source, parsed, announced, [])
    if not detect:
        return settled
    aliases = settled.source.column_aliases
    if all(aliases.get(c, c) in settled.parsed.columns for c in latest_columns(session, source.id)):
        return settled
    stored = _stored_values(session, settled.source)
    renames = [_announced(source, now, old, announced) for now, old in detect_renames(stored, settled.parsed).items()]
    return _settled(source, settled.parsed, announced, renames) if renames else settled


def _settled(source: SourceConfig, parsed: ParsedList, announced: list[ColumnRenamed], renames: list[ColumnRenamed]) -> SettledColumns:
    aliases = aliases_in_effect(source.column_aliases, learned_aliases([*announced, *renames]))
    if aliases != source.column_aliases:
        source = source.model_copy(update={"column_aliases": aliases})
    return SettledColumns(source, apply_aliases(parsed, aliases), renames)


def _announced(source: SourceConfig, now: str, old: str, announced: list[ColumnRenamed]) -> ColumnRenamed:
    """The rename of stored column ``old`` to header ``now``: stored on under the old name,
    unless the configuration names the new one (then the stored versions are read as it)."""
    before = next((r.new_column for r in reversed(announced) if r.stored_as == old), old)
    return ColumnRenamed(before, now, now if now in source.columns else old)


def _stored_values(session: Session, source: SourceConfig) -> Mapping[str, Counter[str]]:
    columns: dict[str, list[str]] = {}
    for fields in current_fields(session, source.id):
        for column, text in stored_fields(fields, source).items():
            columns.setdefault(column, []).append(text)
    return {column: value_counts(values) for column, values in columns.items()}


def announce_renames(session: Session, source_id: str, snapshot: Snapshot, now: datetime, renames: list[ColumnRenamed], report: SourceReport) -> None:
    """One ``column_renamed`` event per renamed column of a good list; the list counts as changed."""
    for rename in renames:
        source_event(session, source_id, snapshot, now, rename)
        report.columns_renamed.append(rename.to_payload())
    if renames:
        report.status = snapshot.status = "changed"
