"""Rows of cells → a ParsedList: the header, repeated headers, title lines and ragged rows.

Every tabular format (text, CSV, HTML, PDF, Excel) ends here, so they all treat a repeated
header at a page break, a page-number line or a short row the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from monitor.lists.cells import read_edition
from monitor.errors import ParseError
from monitor.lists.records import ParsedList, Record, normalize_text

__all__ = ["Row", "lines_to_list", "rows_to_list"]

# (where the row began, its cells, the URLs behind each cell if the format has them)
Row = tuple[str, Sequence[str], Sequence[Sequence[str]] | None]


def _filled(cells: Sequence[str]) -> int:
    return sum(1 for cell in cells if normalize_text(cell))


def _any_filled(cells: Sequence[str]) -> bool:
    """``_filled(cells) > 0``: NFKC never turns text into whitespace, so ``strip`` tells."""
    return bool(cells) and bool(cells[0].strip()) or any(cell.strip() for cell in cells)


def _repeats_header(cells: Sequence[str], header_key: list[str]) -> bool:
    """``_column_names(cells) == header_key``; only rows that could be a repeated header by
    their first cell are normalised in full."""
    return _could_repeat_header(cells[0] if cells else "", header_key) and _column_names(cells) == header_key


def _could_repeat_header(first: str, header_key: list[str]) -> bool:
    """Most rows differ from the header in their first cell already."""
    return len(first) <= _header_reach(header_key) and (normalize_text(first) or "列1") == header_key[0]


def _header_reach(header_key: list[str]) -> int:
    """A first cell longer than this cannot normalise to the header's first name."""
    return 2 * len(header_key[0]) + 4


def _is_header(cells: Sequence[str], header_contains: str | None) -> bool:
    if _filled(cells) < 2:
        return False
    if header_contains is None:
        return True
    return any(normalize_text(cell) == normalize_text(header_contains) for cell in cells)


def _column_names(cells: Sequence[str]) -> list[str]:
    names = [normalize_text(cell) for cell in cells]
    while names and not names[-1]:
        names.pop()
    seen: dict[str, int] = {}
    columns = []
    for index, name in enumerate(names, start=1):
        name = name or f"列{index}"
        seen[name] = seen.get(name, 0) + 1
        columns.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return columns


class _ListBuilder:
    """One list being read row by row: the titles above the header, the header, the records."""

    def __init__(self, header_contains: str | None) -> None:
        self.header_contains = header_contains
        self.titles: list[str] = []
        self.columns: list[str] | None = None
        self.parsed = ParsedList(columns=[], records=[])

    def add(self, line: str, cells: Sequence[str], links: Sequence[Sequence[str]] | None) -> None:
        columns = self.columns
        if columns is None:
            if _is_header(cells, self.header_contains):
                self.columns = self.parsed.columns = _column_names(cells)
            elif _filled(cells):
                self.titles.append(" ".join(normalize_text(c) for c in cells if normalize_text(c)))
            return
        if not _any_filled(cells) or _repeats_header(cells, columns):
            return
        if len(cells) == 1 and len(columns) > 1:
            self.titles.append(normalize_text(cells[0]))
            return
        self.parsed.records.append(_record(line, cells, links, columns, self.parsed))

    def finish(self, where: str) -> ParsedList:
        if self.columns is None:
            wanted = f" containing {self.header_contains!r}" if self.header_contains else ""
            raise ParseError(f"{where}: no header row{wanted} (no row with two or more filled cells)")
        parsed, titles = self.parsed, self.titles
        parsed.title = next((t for t in titles if t), "")
        parsed.edition, parsed.as_of = next(((e, d) for e, d in map(read_edition, titles) if e), ("", None))
        return parsed


def rows_to_list(rows: Iterable[Row], *, where: str, header_contains: str | None = None) -> ParsedList:
    """Find the header, then turn every later row into a Record.

    A row that repeats the header, or that has a single cell and no separators (a title, a
    page number, 「令和4年4月1日時点」), is not a record. A short row is padded and warned
    about; a long row whose extra cells hold text is an error, since text would be lost.
    """
    builder = _ListBuilder(header_contains)
    for line, cells, links in rows:
        builder.add(line, cells, links)
    return builder.finish(where)


def lines_to_list(lines: Iterable[str], *, where: str, header_contains: str | None = None) -> ParsedList:
    """:func:`rows_to_list` for lines of tab-separated text.

    A line with one cell per column that is not blank and cannot repeat the header (nearly
    every line) becomes a record as it stands, without being split; the others go through
    the same row rules as every format.
    """
    builder = _ListBuilder(header_contains)
    numbered = enumerate(lines, start=1)
    for number, text in numbered:
        builder.add(f"line {number}", text.split("\t"), None)
        if builder.columns is not None:
            break
    header = builder.columns
    if header is None:
        return builder.finish(where)
    shape, tabs, reach = tuple(header), len(header) - 1, _header_reach(header)
    records = builder.parsed.records
    for number, text in numbered:
        if text.count("\t") == tabs and text and not text.isspace():
            first_end = text.find("\t")
            if first_end > reach or not _could_repeat_header(text[:first_end] if first_end >= 0 else text, header):
                records.append(Record.from_text(shape, text, number))
                continue
        builder.add(f"line {number}", text.split("\t"), None)
    return builder.finish(where)


def _record(line: str, cells: Sequence[str], links: Sequence[Sequence[str]] | None, columns: list[str], parsed: ParsedList) -> Record:
    if len(cells) == len(columns) and not links:
        return Record(dict(zip(columns, cells)), line)
    cells = list(cells)
    if len(cells) < len(columns):
        parsed.warnings.append(f"{line}: {len(cells)} cells where the header has {len(columns)}; the missing cells are taken as empty")
        cells += [""] * (len(columns) - len(cells))
    elif len(cells) > len(columns):
        extra = [cell for cell in cells[len(columns):] if normalize_text(cell)]
        if extra:
            parsed.errors.append(f"{line}: {len(cells)} cells where the header has {len(columns)}; extra text {normalize_text(extra[0])[:40]!r}")
        cells = cells[: len(columns)]
    record = Record(cells=dict(zip(columns, cells)), line=line)
    if links:
        record.links = {column: list(urls) for column, urls in zip(columns, links) if urls}
    return record
