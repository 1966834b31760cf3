"""What a cell says beyond its text: the URLs in it and the end date in its remarks."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

__all__ = ["extract_urls", "urls_in_cells", "normalize_url", "extract_end_date", "fiscal_year_end", "read_edition"]

# A URL runs until whitespace, a quote or bracket, or Japanese text; what follows in the
# same cell (「…」, 【②…】) is a label for the next URL, not part of this one.
_URL_STOPS_ASCII = r"""\s"'<>()\[\]{}"""
_URL = re.compile(rf"""(?:https?|ftp)://[^{_URL_STOPS_ASCII}「」【】『』（）、。，．\u3000-\u30ff\u4e00-\u9fff\uff01-\uff5e]+""", re.IGNORECASE)
# The same search in ASCII text (its other stops are not ASCII), at half the cost: most URL cells are ASCII.
_ASCII_URL = re.compile(rf"""(?:https?|ftp)://[^{_URL_STOPS_ASCII}]+""", re.IGNORECASE)
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_TRAILING = ".,;:!?)]}>'\"、。，．・…"


def normalize_url(url: str) -> str:
    """Trim, NFKC full-width characters, drop the fragment and trailing punctuation."""
    url = unicodedata.normalize("NFKC", url).strip().strip(_TRAILING)
    url = url.split("#", 1)[0]
    return url.rstrip(_TRAILING)


def extract_urls(text: str) -> list[str]:
    """Every http(s) URL in a cell, bare or in ``<a href>``, in order, without duplicates."""
    return urls_in_cells((text,))


def urls_in_cells(texts: Iterable[str]) -> list[str]:
    """Every URL of :func:`extract_urls` in any of these cells, in cell order, without
    duplicates: a row's in one call (its cells are most of a list's, and most have none)."""
    urls: dict[str, None] = {}  # in order, without duplicates
    for text in texts:
        # A URL kept has "//", which NFKC makes of "/" and "／" alone (℀ is "a/c"): most cells have neither.
        if "/" not in text and "／" not in text:
            continue
        found = _HREF.findall(text) if "=" in text else []
        # Full-width ｈｔｔｐ：／／ becomes ASCII before the bare-URL search (NFKC leaves ASCII as it is).
        found += _ASCII_URL.findall(text) if text.isascii() else _URL.findall(unicodedata.normalize("NFKC", text))
        for raw in found:
            url = normalize_url(raw)
            if url.lower().startswith(("http://", "https://")):
                urls[url] = None
    return list(urls)


_ERAS = {"令和": 2018, "R": 2018, "平成": 1988, "H": 1988}
_FISCAL_YEAR = re.compile(r"(令和|平成|R|H)\s*(元|\d{1,2})\s*年度|((?:19|20)\d{2})\s*年度", re.IGNORECASE)
_DAY = re.compile(r"(令和|平成|R|H)\s*(元|\d{1,2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日|((?:19|20)\d{2})\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})\s*日?", re.IGNORECASE)
_WHEN = re.compile(f"{_DAY.pattern}|{_FISCAL_YEAR.pattern}", re.IGNORECASE)
_UNTIL = re.compile(r"まで|迄|終了|限り")
# What follows a date that opens a period: 「令和8年度以降」「令和4年度～」「令和5年度から」.
_STARTS = re.compile(r"(?:以降|以後|から|より|開始|~|〜|-)")
# What comes just before the date that closes a range: 「～令和7年度」「4月1日から令和7年3月31日」.
_CLOSES = re.compile(r"(?:~|〜|-|から)$")
# A quotation names something (a predecessor's title); it does not date this measure.
_QUOTED = re.compile(r"「[^「」]*」|『[^『』]*』")
# A clause about what this measure grew out of: 「…を再編」「…を統合」「旧…」.
_PREDECESSOR = re.compile(r"を(?:再編|統合|継承)|旧|前身")
_RANGE_MARK = re.compile(r"\s*([~〜-])\s*")
_CLAUSE = re.compile(r"[、。,;；()\[\]【】\s]+")


def _western_year(era: str, number: str) -> int:
    return _ERAS[era.upper() if len(era) == 1 else era] + (1 if number == "元" else int(number))


def fiscal_year_end(year: int) -> date:
    """A Japanese fiscal year N runs from 1 April N to 31 March N+1."""
    return date(year + 1, 3, 31)


def _date_of(text: str) -> date | None:
    """The day a date written alone means: a calendar day, or a fiscal year's last day."""
    day = _DAY.fullmatch(text)
    if day is not None:
        era, number, month, mday, year, month2, mday2 = day.groups()
        try:
            return date(_western_year(era, number), int(month), int(mday)) if era else date(int(year), int(month2), int(mday2))
        except ValueError:
            return None
    fiscal = _FISCAL_YEAR.fullmatch(text)
    if fiscal is None:
        return None
    era, number, year = fiscal.groups()
    return fiscal_year_end(_western_year(era, number) if era else int(year))


def _clauses(text: str) -> list[str]:
    """Remarks cut where a planner pauses: punctuation, brackets, spaces (not inside a date or range)."""
    text = _QUOTED.sub("「」", unicodedata.normalize("NFKC", text))
    text = _WHEN.sub(lambda m: re.sub(r"\s+", "", m.group(0)), text)
    return _CLAUSE.split(_RANGE_MARK.sub(r"\1", text))


def _clause_ends(clause: str) -> tuple[list[date], bool]:
    """The dates a clause may end on (not those opening a period), and whether it closes a range."""
    ends: list[date] = []
    closes = False
    for match in _WHEN.finditer(clause):
        if _STARTS.match(clause, match.end()):
            continue
        closes = closes or bool(_CLOSES.search(clause, 0, match.start()))
        when = _date_of(match.group(0))
        if when is not None:
            ends.append(when)
    return ends, closes


def extract_end_date(text: str) -> date | None:
    """The last day a measure runs, read from remarks as a planner reads them.

    Only text that says until (まで) or closes a range (令和4年度～令和7年度) names an end:
    「令和3年度は11道府県と連携」 is history. A date that opens a period (以降, から, より) is a
    start; a date in quotes or in a clause about a predecessor (…を再編, 旧…) is another
    measure's. Where several periods are named (申請は令和8年度まで、交付は令和9年度まで) the
    measure runs until the latest of them.
    """
    if not text:
        return None
    ends: list[date] = []
    says_until = False
    for clause in _clauses(text):
        if _PREDECESSOR.search(clause):
            continue
        found, closes = _clause_ends(clause)
        ends += found
        says_until = says_until or closes or bool(_UNTIL.search(clause))
    return max(ends) if ends and says_until else None


_AS_OF = re.compile(r"((?:令和|平成)\s*(?:元|\d{1,2})\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)\s*(?:時点|現在)")


def read_edition(title: str) -> tuple[str, date | None]:
    """The edition a title names (「令和4年4月1日時点」) and its date, or ("", None)."""
    text = unicodedata.normalize("NFKC", title or "")
    match = _AS_OF.search(text)
    if match is None:
        return "", None
    return match.group(0).replace(" ", ""), _date_of(re.sub(r"\s+", "", match.group(1)))
