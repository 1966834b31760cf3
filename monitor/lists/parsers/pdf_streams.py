"""PDF streams inflate within a budget while pdfminer reads them.

pdfminer inflates a stream whole (``zlib.decompress``) the first time anything needs it: the
cross-reference and object streams when the file opens, then content streams, fonts and forms
page by page. A few kilobytes of /FlateDecode can declare a gigabyte, and no pre-scan of the
file sees what pdfminer will inflate (a filter can be an indirect object, a stream can sit in
an incremental update). So the one place every stream is inflated, ``PDFStream.decode``, first
measures the stream with capped decoders and counts it against the document's
:class:`InflationBudget`; a stream over the budget raises before pdfminer inflates it. Image
streams that pdfminer hands on undecoded never count, so a scan's large images are no bomb.
The budget is a context variable: documents read side by side in threads each have their own,
and code outside :func:`inflating_within` decodes as pdfminer always did.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from monitor.lists.parsers.inflation import InflationBudget

if TYPE_CHECKING:
    from pdfminer.pdftypes import PDFStream

__all__ = ["inflating_within", "decoded_size"]

_BUDGET: ContextVar[InflationBudget | None] = ContextVar("pdf_inflation_budget", default=None)
# Small steps, so that a stream whose tail is corrupt still counts what inflates before the
# damage, as pdfminer's own recovery (``decompress_corrupted``) keeps it.
_STEP = 64 * 1024


@contextmanager
def inflating_within(budget: InflationBudget) -> Iterator[InflationBudget]:
    """Streams pdfminer decodes inside this block are counted against ``budget``."""
    _install()
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def _install() -> None:
    from pdfminer.pdftypes import PDFStream

    if not getattr(PDFStream.decode, "_within_budget", False):
        # Patching pdfminer's one inflation point on purpose (see above): mypy rejects any method assignment.
        PDFStream.decode = _counted(PDFStream.decode)  # type: ignore[method-assign, assignment]


def _counted(decode: Callable[[PDFStream], None]) -> Callable[[PDFStream], None]:
    def counted_decode(stream: PDFStream) -> None:
        budget = _BUDGET.get()
        if budget is not None:
            budget.take(decoded_size(stream, budget.left + 1), f"PDF stream {stream.objid}")
        decode(stream)

    counted_decode._within_budget = True  # type: ignore[attr-defined]
    return counted_decode


def decoded_size(stream: PDFStream, cap: int) -> int:
    """The size of the stream once its filters are applied, measured no further than ``cap``."""
    from pdfminer.ascii85 import ascii85decode, asciihexdecode
    from pdfminer.pdftypes import LITERALS_ASCII85_DECODE, LITERALS_ASCIIHEX_DECODE, LITERALS_FLATE_DECODE, LITERALS_LZW_DECODE, LITERALS_RUNLENGTH_DECODE

    data = stream.rawdata or b""
    if stream.decipher and stream.objid is not None and stream.genno is not None:
        data = stream.decipher(stream.objid, stream.genno, data, stream.attrs)
    for name, _ in stream.get_filters():
        if name in LITERALS_FLATE_DECODE:
            data = _inflate(data, cap)
        elif name in LITERALS_LZW_DECODE:
            data = _unlzw(data, cap)
        elif name in LITERALS_RUNLENGTH_DECODE:
            data = _unrunlength(data, cap)
        elif name in LITERALS_ASCII85_DECODE:
            data = ascii85decode(data)  # these two only shrink what they read
        elif name in LITERALS_ASCIIHEX_DECODE:
            data = asciihexdecode(data)
        else:
            break  # images (DCT, JPX, JBIG2, CCITT): pdfminer does not decode them to read text
        if len(data) >= cap:
            break
    return len(data)


def _inflate(data: bytes, cap: int) -> bytes:
    inflater = zlib.decompressobj()
    out = bytearray()
    for start in range(0, len(data), _STEP):
        try:
            out += inflater.decompress(data[start:start + _STEP], cap - len(out))
        except zlib.error:
            break
        if len(out) >= cap or inflater.eof:
            break
    return bytes(out)


def _unlzw(data: bytes, cap: int) -> bytes:
    from pdfminer.lzw import LZWDecoder

    out = bytearray()
    for chunk in LZWDecoder(io.BytesIO(data)).run():
        out += chunk
        if len(out) >= cap:
            break
    return bytes(out)


def _unrunlength(data: bytes, cap: int) -> bytes:
    out = bytearray()
    at = 0
    while at < len(data) and data[at] != 128 and len(out) < cap:
        length = data[at]
        if length < 128:
            out += data[at + 1:at + 2 + length]
            at += 2 + length
        else:
            out += data[at + 1:at + 2] * (257 - length)
            at += 2
    return bytes(out)
