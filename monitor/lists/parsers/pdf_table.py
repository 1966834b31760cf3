"""``pdf``: a list published as a ruled table in a PDF, over as many pages as it takes.

What a PDF does to a table, and how it is undone here:

- The header is repeated on every page: left in, :func:`rows_to_list` skips repeated headers.
- A long cell wraps over several lines: the lines are joined back by :func:`join_lines`.
- A tall row is broken across a page boundary: the first row of a page (after its repeated
  header) whose *continuation column* (the first column unless configured) is empty is the
  rest of the last row of the page before, and is joined to it cell by cell. The first
  column of a list is its number or its name, which a real row always has, while a row
  broken across pages leaves such a short cell wholly on the first page.
- Title and footer lines (「令和4年度 …(令和4年4月1日時点)」, 「- 3 -」) lie outside the ruled
  table: they are handed to :func:`rows_to_list` as one-cell rows, which become the title and
  never records. Where no line names the edition, the document's Title metadata may.
- A scan has pages but no text: that is a ParsedList whose ``errors`` say so, so the snapshot
  is suspect rather than an empty list that would end every measure.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any


from monitor.lists.cells import read_edition
from monitor.errors import ParseError
from monitor.lists.records import ParsedList, normalize_text
from monitor.config.formats import PdfTableOptions
from monitor.lists.parsers import Document, ListFormat, register
from monitor.lists.parsers.inflation import InflationBudget
from monitor.lists.parsers.pdf_streams import inflating_within
from monitor.lists.parsers.tabular import Row, rows_to_list

if TYPE_CHECKING:
    from pdfplumber.page import Page

# Ruled tables: cells are found from the drawn lines, not guessed from the text layout.
_TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}
# A URL has no spaces, so a line break inside one is joined without a space.
_URL_TAIL = re.compile(r"(?:https?|ftp)://\S*$", re.IGNORECASE)


def join_lines(before: str, after: str) -> str:
    """Two lines of one cell as one text, the way the cell read before it was wrapped.

    Japanese wraps anywhere, so CJK (or full-width) text on either side of the break is
    joined as is; two latin words are joined with the space the wrap took, except inside a URL.
    """
    if not before or not after:
        return before or after
    if before[-1].isspace() or after[0].isspace():
        return before + after
    if _is_latin(before[-1]) and _is_latin(after[0]) and not _URL_TAIL.search(before):
        return f"{before} {after}"
    return before + after


def _is_latin(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char in ",.;:!?)%")


def cell_text(raw: str | None) -> str:
    lines = (raw or "").split("\n")
    text = lines[0]
    for line in lines[1:]:
        text = join_lines(text, line)
    return text


def page_rows(page: Page) -> Iterator[tuple[str, list[str]]]:
    """The page's lines and table rows from top to bottom, as (where, cells)."""
    tables = sorted(page.find_tables(_TABLE_SETTINGS), key=lambda t: t.bbox[1])
    outside = page.filter(lambda obj: not any(_inside(obj, t.bbox) for t in tables))
    lines = [(line["top"], line["text"]) for line in outside.extract_text_lines()]
    for table in tables:
        while lines and lines[0][0] < table.bbox[1]:
            yield f"page {page.page_number}", [lines.pop(0)[1]]
        for number, cells in enumerate(table.extract(keep_blank_chars=True), start=1):
            yield f"page {page.page_number} row {number}", [cell_text(cell) for cell in cells]
    for _, text in lines:
        yield f"page {page.page_number}", [text]


def _inside(obj: dict[str, Any], bbox: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = bbox
    return obj.get("x0", -1) >= x0 - 1 and obj.get("x1", -1) <= x1 + 1 and obj.get("top", -1) >= top - 1 and obj.get("bottom", -1) <= bottom + 1


def join_broken_rows(pages: Sequence[Sequence[tuple[str, list[str]]]], options: PdfTableOptions) -> list[Row]:
    """All pages' rows, the rest of a row broken at a page boundary joined to its first part."""
    rows: list[Row] = []
    header: list[str] | None = None
    column = 0
    last = -1  # where in ``rows`` the last table row is, once there is one
    for page in pages:
        at_top = True
        for where, cells in page:
            key = [normalize_text(cell) for cell in cells]
            if len(cells) > 1 and header is None and _is_header(key, options.header_contains):
                header = key
                column = _column_index(key, options.continuation_column)
            elif len(cells) > 1 and header is not None and key != header:
                if at_top and last >= 0 and not key[column] and len(rows[last][1]) == len(cells):
                    first_where, first_cells, _ = rows[last]
                    rows[last] = (first_where, [join_lines(a, b) for a, b in zip(first_cells, cells, strict=True)], None)
                    at_top = False
                    continue
                at_top, last = False, len(rows)
            rows.append((where, cells, None))
    return rows


def _is_header(key: list[str], header_contains: str | None) -> bool:
    return sum(1 for cell in key if cell) >= 2 and (header_contains is None or normalize_text(header_contains) in key)


def _column_index(header: list[str], name: str | None) -> int:
    if name is None:
        return 0
    wanted = normalize_text(name)
    if wanted not in header:
        raise ParseError(f"continuation_column {name!r} is not a column of the table (columns: {', '.join(header)})")
    return header.index(wanted)


def parse(document: Document, options: PdfTableOptions) -> ParsedList:
    # Imported here: pdfplumber and pdfminer are slow to load, and most runs read no PDF.
    import pdfplumber
    from pdfminer.psexceptions import PSException
    from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

    where = document.url or "document.pdf"
    budget = InflationBudget(document.max_bytes, where)
    try:
        with inflating_within(budget), pdfplumber.open(io.BytesIO(document.body)) as pdf:
            pages = [list(page_rows(page)) for page in pdf.pages]
            metadata = dict(pdf.metadata)
    except (PdfminerException, MalformedPDFException, PSException) as exc:
        raise ParseError(budget.reason or f"{where}: not a readable PDF ({_one_line(exc)})") from exc
    if budget.reason:
        # pdfminer skips some objects it cannot read (a font, say): a spent budget still ends the read.
        raise ParseError(budget.reason)
    if not any(cells for page in pages for _, cells in page):
        message = f"{where}: no extractable text on its {len(pages)} page(s) (a scanned PDF?); ask for a text PDF, or read it by hand"
        return ParsedList(columns=[], records=[], errors=[message])
    if not any(len(cells) > 1 for page in pages for _, cells in page):
        raise ParseError(f"{where}: no ruled table in the PDF")
    parsed = rows_to_list(join_broken_rows(pages, options), where=where, header_contains=options.header_contains)
    _edition_from_metadata(parsed, metadata)
    return parsed


def _edition_from_metadata(parsed: ParsedList, metadata: dict[str, object]) -> None:
    # The Title metadata is what the publisher called the document; the creation and
    # modification dates are when a file was written, not the day the list speaks for.
    title = normalize_text(str(metadata.get("Title") or ""))
    if not parsed.title:
        parsed.title = title
    if not parsed.edition:
        parsed.edition, parsed.as_of = read_edition(title)


def _one_line(exc: Exception) -> str:
    return normalize_text(str(exc)) or type(exc).__name__


def sniff(document: Document) -> bool:
    return document.body[:1024].lstrip().startswith(b"%PDF")


register(ListFormat("pdf", "a ruled table in a PDF, over many pages (not a scan)", PdfTableOptions, parse, sniff, sniff_rank=10))
