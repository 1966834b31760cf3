"""From a parsed row to what identity and change are judged on: key, name, other fields (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

from monitor.config import SourceConfig
from monitor.lists.diff import digest_of, digest_of_values
from monitor.lists.records import Published, Record, normalize_cell, published_form

__all__ = ["Entry", "ignored_columns", "row_number_columns", "make_entry", "stored_entry", "stored_fields", "stored_published", "KEY_SEPARATOR"]

KEY_SEPARATOR = " | "
_ROW_NUMBER_HEADERS = {"no", "no.", "番号", "通番", "項番", "№", "連番", "#"}


class Entry:
    """One measure in one version: key and name (normalised), a digest of its content, and its
    other fields as one normalised text, made only when similarity needs it (most entries
    pair by key and never do)."""

    __slots__ = ("key", "name", "digest", "_others", "_fields", "_skip")

    def __init__(self, key: str, name: str, others: str | None = None, *, fields: Mapping[str, str] | None = None,
                 skip: frozenset[str] = frozenset(), digest: str = "") -> None:
        self.key, self.name, self.digest = key, name, digest
        self._others, self._fields, self._skip = others, fields, skip

    @property
    def others(self) -> str:
        if self._others is None:
            fields = self._fields or {}
            self._others = " ".join(normalize_cell(fields[c]) for c in sorted(fields) if c not in self._skip)
        return self._others


def ignored_columns(source: SourceConfig, columns: Sequence[str], records: Sequence[Record]) -> list[str]:
    """The configured ``ignore_columns``, or else the row-number columns found in the list."""
    if source.ignore_columns is not None:
        return list(source.ignore_columns)
    keep = {*source.key_columns, source.name_column}
    return [column for column in row_number_columns(columns, records) if column not in keep]


def row_number_columns(columns: Sequence[str], records: Sequence[Record]) -> list[str]:
    """Columns that only number the rows (No. 1, 2, 3 …): they shift whenever a row is inserted,
    so they never identify a measure nor count as its change."""
    found = []
    for column in columns:
        if column.strip().lower() in _ROW_NUMBER_HEADERS or _numbered(column, records):
            found.append(column)
    return found


def _numbered(column: str, records: Sequence[Record]) -> bool:
    """Every value is a digit string and they count up by one; stops at the first non-digit."""
    values = []
    for record in records:
        value = normalize_cell(record.cells.get(column, ""))
        if not (value.isascii() and value.isdigit()) or len(value) > 18:  # int() refuses "፩" and 4,300+ digits
            return False
        values.append(value)
    return bool(values) and [int(v) for v in values] == list(range(int(values[0]), int(values[0]) + len(values)))


def _not_others(source: SourceConfig, ignore: Sequence[str]) -> frozenset[str]:
    """Columns kept out of an entry's "other fields": the name (weighed on its own) and ignored ones."""
    return _kept_out(source.name_column, tuple(ignore))


@lru_cache(maxsize=64)
def _kept_out(name_column: str, ignore: tuple[str, ...]) -> frozenset[str]:
    # The same set for every row of a list: made once, not once a row.
    return frozenset((name_column, *ignore))


def make_entry(fields: Mapping[str, str], source: SourceConfig, ignore: Sequence[str]) -> Entry:
    """Key, name and content digest of a row; every cell is normalised once, here."""
    columns = tuple(fields)
    # The values in column order, then "" for a key or name column the row lacks (position -1).
    values = [normalize_cell(value) for value in fields.values()]
    values.append("")
    key_at, name_at = _positions(columns, tuple(source.key_columns), source.name_column)
    key = KEY_SEPARATOR.join([values[at] for at in key_at])
    digest = digest_of_values(columns, values, tuple(ignore))
    return Entry(key, values[name_at], fields=fields, skip=_not_others(source, ignore), digest=digest)


@lru_cache(maxsize=64)
def _positions(columns: tuple[str, ...], key_columns: tuple[str, ...], name_column: str) -> tuple[tuple[int, ...], int]:
    """Where a row's key columns and name are among its columns (-1: not there); the same for every row of a list."""
    at = {column: position for position, column in enumerate(columns)}
    return tuple(at.get(column, -1) for column in key_columns), at.get(name_column, -1)


def stored_fields(fields: Mapping[str, str], source: SourceConfig) -> Mapping[str, str]:
    """A stored version's fields under the names the source reads its columns as now
    (``column_aliases``): a version stored before a column was renamed keeps its old name."""
    aliases = source.column_aliases
    if not aliases or aliases.keys().isdisjoint(fields):
        return fields
    return {aliases.get(column, column): text for column, text in fields.items()}


def stored_entry(key: str, name: str, fields: Mapping[str, str], digest: str, source: SourceConfig, ignore: Sequence[str]) -> Entry:
    """An entry for a version already in the store: its key, name and digest were kept (the
    digest is made again where a column is read under another name now)."""
    named = stored_fields(fields, source)
    if named is not fields:
        digest = digest_of({column: normalize_cell(text) for column, text in named.items()}, ignore)
    return Entry(key, name, fields=named, skip=_not_others(source, ignore), digest=digest)


def stored_published(fields: Mapping[str, str], header: tuple[str, ...]) -> Published | None:
    """A stored row's text as published, to compare with the rows of a new version under
    ``header``; None when its columns were not those (such a row cannot be unchanged)."""
    return published_form(fields.values()) if tuple(fields) == header else None
