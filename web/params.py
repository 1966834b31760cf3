"""Query and path parameters of the pages, checked into typed values or a 400/404 message.

The HTML pages take parameters as text, because an HTML form sends empty fields
(``?from=&kind=``) that mean "no filter"; the JSON API declares typed parameters instead and
shares the range checks below.
"""

from __future__ import annotations

import re
from datetime import date

from web.errors import BadRequest, NotFound
from web.labels import KINDS, LINK_STATES, Labels

__all__ = ["MAX_DIGITS", "MAX_ID", "MAX_PAGE", "SOURCE_ID", "bounded_int", "check_range", "parse_date", "parse_id", "parse_kinds", "parse_page",
           "parse_source", "parse_state", "safe_href"]

MAX_PAGE = 100_000
MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL
MAX_DIGITS = 18
SOURCE_ID = r"^[a-z0-9][a-z0-9._-]{0,79}$"  # as monitor/config.py accepts them
_SOURCE_ID = re.compile(SOURCE_ID)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HTTP = re.compile(r"^https?://[^\s\x00-\x1f\x7f]+$", re.IGNORECASE)


def bounded_int(text: str, highest: int) -> int | None:
    """``text`` as a number from 1 to ``highest``, or None. The length is checked first: int()
    raises ValueError past 4,300 digits, and no bound here needs more than 18."""
    if not text.isascii() or not text.isdigit() or len(text) > MAX_DIGITS:
        return None
    number = int(text)
    return number if 1 <= number <= highest else None


def _blank(value: str | None) -> bool:
    return value is None or value.strip() == ""


def parse_page(value: str | None, t: Labels) -> int:
    if _blank(value):
        return 1
    text = value.strip()  # type: ignore[union-attr]
    number = bounded_int(text, MAX_PAGE)
    if number is None:
        raise BadRequest(t.format("bad_page", value=text[:40]))
    return number


def parse_date(value: str | None, t: Labels) -> date | None:
    if _blank(value):
        return None
    text = value.strip()  # type: ignore[union-attr]
    try:
        if not _DAY.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise BadRequest(t.format("bad_date", value=text[:40])) from None


def check_range(first: date | None, last: date | None, t: Labels) -> None:
    if first and last and first > last:
        raise BadRequest(t.range)


def parse_kinds(values: list[str], t: Labels) -> list[str] | None:
    kinds = [v.strip() for v in values if v.strip()]
    for kind in kinds:
        if kind not in KINDS:
            raise BadRequest(t.format("bad_kind", value=kind[:40]))
    return kinds or None


def parse_state(value: str | None, t: Labels) -> str | None:
    if _blank(value):
        return None
    if value not in LINK_STATES:
        raise BadRequest(t.format("bad_state", value=str(value)[:40]))
    return value


def parse_source(value: str | None, t: Labels) -> str | None:
    """A source id, or None for "every source"; a malformed id names no source (404)."""
    if _blank(value):
        return None
    if not _SOURCE_ID.match(value):  # type: ignore[arg-type]
        raise NotFound(t.format("no_source", value=str(value)[:80]))
    return value


def parse_id(value: str, message: str, t: Labels) -> int:
    """A row id from a path; anything else names no row (404)."""
    number = bounded_int(value, MAX_ID)
    if number is None:
        raise NotFound(t.format(message, value=value[:40]))
    return number


def safe_href(url: str | None) -> str | None:
    """``url`` when it is a plain http(s) URL a link may point to; None for anything else."""
    if url and _HTTP.match(url):
        return url
    return None
