"""``json``: the records of a JSON API answer (Jグランツ, CKAN's datastore, a municipal API).

``records`` is the dotted path of the array of records (``result``), ``fields`` names each
column and the dotted path of its value in a record (``{名称: name, 受付終了:
acceptance_end_datetime}``), so ``key_columns`` and ``name_column`` name fields like any
column. A value missing from a record is an empty cell; a list of plain values is one cell
joined by 「、」; anything else is its compact JSON.

ISO 8601 datetimes with an offset (``2025-12-26T08:00:00.000Z``) are written in the options'
``timezone`` (Asia/Tokyo: ``2025-12-26T17:00:00+09:00``), so that the date a planner reads is
the date the cell says; :func:`iso_day` reads that date as an end date.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.config.formats import JsonOptions
from monitor.errors import ParseError
from monitor.lists.encoding import without_surrogates
from monitor.lists.parsers import Document, ListFormat, register
from monitor.lists.records import ParsedList, Record

__all__ = ["iso_day", "parse_json"]

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")


def iso_day(text: str) -> date | None:
    """The date of a cell that is one ISO 8601 date or datetime, as written; None for any other text."""
    text = text.strip()
    if not _ISO.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def parse_json(document: Document, options: JsonOptions) -> ParsedList:
    where = document.url or "document"
    try:
        data = json.loads(document.body)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, or an integer of 4,300+ digits
        raise ParseError(f"{where}: not JSON ({exc})") from None
    except RecursionError:  # [[[[… nested past what Python's json reads: this list, not the run
        raise ParseError(f"{where}: not JSON that can be read: nested too deeply") from None
    items = _at(data, options.records)
    if not isinstance(items, list):
        found = "nothing" if items is None else type(items).__name__
        raise ParseError(f"{where}: records path {options.records or '(the document)'!r} holds {found}, not an array of records")
    zone = ZoneInfo(options.timezone)
    records: list[Record] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ParseError(f"{where}: record {number} at {options.records or '(the document)'!r} is not an object")
        cells = {column: without_surrogates(_cell(_at(item, path), zone)) for column, path in options.fields.items()}
        records.append(Record(cells, f"record {number}"))
    return ParsedList(columns=list(options.fields), records=records)


def _at(data: Any, path: str) -> Any:
    """The value at a dotted path (``metadata.total``, ``items.0.name``); None where it leads nowhere."""
    for step in path.split(".") if path else ():
        if isinstance(data, dict):
            data = data.get(step)
        elif isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        else:
            return None
    return data


def _cell(value: Any, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _local(value, zone)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        return "、".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _local(text: str, zone: ZoneInfo) -> str:
    """An ISO 8601 datetime with an offset, in ``zone``; any other text as it is."""
    if not _ISO.fullmatch(text) or len(text) <= 10:
        return text
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return moment.astimezone(zone).isoformat() if moment.tzinfo is not None else text


def _sniff(document: Document) -> bool:
    # A JSON list needs its ``fields`` configured, so ``format: auto`` never picks it.
    return False


register(ListFormat("json", "JSON API answer: records at a dotted path, fields by dotted path", JsonOptions, parse_json, _sniff, sniff_rank=90))
