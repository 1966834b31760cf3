"""What changed in one measure (pure)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from monitor.lists.records import normalize_cell

__all__ = ["field_changes", "digest_of", "digest_of_values", "comparable"]

# Separators that cannot occur in normalised text (control characters are whitespace to it).
_COLUMN, _VALUE = "\x1e", "\x1f"


def comparable(fields: Mapping[str, str], ignore: Iterable[str] = ()) -> dict[str, str]:
    """The normalised fields that count for change: whitespace, width and ``-`` never do."""
    skip = set(ignore)
    return {column: normalize_cell(value) for column, value in fields.items() if column not in skip}


def digest_of(normalized: Mapping[str, str], ignore: Iterable[str] = ()) -> str:
    """sha256 of already-normalised fields, in column-name order so a moved column is no change."""
    return digest_of_values(tuple(normalized), list(normalized.values()), tuple(ignore))


def digest_of_values(columns: tuple[str, ...], values: Sequence[str], ignore: tuple[str, ...] = ()) -> str:
    """:func:`digest_of` of fields given as their columns and normalised values, in the same
    order (a row's values are made in one list, without a dict of them)."""
    payload = _COLUMN.join([label + values[at] for at, label in _digest_order(columns, ignore) if values[at]])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@lru_cache(maxsize=256)
def _digest_order(columns: tuple[str, ...], ignore: tuple[str, ...]) -> tuple[tuple[int, str], ...]:
    """The counted columns in name order, each as its position and its label in the digest: a
    list's rows all have the same columns, so they are sorted once, not once a row."""
    at = {column: position for position, column in enumerate(columns)}
    return tuple((at[column], f"{column}{_VALUE}") for column in sorted(columns) if column not in ignore)


def field_changes(old: Mapping[str, str], new: Mapping[str, str], ignore: Iterable[str] = ()) -> dict[str, dict[str, str]]:
    """Column → {"old", "new"} (the published text) for every column whose meaning changed.

    A column that appeared or vanished with no text in it is no change. The fields are one
    flat level of column → text, so a comparison per column is the whole diff.
    """
    before, after = comparable(old, ignore), comparable(new, ignore)
    columns = [*after, *(column for column in before if column not in after)]
    return {
        column: {"old": old.get(column, ""), "new": new.get(column, "")}
        for column in columns
        if before.get(column, "") != after.get(column, "")
    }
