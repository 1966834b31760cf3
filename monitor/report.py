"""The run report (DESIGN.md "The run report"): what ``check --json`` prints, as plain data.

A report never holds a secret: a source's error and warnings (which name the URL that
failed) and the lists found on an index are redacted as they are set, and the JSON forms
are redacted whole, so text, JSON and the job's recorded error all show ``${VAR}``.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from monitor.secrets import scrub

__all__ = ["MeasureChange", "SourceReport", "LinkEntry", "LinkReport", "NotifierReport", "RunReport", "new_run_id"]

# What a source's report says in its own words, as opposed to what the list says.
_ITS_OWN_WORDS = frozenset({"error", "warnings", "lists_added", "lists_removed"})


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass(slots=True)
class MeasureChange:
    measure_id: int
    key: str
    name: str
    # changed/renamed: column → {"old", "new"}; added: column → the published text
    fields: dict[str, dict[str, str]] | dict[str, str] | None = None
    old_name: str | None = None
    new_name: str | None = None
    end_date: str | None = None

    def as_dict(self) -> dict[str, Any]:
        # Shallow: a report is printed, never changed, and asdict deep-copied every change's fields
        # (a run of 3,500 changes: 0.08 s of CPU).
        values = {"measure_id": self.measure_id, "key": self.key, "name": self.name, "fields": self.fields,
                  "old_name": self.old_name, "new_name": self.new_name, "end_date": self.end_date}
        return {k: v for k, v in values.items() if v is not None}


@dataclass(slots=True)
class SourceReport:
    id: str
    status: str
    records: int | None = None
    error: str | None = None
    snapshot_id: int | None = None
    edition: str | None = None
    warnings: list[str] = field(default_factory=list)
    added: list[MeasureChange] = field(default_factory=list)
    ended: list[MeasureChange] = field(default_factory=list)
    changed: list[MeasureChange] = field(default_factory=list)
    renamed: list[MeasureChange] = field(default_factory=list)
    expired: list[MeasureChange] = field(default_factory=list)
    reappeared: list[MeasureChange] = field(default_factory=list)
    # An index source (kind: index): the lists that appeared on it or left it ({id, title, url}),
    # and the reports of its lists, which run_check lists after it as sources of their own.
    lists_added: list[dict[str, str]] = field(default_factory=list)
    lists_removed: list[dict[str, str]] = field(default_factory=list)
    # Columns the list published under a new header ({old_column, new_column, stored_as}).
    columns_renamed: list[dict[str, str]] = field(default_factory=list)
    lists: list["SourceReport"] = field(default_factory=list)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, scrub(value) if name in _ITS_OWN_WORDS else value)

    @property
    def ok(self) -> bool:
        return self.status not in ("failed", "suspect")

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "status": self.status, "records": self.records, "error": self.error,
            "snapshot_id": self.snapshot_id, "edition": self.edition, "warnings": self.warnings,
        }
        for kind in ("added", "ended", "changed", "renamed", "expired", "reappeared"):
            data[kind] = [change.as_dict() for change in getattr(self, kind)]
        data["lists_added"], data["lists_removed"] = self.lists_added, self.lists_removed
        data["columns_renamed"] = self.columns_renamed
        return scrub(data)


@dataclass(slots=True)
class LinkEntry:
    url: str
    outcome: str
    http_status: int | None
    final_url: str | None
    measures: list[int]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class LinkReport:
    checked: int = 0
    dead: list[LinkEntry] = field(default_factory=list)
    recovered: list[LinkEntry] = field(default_factory=list)
    moved: list[LinkEntry] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "dead": [e.as_dict() for e in self.dead],
            "recovered": [e.as_dict() for e in self.recovered],
            "moved": [e.as_dict() for e in self.moved],
        }


@dataclass(slots=True)
class NotifierReport:
    """What a run's digests did for one notifier: digests written, sent, failed sends, or why none."""

    id: str
    written: int = 0
    sent: int = 0
    failed: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "written": self.written, "sent": self.sent, "failed": self.failed, "error": self.error}


@dataclass(slots=True)
class RunReport:
    run_id: str
    started_at: datetime
    finished_at: datetime | None = None
    sources: list[SourceReport] = field(default_factory=list)
    links: LinkReport = field(default_factory=LinkReport)
    notifiers: list[NotifierReport] | None = None  # None: digests were not sent (check --no-notify)

    @property
    def ok(self) -> bool:
        return all(source.ok for source in self.sources)

    def as_dict(self) -> dict[str, Any]:
        return scrub({
            "run_id": self.run_id,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "sources": [source.as_dict() for source in self.sources],
            "links": self.links.as_dict(),
            "notifiers": None if self.notifiers is None else [n.as_dict() for n in self.notifiers],
        })
