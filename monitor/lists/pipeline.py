"""Run one source: fetch → parse → guard → match → diff → store, in one transaction.

``run_source`` is one of the three units of work (DESIGN.md): a plain function of the
configuration, a session factory and ``now``, safe to run again after a crash, since its
writes are one transaction and the network is done before the transaction begins.

An index (``kind: index``, ``monitor.lists.families``) is a source whose parse yields lists
instead of records: it is fetched, kept as a snapshot, judged, and is failed, suspect or
recovered by the same code as a list. A good parse of it moves the family; then every list
it yields (while it is in trouble: the lists of its last good run) is run as a source of its
own, and their reports go in ``report.lists``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from store.blobs import put_blob, sha256_of
from store.database import SessionFactory, transaction
from store.links import refresh_cited
from store.models import Event, Snapshot, Source
from store.queries import last_good_snapshot, last_snapshot

from monitor.config import Config, SourceConfig
from monitor.lists.encoding import decode_text
from monitor.errors import FetchError, ParseError
from monitor.events import ColumnRenamed, EventKind, SourceFailed, SourceRecovered, SourceSuspect
from monitor.lists.column_renames import announce_renames, settle_columns
from monitor.lists.editions import settle_edition
from monitor.lists.families import FoundLists, ListLink, apply_index, child_config, current_lists, judge_index, read_index
from monitor.lists.fetch import Fetched, fetch_document, trust_of
from monitor.gcpause import paused_gc
from monitor.lists.guard import judge_list
from monitor.lists.json_requests import fetch_requests, merge_requests, requests_of
from monitor.lists.pagination import fetch_pages, parse_pages
from monitor.lists.parsers import Document, parse_document
from monitor.lists.records import ParsedList
from monitor.report import SourceReport
from monitor.lists.versioning import apply_list, report_expiries, source_event

__all__ = ["run_source", "Baseline", "fetch_source", "parse_source", "judge_source", "encoding_of"]

log = logging.getLogger("sesaku_monitor.pipeline")

# What a source's parse yields: a list's records, or the lists an index links.
Parsed = ParsedList | FoundLists
# A stored run: the source's report, and the lists it yields to be run after it.
Stored = tuple[SourceReport, list[ListLink]]


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the last run left that this one needs before it fetches."""

    etag: str | None
    last_modified: str | None
    blob_sha256: str | None
    record_count: int | None
    exists: bool
    last_status: str | None
    lists: tuple[ListLink, ...] = ()  # an index's: what its last good run found on it
    fresh: bool = False  # `sources rebaseline`: the last good snapshot is set aside, this run is a baseline
    retired: bool = False  # `sources retire`: kept, not run


def _baseline(session: Session, source: SourceConfig, now: datetime) -> Baseline:
    index = source.is_index
    # An index's own format setting is its lists' (child_config): its row says what it is.
    kept_as = "index" if index else source.format
    row = session.get(Source, source.id)
    if row is None:
        session.add(Source(id=source.id, title=source.title, url=source.shown_url, format=kept_as, created_at=now))
    else:
        row.title, row.url, row.format = source.title, source.shown_url, kept_as
    fresh = row is not None and row.rebaseline_requested_at is not None
    good = None if fresh else last_good_snapshot(session, source.id)
    last = last_snapshot(session, source.id)
    return Baseline(
        etag=good.etag if good else None,
        last_modified=good.last_modified if good else None,
        blob_sha256=good.blob_sha256 if good else None,
        record_count=good.record_count if good else None,
        exists=good is not None,
        last_status=last.status if last else None,
        lists=tuple(current_lists(session, source.id)) if index else (),
        fresh=fresh, retired=row is not None and row.retired_at is not None,
    )


def run_source(config: Config, source: SourceConfig, sessions: SessionFactory, now: datetime) -> SourceReport:
    """Fetch and store one source, then the lists it yields (an index's); never raises for a problem of the list itself."""
    with transaction(sessions) as session:
        baseline = _baseline(session, source, now)
    if baseline.retired:
        return SourceReport(id=source.id, status="retired", error="retired by `sources retire`; kept, not run (`sources unretire` runs it again)")
    try:
        fetched = asyncio.run(_fetch(config, source, baseline))
    except FetchError as exc:
        report, lists = _record_failure(sessions, config, source, now, str(exc)), list(baseline.lists)
    else:
        with transaction(sessions) as session, paused_gc():
            report, lists = _store(session, config, source, baseline, fetched, now)
    report.lists = [run_source(config, child_config(source, link), sessions, now) for link in lists]
    return report


async def _fetch(config: Config, source: SourceConfig, baseline: Baseline) -> Fetched:
    trust = trust_of(config, source)
    if source.is_index:
        # No conditional GET: which lists an index yields depends on the configuration too.
        return await fetch_document(source.url, config.http, trust=trust)
    if requests_of(source):
        return await fetch_requests(source, config.http, trust=trust)
    if source.pagination is not None:
        return await fetch_pages(source.url, config.http, source.pagination, trust=trust)
    return await fetch_document(source.url, config.http, trust=trust, etag=baseline.etag, last_modified=baseline.last_modified)


def _record_failure(sessions: SessionFactory, config: Config, source: SourceConfig, now: datetime, error: str) -> SourceReport:
    log.warning("source %s failed: %s", source.id, error)
    alert_after = config.guard.alert_after_failures
    with transaction(sessions) as session:
        # The failed runs just before this one (up to alert_after): ``source_failed`` is written
        # once per run of failures, by the run that makes it ``alert_after`` long.
        recent = session.execute(
            select(Snapshot.status, Snapshot.fetched_at).where(Snapshot.source_id == source.id)
            .order_by(Snapshot.fetched_at.desc(), Snapshot.id.desc()).limit(alert_after)).all()
        streak = []
        for status, fetched_at in recent:
            if status != "failed":
                break
            streak.append(fetched_at)
        snapshot = Snapshot(source_id=source.id, fetched_at=now, status="failed", error=error)
        session.add(snapshot)
        session.flush()
        if len(streak) + 1 == alert_after:
            since = streak[-1] if streak else now
            since = since if since.tzinfo is not None else since.replace(tzinfo=now.tzinfo)
            source_event(session, source.id, snapshot, now, SourceFailed(error, since.isoformat()))
        return SourceReport(id=source.id, status="failed", error=error, snapshot_id=snapshot.id)


def _store(session: Session, config: Config, source: SourceConfig, baseline: Baseline, fetched: Fetched, now: datetime) -> Stored:
    snapshot = Snapshot(
        source_id=source.id, fetched_at=now, status="", http_status=fetched.status,
        etag=fetched.etag, last_modified=fetched.last_modified, content_type=fetched.content_type or None,
    )
    session.add(snapshot)
    digest = sha256_of(fetched.body)
    # An index is read again even when its bytes are the same (see _fetch).
    if source.kind == "list" and (fetched.not_modified or (baseline.exists and digest == baseline.blob_sha256)):
        snapshot.status = "not_modified" if fetched.not_modified else "unchanged"
        snapshot.blob_sha256 = None if fetched.not_modified else baseline.blob_sha256
        snapshot.record_count = baseline.record_count
        return _finish_good(session, config, source, baseline, snapshot, now), []
    snapshot.blob_sha256 = put_blob(session, fetched.body, now, digest=digest)
    document = Document(body=fetched.body, url=fetched.url, content_type=fetched.content_type, max_bytes=config.http.max_bytes, encoding=source.encoding)
    try:
        parsed = _parse(document, config, source)
        snapshot.encoding = _encoding_of(document, parsed)
    except ParseError as exc:
        return _suspect(session, source, baseline, snapshot, now, str(exc)), list(baseline.lists)
    renames: list[ColumnRenamed] = []
    if isinstance(parsed, ParsedList):
        # Before the guard: a configured column the list renamed is not missing.
        settled = settle_columns(session, source, parsed, detect=baseline.exists)
        source, parsed, renames = settled.source, settled.parsed, settled.renames
    problem = _judge(parsed, config, source, baseline)
    if problem:
        snapshot.record_count = _count(parsed)
        return _suspect(session, source, baseline, snapshot, now, problem), list(baseline.lists)
    if isinstance(parsed, FoundLists):
        return _apply_index(session, config, source, baseline, snapshot, parsed, now), parsed.links
    report = _apply(session, config, source, baseline, snapshot, parsed, now)
    announce_renames(session, source.id, snapshot, now, renames, report)
    return report, []


def _parse(document: Document, config: Config, source: SourceConfig) -> Parsed:
    if source.is_index:
        return read_index(document, config, source)
    if requests_of(source):
        return merge_requests(document, source)
    if source.pagination is not None:
        return parse_pages(document, source)
    return parse_document(document, source.format, source.options)


def _judge(parsed: Parsed, config: Config, source: SourceConfig, baseline: Baseline) -> str | None:
    if isinstance(parsed, FoundLists):
        return judge_index(parsed.links, baseline.lists, source, config.guard)
    return judge_list(parsed, source, config.guard, baseline.record_count)


def _count(parsed: Parsed) -> int:
    return len(parsed.links) if isinstance(parsed, FoundLists) else len(parsed.records)


def _encoding_of(document: Document, parsed: Parsed | None = None) -> str | None:
    # The parser read the body already (a 35 MB list is not decoded again); a list merged from
    # pages or answers was read page by page, so its document is read here.
    if isinstance(parsed, ParsedList) and parsed.encoding is not None:
        return parsed.encoding
    if document.body[:4] in (b"%PDF", b"PK\x03\x04"):
        return None
    try:
        return decode_text(document.body, document.content_type, encoding=document.encoding)[1]
    except ParseError:
        return None


def _apply(session: Session, config: Config, source: SourceConfig, baseline: Baseline, snapshot: Snapshot, parsed: ParsedList, now: datetime) -> SourceReport:
    snapshot.status = "changed" if baseline.exists else "baseline"
    snapshot.record_count = len(parsed.records)
    snapshot.title, snapshot.edition, snapshot.as_of = parsed.title or None, parsed.edition or None, parsed.as_of
    snapshot.warnings = parsed.warnings or None
    session.flush()
    report = SourceReport(id=source.id, status=snapshot.status, records=len(parsed.records), snapshot_id=snapshot.id, edition=parsed.edition or None, warnings=parsed.warnings)
    apply_list(session, source, parsed, snapshot, now, report, baseline=not baseline.exists)
    refresh_cited(session, snapshot)
    if baseline.exists and not (report.added or report.ended or report.changed or report.renamed or report.reappeared):
        snapshot.status = report.status = "unchanged"
    return _finish_good(session, config, source, baseline, snapshot, now, report)


def _apply_index(session: Session, config: Config, source: SourceConfig, baseline: Baseline, snapshot: Snapshot, found: FoundLists, now: datetime) -> SourceReport:
    snapshot.status = "changed" if baseline.exists else "baseline"
    snapshot.record_count = len(found.links)
    snapshot.warnings = found.warnings or None
    session.flush()
    report = SourceReport(id=source.id, status=snapshot.status, records=len(found.links), snapshot_id=snapshot.id, warnings=found.warnings)
    apply_index(session, source, baseline.lists, found.links, snapshot, now, report, baseline=not baseline.exists)
    if baseline.exists and not (report.lists_added or report.lists_removed):
        snapshot.status = report.status = "unchanged"
    return _finish_good(session, config, source, baseline, snapshot, now, report)


def _trouble_was_told(session: Session, source_id: str) -> bool:
    """Whether the trouble now ending was announced: failures shorter than
    ``guard.alert_after_failures`` wrote no ``source_failed``, so their end is no news either."""
    last = session.scalar(select(Event.kind).where(
        Event.source_id == source_id,
        Event.kind.in_((EventKind.SOURCE_FAILED, EventKind.SOURCE_SUSPECT, EventKind.SOURCE_RECOVERED)),
    ).order_by(Event.id.desc()).limit(1))
    return last in (EventKind.SOURCE_FAILED, EventKind.SOURCE_SUSPECT)


def _finish_good(session: Session, config: Config, source: SourceConfig, baseline: Baseline, snapshot: Snapshot, now: datetime, report: SourceReport | None = None) -> SourceReport:
    session.flush()
    if report is None:
        report = SourceReport(id=source.id, status=snapshot.status, records=snapshot.record_count, snapshot_id=snapshot.id)
    settle_edition(session, snapshot, report, config.tz)
    if baseline.fresh:
        session.execute(update(Source).where(Source.id == source.id).values(rebaseline_requested_at=None))
    if baseline.last_status in ("failed", "suspect") and _trouble_was_told(session, source.id):
        source_event(session, source.id, snapshot, now, SourceRecovered(baseline.last_status))
    report_expiries(session, source, snapshot, now, now.astimezone(config.tz).date(), report, baseline=not baseline.exists)
    log.debug("source %s: %s, %s records", source.id, report.status, report.records)  # the job line says it for people
    return report


# What `sesaku-monitor try` runs without a store (monitor/lists/trial.py): a run's own fetch, parse and guard.
fetch_source, parse_source, judge_source, encoding_of = _fetch, _parse, _judge, _encoding_of


def _suspect(session: Session, source: SourceConfig, baseline: Baseline, snapshot: Snapshot, now: datetime, error: str) -> SourceReport:
    log.warning("source %s suspect: %s", source.id, error)
    snapshot.status = "suspect"
    snapshot.error = error
    session.flush()
    if baseline.last_status != "suspect":
        source_event(session, source.id, snapshot, now, SourceSuspect(error))
    return SourceReport(id=source.id, status="suspect", error=error, records=snapshot.record_count, snapshot_id=snapshot.id)
