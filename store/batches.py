"""Long lists cut into pieces: IN (...) lists any database takes, writes a batch at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

__all__ = ["IN_LIST_SIZE", "in_batches"]

T = TypeVar("T")

# Values per IN (...) list: far below SQLite's and PostgreSQL's limits on bound parameters.
IN_LIST_SIZE = 500


def in_batches(items: list[T], size: int) -> Iterator[list[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
