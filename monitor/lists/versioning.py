"""Writing a good new version of a list: measures, versions, links cited, events.

Called inside the pipeline's one transaction, so a crash leaves either the whole new version
or nothing. Matching and diffing are pure (match.py, diff.py); this module only turns their
answers into rows, written in bulk (store.version_writes) from the plain rows the store gave
back: no measure or version of the list is built as an ORM object.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime
from itertools import islice
from typing import Any

from sqlalchemy.orm import Session

from store.batches import in_batches
from store.links import cite_links
from store.models import Event, Snapshot
from store.listing import put_listing
from store.current import Listed, current_rows_of, listed_now, stream_current_rows
from store.queries import CurrentRow, expiring_versions
from store.version_writes import bulk_versions, close_versions, end_measures, insert_rows, insert_versions, new_ids, rename_measures, set_published_digests

from monitor.lists.cells import extract_end_date, urls_in_cells
from monitor.lists.parsers.json_list import iso_day
from monitor.config import SourceConfig
from monitor.lists.diff import field_changes
from monitor.lists.identity import Entry, ignored_columns, make_entry, stored_entry, stored_fields
from monitor.lists.match import match_versions
from monitor.lists.citations import relinked
from monitor.lists.returning import Returning
from monitor.lists.records import ParsedList, Published, Record, normalize_cell, published_form
from monitor.events import Added, ChangedFields, Ended, Expired, FieldChange, MeasurePayload, Payload, Reappeared, Renamed
from monitor.report import MeasureChange, SourceReport

__all__ = ["apply_list", "report_expiries", "source_event", "cited_urls", "end_date_of"]

# New versions are written a thousand at a time: one executemany per table, and never a whole
# 100,000-row baseline's rows in memory at once.
_WRITE_BATCH = 1000


@dataclass(slots=True)
class _Context:
    session: Session
    source: SourceConfig
    snapshot: Snapshot
    now: datetime
    ignore: list[str]
    baseline: bool
    report: SourceReport
    returning: Returning | None = None  # loaded at the first addition
    events: list[dict[str, Any]] = field(default_factory=list)  # written once, in order, at the end
    # Ids of the versions and measures the list adds, taken at once (a query each, not one a batch).
    version_ids: Iterator[int] = field(default_factory=lambda: iter(()))
    measure_ids: Iterator[int] = field(default_factory=lambda: iter(()))
    # (version id, URLs) of the versions opened, not yet cited (_cite).
    citations: list[tuple[int, list[str]]] = field(default_factory=list)


def apply_list(session: Session, source: SourceConfig, parsed: ParsedList, snapshot: Snapshot, now: datetime, report: SourceReport, *, baseline: bool) -> None:
    """Match ``parsed`` against the current list and write what changed, and the list's published order."""
    ctx = _Context(session, source, snapshot, now, ignored_columns(source, parsed.columns, parsed.records), baseline, report)
    listed, published = _listed_now(session, source)
    header = tuple(parsed.columns)
    current: dict[int, CurrentRow] = {}  # the whole rows of the old rows not paired by their text

    def load_rows(left: list[int]) -> None:
        wanted = [o for o in left if o not in current]
        rows = current_rows_of(session, [listed.version_ids[o] for o in wanted])
        current.update((o, rows[listed.version_ids[o]]) for o in wanted)

    def old_entry(o: int) -> Entry:
        row = current[o]
        return stored_entry(row.key, row.name, row.fields, row.content_hash, source, ctx.ignore)

    digests = _published_digests(header, [record.published for record in parsed.records])
    matching = match_versions(
        published, digests,
        old_entry, lambda n: make_entry(parsed.records[n].cells, source, ctx.ignore), source.match_threshold, load_old=load_rows,
    )
    old_entries, new_entries = matching.old_entries, matching.new_entries
    # Rows published identically (matching.identical) cannot have changed.
    changed = [(o, n) for o, n in matching.pairs if old_entries[o].digest != new_entries[n].digest]
    # Same text, other links behind it: a new version all the same, so the new URLs are cited.
    same = [*matching.identical, *(pair for pair in matching.pairs if old_entries[pair[0]].digest == new_entries[pair[1]].digest)]
    relinks = relinked(session, same, parsed.records, lambda o: listed.version_ids[o], lambda record: cited_urls(source, record))
    relinked_entries = {n: make_entry(parsed.records[n].cells, source, ctx.ignore) for _, n in relinks}
    load_rows([o for o, _ in relinks])
    changed += relinks

    def new_row(n: int) -> tuple[Record, Entry, bytes]:
        record = parsed.records[n]
        entry = relinked_entries[n] if n in relinked_entries else new_entries[n]  # a baseline's: made now (match._EntriesWhenAsked)
        return record, entry, _stored_digest(record, header, digests[n])

    order = [0] * len(parsed.records)
    for o, n in (*matching.identical, *matching.pairs):
        order[n] = listed.measure_ids[o]
    ctx.version_ids = iter(new_ids(session, "measure_versions", len(changed) + len(matching.added)))
    # Measures listed again keep their ids: on PostgreSQL those few of these go unused.
    ctx.measure_ids = iter(new_ids(session, "measures", len(matching.added)))
    with bulk_versions(session, len(changed) + len(matching.ended) + len(matching.added)):
        for part in in_batches(changed, _WRITE_BATCH):
            _update(ctx, [(current[o], *new_row(n)) for o, n in part])
        for ended in in_batches(matching.ended, _WRITE_BATCH):
            _end(ctx, [current[o] for o in ended])
        for added in in_batches(matching.added, _WRITE_BATCH):
            for n, measure_id in zip(added, _add(ctx, [new_row(n) for n in added]), strict=True):
                order[n] = measure_id
        _cite(ctx)
    insert_rows(session, "events", ctx.events)
    put_listing(session, snapshot, order, {column: [record.cells.get(column, "") for record in parsed.records] for column in ctx.ignore}, now)


def _listed_now(session: Session, source: SourceConfig) -> tuple[Listed, list[bytes | None]]:
    """The current rows' ids, and each one's published digest: most rows pair by it alone,
    and only the rest are read whole (``load_rows``)."""
    if source.column_aliases:
        # A version stored under a column's old name is compared under its new one: from its fields.
        measure_ids: list[int] = []
        version_ids: list[int] = []
        digests: list[bytes | None] = []
        for row in stream_current_rows(session, source.id):
            measure_ids.append(row.measure_id)
            version_ids.append(row.version_id)
            digests.append(_fields_digest(stored_fields(row.fields, source)))
        return Listed(measure_ids, version_ids, digests), digests
    listed = listed_now(session, source.id)
    # Versions stored before digests were (migration 0013) get theirs, once.
    missing = [version_id for version_id, digest in zip(listed.version_ids, listed.digests) if digest is None]
    if not missing:
        return listed, listed.digests
    made = {version_id: _fields_digest(row.fields) for version_id, row in current_rows_of(session, missing).items()}
    set_published_digests(session, list(made.items()))
    return listed, [made[version_id] if digest is None else digest for version_id, digest in zip(listed.version_ids, listed.digests)]


@lru_cache(maxsize=64)
def _columns_digest(columns: tuple[str, ...]) -> hashlib.blake2b:
    return hashlib.blake2b(json.dumps(columns).encode() + b"\n", digest_size=16)


def _published_digest(columns: tuple[str, ...], published: Published) -> bytes:
    """A row's columns and text as published, in 16 bytes: equal exactly when both are (a
    tuple's form, a row with a tab in a cell, is told apart from any text)."""
    return _published_digests(columns, [published])[0]


def _published_digests(columns: tuple[str, ...], rows: list[Published]) -> list[bytes]:
    """:func:`_published_digest` of every row of a version, its columns looked up once."""
    start = _columns_digest(columns)
    digests = []
    for published in rows:
        digest = start.copy()
        digest.update(b"s" + published.encode() if isinstance(published, str) else b"t" + json.dumps(published).encode())
        digests.append(digest.digest())
    return digests


def _fields_digest(fields: Mapping[str, str]) -> bytes:
    """The published digest of a row stored with these fields (its text made again from them)."""
    return _published_digest(tuple(fields), published_form(fields.values()))


def _stored_digest(record: Record, header: tuple[str, ...], published: bytes) -> bytes:
    """The published digest a new version of ``record`` is stored with: the one its row was
    paired by (``published``) wherever its cells are the header's columns, as nearly always."""
    return published if tuple(record.cells) == header else _fields_digest(record.cells)


def _update(ctx: _Context, updates: list[tuple[CurrentRow, Record, Entry, bytes]]) -> None:
    """Changed measures: the current version closed, a new one opened, key and name as it has them.
    (A measure's name is its current version's, so the row's version name is the old one.)"""
    close_versions(ctx.session, [row.version_id for row, _, _, _ in updates], ctx.snapshot.id, ctx.now)
    _open_versions(ctx, [(row.measure_id, record, entry, digest) for row, record, entry, digest in updates])
    rename_measures(ctx.session, [(row.measure_id, entry.key, entry.name) for row, _, entry, _ in updates if (row.key, row.name) != (entry.key, entry.name)])
    for row, record, entry, _ in updates:
        fields = field_changes(stored_fields(row.fields, ctx.source), record.cells, ctx.ignore)
        if not fields:
            continue
        if normalize_cell(row.name) != normalize_cell(entry.name):
            change = MeasureChange(row.measure_id, entry.key, entry.name, fields=fields, old_name=row.name, new_name=entry.name)
            _event(ctx, Renamed(row.measure_id, entry.key, entry.name, _typed(fields), row.name, entry.name), change, ctx.report.renamed)
        else:
            change = MeasureChange(row.measure_id, entry.key, entry.name, fields=fields)
            _event(ctx, ChangedFields(row.measure_id, entry.key, entry.name, _typed(fields)), change, ctx.report.changed)


def _end(ctx: _Context, rows: list[CurrentRow]) -> None:
    close_versions(ctx.session, [row.version_id for row in rows], ctx.snapshot.id, ctx.now)
    end_measures(ctx.session, [row.measure_id for row in rows], ctx.snapshot.id, ctx.now)
    for row in rows:
        last = {str(column): str(value) for column, value in row.fields.items() if normalize_cell(str(value))}
        _event(ctx, Ended(row.measure_id, row.key, row.name, last), MeasureChange(row.measure_id, row.key, row.name), ctx.report.ended)


def _add(ctx: _Context, adds: list[tuple[Record, Entry, bytes]]) -> list[int]:
    """New measures, and ended ones listed again (``reappeared``: by key, or by likeness, monitor.lists.returning)."""
    if ctx.returning is None:
        ctx.returning = Returning(ctx.session, ctx.source, ctx.now, ctx.ignore)
    back = ctx.returning.take([entry for _, entry, _ in adds])
    ids = [next(ctx.measure_ids) if measure is None else measure.id for measure in back]
    insert_rows(ctx.session, "measures", [
        {"id": measure_id, "source_id": ctx.source.id, "key": entry.key, "name": entry.name,
         "first_seen_snapshot_id": ctx.snapshot.id, "first_seen_at": ctx.now}
        for measure_id, measure, (_, entry, _) in zip(ids, back, adds, strict=True) if measure is None
    ])
    _open_versions(ctx, [(measure_id, *add) for measure_id, add in zip(ids, adds, strict=True)])
    for measure_id, measure, (record, entry, _) in zip(ids, back, adds, strict=True):
        change = MeasureChange(measure_id, entry.key, entry.name)
        if measure is None:
            if not ctx.baseline:  # a baseline reports no additions: its 100,000 rows' cells are not read again
                change.fields = {column: value for column, value in record.cells.items() if normalize_cell(value)}
                _event(ctx, Added(measure_id, entry.key, entry.name, dict(change.fields)), change, ctx.report.added)
            continue
        # Returning loaded the few measures that come back as objects: they are changed as such.
        measure.ended_at = None
        measure.ended_snapshot_id = None
        measure.key, measure.name = entry.key, entry.name  # a measure back under a new key keeps its identity
        change.fields = fields = field_changes(ctx.returning.last_fields(measure_id), record.cells, ctx.ignore)
        _event(ctx, Reappeared(measure_id, entry.key, entry.name, _typed(fields)), change, ctx.report.reappeared)
    return ids


def _open_versions(ctx: _Context, items: list[tuple[int, Record, Entry, bytes]]) -> None:
    """A new current version of each measure (id), with its published digest, and the links it cites."""
    ids = list(islice(ctx.version_ids, len(items)))
    insert_versions(ctx.session, [
        {"id": version_id, "measure_id": measure_id, "source_id": ctx.source.id, "fields": dict(record.cells), "content_hash": entry.digest,
         "published_digest": digest, "name": entry.name, "end_date": end_date_of(ctx.source, record), "valid_from_snapshot_id": ctx.snapshot.id, "valid_from": ctx.now}
        for version_id, (measure_id, record, entry, digest) in zip(ids, items, strict=True)
    ])
    ctx.citations.extend((version_id, cited_urls(ctx.source, record)) for version_id, (_, record, _, _) in zip(ids, items, strict=True))
    if len(ctx.citations) >= _CITE_ROWS:
        _cite(ctx)


# Versions whose links are cited together: a call per batch of a thousand took the citations'
# lock and made its queries 100 times over in a 100,000-row baseline; all of them at once held
# its URLs and their rows in memory together (60 MB more at its peak).
_CITE_ROWS = 10 * _WRITE_BATCH


def _cite(ctx: _Context) -> None:
    cite_links(ctx.session, ctx.citations, ctx.now)
    ctx.citations.clear()


def cited_urls(source: SourceConfig, record: Record) -> list[str]:
    """Every URL a row cites: in any cell's text, and behind any cell (HTML href, Excel link)."""
    cells, links = record.cells, record.links
    order = _url_order(tuple(source.url_columns), tuple(cells))
    if not links:  # most formats: the cells' text alone, read in one call
        return urls_in_cells([cells.get(column, "") for column in order])
    urls: dict[str, None] = {}  # in order, without duplicates
    for column in order:
        urls.update(dict.fromkeys(urls_in_cells((cells.get(column, ""),))))
        urls.update(dict.fromkeys(links.get(column, ())))
    return list(urls)


@lru_cache(maxsize=64)
def _url_order(first: tuple[str, ...], columns: tuple[str, ...]) -> tuple[str, ...]:
    """The configured URL columns, then the others: the same for every row of a list, so made once."""
    return (*first, *(column for column in columns if column not in first))


def end_date_of(source: SourceConfig, record: Record) -> date | None:
    cells = record.cells
    found = [end for column in source.end_date_columns if (end := _end_of_cell(cells.get(column, ""))) is not None]
    return max(found) if found else None


@lru_cache(maxsize=4096)
def _end_of_cell(text: str) -> date | None:
    """The end a remarks cell names; the same few remarks recur down a whole list, so each is read once."""
    # A cell that is one ISO 8601 date (an API's acceptance_end_datetime) is the end itself.
    return extract_end_date(text) or iso_day(text)


def _typed(fields: dict[str, dict[str, str]]) -> dict[str, FieldChange]:
    return {column: FieldChange(change["old"], change["new"]) for column, change in fields.items()}


def _event(ctx: _Context, payload: MeasurePayload, change: MeasureChange, bucket: list[MeasureChange]) -> None:
    if ctx.baseline:
        return
    bucket.append(change)
    ctx.events.append({
        "created_at": ctx.now, "kind": payload.kind.value, "source_id": ctx.source.id, "snapshot_id": ctx.snapshot.id,
        "measure_id": payload.measure_id, "payload": payload.to_payload(),
    })


def report_expiries(session: Session, source: SourceConfig, snapshot: Snapshot, now: datetime, today: date, report: SourceReport, *, baseline: bool) -> None:
    """An ``expired`` event, once per measure and end date, for measures listed past their end."""
    for measure, version in expiring_versions(session, source.id, today):
        end_date = version.end_date
        if end_date is None:  # the query selects only versions past an end date
            continue
        measure.expired_end_date = end_date
        if baseline:
            continue
        report.expired.append(MeasureChange(measure.id, measure.key, measure.name, end_date=end_date.isoformat()))
        payload = Expired(measure.id, measure.key, measure.name, end_date.isoformat())
        session.add(Event(created_at=now, kind=payload.kind.value, source_id=source.id, snapshot_id=snapshot.id, measure_id=measure.id, payload=payload.to_payload()))


def source_event(session: Session, source_id: str, snapshot: Snapshot | None, now: datetime, payload: Payload) -> None:
    session.add(Event(created_at=now, kind=payload.kind.value, source_id=source_id, snapshot_id=snapshot.id if snapshot else None,
                      payload=payload.to_payload()))

