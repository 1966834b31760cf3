"""What changed in one measure, and which measures have run past their end date (pure)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import date

from deepdiff import DeepDiff

from .records import normalize_cell

__all__ = ["field_changes", "content_hash", "comparable", "is_expired"]


def comparable(fields: Mapping[str, str], ignore: Iterable[str] = ()) -> dict[str, str]:
    """The normalised fields that count for change: whitespace, width and ``-`` never do."""
    skip = set(ignore)
    return {column: normalize_cell(value) for column, value in fields.items() if column not in skip}


# The encoder json.dumps(..., ensure_ascii=False, sort_keys=True) would build on every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


def content_hash(fields: Mapping[str, str], ignore: Iterable[str] = ()) -> str:
    payload = _ENCODER.encode(comparable(fields, ignore))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def field_changes(old: Mapping[str, str], new: Mapping[str, str], ignore: Iterable[str] = ()) -> dict[str, dict[str, str]]:
    """Column → {"old", "new"} (the published text) for every column whose meaning changed."""
    ignore = list(ignore)
    delta = DeepDiff(comparable(old, ignore), comparable(new, ignore), verbose_level=1)
    columns: list[str] = []
    for group in ("values_changed", "dictionary_item_added", "dictionary_item_removed", "type_changes"):
        for path in delta.get(group, {}):
            columns.append(_column(path))
    return {column: {"old": old.get(column, ""), "new": new.get(column, "")} for column in sorted(set(columns), key=_order(old, new))}


def _column(path: str) -> str:
    # DeepDiff paths look like root['担当部署']; the column name is the quoted key.
    inner = path[len("root["):-1]
    return json.loads(inner) if inner.startswith('"') else inner.strip("'")


def _order(old: Mapping[str, str], new: Mapping[str, str]):
    positions = {column: index for index, column in enumerate([*new, *[c for c in old if c not in new]])}
    return lambda column: positions.get(column, len(positions))


def is_expired(end_date: date | None, today: date) -> bool:
    return end_date is not None and end_date < today
