"""How a list's columns are laid out on its page: which cell is the name, and how wide each column may get.

A browser left to itself squeezes a twelve-column table into the window: Japanese text may
break between any two characters, so a long 概要 column pushes the others down to a few
characters, ids break digit by digit and phone numbers in two. Each column gets a class from
what its cells hold, and the stylesheet (base.html) gives each class its width rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markupsafe import Markup, escape

from monitor.textnormal import normalize_text

from web.schemas import ListedMeasure

__all__ = ["LONG", "column_classes", "mark_phones", "name_column"]

_NUMBER = re.compile(r"^[0-9０-９]{1,8}[.．]?$")
# A Japanese phone number (03-5388-2443, 050-3155-5646, ０４２（５２３）１１１１): it must never break in two.
_TEL = re.compile(r"[0-9０-９]{2,5}[-‐－−ー（(][0-9０-９]{1,4}[-‐－−ー）)][0-9０-９]{3,4}")
_URL = re.compile(r"^https?://", re.IGNORECASE)
# A column whose cells run longer than this on average is prose: it gets room, the others keep theirs.
LONG = 24


def mark_phones(text: str) -> Markup:
    """``text`` escaped, each phone number in it wrapped in ``<span class="tel">`` (kept on one line)."""
    out, last = [], 0
    for found in _TEL.finditer(text):
        out += [escape(text[last:found.start()]), Markup('<span class="tel">'), escape(found.group()), Markup("</span>")]
        last = found.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def name_column(columns: Sequence[str], measures: Sequence[ListedMeasure]) -> str | None:
    """The column that holds each measure's name (the one that matches it most often)."""
    # The stored name is normalised already; the cell is as published.
    scores = {c: sum(normalize_text(m.fields.get(c, "")) == normalize_text(m.name) for m in measures) for c in columns}
    best = max(scores, key=lambda c: scores[c], default=None)
    return best if best is not None and scores[best] else None


def _class_of(values: list[str]) -> str:
    filled = [v.strip() for v in values if v.strip() and v.strip() not in ("-", "－", "―")]
    if not filled:
        return "short"
    if all(_NUMBER.match(v) for v in filled):
        return "number"
    if all(_TEL.search(v) for v in filled):
        return "phone"
    if sum(bool(_URL.match(v)) for v in filled) * 2 >= len(filled):
        return "url"
    return "long" if sum(len(v) for v in filled) / len(filled) > LONG else "short"


def column_classes(columns: Sequence[str], measures: Sequence[ListedMeasure], named: str | None = None) -> dict[str, str]:
    """Column → ``name`` (``named``) | ``number`` | ``phone`` | ``url`` | ``long`` | ``short``, from the cells on the page."""
    return {c: "name" if c == named else _class_of([m.fields.get(c, "") for m in measures]) for c in columns}
