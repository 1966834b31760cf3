"""What a parser produces: plain records with raw and normalised cells."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from monitor.textnormal import normalize_text  # the parsers' and the wings' one normaliser, from the root

__all__ = ["EMPTY_MARKS", "ParsedList", "Published", "Record", "normalize_text", "normalize_cell", "published_form"]

# Cells that mean "nothing here" in Japanese government tables.
EMPTY_MARKS = frozenset({"-", "－", "―", "‐", "ー", "—", "–"})

# Most formats carry no URLs behind cells: one shared empty mapping, not a dict per row.
NO_LINKS: Mapping[str, list[str]] = MappingProxyType({})


def normalize_cell(value: str) -> str:
    """Like :func:`normalize_text`, and an empty mark (``-``) becomes the empty string."""
    if not value:  # most cells of a remarks or URL column: nothing to normalise
        return value
    text = normalize_text(value)
    # Every mark is one character: a longer text is not looked up (hashing a summary costs more).
    return "" if len(text) == 1 and text in EMPTY_MARKS else text


# A row's cells as published, in one hashable: equal exactly when the cells are equal.
Published = str | tuple[str, ...]


def published_form(values: Iterable[str]) -> Published:
    """The cells joined by tabs, as a text list publishes them; the tuple of cells where a cell
    itself holds a tab (a string never equals a tuple, so the two forms cannot be confused)."""
    cells = tuple(values)
    joined = "\t".join(cells)
    return joined if joined.count("\t") == len(cells) - 1 else cells


class Record:
    """One row of a list.

    ``cells`` keeps the text exactly as published (column name → text); ``links`` holds the
    URLs a format carries beside the text (HTML ``href``, Excel hyperlinks), in cell order;
    ``line`` says where the row began (line, row or page:row) for error messages.

    A row of tab-separated text keeps its line and splits it into cells only when asked:
    most rows of a new version were published exactly as before, are paired by that text
    (``published``) and never need their cells.
    """

    __slots__ = ("_cells", "_columns", "_text", "_line", "links")

    def __init__(self, cells: dict[str, str], line: str = "", links: Mapping[str, list[str]] = NO_LINKS) -> None:
        self._cells: dict[str, str] | None = cells
        self._columns: tuple[str, ...] = ()
        self._text: str | None = None
        self._line: str | int = line
        self.links = links

    @classmethod
    def from_text(cls, columns: tuple[str, ...], text: str, line_number: int) -> Record:
        """A row given as one line with a tab between cells, exactly one cell per column."""
        record = cls.__new__(cls)
        record._cells, record._columns, record._text = None, columns, text
        record._line, record.links = line_number, NO_LINKS
        return record

    @property
    def line(self) -> str:
        return f"line {self._line}" if isinstance(self._line, int) else self._line

    @line.setter
    def line(self, where: str) -> None:
        self._line = where

    @property
    def cells(self) -> dict[str, str]:
        if self._cells is None:
            self._cells = dict(zip(self._columns, (self._text or "").split("\t")))
        return self._cells

    @property
    def published(self) -> Published:
        return self._text if self._text is not None else published_form(self.cells.values())

    @property
    def normalized(self) -> dict[str, str]:
        return {column: normalize_cell(text) for column, text in self.cells.items()}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return (self.cells, self.line, dict(self.links)) == (other.cells, other.line, dict(other.links))

    __hash__ = None  # type: ignore[assignment]  # a record is mutable (line, links)

    def __repr__(self) -> str:
        return f"Record({self.cells!r}, line={self.line!r})"


@dataclass(slots=True)
class ParsedList:
    """A whole parsed document: its columns, its rows and what was noticed on the way.

    ``warnings`` are problems that lost nothing (a short row padded); ``errors`` are problems
    that make the document untrustworthy (the snapshot becomes ``suspect``). ``title`` is the
    document's title line; ``edition`` and ``as_of`` are read from it where it says
    (「令和4年4月1日時点」). ``encoding`` is the one its text was read in (None for a PDF or a
    workbook, and for a list merged from several documents).
    """

    columns: list[str]
    records: list[Record]
    title: str = ""
    edition: str = ""
    as_of: date | None = None
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    encoding: str | None = field(default=None, compare=False)
