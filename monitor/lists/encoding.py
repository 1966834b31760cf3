"""Turning fetched bytes into text: UTF-8 (with or without BOM), Shift_JIS/CP932, EUC-JP.

In order: a BOM; the source's own ``encoding:`` (the operator knows better than the
server); the declared charset, except that a Latin one (iso-8859-1, windows-1252) over
bytes that are valid UTF-8 is UTF-8 (servers label every text file Latin-1 by default);
UTF-8; detection. Where no encoding fits every byte, one that fits all but a few (at most
one character in a hundred) is used with the bad bytes replaced by U+FFFD and a warning: one
corrupt byte must not make a whole list suspect. A body that is mostly invalid is a
``ParseError``.
"""

from __future__ import annotations

import codecs
import dataclasses
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

from monitor.errors import ParseError

if TYPE_CHECKING:
    from monitor.lists.parsers import Document

__all__ = ["Decoded", "decode", "decode_text", "declared_charset", "as_utf8", "document_text", "is_binary", "without_surrogates"]

log = logging.getLogger("sesaku_monitor.encoding")

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset=([A-Za-z0-9_\-]+)", re.IGNORECASE)
# Windows-31J is a superset of Shift_JIS; government files labelled Shift_JIS use its extras (①, ㈱).
_WIDER = {"shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "windows-31j": "cp932"}
_LATIN = frozenset({"iso8859-1", "cp1252"})
# Encodings whose invalid bytes are rare corruption, not a sign of the wrong guess.
_REPAIRABLE = ("utf-8", "cp932", "euc_jp")
# What a server's charset may name: the text encodings of the web (WHATWG's list, as Python
# calls them). Python's other codecs are not for a stranger to pick: "undefined" raises on
# every byte, "unicode_escape" turns a list's literal "\x1b" into ESC, EBCDIC garbles it all.
_WEB_CHARSETS = frozenset(codecs.lookup(label).name for label in (
    "utf-8", "utf-16", "utf-16-le", "utf-16-be", "ascii", "cp932", "shift_jis", "euc-jp", "iso-2022-jp",
    "gb2312", "gbk", "gb18030", "big5", "big5hkscs", "euc-kr", "koi8-r", "koi8-u", "cp866", "cp874", "mac-roman",
    "mac-cyrillic", *(f"iso-8859-{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)),
    *(f"cp{n}" for n in range(1250, 1259))))


@dataclass(frozen=True, slots=True)
class Decoded:
    """A body's text, the encoding it was read in, and what reading it cost (bytes replaced)."""

    text: str
    encoding: str
    warning: str | None = None


def codec_name(name: str) -> str | None:
    """Python's name for a charset label (Shift_JIS read as its superset CP932), or None if unknown."""
    try:
        return codecs.lookup(_WIDER.get(name.lower(), name.lower())).name
    except LookupError:
        return None


def declared_charset(body: bytes, content_type: str = "") -> str | None:
    """The charset named by the Content-Type header or, for HTML, a ``<meta>`` tag; None for
    one that is not a text encoding of the web."""
    header = _HEADER_CHARSET.search(content_type or "")
    if header is None:
        meta = _META_CHARSET.search(body[:4096])
        name = meta.group(1).decode("ascii") if meta else None
    else:
        name = header.group(1)
    codec = codec_name(name) if name else None
    return codec if codec in _WEB_CHARSETS else None


# JSON may escape half a UTF-16 pair ("\\ud800"); such a string cannot be written as UTF-8 anywhere.
_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate (from a JSON escape) replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def is_binary(body: bytes) -> bool:
    """A PDF, a zip (xlsx) or any body with NUL bytes (an old .xls): no text encoding applies to it."""
    return body.startswith(b"PK\x03\x04") or body[:1024].lstrip().startswith(b"%PDF") or b"\x00" in body[:4096]


def decode(body: bytes, content_type: str = "", where: str = "document", encoding: str | None = None) -> Decoded:
    """Read ``body`` as text; ``encoding`` is the source's configured one, if any."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return _repaired(body, name, where) or _unreadable(where, name)
    if encoding:
        encoding = codec_name(encoding) or encoding
        return _repaired(body, encoding, where) or _unreadable(where, encoding)
    declared = declared_charset(body, content_type)
    if declared in _LATIN and _strict(body, "utf-8") is not None:
        declared = "utf-8"
    for candidate in (declared, "utf-8"):
        text = _strict(body, candidate) if candidate else None
        if text is not None and candidate is not None:
            return Decoded(text, candidate)
    for candidate in (declared, "utf-8"):
        if candidate in _REPAIRABLE and (repaired := _repaired(body, candidate, where)):
            return repaired
    # Detection only for a body no charset reads: a UTF-8 or declared list never loads charset_normalizer.
    from charset_normalizer import from_bytes

    best = from_bytes(body, cp_isolation=["cp932", "euc_jp", "iso2022_jp", "utf_8"]).best()
    if best is not None:
        return Decoded(str(best), best.encoding)
    return _repaired(body, "cp932", where) or _unreadable(where, "UTF-8, Shift_JIS or EUC-JP")


def decode_text(body: bytes, content_type: str = "", where: str = "document", encoding: str | None = None) -> tuple[str, str]:
    """Return (text, encoding) as :func:`decode` reads them."""
    decoded = decode(body, content_type, where, encoding)
    return decoded.text, decoded.encoding


def as_utf8(document: Document) -> tuple[Document, list[str], str | None]:
    """A text document re-encoded as UTF-8 and labelled so, with the warnings reading it gave
    and the encoding it was read in (None for a binary one).

    Parsers then read every text list the same way, whatever the server or the source's
    ``encoding:`` said; a PDF or a workbook is returned as it is.
    """
    if is_binary(document.body):
        return document, [], None
    decoded = decode(document.body, document.content_type, document.url or "document", document.encoding)
    mime = _HEADER_CHARSET.sub("", document.content_type).strip(" ;") or "text/plain"
    if decoded.warning:
        log.warning("%s", decoded.warning)
    # A body read as UTF-8 without a byte replaced is its text's UTF-8 already: not encoded again.
    body = document.body if decoded.encoding == "utf-8" and decoded.warning is None else decoded.text.encode("utf-8")
    utf8 = dataclasses.replace(document, body=body, content_type=f"{mime}; charset=utf-8", encoding=None, text=decoded.text)
    return utf8, [decoded.warning] if decoded.warning else [], decoded.encoding


def document_text(document: Document, where: str) -> str:
    """A text document's text: as :func:`as_utf8` read it, or read now."""
    if document.text is not None:
        return document.text
    return decode_text(document.body, document.content_type, where)[0]


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeError, LookupError):  # UnicodeError: a codec that fails whatever the bytes
        return None


def _repaired(body: bytes, encoding: str, where: str) -> Decoded | None:
    """The body read with its few invalid bytes replaced (and a warning), or None if they are not few."""
    try:
        return Decoded(body.decode(encoding), encoding)
    except UnicodeDecodeError as exc:
        first = exc.start
    text = body.decode(encoding, errors="replace")
    replaced = text.count("\ufffd")
    if replaced > max(1, len(text) // 100):
        return None
    return Decoded(text, encoding, f"{where}: {replaced} invalid byte sequence(s) in {encoding} replaced by U+FFFD (the first at byte {first})")


def _unreadable(where: str, encoding: str) -> NoReturn:
    raise ParseError(f"{where}: the body is not text in {encoding} (most of its bytes are invalid there)")
