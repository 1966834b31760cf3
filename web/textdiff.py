"""Field-level and word-level differences between two versions of a measure.

Japanese has no spaces, so a "word" is a run of one script (monitor.textdiff.tokenize: a
kanji compound, a kana run, a latin word or number, spaces, one punctuation mark).
difflib aligns those runs, which reads like a word diff (「令和8年度」→「令和10年度」 changes
only 「8」) instead of a character soup.
"""

from __future__ import annotations

import difflib
import unicodedata
from typing import Literal

from pydantic import BaseModel

# One tokenizer for digests and pages, so a change reads the same in a mail and on the web.
from monitor.textdiff import tokenize

__all__ = ["DiffRun", "FieldChange", "field_changes", "same_text", "tokenize", "word_diff", "LONG_TEXT"]

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


def word_diff(old: str, new: str) -> list[DiffRun]:
    a, b = tokenize(old), tokenize(new)
    # autojunk would treat frequent runs (の, spaces) as noise and align worse.
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    runs: list[DiffRun] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            runs.append(DiffRun(op="equal", text="".join(a[i1:i2])))
            continue
        if i2 > i1:
            runs.append(DiffRun(op="delete", text="".join(a[i1:i2])))
        if j2 > j1:
            runs.append(DiffRun(op="insert", text="".join(b[j1:j2])))
    return runs


def same_text(old: str, new: str) -> bool:
    """Equal once width and whitespace are normalised, as the pipeline compares them."""
    return _normal(old) == _normal(new)


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def field_changes(old: dict[str, str], new: dict[str, str]) -> dict[str, FieldChange]:
    """The fields of ``new`` that differ from ``old``, in ``new``'s column order."""
    changes: dict[str, FieldChange] = {}
    for column in [*new, *(c for c in old if c not in new)]:
        before, after = str(old.get(column, "")), str(new.get(column, ""))
        if same_text(before, after):
            continue
        long = max(len(before), len(after)) > LONG_TEXT
        changes[column] = FieldChange(column=column, old=before, new=after, runs=word_diff(before, after) if long else None)
    return changes
