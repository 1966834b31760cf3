"""``csv`` and ``tsv``: delimited files with a header row (quoted cells may span lines)."""

from __future__ import annotations

import csv
import io

from monitor.lists.encoding import document_text
from monitor.errors import ParseError
from monitor.lists.records import ParsedList
from monitor.config.formats import DelimitedOptions
from monitor.lists.parsers import Document, ListFormat, register
from monitor.lists.parsers.tabular import rows_to_list
from monitor.lists.parsers.text_table import looks_like_html


def _parser(delimiter: str):
    def parse(document: Document, options: DelimitedOptions) -> ParsedList:
        where = document.url or "document"
        text = document_text(document, where)
        if looks_like_html(text):
            raise ParseError(f"{where}: got an HTML page where a delimited list was expected")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            rows = [(f"line {reader.line_num}", cells, None) for cells in reader]
        except csv.Error as exc:
            raise ParseError(f"{where}: line {reader.line_num}: {exc}") from exc
        return rows_to_list(rows, where=where, header_contains=options.header_contains)

    return parse


def _sniff_csv(document: Document) -> bool:
    head = document.body[:65536]
    return document.url.lower().endswith(".csv") or "csv" in document.content_type or (head.count(b",") >= 4 and not head.lstrip().startswith(b"<"))


def _sniff_tsv(document: Document) -> bool:
    return document.url.lower().endswith(".tsv") or "tab-separated" in document.content_type


register(ListFormat("csv", "comma-separated values with a header row", DelimitedOptions, _parser(","), _sniff_csv, sniff_rank=70))
register(ListFormat("tsv", "tab-separated values with a header row (quoted cells may span lines)", DelimitedOptions, _parser("\t"), _sniff_tsv, sniff_rank=55))
