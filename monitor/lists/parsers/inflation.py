"""How far a document may inflate while it is read: the zip parts of a workbook, the streams of a PDF.

The fetch caps the bytes that arrive (``http.max_bytes``), but a workbook or a PDF is
compressed inside: a 1 MB .xlsx can hold a sheet of 1 GiB. The same cap therefore applies to
what the parts inflate to, each and in all, checked before (zip) or while (PDF) they inflate,
so that such a document costs bounded time and memory and ends as a one-line ParseError
(the pipeline's ``suspect``) naming the part and its size.
"""

from __future__ import annotations

import io
import zipfile

from monitor.errors import ParseError

__all__ = ["InflationBudget", "check_zip_members"]


class InflationBudget:
    """Bytes a document may still inflate to; the first part that does not fit ends the read."""

    def __init__(self, limit: int, where: str) -> None:
        self.limit = limit
        self.left = limit
        self.where = where
        self.reason: str | None = None

    def take(self, size: int, part: str) -> None:
        """Count ``size`` inflated bytes of ``part``; a ParseError once the budget is spent."""
        if self.reason is None and size > self.limit:
            self.reason = f"{self.where}: {part} inflates to more than {self.limit:,} bytes (http.max_bytes)"
        elif self.reason is None and size > self.left:
            self.reason = f"{self.where}: its parts inflate to more than {self.limit:,} bytes in all, the last {part} (http.max_bytes)"
        if self.reason is not None:
            raise ParseError(self.reason)
        self.left -= size


def check_zip_members(body: bytes, limit: int, where: str) -> None:
    """Refuse a zip whose members declare more than ``limit`` bytes, each or together.

    The declared sizes are enough: Python's zipfile never inflates a member past the size its
    central directory declares, and a member that held more fails its CRC check when read.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # the parser's own open gives the message for a broken zip
    budget = InflationBudget(limit, where)
    for info in members:
        budget.take(info.file_size, f"part {info.filename[:80]!r} ({info.file_size:,} bytes)")
