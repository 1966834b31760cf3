"""Renamed columns (pure): aliases applied to a parsed list, and renames told by their values.

A list that renames a column between editions (備考 → 留意事項) has not changed a single
measure. Its column is read under the name it is stored and configured as, so versions
stay quiet and a configured column is never missing: by the source's ``column_aliases``
(header as published → that name), or by detection: a column with text that left the
header while another arrived holding mostly the same values (``RENAME_SHARE``) is that
column renamed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from monitor.lists.records import ParsedList, Record, normalize_cell, normalize_text

__all__ = ["ColumnRename", "RENAME_SHARE", "aliases_in_effect", "apply_aliases", "detect_renames", "value_counts"]

# At least this share of a column's values must be found again under the new header: a new
# edition edits a few cells and adds or drops a few rows, never most of them.
RENAME_SHARE = 0.6


@dataclass(frozen=True, slots=True)
class ColumnRename:
    """The list now publishes ``stored_as`` (last published as ``before``) under ``now``."""

    before: str
    now: str
    stored_as: str


def aliases_in_effect(configured: Mapping[str, str], learned: Mapping[str, str]) -> dict[str, str]:
    """Header → name, the configured ones over the learned ones, chains followed to their end."""
    wanted = {normalize_text(k): normalize_text(v) for k, v in configured.items()}
    merged = {k: v for k, v in learned.items() if k not in wanted.values()} | wanted
    resolved = {}
    for header, name in merged.items():
        seen = {header}
        while name in merged and name not in seen:
            seen.add(name)
            name = merged[name]
        if name != header:
            resolved[header] = name
    return resolved


def apply_aliases(parsed: ParsedList, aliases: Mapping[str, str]) -> ParsedList:
    """``parsed`` with every aliased column under its name; a name the header already has is
    left alone (with a warning), since two columns cannot be one."""
    renamed = {c: aliases[c] for c in parsed.columns if c in aliases and aliases[c] not in parsed.columns}
    for column in parsed.columns:
        if column in aliases and column not in renamed:
            parsed.warnings.append(f"column {column!r} is not read as {aliases[column]!r}: the header has both")
    if not renamed:
        return parsed
    parsed.columns = [renamed.get(c, c) for c in parsed.columns]
    columns = tuple(parsed.columns)
    parsed.records = [_renamed(record, renamed, columns) for record in parsed.records]
    return parsed


def _renamed(record: Record, names: Mapping[str, str], columns: tuple[str, ...]) -> Record:
    text = record.published
    if isinstance(text, str) and not record.links:
        # A row that is one line of its cells stays one: split only if it is ever asked for.
        lazy = Record.from_text(columns, text, 0)
        lazy.line = record.line
        return lazy
    cells = {names.get(c, c): value for c, value in record.cells.items()}
    return Record(cells, record.line, {names.get(c, c): urls for c, urls in record.links.items()})


def value_counts(values: Iterable[str]) -> Counter[str]:
    """A column's non-empty values, normalised, with their counts."""
    return Counter(text for text in map(normalize_cell, values) if text)


def detect_renames(stored: Mapping[str, Counter[str]], parsed: ParsedList) -> dict[str, str]:
    """New header → stored column, for stored columns with text that left the header while a
    new one holds mostly their values; one-to-one, the most alike first."""
    arrived = [c for c in parsed.columns if c not in stored]
    left = [c for c in stored if c not in parsed.columns and stored[c]]
    if not arrived or not left:
        return {}
    new = {c: value_counts(record.cells.get(c, "") for record in parsed.records) for c in arrived}
    scored = sorted(((-_share(stored[o], new[n]), o, n) for o in left for n in arrived), key=lambda t: t)
    found: dict[str, str] = {}
    for negative, old, now in scored:
        if -negative < RENAME_SHARE:
            break
        if now not in found and old not in found.values():
            found[now] = old
    return found


def _share(old: Counter[str], new: Counter[str]) -> float:
    """The share of the larger column's values that the other holds too."""
    larger = max(old.total(), new.total())
    return (old & new).total() / larger if larger else 0.0
