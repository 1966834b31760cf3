"""Tables as downloads: CSV (UTF-8 with a BOM, so Excel reads it as UTF-8) and .xlsx.

A cell comes from a published list and is opened in a spreadsheet, which runs a cell that
starts with ``=``, ``+``, ``-`` or ``@`` as a formula (``=HYPERLINK(…)`` sends the reader
elsewhere, DDE runs programs); tab and CR start one after the spreadsheet trims them.
:func:`neutralise` is the one guard both formats pass every cell through.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from fastapi.responses import Response, StreamingResponse
from openpyxl import Workbook

from monitor.inert import visible

__all__ = ["FORMULA_STARTS", "neutralise", "csv_bytes", "csv_chunks", "xlsx_bytes", "download", "streamed_download", "CSV", "XLSX"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Row = Sequence[str]


def neutralise(value: str) -> str:
    """``value``, with a leading ``'`` when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_bytes(header: Row, rows: Iterable[Row]) -> bytes:
    return b"".join(csv_chunks(header, rows))


def csv_chunks(header: Row, rows: Iterable[Row], every: int = 1000) -> Iterator[bytes]:
    """The CSV (UTF-8 with a BOM, for Excel; formulas neutralised), ``every`` rows at a time: the first bytes leave at once."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in header])
    yield _taken(out).encode("utf-8-sig")
    for n, row in enumerate(rows, 1):
        writer.writerow([neutralise(c) for c in row])
        if n % every == 0:
            yield _taken(out).encode("utf-8")
    yield _taken(out).encode("utf-8")


def _taken(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text


def xlsx_bytes(header: Row, rows: Iterable[Row], title: str) -> bytes:
    # An .xlsx cell cannot hold most control characters (openpyxl refuses them): shown as \xNN.
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31] or "list")
    for row in (header, *rows):
        sheet.append([visible(neutralise(c)) for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(body: bytes, filename: str, media_type: str) -> Response:
    """``body`` as an attachment named ``filename`` (ASCII, from ids and dates only)."""
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def streamed_download(chunks: Iterator[bytes], filename: str, media_type: str) -> StreamingResponse:
    """:func:`download`, sent as ``chunks`` come."""
    return StreamingResponse(chunks, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
