"""Word-level differences between two long texts, for Japanese and latin text alike.

Japanese has no spaces, so "words" are runs of one script: a kanji compound, a run of
kana, a latin word or number, a run of spaces, or one punctuation mark. That gives
phrase-sized pieces (「補助金」「の」「交付」) instead of a diff that jumps between single
characters. Unchanged stretches far from a change are shortened to their ends around "…",
so a changed 概要 of 400 characters shows what changed, not the whole text twice.

Digest and web view both diff with this one function; neither decides whether a field
changed (monitor.lists.diff did, when the event was written).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["DiffRun", "tokenize", "word_diff"]

_TOKEN = re.compile(
    r"""
      [0-9A-Za-z\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A]+(?:[.,'’-][0-9A-Za-z]+)*  # latin word or number
    | \s+
    | [\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF々〆ヶ]+                             # kanji compound
    | [\u3041-\u309F]+                                                             # hiragana run
    | [\u30A0-\u30FF\u31F0-\u31FF\uFF66-\uFF9F]+                                   # katakana run (ー included)
    | .                                                                            # anything else, alone
    """,
    re.VERBOSE | re.DOTALL,
)

Op = Literal["equal", "delete", "insert"]


@dataclass(frozen=True, slots=True)
class DiffRun:
    """A stretch of text that is kept (``equal``), removed (``delete``) or added (``insert``)."""

    op: Op
    text: str


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


def word_diff(old: str, new: str, *, context: int | None = 20) -> tuple[DiffRun, ...]:
    """The runs that turn ``old`` into ``new``; equal runs keep ``context`` characters each side
    (a mail shortens them), or all of their text with ``context=None`` (a page shows it whole)."""
    a, b = tokenize(old), tokenize(new)
    # autojunk would treat frequent tokens (の, spaces) as noise and give a worse alignment.
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    runs: list[DiffRun] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            runs.append(DiffRun("equal", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            runs.append(DiffRun("delete", "".join(a[i1:i2])))
        if j2 > j1:
            runs.append(DiffRun("insert", "".join(b[j1:j2])))
    return tuple(runs if context is None else _shorten(runs, context))


def _shorten(runs: list[DiffRun], context: int) -> list[DiffRun]:
    out = []
    last = len(runs) - 1
    for index, run in enumerate(runs):
        if run.op == "equal":
            keep_head = index > 0  # text right after a change
            keep_tail = index < last  # text right before a change
            run = DiffRun("equal", _elide(run.text, context if keep_head else 0, context if keep_tail else 0))
        out.append(run)
    return out


def _elide(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail + 1:
        return text
    return text[:head] + "…" + (text[len(text) - tail :] if tail else "")
