"""``html-table``: a list published as an HTML ``<table>`` (picked by CSS selector or header)."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from monitor.lists.cells import read_edition
from monitor.lists.encoding import document_text
from monitor.errors import ParseError
from monitor.lists.records import ParsedList, normalize_text
from monitor.config.formats import HtmlTableOptions
from monitor.lists.parsers import Document, ListFormat, register
from monitor.lists.parsers.tabular import Row, rows_to_list

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag


def parse_html(text: str) -> BeautifulSoup:
    from bs4 import BeautifulSoup  # loaded by the processes that read HTML

    return BeautifulSoup(text, "lxml")


def pick_table(soup: BeautifulSoup, options: HtmlTableOptions, where: str) -> Tag:
    if options.selector:
        table = soup.select_one(options.selector)
        if table is None:
            raise ParseError(f"{where}: no element matches selector {options.selector!r}")
        return table if table.name == "table" else table.find("table") or table
    tables = soup.find_all("table")
    if not tables:
        raise ParseError(f"{where}: no <table> in the page (an error page, or the list moved?)")
    if options.header_contains:
        wanted = normalize_text(options.header_contains)
        for table in tables:
            if any(normalize_text(cell.get_text(" ")) == wanted for cell in table.find_all(["th", "td"], limit=60)):
                return table
        raise ParseError(f"{where}: no table has a column {options.header_contains!r}")
    return max(tables, key=lambda t: len(t.find_all("tr")))


def table_rows(table: Tag, base_url: str) -> list[Row]:
    """Rows of cells with rowspan/colspan expanded, and the hrefs behind each cell."""
    rows: list[Row] = []
    carried: dict[int, tuple[int, str, list[str]]] = {}
    for number, tr in enumerate(table.find_all("tr"), start=1):
        cells: list[str] = []
        links: list[list[str]] = []
        column = 0
        for cell in tr.find_all(["th", "td"], recursive=False):
            while column in carried:
                column = _take_carried(carried, column, cells, links)
            text = cell.get_text(" ", strip=True)
            # href is never multi-valued, so bs4's str | AttributeValueList is a str here.
            hrefs = [urljoin(base_url, str(a["href"])) for a in cell.find_all("a", href=True)]
            span = _int(cell.get("colspan"))
            for _ in range(span):
                cells.append(text)
                links.append(hrefs)
                if _int(cell.get("rowspan")) > 1:
                    carried[column] = (_int(cell.get("rowspan")) - 1, text, hrefs)
                column += 1
        while column in carried:
            column = _take_carried(carried, column, cells, links)
        rows.append((f"table row {number}", cells, links))
    return rows


def _take_carried(carried: dict[int, tuple[int, str, list[str]]], column: int, cells: list[str], links: list[list[str]]) -> int:
    left, text, hrefs = carried[column]
    cells.append(text)
    links.append(hrefs)
    if left > 1:
        carried[column] = (left - 1, text, hrefs)
    else:
        del carried[column]
    return column + 1


def _int(value: object) -> int:
    try:
        return max(1, min(int(str(value)), 100))
    except ValueError:
        return 1


# Reading a table looks into the tables inside it, so tables nested n deep cost n² (2,000 deep,
# a 66 KB page: 6 s of CPU; 20,000: minutes). Layout tables nest a few deep, never this.
MAX_TABLE_DEPTH = 50
_TABLE_TAG = re.compile(r"<(/?)table\b", re.IGNORECASE)


def table_depth(text: str) -> int:
    """How deep ``<table>`` start tags nest in ``text``, counted on the text before any parse."""
    depth = deepest = 0
    for tag in _TABLE_TAG.finditer(text):
        depth = max(0, depth - 1) if tag.group(1) else depth + 1
        deepest = max(deepest, depth)
    return deepest


def parse(document: Document, options: HtmlTableOptions) -> ParsedList:
    where = document.url or "document"
    text = document_text(document, where)
    if (depth := table_depth(text)) > MAX_TABLE_DEPTH:
        raise ParseError(f"{where}: tables nested {depth} deep, more than the {MAX_TABLE_DEPTH} a list is read through")
    soup = parse_html(text)
    table = pick_table(soup, options, where)
    parsed = rows_to_list(table_rows(table, document.url), where=where, header_contains=options.header_contains)
    if not parsed.title:
        heading = soup.find(["h1", "title"])
        parsed.title = normalize_text(heading.get_text(" ")) if heading else ""
    if not parsed.edition:
        parsed.edition, parsed.as_of = heading_edition(soup, table)
    return parsed


def heading_edition(soup: BeautifulSoup, table: Tag) -> tuple[str, date | None]:
    """The edition a page names above its table: in the caption or a heading (h1–h3), else the <title>.

    A CMS page names its edition (「令和4年4月1日時点」) in the heading above the table, while
    its ``<title>`` is often the site's generic page name.
    """
    places = [table.find("caption"), *soup.find_all(["h1", "h2", "h3"]), soup.find("title")]
    editions = (read_edition(place.get_text(" ")) for place in places if place is not None)
    return next((found for found in editions if found[0]), ("", None))


def sniff(document: Document) -> bool:
    head = document.body[:65536].lower()
    return b"<table" in head or "html" in document.content_type


register(ListFormat("html-table", "an HTML <table> (picked by CSS selector or by a column name)", HtmlTableOptions, parse, sniff, sniff_rank=40))
