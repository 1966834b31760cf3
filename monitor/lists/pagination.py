"""Paginated HTML lists: fetch page after page, keep and read them as one version.

A list spread over ``index.html``, ``index_2.html``, … is one list. Its pages are fetched in
order by following the "next" link (``rel=next`` unless ``pagination.next_selector`` says
otherwise) up to ``pagination.max_pages``, and kept together as one MIME ``multipart/mixed``
document, one part per page with its ``Content-Location`` (the way MHTML saves a web page):
the snapshot's blob holds every page's bytes, and "the same bytes" means "no page changed".
Reading parses each page with the source's format and concatenates the records; each page's
own header (and any header it repeats) is consumed by the parser of that page.

A next link was learned from a page, so it is fetched as such (``fetch.Trust.LEARNED``:
http(s) only, never ``file://``, through the address guard), and only on the first page's site.
A page that cannot be fetched midway, a next link that leaves the site, or more pages than
the cap is not a shorter list: the problem is kept as a last text part of the document and
becomes an error of the parsed list, so the version is ``suspect`` and no measure ends.
A next link back to a page already fetched (the last page linking to itself, or a pager
that wraps around) ends the list.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage, MIMEPart
from urllib.parse import urljoin, urlsplit

from monitor.config import HttpSettings, SourceConfig
from monitor.lists.encoding import decode_text
from monitor.errors import FetchError, ParseError
from monitor.lists.fetch import Fetched, Trust, fetch_document
from monitor.lists.parsers import Document, parse_document
from monitor.lists.records import ParsedList
from monitor.config.kinds import PaginationSettings

__all__ = ["PAGES_TYPE", "fetch_pages", "next_page_url", "pack_pages", "unpack_pages", "parse_pages"]

PAGES_TYPE = "multipart/mixed"
# '-' is outside the base64 alphabet, so the boundary never occurs inside a page's part.
_BOUNDARY = "sesaku-monitor-pages"


async def fetch_pages(url: str, settings: HttpSettings, pagination: PaginationSettings, *, trust: Trust) -> Fetched:
    """Every page, packed as one document; a FetchError only when the first page fails.

    ``trust`` is the source url's (``fetch.trust_of``); the next pages' links are always learned.
    No conditional GET: a first page unchanged says nothing about the pages after it.
    """
    first = await fetch_document(url, settings, trust=trust)
    pages = [Document(first.body, first.url, first.content_type)]
    seen = {_canonical(url), _canonical(first.url)}
    problem = None
    while problem is None:
        link = next_page_url(pages[-1], pagination.next_selector)
        if link is None or _canonical(link) in seen:
            break
        problem = _refusal(link, first.url, pages, pagination, settings)
        if problem is None:
            problem = await _fetch_next(link, settings, pages, seen)
    # The first page's Last-Modified is kept for the snapshot's as-of date; no ETag, since
    # the next run must fetch every page again anyway.
    return Fetched(url=first.url, status=first.status, body=pack_pages(pages, problem),
                   content_type=f'{PAGES_TYPE}; boundary="{_BOUNDARY}"', last_modified=first.last_modified)


def _refusal(link: str, first_url: str, pages: list[Document], pagination: PaginationSettings, settings: HttpSettings) -> str | None:
    if len(pages) >= pagination.max_pages:
        return f"more than {pagination.max_pages} pages (pagination.max_pages); the list goes on at {link}"
    if urlsplit(link).netloc != urlsplit(first_url).netloc:
        return f"page {len(pages) + 1} is on another site ({link}); the list is incomplete"
    if sum(len(page.body) for page in pages) > settings.max_bytes:
        return f"the first {len(pages)} pages are over the {settings.max_bytes} byte cap together (http.max_bytes)"
    return None


async def _fetch_next(link: str, settings: HttpSettings, pages: list[Document], seen: set[str]) -> str | None:
    try:
        fetched = await fetch_document(link, settings, trust=Trust.LEARNED)
    except FetchError as exc:
        return f"page {len(pages) + 1} is missing, so the list is incomplete: {exc}"
    pages.append(Document(fetched.body, fetched.url, fetched.content_type))
    seen.update({_canonical(link), _canonical(fetched.url)})
    return None


def _canonical(url: str) -> str:
    return url.split("#", 1)[0]


def next_page_url(page: Document, selector: str) -> str | None:
    """The absolute URL the page's next link points to, or None on the last page."""
    try:
        text, _ = decode_text(page.body, page.content_type, page.url)
    except ParseError:
        return None  # not a text page; the parser says what is wrong with it
    from bs4 import BeautifulSoup  # only a paginated list needs it, not every run of the pipeline

    soup = BeautifulSoup(text, "lxml")
    for element in soup.select(selector):
        href = str(element.get("href") or "").strip()
        if href and not href.lower().startswith(("javascript:", "mailto:", "#")):
            return urljoin(page.url, href)
    return None


def pack_pages(pages: list[Document], problem: str | None) -> bytes:
    """One multipart document; the same pages always give the same bytes."""
    container = EmailMessage(policy=policy.default)
    container.set_type(PAGES_TYPE)
    container.set_boundary(_BOUNDARY)
    for page in pages:
        container.attach(_page_part(page))
    if problem is not None:
        note = EmailMessage(policy=policy.default)
        note.set_content(problem, cte="base64")
        container.attach(note)
    return container.as_bytes()


def _page_part(page: Document) -> EmailMessage:
    part = EmailMessage(policy=policy.default)
    part.set_content(page.body, maintype="application", subtype="octet-stream", cte="base64")
    if page.content_type:
        # The server's own header, charset and all, for the parser of this page.
        part.replace_header("Content-Type", page.content_type)
    part["Content-Location"] = page.url
    return part


def unpack_pages(body: bytes) -> tuple[list[Document], str | None]:
    """The pages of a packed document, and the problem that cut it short, if any."""
    container = message_from_bytes(body, policy=policy.default)
    if not container.is_multipart():
        raise ParseError("a paginated list's snapshot is not a multipart document")
    pages, problem = [], None
    for part in container.iter_parts():
        decoded = part.get_payload(decode=True)
        payload = decoded if isinstance(decoded, bytes) else b""
        location = part.get("Content-Location")
        if location is None:
            problem = payload.decode("utf-8").strip()
        else:
            pages.append(Document(body=payload, url=str(location), content_type=_content_type(part)))
    return pages, problem


def _content_type(part: MIMEPart) -> str:
    # Unquoted, as servers send it: the charset sniffer reads ``charset=Shift_JIS``.
    charset = part.get_param("charset")
    return f"{part.get_content_type()}; charset={charset}" if isinstance(charset, str) else part.get_content_type()


def parse_pages(document: Document, source: SourceConfig) -> ParsedList:
    """The records of every page of a packed document, in order (the source's format for each page)."""
    pages, problem = unpack_pages(document.body)
    pages = [Document(page.body, page.url, page.content_type, document.max_bytes, source.encoding) for page in pages]
    merged = _merge([parse_document(page, source.format, source.options) for page in pages], pages)
    if problem is not None:
        merged.errors.insert(0, problem)
    return merged


def _merge(parsed: list[ParsedList], pages: list[Document]) -> ParsedList:
    first = parsed[0]
    merged = ParsedList(columns=first.columns, records=[], title=first.title, edition=first.edition, as_of=first.as_of)
    for number, (part, page) in enumerate(zip(parsed, pages, strict=True), start=1):
        if part.columns != first.columns:
            raise ParseError(f"{page.url}: page {number} has the columns {', '.join(part.columns)[:200]}, page 1 has {', '.join(first.columns)[:200]}")
        for record in part.records:
            record.line = f"page {number} {record.line}"
            merged.records.append(record)
        merged.warnings += [f"page {number} {warning}" for warning in part.warnings]
        merged.errors += [f"page {number} {error}" for error in part.errors]
    return merged
