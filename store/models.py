"""The versioned schema: plain, typed tables that any SQL tool can open.

Every list fetch is a ``snapshots`` row; every distinct content of a measure is a
``measure_versions`` row valid from one snapshot until another; everything a person or a
notifier is told is an ``events`` row. Times are stored in UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, FetchedValue, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from store.types import UTCDateTime

__all__ = [
    "Base", "Source", "Blob", "Snapshot", "Measure", "MeasureVersion", "Link", "LinkCheck", "MeasureLink",
    "Event", "Delivery", "NotifierCursor", "JobState", "RunLock", "UTCDateTime",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Source(Base):
    __tablename__ = "sources"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(40))
    parent_id: Mapped[str | None] = mapped_column(String(120), ForeignKey("sources.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # `sources rebaseline`: the next good run stores a fresh baseline (migration 0007).
    rebaseline_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The newest snapshot of it (newest fetched_at, then id), written by the database's trigger on
    # `snapshots` (migration 0017), never by our code: status reads every source's newest run from it.
    newest_snapshot_id: Mapped[int | None] = mapped_column(Integer)


class Blob(Base):
    """Raw bytes, content-addressed; fetched lists and page snapshots share this table."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    compression: Mapped[str] = mapped_column(String(16))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Snapshot(Base):
    __tablename__ = "snapshots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))
    http_status: Mapped[int | None] = mapped_column(Integer)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(Text)
    encoding: Mapped[str | None] = mapped_column(String(40))
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    record_count: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text)
    edition: Mapped[str | None] = mapped_column(Text)
    as_of: Mapped[date | None] = mapped_column(Date)
    error: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[str] | None] = mapped_column(JSON)
    # store.listing: the rows in published order (a blob's sha256; no foreign key, which SQLite cannot add to a table)
    listing_sha256: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (Index("ix_snapshots_source_fetched", "source_id", "fetched_at"),)


class Measure(Base):
    __tablename__ = "measures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    key: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    first_seen_snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id"))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expired_end_date: Mapped[date | None] = mapped_column(Date)
    __table_args__ = (Index("ix_measures_source_ended", "source_id", "ended_at"),)


class MeasureVersion(Base):
    __tablename__ = "measure_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id"))
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    published_digest: Mapped[bytes | None] = mapped_column(LargeBinary)  # the row's text as published (0013)
    name: Mapped[str] = mapped_column(Text)
    end_date: Mapped[date | None] = mapped_column(Date)
    valid_from_snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id"))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to_snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (
        Index("ix_measure_versions_measure_from", "measure_id", "valid_from"),
        Index("ix_measure_versions_source_span", "source_id", "valid_from", "valid_to", "measure_id", "content_hash"),  # store.compare (0012)
        Index("ix_measure_versions_source_open", "source_id", "valid_to"),
        Index("ix_measure_versions_name_prefix", text("substr(name, 1, 200)")),  # store.siblings (0010)
        # The versions listed now (store.current.listed_now): partial, WHERE valid_to_snapshot_id IS NULL, as
        # migration 0015 makes it. Not said here: a backend's `<name>_where` loads that backend's dialect into
        # every process that imports the models (PostgreSQL's: 20-30 ms of CPU in a SQLite `check`).
        Index("ix_measure_versions_listed", "source_id", "measure_id", "id", "published_digest", "valid_to_snapshot_id"),
    )


class Link(Base):
    __tablename__ = "links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    host: Mapped[str] = mapped_column(Text, index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cited: Mapped[bool] = mapped_column(Boolean, default=True)
    outcome: Mapped[str | None] = mapped_column(String(20))
    http_status: Mapped[int | None] = mapped_column(Integer)
    final_url: Mapped[str | None] = mapped_column(Text)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moved_to: Mapped[str | None] = mapped_column(Text)
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # ix_links_due_host: what is due, and on which hosts, from the index alone (migration 0011);
    # ix_links_unwell: the failing and the dead, that status counts (0014), a few percent of the links: partial,
    # WHERE consecutive_failures > 0 OR dead_since IS NOT NULL, in the migration (not here: see ix_measure_versions_listed).
    __table_args__ = (Index("ix_links_due_host", "cited", "next_check_at", "host"), Index("ix_links_dead_since", "dead_since"),
                      Index("ix_links_unwell", "cited", "dead_since"))


class LinkCheck(Base):
    __tablename__ = "link_checks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("links.id"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(20))
    http_status: Mapped[int | None] = mapped_column(Integer)
    final_url: Mapped[str | None] = mapped_column(Text)
    redirect_chain: Mapped[list[Any] | None] = mapped_column(JSON)
    elapsed_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    body_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    __table_args__ = (Index("ix_link_checks_link_checked", "link_id", "checked_at"), Index("ix_link_checks_checked", "checked_at"))


class LinkRepair(Base):
    """A checked suggestion of what to write instead of a dead or moved link (rank 0 is the best)."""

    __tablename__ = "link_repairs"
    link_id: Mapped[int] = mapped_column(ForeignKey("links.id"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(20))  # monitor.links.repair.Reason
    detail: Mapped[str] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))  # of the live check; None for a snapshot
    http_status: Mapped[int | None] = mapped_column(Integer)
    text_sha256: Mapped[str | None] = mapped_column(String(64))  # a snapshot's visible text (a blob)


class MeasureLink(Base):
    __tablename__ = "measure_links"
    measure_version_id: Mapped[int] = mapped_column(ForeignKey("measure_versions.id"), primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("links.id"), primary_key=True, index=True)


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(30))
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id"))
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))
    measure_id: Mapped[int | None] = mapped_column(ForeignKey("measures.id"))
    link_id: Mapped[int | None] = mapped_column(ForeignKey("links.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The writing transaction's id, set by the database (migration 0006): digests read in (xid, id) order.
    xid: Mapped[int] = mapped_column(BigInteger, server_default=FetchedValue())
    __table_args__ = (
        Index("ix_events_created", "created_at"),
        Index("ix_events_source_created", "source_id", "created_at"),
        Index("ix_events_kind_created", "kind", "created_at"),
        Index("ix_events_measure_kind", "measure_id", "kind", "created_at"),  # store.compare (0012)
        Index("ix_events_link", "link_id"),
        Index("ix_events_xid_id", "xid", "id"),
    )


class NotifierCursor(Base):
    """The last event id each notifier has put into a delivery."""

    __tablename__ = "notifier_cursors"
    notifier_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    last_event_xid: Mapped[int] = mapped_column(BigInteger, default=0)  # the cursor is (xid, id): store/outbox.py
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Delivery(Base):
    """The outbox: one digest for one notifier, written with the cursor move, then sent."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notifier_id: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))
    first_event_id: Mapped[int | None] = mapped_column(Integer)
    last_event_id: Mapped[int | None] = mapped_column(Integer)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    __table_args__ = (Index("ix_deliveries_status_next", "status", "next_attempt_at"), Index("ix_deliveries_notifier", "notifier_id", "created_at"))


class JobState(Base):
    """When each scheduled job last started and last succeeded, for catch-up after a restart."""

    __tablename__ = "job_state"
    job_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RunLock(Base):
    """A lease on a unit of work (a source, a host, a notifier) so two runners never overlap."""

    __tablename__ = "run_locks"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
