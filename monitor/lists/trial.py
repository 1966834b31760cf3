"""A source tried, not run: what its next run would read, keyed and named, storing nothing.

``sesaku-monitor try`` shows how a list parses before its first run makes that the baseline:
a wrong ``key_columns`` or ``name_column`` is cheap to fix now and costs a ``sources rekey``
later. It goes through the run's own steps (``pipeline.fetch_source`` / ``parse_source`` /
``judge_source``, ``identity.make_entry``), minus the store: no baseline, so no conditional
GET and no comparison with a previous count, and no database is opened at all.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from monitor.config import Config, SourceConfig
from monitor.errors import FetchError, ParseError
from monitor.lists.columns import aliases_in_effect, apply_aliases
from monitor.lists.families import FoundLists, child_config
from monitor.lists.identity import KEY_SEPARATOR, ignored_columns, make_entry
from monitor.lists.parsers import Document
from monitor.lists.pipeline import Baseline, encoding_of, fetch_source, judge_source, parse_source
from monitor.lists.records import ParsedList
from monitor.lists.versioning import cited_urls, end_date_of
from monitor.secrets import scrub

__all__ = ["TrialRow", "Trial", "try_source", "identity_warnings"]

_NO_BASELINE = Baseline(etag=None, last_modified=None, blob_sha256=None, record_count=None, exists=False, last_status=None)


@dataclass(frozen=True, slots=True)
class TrialRow:
    """One measure as a run would key and name it."""

    key: str
    name: str
    urls: list[str]
    end_date: date | None
    end_text: str  # the end-date columns' text the date was read from


@dataclass(slots=True)
class Trial:
    """What one source's run would read. ``status``: ``ok`` (a run would store it), ``suspect``
    (a run would keep it aside: ``error`` says why) or ``failed`` (nothing could be read)."""

    id: str
    title: str
    url: str
    kind: str
    status: str = "ok"
    error: str | None = None
    count: int = 0
    columns: list[str] = field(default_factory=list)
    key_columns: list[str] = field(default_factory=list)
    name_column: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    encoding: str | None = None
    edition: str | None = None
    warnings: list[str] = field(default_factory=list)
    rows: list[TrialRow] = field(default_factory=list)
    lists: list[Trial] = field(default_factory=list)  # an index's: each list it would find, tried

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["lists"] = [found.as_dict() for found in self.lists]
        return scrub(data)


def try_source(config: Config, source: SourceConfig, rows: int) -> Trial:
    """Fetch and parse ``source`` as its next run would, and (an index) each list it finds."""
    trial = Trial(source.id, source.title, source.shown_url, source.kind, key_columns=list(source.key_columns), name_column=source.name_column)
    try:
        fetched = asyncio.run(fetch_source(config, source, _NO_BASELINE))
    except FetchError as exc:
        trial.status, trial.error = "failed", str(exc)
        return trial
    document = Document(body=fetched.body, url=fetched.url, content_type=fetched.content_type, max_bytes=config.http.max_bytes, encoding=source.encoding)
    try:
        parsed = parse_source(document, config, source)
    except ParseError as exc:
        trial.status, trial.error = "suspect", str(exc)
        return trial
    trial.encoding = encoding_of(document)
    if isinstance(parsed, ParsedList):  # as a run reads it, minus the renames only the store knows
        parsed = apply_aliases(parsed, aliases_in_effect(source.column_aliases, {}))
    trial.error = judge_source(parsed, config, source, _NO_BASELINE)
    trial.status = "suspect" if trial.error else "ok"
    if isinstance(parsed, FoundLists):
        trial.count, trial.warnings = len(parsed.links), list(parsed.warnings)
        trial.lists = [try_source(config, child_config(source, link), rows) for link in parsed.links]
    else:
        _read_list(trial, parsed, source, rows)
    return trial


def _read_list(trial: Trial, parsed: ParsedList, source: SourceConfig, rows: int) -> None:
    ignore = ignored_columns(source, parsed.columns, parsed.records)
    entries = [make_entry(record.cells, source, ignore) for record in parsed.records]
    trial.count, trial.columns, trial.ignored_columns = len(parsed.records), list(parsed.columns), ignore
    trial.edition = parsed.edition or None
    trial.warnings = [*parsed.warnings, *parsed.errors[1:], *identity_warnings([entry.key for entry in entries], [entry.name for entry in entries], source)]
    trial.rows = [
        TrialRow(entry.key, entry.name, cited_urls(source, record), end_date_of(source, record),
                 " / ".join(text for column in source.end_date_columns if (text := record.cells.get(column, "").strip())))
        for record, entry in zip(parsed.records[:rows], entries, strict=False)
    ]


def identity_warnings(keys: list[str], names: list[str], source: SourceConfig) -> list[str]:
    """What makes a poor key or name: keys shared by several rows (paired in list order, so a
    reordered list reads as changes), empty keys, empty names (pure)."""
    warnings = []
    shared = {key: count for key, count in Counter(keys).items() if count > 1}
    if shared:
        example = max(shared, key=lambda key: shared[key])
        warnings.append(f"{sum(shared.values())} of {len(keys)} rows share a key with another row (e.g. {example!r} × {shared[example]}): "
                        f"key_columns {list(source.key_columns)} does not tell these measures apart")
    empty = sum(1 for key in keys if not key.replace(KEY_SEPARATOR, "").strip())
    if empty:
        warnings.append(f"{empty} rows have an empty key (key_columns {list(source.key_columns)})")
    nameless = names.count("")
    if nameless:
        warnings.append(f"{nameless} rows have an empty name (name_column {source.name_column!r})")
    return warnings
