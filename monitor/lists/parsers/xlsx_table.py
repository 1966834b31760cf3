"""``xlsx``: a list published as an Excel workbook (.xlsx), read with openpyxl.

The workbook is opened in openpyxl's normal mode, not ``read_only``: read-only worksheets
know neither merged cells nor hyperlinks, and both carry data here. Measured on a sheet of
20,000 rows × 10 columns, normal mode took about 1.4× the time and 75 MB at its peak instead
of 4 MB; government lists run to a few thousand rows, and the fetch caps the body size.

- The sheet is the one named by ``sheet``, else the first whose rows hold ``header_contains``,
  else the first with a row of two or more filled cells (a cover or notes sheet often comes first).
- A merged cell's value is copied to every cell of the merge (a department written once for
  five rows belongs to all five); a row that is nothing but one merge across columns is a
  title line, not a row of equal cells.
- Hyperlinks behind cell text become ``Record.links``.
- Numbers and dates read as a person reads them in Excel: 1 not 1.0, 2022-04-01 not a serial.
- Formulas give the value Excel saved with the file, which is what a reader sees.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time

from typing import TYPE_CHECKING

from monitor.errors import ParseError
from monitor.lists.records import ParsedList, normalize_text
from monitor.config.formats import XlsxTableOptions
from monitor.lists.parsers import Document, ListFormat, register
from monitor.lists.parsers.inflation import check_zip_members
from monitor.lists.parsers.tabular import Row, rows_to_list

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

_ZIP = b"PK\x03\x04"
# Excel 97-2003 (.xls) is an OLE2 compound file; openpyxl cannot read it.
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_XLSX_TYPE = "spreadsheetml"


def cell_text(value: object, number_format: str = "General") -> str:
    """A cell's value as the text a person reads in Excel."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return _number_text(value, number_format)
    return str(value)


def _number_text(value: int | float, number_format: str) -> str:
    if number_format.endswith("%"):
        return f"{value * 100:.15g}%"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    # 15 significant digits is what Excel shows; it hides float noise such as 0.30000000000000004.
    return f"{value:.15g}"


def pick_sheet(book: Workbook, options: XlsxTableOptions, where: str) -> Worksheet:
    """The sheet named ``sheet``, else the first holding ``header_contains``, else the first holding a table."""
    if options.sheet is not None:
        if options.sheet not in book.sheetnames:
            raise ParseError(f"{where}: no sheet {options.sheet!r} (sheets: {', '.join(book.sheetnames)})")
        return book[options.sheet]
    wanted = normalize_text(options.header_contains) if options.header_contains else None
    for sheet in book.worksheets:
        if _holds_table(sheet, wanted):
            return sheet
    if wanted is not None:
        raise ParseError(f"{where}: no sheet has a column {options.header_contains!r} (sheets: {', '.join(book.sheetnames)})")
    # A cover or notes sheet comes first in many workbooks; with no table anywhere, the first
    # sheet gives rows_to_list's "no header row" message.
    return book.worksheets[0]


def _holds_table(sheet: Worksheet, wanted: str | None) -> bool:
    for values in sheet.iter_rows(values_only=True):
        texts = [normalize_text(cell_text(value)) for value in values]
        if (wanted in texts) if wanted is not None else sum(1 for text in texts if text) >= 2:
            return True
    return False


def sheet_rows(sheet: Worksheet) -> Iterator[Row]:
    """Rows of cell texts with merges expanded, and the hyperlinks behind each cell."""
    merged: dict[tuple[int, int], tuple[str, list[str]]] = {}
    whole_row_merges: dict[int, str] = {}
    for merge in sheet.merged_cells.ranges:
        corner = sheet.cell(merge.min_row, merge.min_col)
        text, urls = cell_text(corner.value, corner.number_format), _links(corner)
        for row, column in merge.cells:
            merged[row, column] = (text, urls)
        if merge.min_row == merge.max_row and merge.max_col > merge.min_col:
            whole_row_merges[merge.min_row] = text
    for cells in sheet.iter_rows():
        number = cells[0].row
        texts: list[str] = []
        links: list[list[str]] = []
        for cell in cells:
            text, urls = merged.get((number, cell.column), (cell_text(cell.value, cell.number_format), _links(cell)))
            texts.append(text)
            links.append(urls)
        if number in whole_row_merges and _only_the_merge(texts, whole_row_merges[number]):
            texts, links = [whole_row_merges[number]], []
        yield f"{sheet.title} row {number}", texts, links


def _only_the_merge(texts: list[str], text: str) -> bool:
    return all(cell in ("", text) for cell in texts)


def _links(cell: object) -> list[str]:
    hyperlink = getattr(cell, "hyperlink", None)
    target = getattr(hyperlink, "target", None)
    return [target] if target else []


def open_workbook(body: bytes, where: str, max_bytes: int) -> Workbook:
    # Imported here: openpyxl takes a quarter of a second to load, and most runs read no Excel.
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if body.startswith(_OLE2):
        raise ParseError(f"{where}: an Excel 97-2003 (.xls) workbook, which is not read; ask for .xlsx or CSV")
    check_zip_members(body, max_bytes, where)
    try:
        return openpyxl.load_workbook(io.BytesIO(body), data_only=True)
    # A broken member's XML fails as SyntaxError, the base of both ElementTree's and lxml's errors.
    except (zipfile.BadZipFile, InvalidFileException, KeyError, SyntaxError, ValueError, OSError) as exc:
        reason = normalize_text(str(exc)) or type(exc).__name__
        raise ParseError(f"{where}: not a readable .xlsx workbook ({reason})") from exc


def parse(document: Document, options: XlsxTableOptions) -> ParsedList:
    where = document.url or "document.xlsx"
    book = open_workbook(document.body, where, document.max_bytes)
    sheet = pick_sheet(book, options, where)
    return rows_to_list(sheet_rows(sheet), where=f"{where} [{sheet.title}]", header_contains=options.header_contains)


def sniff(document: Document) -> bool:
    if not document.body.startswith(_ZIP):
        return False
    path = document.url.split("?", 1)[0].lower()
    # A workbook's members live under xl/; a .docx or a plain zip has none.
    return path.endswith((".xlsx", ".xlsm")) or _XLSX_TYPE in document.content_type or b"xl/workbook.xml" in document.body


register(ListFormat("xlsx", "an Excel workbook (.xlsx): merged cells expanded, hyperlinks kept", XlsxTableOptions, parse, sniff, sniff_rank=10))
