"""``text-table``: tab-separated text as extracted from a published table (the seed files)."""

from __future__ import annotations

import re

from monitor.lists.encoding import document_text
from monitor.errors import ParseError
from monitor.lists.records import ParsedList
from monitor.config.formats import TextTableOptions
from monitor.lists.parsers import Document, ListFormat, register
from monitor.lists.parsers.tabular import lines_to_list

_HTML_START = re.compile(r"^\s*(<!doctype html|<html|<head|<body)", re.IGNORECASE)


def looks_like_html(text: str) -> bool:
    return bool(_HTML_START.match(text[:512]))


def parse(document: Document, options: TextTableOptions) -> ParsedList:
    where = document.url or "document"
    text = document_text(document, where)
    if looks_like_html(text):
        raise ParseError(f"{where}: got an HTML page where a tab-separated list was expected")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return lines_to_list(text.split("\n"), where=where, header_contains=options.header_contains)


def sniff(document: Document) -> bool:
    head = document.body[:65536]
    return head.count(b"\t") >= 2 and not head.lstrip().startswith(b"<")


register(ListFormat("text-table", "tab-separated text extracted from a published table", TextTableOptions, parse, sniff, sniff_rank=60))
