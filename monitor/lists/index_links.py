"""The links of an index page that are lists, read with the context a reader sees around them.

On real pages the link alone often does not say which list it is: 「地元自治体が活用できる施策
（PDF：245KB）」 seven times, each in a list item that begins with its strategy's name, under
the heading 「地元自治体が活用できる施策」. So ``link_pattern`` and ``link_id_pattern`` may be
searched in these parts of a link (``link_context``):

- ``text``: the anchor's text; ``title``: its title, aria-label and the alt of an image in it;
- ``href``: its URL (percent-decoded);
- ``item``: the text of the enclosing list item or table row;
- ``heading``: the nearest heading (h1–h6) before the link.

Notes of file type and size, with or without their brackets (「(PDF:245KB)」, 「PDFファイル3.4MB)」,
「XLSX(約254KB)」), are no part of a title, and dates of an edition (「令和7年4月1日時点」,
「令和7年度」) no part of an id: a list published yearly at a new URL keeps its id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit

from monitor.config.kinds import LinkPart
from monitor.lists.records import normalize_text

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

__all__ = ["DEFAULT_CONTEXT", "IndexLink", "LinkPart", "edition_free", "index_links", "note_free"]

DEFAULT_CONTEXT: tuple[LinkPart, ...] = ("text", "title", "href")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")

# After NFKC. A file type with a size, the brackets around either optional: the CMS of
# 都市整備局 prints 「…の基本的考え方PDFファイル3.4MB)」, its opening bracket lost.
_TYPES = r"pdf|xlsx?|xlsm|csv|excel|word|docx?|zip|txt|text|エクセル|ワード|テキスト"
_SIZE = r"約?\s*\d[\d.,]*\s*(?:kb|mb|gb|キロバイト|メガバイト|バイト)"
_TYPE_AND_SIZE = re.compile(
    rf"\s*[(\[<]?\s*(?:{_TYPES})\s*(?:ファイル|形式)?\s*[:：,、]?\s*[(\[<]?\s*{_SIZE}\s*[)\]>]*", re.IGNORECASE)
# A bracket that names a file type or a size: 「(PDF)」「[Excel]」「(1.2MB)」.
_BRACKETED = re.compile(
    rf"\s*[(\[<][^()\[\]<>]*?(?:\b(?:{_TYPES})\b|エクセル|ワード|テキスト|\d\s*(?:kb|mb|gb|キロバイト|メガバイト))[^()\[\]<>]*[)\]>]",
    re.IGNORECASE)
_ERA = r"(?:令和|平成|R|H)\s*(?:元|\d{1,2})|(?:19|20)\d{2}"
_DATE = re.compile(
    rf"\s*[(\[<【]?\s*(?:{_ERA})\s*年度?(?:\s*\d{{1,2}}\s*月(?:\s*\d{{1,2}}\s*日)?)?\s*(?:時点|現在|版|更新)?\s*[)\]>】]?",
    re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class IndexLink:
    """A link of an index that matched: what names it, the part its id comes from, and where it points."""

    title: str
    id_name: str
    url: str


def note_free(text: str) -> str:
    """The text without its notes of file type and size."""
    text = _TYPE_AND_SIZE.sub("", normalize_text(text))
    return normalize_text(_BRACKETED.sub("", text))


def edition_free(text: str) -> str:
    """The text without the dates of an edition: what lasts from one year's file to the next."""
    return normalize_text(_DATE.sub(" ", note_free(text))) or note_free(text)


def index_links(html: str, base_url: str, link_pattern: str, id_pattern: str | None,
                context: Sequence[LinkPart] = DEFAULT_CONTEXT) -> list[IndexLink]:
    """Every link of the page whose context parts match ``link_pattern``, in page order.

    The title is the link's own text, or the whole list item's where ``item`` is in the
    context (the item says what the list is). The id comes from the first group of
    ``id_pattern`` in the first part it matches (text, title, item, heading), else from the
    title, dates of edition removed.
    """
    from bs4 import BeautifulSoup  # only an index page needs it: a CKAN source and `status` do not

    pattern, ids = re.compile(link_pattern), re.compile(id_pattern) if id_pattern else None
    page = _Page(BeautifulSoup(html, "lxml"), "heading" in context)
    found: list[IndexLink] = []
    for anchor in page.soup.find_all("a", href=True):
        url = urljoin(base_url, str(anchor["href"]).strip())
        parts = _parts(anchor, url, context, page)
        if not any(pattern.search(text) for text in parts.values()):
            continue
        item = parts.get("item")
        title = page.once(note_free, item) if item else note_free(_own_name(anchor, url))
        found.append(IndexLink(title, _id_name(ids, parts, title, page), url))
    return found


class _Page:
    """A page's headings and items, each read once: asked link by link, a page of 4,000 links
    with no heading took 26 s (each link walked back over the whole page), and 4,000 links in
    one table row 136 s (each read the whole row's text)."""

    def __init__(self, soup: BeautifulSoup, headings: bool) -> None:
        self.soup = soup
        self.heading_of: dict[int, str] = _headings_before(soup) if headings else {}
        self._item_texts: dict[int, str] = {}
        self._done: dict[tuple[Callable[[str], str], str], str] = {}  # the links of one item share its text and title

    def item_text(self, anchor: Tag) -> str:
        item = anchor.find_parent(("li", "tr", "dd"))
        if item is None:
            return ""
        if id(item) not in self._item_texts:
            self._item_texts[id(item)] = item.get_text(" ")
        return self._item_texts[id(item)]

    def once(self, clean: Callable[[str], str], text: str) -> str:
        if (clean, text) not in self._done:
            self._done[clean, text] = clean(text)
        return self._done[clean, text]


def _headings_before(soup: BeautifulSoup) -> dict[int, str]:
    """Each anchor's nearest heading before it (the one it is in, if any), in one pass in page order."""
    heading, before = "", {}
    for tag in soup.find_all([*_HEADINGS, "a"]):
        if tag.name == "a":
            before[id(tag)] = heading
        else:
            heading = tag.get_text(" ")
    return before


def _parts(anchor: Tag, url: str, context: Sequence[LinkPart], page: _Page) -> dict[str, str]:
    readers = {"text": lambda: anchor.get_text(" "), "title": lambda: _labels(anchor), "href": lambda: unquote(url),
               "item": lambda: page.item_text(anchor), "heading": lambda: page.heading_of.get(id(anchor), "")}
    return {part: page.once(note_free, text) for part in context if (text := readers[part]())}


def _labels(anchor: Tag) -> str:
    from bs4 import Tag

    image = anchor.find("img", alt=True)
    labels = [anchor.get("title"), anchor.get("aria-label"), image.get("alt") if isinstance(image, Tag) else None]
    return " ".join(label for label in labels if isinstance(label, str))


def _own_name(anchor: Tag, url: str) -> str:
    for text in (anchor.get_text(" "), _labels(anchor)):
        if note_free(text):
            return text
    # Nothing names the link: the file name does, until the file is renamed.
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def _id_name(ids: re.Pattern[str] | None, parts: dict[str, str], title: str, page: _Page) -> str:
    for part in ("text", "title", "item", "heading"):
        match = ids.search(parts[part]) if ids is not None and part in parts else None
        if match is not None:
            return next((group for group in match.groups() if group), match.group(0))
    return page.once(edition_free, title)
