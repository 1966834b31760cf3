"""List formats: a registry of parsers keyed by the ``format`` name used in config.yaml.

Every parser has the same narrow shape, ``parse(document, options) -> ParsedList``, and
declares a pydantic model of its options, so an unknown format or option is refused when the
configuration loads, not at 3 a.m. Add a format by writing a module that calls
:func:`register` and importing it at the bottom of this file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


from monitor.config.formats import ParserOptions, format_names
from monitor.errors import ConfigError, ParseError
from monitor.lists.encoding import as_utf8
from monitor.lists.records import ParsedList

__all__ = ["Document", "ListFormat", "ParserOptions", "register", "get_format", "known_formats", "parse_document", "detect_format"]


@dataclass(frozen=True, slots=True)
class Document:
    """Fetched bytes with what the server said about them, and how far they may inflate."""

    body: bytes
    url: str = ""
    content_type: str = ""
    # The body's own cap (http.max_bytes, whose default this is) is also the most its
    # compressed parts may inflate to.
    max_bytes: int = 20_000_000
    # The source's ``encoding:``, which outranks what the server declares.
    encoding: str | None = None
    # The body's text, once read (monitor.lists.encoding.as_utf8): a parser of text takes it
    # from here (encoding.document_text) instead of decoding a 35 MB body a second time.
    text: str | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class ListFormat:
    name: str
    description: str
    options: type[ParserOptions]
    parse: Callable[[Document, Any], ParsedList]
    sniff: Callable[[Document], bool]
    # Lower ranks are tried first by ``format: auto``: binary signatures before text guesses.
    sniff_rank: int = 50


_REGISTRY: dict[str, ListFormat] = {}


def register(fmt: ListFormat) -> ListFormat:
    _REGISTRY[fmt.name] = fmt
    return fmt


def known_formats() -> list[str]:
    return format_names()


def get_format(name: str) -> ListFormat:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown format {name!r} (known: {', '.join(known_formats())})") from None


def detect_format(document: Document) -> ListFormat:
    """Pick a format for ``format: auto`` from the bytes, the Content-Type and the URL."""
    for fmt in sorted(_REGISTRY.values(), key=lambda f: f.sniff_rank):
        if fmt.sniff(document):
            return fmt
    raise ParseError(f"{document.url or 'document'}: cannot tell its format; set `format` for this source")


def parse_document(document: Document, format_name: str, options: dict[str, Any] | ParserOptions | None = None) -> ParsedList:
    fmt = detect_format(document) if format_name == "auto" else get_format(format_name)
    if not isinstance(options, ParserOptions):
        options = fmt.options.model_validate(options or {})
    document, warnings, encoding = as_utf8(document)
    parsed = fmt.parse(document, options)
    parsed.warnings[:0] = warnings
    parsed.encoding = encoding
    return parsed


from . import delimited, html_table, json_list, pdf_table, text_table, xlsx_table  # noqa: E402,F401  (registers the built-in formats)
