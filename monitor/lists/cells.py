"""What a cell says beyond its text: the URLs in it and the end date in its remarks."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

__all__ = ["extract_urls", "normalize_url", "extract_end_date", "fiscal_year_end", "read_edition"]

# A URL runs until whitespace, a quote or bracket, or Japanese text; what follows in the
# same cell (「…」, 【②…】) is a label for the next URL, not part of this one.
_URL = re.compile(r"""(?:https?|ftp)://[^\s"'<>()\[\]{}「」【】『』（）、。，．\u3000-\u30ff\u4e00-\u9fff\uff01-\uff5e]+""", re.IGNORECASE)
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_TRAILING = ".,;:!?)]}>'\"、。，．・…"


def normalize_url(url: str) -> str:
    """Trim, NFKC full-width characters, drop the fragment and trailing punctuation."""
    url = unicodedata.normalize("NFKC", url).strip().strip(_TRAILING)
    url = url.split("#", 1)[0]
    return url.rstrip(_TRAILING)


def extract_urls(text: str) -> list[str]:
    """Every http(s) URL in a cell, bare or in ``<a href>``, in order, without duplicates."""
    if not text:
        return []
    found: list[str] = []
    for match in _HREF.finditer(text):
        found.append(match.group(1))
    # Full-width ｈｔｔｐ：／／ becomes ASCII before the bare-URL search.
    for match in _URL.finditer(unicodedata.normalize("NFKC", text)):
        found.append(match.group(0))
    urls: list[str] = []
    for raw in found:
        url = normalize_url(raw)
        if url.lower().startswith(("http://", "https://")) and url not in urls:
            urls.append(url)
    return urls


_ERAS = {"令和": 2018, "R": 2018, "平成": 1988, "H": 1988}
_FISCAL_YEAR = re.compile(r"(令和|平成|R|H)\s*(元|\d{1,2})\s*年度|((?:19|20)\d{2})\s*年度", re.IGNORECASE)
_DAY = re.compile(r"(令和|平成|R|H)\s*(元|\d{1,2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日|((?:19|20)\d{2})\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})\s*日?", re.IGNORECASE)
_UNTIL = re.compile(r"まで|迄|終了|限り")


def _western_year(era: str, number: str) -> int:
    return _ERAS[era.upper() if len(era) == 1 else era] + (1 if number == "元" else int(number))


def fiscal_year_end(year: int) -> date:
    """A Japanese fiscal year N runs from 1 April N to 31 March N+1."""
    return date(year + 1, 3, 31)


def extract_end_date(text: str) -> date | None:
    """The last day a measure runs, read from remarks such as 「令和12年度まで」.

    Only text that says until (まで) counts: 「令和3年度は11道府県と連携」 is history, not an
    end. Where several periods are named (申請は令和8年度まで、交付は令和9年度まで; 導入費は
    令和6年度まで 維持管理費は令和11年度まで) the measure runs until the latest of them.
    """
    if not text:
        return None
    text = unicodedata.normalize("NFKC", text)
    if not _UNTIL.search(text):
        return None
    ends: list[date] = []
    for match in _DAY.finditer(text):
        try:
            if match.group(1):
                ends.append(date(_western_year(match.group(1), match.group(2)), int(match.group(3)), int(match.group(4))))
            else:
                ends.append(date(int(match.group(5)), int(match.group(6)), int(match.group(7))))
        except ValueError:
            continue
    for match in _FISCAL_YEAR.finditer(text):
        year = _western_year(match.group(1), match.group(2)) if match.group(1) else int(match.group(3))
        ends.append(fiscal_year_end(year))
    return max(ends) if ends else None


_AS_OF = re.compile(r"((?:令和|平成)\s*(?:元|\d{1,2})\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)\s*(?:時点|現在)")


def read_edition(title: str) -> tuple[str, date | None]:
    """The edition a title names (「令和4年4月1日時点」) and its date, or ("", None)."""
    text = unicodedata.normalize("NFKC", title or "")
    match = _AS_OF.search(text)
    if match is None:
        return "", None
    day = _DAY.search(match.group(1))
    as_of = None
    if day is not None:
        try:
            if day.group(1):
                as_of = date(_western_year(day.group(1), day.group(2)), int(day.group(3)), int(day.group(4)))
            else:
                as_of = date(int(day.group(5)), int(day.group(6)), int(day.group(7)))
        except ValueError:
            as_of = None
    return match.group(0).replace(" ", ""), as_of
