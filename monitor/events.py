"""The one vocabulary of events: every kind, and one typed payload per kind.

An ``events`` row is a kind and a JSON payload. Writers (the list pipeline, the link
recorder) build a payload class below and store ``to_payload()``; readers (digest, web
view, feeds, CLI) get the same class back from :func:`read_payload`. The kind strings and
the payload keys are what the database already holds, so both are frozen: a new field gets
a new key, never a renamed one.

Payloads quote lists and pages from the internet, and old rows may lack a key, so reading
never fails: a missing key or a value of the wrong shape reads as empty (``""``, ``None``,
no entries). ``KINDS`` is also the order a digest shows them in: source health first (a
failing source explains a quiet digest), then measures, then links.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

__all__ = [
    "KINDS", "LINK_KINDS", "MEASURE_KINDS", "SOURCE_KINDS", "Added", "ChangedFields", "CitingMeasure", "EditionChanged",
    "ColumnRenamed", "Ended", "EventKind", "EventView", "Expired", "FieldChange", "LinkDead", "LinkMoved", "LinkOutcome", "LinkRecovered",
    "LinksOutage", "ListAdded", "ListRemoved", "MeasurePayload", "PageChanged", "Payload", "Reappeared", "Rekeyed", "Renamed", "SourceFailed",
    "SourceRecovered", "SourceSuspect", "Unknown", "read_payload",
]


class EventKind(StrEnum):
    """What happened; the values are the ``events.kind`` strings as stored."""

    SOURCE_FAILED = "source_failed"
    SOURCE_SUSPECT = "source_suspect"
    SOURCE_RECOVERED = "source_recovered"
    EDITION_CHANGED = "edition_changed"
    LIST_ADDED = "list_added"
    LIST_REMOVED = "list_removed"
    COLUMN_RENAMED = "column_renamed"
    REKEYED = "rekeyed"
    ADDED = "added"
    ENDED = "ended"
    EXPIRED = "expired"
    RENAMED = "renamed"
    CHANGED = "changed"
    REAPPEARED = "reappeared"
    LINKS_OUTAGE = "links_outage"
    LINK_DEAD = "link_dead"
    LINK_MOVED = "link_moved"
    LINK_RECOVERED = "link_recovered"
    PAGE_CHANGED = "page_changed"


K = EventKind
SOURCE_KINDS = (K.SOURCE_FAILED, K.SOURCE_SUSPECT, K.SOURCE_RECOVERED, K.EDITION_CHANGED, K.LIST_ADDED, K.LIST_REMOVED, K.COLUMN_RENAMED, K.REKEYED)
MEASURE_KINDS = (K.ADDED, K.ENDED, K.EXPIRED, K.RENAMED, K.CHANGED, K.REAPPEARED)
# An outage of our own first: it explains the links that could not be checked.
LINK_KINDS = (K.LINKS_OUTAGE, K.LINK_DEAD, K.LINK_MOVED, K.LINK_RECOVERED, K.PAGE_CHANGED)
KINDS = SOURCE_KINDS + MEASURE_KINDS + LINK_KINDS


class LinkOutcome(StrEnum):
    """The outcome of one check of one URL (DESIGN.md, "Link outcomes")."""

    OK = "ok"
    REDIRECTED = "redirected"      # ended, after redirects, at a real page
    MOVED_TO_TOP = "moved_to_top"  # a deep URL redirected to the site's top page
    SOFT_404 = "soft_404"          # 200, but the page says it does not exist
    NOT_FOUND = "not_found"        # 404, 410
    GONE_HOST = "gone_host"        # DNS failure, connection refused, TLS failure
    BLOCKED = "blocked"            # 401, 403, 429 (and 451)
    ERROR = "error"                # timeout, 5xx, redirect loop, other 4xx
    INVALID = "invalid"            # unparseable or not http(s)
    REFUSED = "refused"            # resolves to an address the policy forbids


# --- reading untrusted JSON ---------------------------------------------------------------


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    return "" if value is None or isinstance(value, (dict, list)) else str(value)


def _optional(raw: Mapping[str, Any], key: str) -> str | None:
    return _text(raw, key) or None


def _number(raw: Mapping[str, Any], key: str) -> int | None:
    value = raw.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mapping(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key)
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One column's published text before and after, as the pipeline decided it changed."""

    old: str
    new: str

    def to_payload(self) -> dict[str, str]:
        return {"old": self.old, "new": self.new}


@dataclass(frozen=True, slots=True)
class CitingMeasure:
    """A measure whose current version cites a link, when the link's event was written."""

    id: int | None
    name: str
    source_id: str | None

    def to_payload(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "source_id": self.source_id}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> CitingMeasure:
        return cls(_number(raw, "id"), _text(raw, "name"), _optional(raw, "source_id"))


def _citing(raw: Mapping[str, Any]) -> tuple[CitingMeasure, ...]:
    found = raw.get("measures")
    return tuple(CitingMeasure.from_payload(m) for m in found if isinstance(m, Mapping)) if isinstance(found, list) else ()


# --- payloads -----------------------------------------------------------------------------


class Payload:
    """The base of every payload: ``kind`` names the event it belongs to."""

    __slots__ = ()
    kind: ClassVar[EventKind]

    def to_payload(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> Payload:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class SourceFailed(Payload):
    kind = K.SOURCE_FAILED
    error: str
    since: str | None = None  # ISO time of the first failure of this run of failures

    def to_payload(self) -> dict[str, Any]:
        return {"error": self.error, "since": self.since}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> SourceFailed:
        return cls(_text(raw, "error"), _optional(raw, "since"))


@dataclass(frozen=True, slots=True)
class SourceSuspect(Payload):
    kind = K.SOURCE_SUSPECT
    error: str

    def to_payload(self) -> dict[str, Any]:
        return {"error": self.error}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> SourceSuspect:
        return cls(_text(raw, "error"))


@dataclass(frozen=True, slots=True)
class SourceRecovered(Payload):
    kind = K.SOURCE_RECOVERED
    after: str | None  # the status it recovered from: failed or suspect

    def to_payload(self) -> dict[str, Any]:
        return {"after": self.after}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> SourceRecovered:
        return cls(_optional(raw, "after"))


@dataclass(frozen=True, slots=True)
class EditionChanged(Payload):
    kind = K.EDITION_CHANGED
    old_edition: str | None
    new_edition: str | None
    as_of: str | None = None  # ISO date the new edition says it is "as of"

    def to_payload(self) -> dict[str, Any]:
        return {"old_edition": self.old_edition, "new_edition": self.new_edition, "as_of": self.as_of}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> EditionChanged:
        return cls(_optional(raw, "old_edition"), _optional(raw, "new_edition"), _optional(raw, "as_of"))


@dataclass(frozen=True, slots=True)
class ListAdded(Payload):
    """A list found on an index page (``list_removed``: gone from it)."""

    kind = K.LIST_ADDED
    list_id: str
    title: str
    url: str

    def to_payload(self) -> dict[str, Any]:
        return {"list_id": self.list_id, "title": self.title, "url": self.url}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> ListAdded:
        return cls(_text(raw, "list_id"), _text(raw, "title"), _text(raw, "url"))


@dataclass(frozen=True, slots=True)
class ListRemoved(ListAdded):
    kind = K.LIST_REMOVED


@dataclass(frozen=True, slots=True)
class Rekeyed(Payload):
    """`sources rekey`: the source's measures were given the keys and names of the current
    key_columns / name_column; their history is kept (a note, not a change of the list)."""

    kind = K.REKEYED
    measures: int | None
    keys_changed: int | None
    names_changed: int | None
    key_columns: str  # as configured now, joined with " + "
    name_column: str
    unpaired: int | None = None  # listed measures not found in the last good snapshot as parsed now (None: an older note)

    def to_payload(self) -> dict[str, Any]:
        return {"measures": self.measures, "keys_changed": self.keys_changed, "names_changed": self.names_changed,
                "key_columns": self.key_columns, "name_column": self.name_column, "unpaired": self.unpaired}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> Rekeyed:
        return cls(_number(raw, "measures"), _number(raw, "keys_changed"), _number(raw, "names_changed"),
                   _text(raw, "key_columns"), _text(raw, "name_column"), _number(raw, "unpaired"))


@dataclass(frozen=True, slots=True)
class ColumnRenamed(Payload):
    """A column published under a new header; its values read as ``stored_as``: no measure changed."""
    kind = K.COLUMN_RENAMED
    old_column: str
    new_column: str
    stored_as: str

    def to_payload(self) -> dict[str, Any]:
        return {"old_column": self.old_column, "new_column": self.new_column, "stored_as": self.stored_as}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> ColumnRenamed:
        return cls(_text(raw, "old_column"), _text(raw, "new_column"), _text(raw, "stored_as"))


@dataclass(frozen=True, slots=True)
class MeasurePayload(Payload):
    """What every measure event names: the measure, its key and its name (``ended``)."""

    kind = K.ENDED
    measure_id: int | None
    key: str
    name: str

    def to_payload(self) -> dict[str, Any]:
        return {"measure_id": self.measure_id, "key": self.key, "name": self.name}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> MeasurePayload:
        return cls(_number(raw, "measure_id"), _text(raw, "key"), _text(raw, "name"))


@dataclass(frozen=True, slots=True)
class Ended(MeasurePayload):
    kind = K.ENDED
    # The last version's cells (empty ones left out): whom to ask and where it was, once it is
    # gone. Events written before it was stored have none, and are written back without it.
    fields: dict[str, str] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        return {**MeasurePayload.to_payload(self), **({"fields": dict(self.fields)} if self.fields else {})}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> Ended:
        cells = _mapping(raw, "fields")
        return cls(_number(raw, "measure_id"), _text(raw, "key"), _text(raw, "name"), {str(c): _text(cells, c) for c in cells})


@dataclass(frozen=True, slots=True)
class Added(MeasurePayload):
    kind = K.ADDED
    fields: dict[str, str] = field(default_factory=dict)  # column → published text, empty cells left out

    def to_payload(self) -> dict[str, Any]:
        return {**MeasurePayload.to_payload(self), "fields": dict(self.fields)}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> Added:
        cells = _mapping(raw, "fields")
        return cls(_number(raw, "measure_id"), _text(raw, "key"), _text(raw, "name"), {str(c): _text(cells, c) for c in cells})


@dataclass(frozen=True, slots=True)
class Expired(MeasurePayload):
    kind = K.EXPIRED
    end_date: str = ""  # ISO date

    def to_payload(self) -> dict[str, Any]:
        return {**MeasurePayload.to_payload(self), "end_date": self.end_date}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> Expired:
        return cls(_number(raw, "measure_id"), _text(raw, "key"), _text(raw, "name"), _text(raw, "end_date"))


def _changes(raw: Mapping[str, Any]) -> dict[str, FieldChange]:
    found = _mapping(raw, "fields")
    return {str(c): FieldChange(_text(v, "old"), _text(v, "new")) for c, v in found.items() if isinstance(v, Mapping)}


@dataclass(frozen=True, slots=True)
class ChangedFields(MeasurePayload):
    """``changed``: the columns whose meaning changed (monitor.lists.diff decided it)."""

    kind = K.CHANGED
    fields: dict[str, FieldChange] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        return {**MeasurePayload.to_payload(self), "fields": {c: f.to_payload() for c, f in self.fields.items()}}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> ChangedFields:
        return cls(_number(raw, "measure_id"), _text(raw, "key"), _text(raw, "name"), _changes(raw))


@dataclass(frozen=True, slots=True)
class Reappeared(ChangedFields):
    """An ended measure listed again (by key, or by likeness: reappear_within_days); ``fields``: what differs."""
    kind = K.REAPPEARED


@dataclass(frozen=True, slots=True)
class Renamed(ChangedFields):
    kind = K.RENAMED
    old_name: str = ""
    new_name: str = ""

    def to_payload(self) -> dict[str, Any]:
        return {**ChangedFields.to_payload(self), "old_name": self.old_name, "new_name": self.new_name}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> Renamed:
        return cls(_number(raw, "measure_id"), _text(raw, "key"), _text(raw, "name"), _changes(raw),
                   _text(raw, "old_name"), _text(raw, "new_name") or _text(raw, "name"))


@dataclass(frozen=True, slots=True)
class LinkDead(Payload):
    kind = K.LINK_DEAD
    url: str
    outcome: str
    http_status: int | None
    since: str | None  # ISO time of the first failing check
    measures: tuple[CitingMeasure, ...] = ()

    def to_payload(self) -> dict[str, Any]:
        return {"url": self.url, "outcome": self.outcome, "http_status": self.http_status, "since": self.since,
                "measures": [m.to_payload() for m in self.measures]}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> LinkDead:
        return cls(_text(raw, "url"), _text(raw, "outcome"), _number(raw, "http_status"), _optional(raw, "since"), _citing(raw))


@dataclass(frozen=True, slots=True)
class LinkRecovered(Payload):
    kind = K.LINK_RECOVERED
    url: str
    outcome: str
    http_status: int | None
    dead_since: str | None
    measures: tuple[CitingMeasure, ...] = ()

    def to_payload(self) -> dict[str, Any]:
        return {"url": self.url, "outcome": self.outcome, "http_status": self.http_status, "dead_since": self.dead_since,
                "measures": [m.to_payload() for m in self.measures]}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> LinkRecovered:
        return cls(_text(raw, "url"), _text(raw, "outcome"), _number(raw, "http_status"), _optional(raw, "dead_since"), _citing(raw))


@dataclass(frozen=True, slots=True)
class LinkMoved(Payload):
    kind = K.LINK_MOVED
    url: str
    final_url: str | None
    http_status: int | None  # the permanent redirect's own status (301, 308)
    measures: tuple[CitingMeasure, ...] = ()

    def to_payload(self) -> dict[str, Any]:
        return {"url": self.url, "final_url": self.final_url, "http_status": self.http_status,
                "measures": [m.to_payload() for m in self.measures]}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> LinkMoved:
        return cls(_text(raw, "url"), _optional(raw, "final_url"), _number(raw, "http_status"), _citing(raw))


@dataclass(frozen=True, slots=True)
class PageChanged(Payload):
    kind = K.PAGE_CHANGED
    url: str
    summary: str
    measures: tuple[CitingMeasure, ...] = ()

    def to_payload(self) -> dict[str, Any]:
        return {"url": self.url, "measures": [m.to_payload() for m in self.measures], "summary": self.summary}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> PageChanged:
        return cls(_text(raw, "url"), _text(raw, "summary"), _citing(raw))


@dataclass(frozen=True, slots=True)
class LinksOutage(Payload):
    """A link run whose failures were our network's, not the links' (none of them counted)."""

    kind = K.LINKS_OUTAGE
    failed_hosts: int | None   # hosts whose checks failed at the network level
    checked_hosts: int | None  # hosts checked in the run
    links: int | None          # the links whose failure was not counted
    error: str                 # one of the failures, for a person
    canary_url: str | None = None  # set when the configured canary failed too

    def to_payload(self) -> dict[str, Any]:
        return {"failed_hosts": self.failed_hosts, "checked_hosts": self.checked_hosts, "links": self.links,
                "error": self.error, "canary_url": self.canary_url}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> LinksOutage:
        return cls(_number(raw, "failed_hosts"), _number(raw, "checked_hosts"), _number(raw, "links"),
                   _text(raw, "error"), _optional(raw, "canary_url"))


@dataclass(frozen=True, slots=True)
class Unknown:
    """A row of a kind this version does not know (a newer one wrote it): read, never written."""

    kind: str
    raw: Mapping[str, Any] = field(default_factory=dict)


_PAYLOADS: dict[str, type[Payload]] = {
    cls.kind.value: cls
    for cls in (SourceFailed, SourceSuspect, SourceRecovered, EditionChanged, ListAdded, ListRemoved, ColumnRenamed, Rekeyed, Added, Ended,
                Expired, Renamed, ChangedFields, Reappeared, LinksOutage, LinkDead, LinkMoved, LinkRecovered, PageChanged)
}


def read_payload(kind: str, raw: object) -> Payload | Unknown:
    """The typed payload of an ``events`` row, whatever shape its JSON has."""
    found = raw if isinstance(raw, Mapping) else {}
    reader = _PAYLOADS.get(kind)
    return reader.from_payload(found) if reader is not None else Unknown(kind, found)


@dataclass(frozen=True, slots=True)
class EventView:
    """One event row: what happened (``kind``), where, and its kind-specific ``payload``.

    ``created_at`` must be timezone-aware: SQLite hands back naive datetimes, and a naive
    time shown to a user in Tokyo would be nine hours off without anyone noticing.
    """

    id: int
    kind: str
    created_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    source_id: str | None = None
    source_title: str | None = None
    measure_id: int | None = None
    link_id: int | None = None

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None or self.created_at.utcoffset() is None:
            raise ValueError(f"event {self.id}: created_at must be timezone-aware")

    @property
    def data(self) -> Payload | Unknown:
        return read_payload(self.kind, self.payload)
