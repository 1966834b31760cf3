"""A stored field change as the web view shows it: old, new, and a word diff for long texts.

Whether a field changed was decided once, by the pipeline (monitor.lists.diff: width,
whitespace and ``-`` never count), and stored in the event; this module only renders what
was stored, with the one word-level diff digests use too (monitor.textdiff).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel

from monitor import events
from monitor.textdiff import word_diff

__all__ = ["DiffRun", "FieldChange", "LONG_TEXT", "shown_changes"]

# Values longer than this are shown as one merged word diff rather than old → new.
LONG_TEXT = 40


class DiffRun(BaseModel):
    """A stretch of text kept (``equal``), removed (``delete``) or added (``insert``)."""

    op: Literal["equal", "delete", "insert"]
    text: str


class FieldChange(BaseModel):
    """One field that differs from the previous version; ``runs`` only for long texts."""

    column: str
    old: str
    new: str
    runs: list[DiffRun] | None = None


def shown_changes(stored: Mapping[str, events.FieldChange]) -> dict[str, FieldChange]:
    """The changes an event stored, by column, each with its word diff when it is long."""
    return {column: _shown(column, change) for column, change in stored.items()}


def _shown(column: str, change: events.FieldChange) -> FieldChange:
    runs = None
    if max(len(change.old), len(change.new)) > LONG_TEXT:
        runs = [DiffRun(op=run.op, text=run.text) for run in word_diff(change.old, change.new, context=None)]
    return FieldChange(column=column, old=change.old, new=change.new, runs=runs)
