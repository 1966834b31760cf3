"""What a parser produces: plain records with raw and normalised cells."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

__all__ = ["EMPTY_MARKS", "ParsedList", "Record", "normalize_text", "normalize_cell"]

# Cells that mean "nothing here" in Japanese government tables.
EMPTY_MARKS = frozenset({"-", "－", "―", "‐", "ー", "—", "–"})

_SPACES = re.compile(r"\s+")
# Most formats carry no URLs behind cells: one shared empty mapping, not a dict per row.
NO_LINKS: Mapping[str, list[str]] = MappingProxyType({})


def normalize_text(value: str) -> str:
    """NFKC, every run of whitespace (full-width spaces and line breaks included) as one space."""
    # Same result as _SPACES.sub(" ", ...).strip() (str.split and re's \s agree on what is
    # whitespace), at about a third of the cost: this runs for every cell of every version.
    return " ".join((value if value.isascii() else unicodedata.normalize("NFKC", value)).split())


def normalize_cell(value: str) -> str:
    """Like :func:`normalize_text`, and an empty mark (``-``) becomes the empty string."""
    # Hot: every cell of every version passes here. NFKC leaves ASCII as it is, and
    # isascii() is free for the phone numbers, URLs and empty cells that make up half a list.
    text = " ".join((value if value.isascii() else unicodedata.normalize("NFKC", value)).split())
    return "" if text in EMPTY_MARKS else text


@dataclass(slots=True)
class Record:
    """One row of a list.

    ``cells`` keeps the text exactly as published (column name → text); ``links`` holds the
    URLs a format carries beside the text (HTML ``href``, Excel hyperlinks), in cell order;
    ``line`` says where the row began (line, row or page:row) for error messages.
    """

    cells: dict[str, str]
    line: str = ""
    links: Mapping[str, list[str]] = field(default_factory=lambda: NO_LINKS)

    @property
    def normalized(self) -> dict[str, str]:
        return {column: normalize_cell(text) for column, text in self.cells.items()}


@dataclass(slots=True)
class ParsedList:
    """A whole parsed document: its columns, its rows and what was noticed on the way.

    ``warnings`` are problems that lost nothing (a short row padded); ``errors`` are problems
    that make the document untrustworthy (the snapshot becomes ``suspect``). ``title`` is the
    document's title line; ``edition`` and ``as_of`` are read from it where it says
    (「令和4年4月1日時点」).
    """

    columns: list[str]
    records: list[Record]
    title: str = ""
    edition: str = ""
    as_of: date | None = None
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
