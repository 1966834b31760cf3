"""Documents derived from the seed lists for the format tests: HTML pages, index pages, lists."""

from __future__ import annotations

import html
from pathlib import Path

from monitor.demo.site import LoopbackSite, Route
from monitor.lists.parsers import Document, parse_document
from monitor.lists.records import ParsedList
from tests.conftest import FIXTURES, seed_text

DOCUMENTS = FIXTURES / "documents"
HTML = "text/html; charset=utf-8"
CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".txt": "text/plain; charset=utf-8",
}


def seed_list(name: str) -> ParsedList:
    return parse_document(Document(seed_text(name).encode("utf-8"), url=name), "text-table")


def html_page(parsed: ParsedList, records: slice, *, title: str, pager: str = "") -> bytes:
    """One page of the list as a CMS prints it: a heading, the table with its header, a pager."""
    header = "<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in parsed.columns) + "</tr>"
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(r.cells[c])}</td>" for c in parsed.columns) + "</tr>"
        for r in parsed.records[records]
    )
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1><table class='list'>{header}{rows}</table>{pager}</body></html>").encode("utf-8")


def publish_pages(site: LoopbackSite, parsed: ParsedList, paths: list[str], *, title: str, last_links_to: str | None = None) -> None:
    """The records split over ``paths``, each page's rel=next pointing at the next one."""
    size = -(-len(parsed.records) // len(paths))
    for number, path in enumerate(paths):
        following = paths[number + 1] if number + 1 < len(paths) else last_links_to
        pager = f"<div class='pager'><a href='{following}' rel='next'>次へ</a></div>" if following else ""
        site.publish(path, Route(html_page(parsed, slice(number * size, (number + 1) * size), title=title, pager=pager), content_type=HTML))


def publish_file(site: LoopbackSite, path: str, document: Path, **route: object) -> None:
    site.publish(path, Route(document.read_bytes(), content_type=CONTENT_TYPES[document.suffix], **route))


def index_page(links: list[tuple[str, str]], *, title: str = "多摩のまちづくり支援") -> bytes:
    """An index page: navigation links, then one link per list (href, text)."""
    items = "".join(f"<li><a href='{href}'>{html.escape(text)}</a></li>" for href, text in links)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<nav><a href='/'>トップページ</a> <a href='/about.html'>このサイトについて</a></nav>"
            f"<h1>{title}</h1><ul class='lists'>{items}</ul></body></html>").encode("utf-8")
