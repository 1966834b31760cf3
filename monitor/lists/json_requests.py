"""One JSON list from several requests (``options.requests`` of a ``format: json`` source).

An API that needs a search term (Jグランツ: ``keyword`` of 2 characters or more) answers a
part of the list per request, so the list is the union of the answers: each request is the
source's url with its query parameters (a request's value replaces the url's own), fetched
in order through the same guarded fetch, and the answers are kept together as one packed
document (``pagination.pack_pages``), so "the same bytes" means "no answer changed". A record
found by several requests is one measure: the first with its key (``key_columns``,
normalised) is kept. A request that fails fails the whole list, since a list missing one
answer would end every measure only that request found.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from monitor.config import HttpSettings, SourceConfig
from monitor.lists.fetch import Fetched, Trust, fetch_document
from monitor.lists.pagination import PAGES_TYPE, pack_pages, unpack_pages
from monitor.lists.parsers import Document, parse_document
from monitor.lists.records import ParsedList, normalize_cell

__all__ = ["fetch_requests", "merge_requests", "request_urls", "requests_of"]


def requests_of(source: SourceConfig) -> list[dict[str, str]]:
    """The query parameters of each request of a JSON source; empty for one request (or another format)."""
    requests = source.options.get("requests") if source.format == "json" else None
    return list(requests or [])


def request_urls(url: str, requests: list[dict[str, str]]) -> list[str]:
    """The url once per request, its query extended (or overridden) by the request's parameters."""
    parts = urlsplit(url)
    base = dict(parse_qsl(parts.query, keep_blank_values=True))
    return [urlunsplit(parts._replace(query=urlencode({**base, **request}))) for request in requests]


async def fetch_requests(source: SourceConfig, settings: HttpSettings, *, trust: Trust) -> Fetched:
    """Every request's answer, packed as one document; the first FetchError fails the whole list."""
    answers = []
    for url in request_urls(source.url, requests_of(source)):
        fetched = await fetch_document(url, settings, trust=trust)
        answers.append(Document(fetched.body, fetched.url, fetched.content_type))
    first = answers[0]
    return Fetched(url=first.url, status=200, body=pack_pages(answers, None), content_type=PAGES_TYPE)


def merge_requests(document: Document, source: SourceConfig) -> ParsedList:
    """The union of the packed answers' records, each key once, in the order they were first found."""
    answers, _ = unpack_pages(document.body)
    parts = [parse_document(Document(a.body, a.url, a.content_type, document.max_bytes), "json", source.options) for a in answers]
    merged = ParsedList(columns=parts[0].columns, records=[])
    seen: set[tuple[str, ...]] = set()
    for number, part in enumerate(parts, start=1):
        for record in part.records:
            key = tuple(normalize_cell(record.cells.get(column, "")) for column in source.key_columns)
            if key in seen:
                continue
            seen.add(key)
            record.line = f"request {number} {record.line}"
            merged.records.append(record)
        merged.warnings += [f"request {number} {warning}" for warning in part.warnings]
    return merged
