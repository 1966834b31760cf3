"""Turning fetched bytes into text: UTF-8 (with or without BOM), Shift_JIS/CP932, EUC-JP."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from monitor.errors import ParseError

__all__ = ["decode_text", "declared_charset"]

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)
# Windows-31J is a superset of Shift_JIS; government files labelled Shift_JIS use its extras (①, ㈱).
_WIDER = {"shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "windows-31j": "cp932"}


def declared_charset(body: bytes, content_type: str = "") -> str | None:
    """The charset named by the Content-Type header or, for HTML, a ``<meta>`` tag."""
    match = re.search(r"charset=([A-Za-z0-9_\-]+)", content_type or "", re.IGNORECASE)
    if match is None:
        match = _META_CHARSET.search(body[:4096])
        name = match.group(1).decode("ascii") if match else None
    else:
        name = match.group(1)
    if not name:
        return None
    name = _WIDER.get(name.lower(), name.lower())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_text(body: bytes, content_type: str = "", where: str = "document") -> tuple[str, str]:
    """Return (text, encoding). Tries a BOM, then the declared charset, then UTF-8, then detection."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(encoding), encoding
    candidates = [declared_charset(body, content_type), "utf-8"]
    for encoding in candidates:
        if encoding is None:
            continue
        try:
            return body.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    best = from_bytes(body, cp_isolation=["cp932", "euc_jp", "iso2022_jp", "utf_8"]).best()
    if best is None:
        raise ParseError(f"{where}: cannot tell the text encoding (not UTF-8, Shift_JIS or EUC-JP)")
    return str(best), best.encoding
