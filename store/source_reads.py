"""Every source's newest run and job state, and the counts ``status`` shows, read with Core.

``status`` reads these and nothing else of the store, in a process of a second: the ORM's
import and the configuration of its mappers (``store.models``) were 0.15-0.2 s of it. So the
few columns read here are named as plain tables of the same names and types (a column renamed
in ``store.models`` fails every test of ``status`` and of the web's overview, which reads its
streaks through here too). Nothing here runs a query per source: one reads every source with
its newest run and job's state, then three per 1,000 failing ones count their failing
streaks; the link, job and outbox counts are one aggregate each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import (Boolean, ColumnElement, Connection, Integer, Select, String, Text, and_, case, column, func, literal, literal_column,
                        null, or_, select, table, true, values)

from store.batches import in_batches
from store.types import GOOD_STATUSES, UTCDateTime

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["JobRow", "SourceRun", "SourceMark", "source_runs", "source_marks", "newest_id", "runs_by_id", "streaks", "link_counts",
           "job_counts", "delivery_counts", "versions_waiting"]

SOURCES = table("sources", column("id", String()), column("parent_id", String()), column("retired_at", UTCDateTime()),
                column("newest_snapshot_id", Integer()))
SNAPSHOTS = table("snapshots", column("id", Integer()), column("source_id", String()), column("fetched_at", UTCDateTime()),
                  column("status", String()), column("error", Text()), column("record_count", Integer()))
JOB_STATE = table("job_state", column("job_id", String()), column("last_started_at", UTCDateTime()), column("last_success_at", UTCDateTime()),
                  column("last_error", Text()), column("failing_since", UTCDateTime()))
LINKS = table("links", column("cited", Boolean()), column("consecutive_failures", Integer()), column("dead_since", UTCDateTime()))
# How many links are cited: rows whose sum is the count, kept by migration 0019's triggers on links.
LINK_TOTALS = table("link_totals", column("cited", Integer()))
SEARCH_BACKLOG = table("search_backlog", column("version_id", Integer()))  # migration 0018: store.search
DELIVERIES = table("deliveries", column("status", String()))

# Failing streaks are counted for this many sources a statement (three bound values each).
_STREAK_BATCH = 1000
# A source that never had a good run: every snapshot of it is after this.
_BEFORE_ALL = (datetime(1, 1, 1, tzinfo=timezone.utc), 0)
# A source's job_state row is "source:<id>" (store.locks.lock_name).
_SOURCE_JOB = "source:"
_JOB_COLUMNS = (JOB_STATE.c.job_id, JOB_STATE.c.last_started_at, JOB_STATE.c.last_success_at, JOB_STATE.c.last_error, JOB_STATE.c.failing_since)
# Made once: an alias builds each column's expression on first use.
_INNER, _NEWEST = SNAPSHOTS.alias("inner_snapshot"), SNAPSHOTS.alias("newest")


class JobRow(NamedTuple):
    """A ``job_state`` row as plain values (the attributes of ``store.models.JobState``)."""

    job_id: str
    last_started_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    failing_since: datetime | None


class Run(NamedTuple):
    id: int
    fetched_at: datetime
    status: str
    error: str | None
    record_count: int | None


def newest_id(source_id: ColumnElement[str], *, good: bool) -> ColumnElement[int]:
    """The id of a source's newest (good) snapshot, found backwards on ix_snapshots_source_fetched."""
    inner = _INNER
    query = select(inner.c.id).where(inner.c.source_id == source_id)
    if good:
        query = query.where(inner.c.status.in_(GOOD_STATUSES))
    return query.order_by(inner.c.fetched_at.desc(), inner.c.id.desc()).limit(1).scalar_subquery()


def runs_by_id(connection: Connection, ids: set[int]) -> dict[int, Run]:
    found: dict[int, Run] = {}
    columns = (SNAPSHOTS.c.id, SNAPSHOTS.c.fetched_at, SNAPSHOTS.c.status, SNAPSHOTS.c.error, SNAPSHOTS.c.record_count)
    for batch in in_batches(sorted(ids), 1000):
        found.update((row[0], Run(*row)) for row in connection.execute(select(*columns).where(SNAPSHOTS.c.id.in_(batch))))
    return found


def streaks(connection: Connection, failing: list[tuple[str, Run | None]]) -> dict[str, int]:
    """How many snapshots each source has after its newest good one (all of them if none was good).

    Each source's newest good run is a row of a VALUES list joined to ``snapshots``: an OR of a
    range a source made SQLAlchemy build an expression a source (most of the time went there)."""
    found: dict[str, int] = {}
    snapshot = SNAPSHOTS.c
    for batch in in_batches(failing, _STREAK_BATCH):
        rows = [(source_id, *((good.fetched_at, good.id) if good else _BEFORE_ALL)) for source_id, good in batch]
        after = values(column("source_id", String()), column("fetched_at", UTCDateTime()), column("id", Integer()), name="after").data(rows).cte()
        query = (
            select(snapshot.source_id, func.count())
            .join(after, and_(snapshot.source_id == after.c.source_id, snapshot.fetched_at >= after.c.fetched_at, snapshot.id > after.c.id))
            .group_by(snapshot.source_id)
        )
        found.update((source_id, count) for source_id, count in connection.execute(query))
    return found


class SourceRun(NamedTuple):
    """A source as ``status`` shows it: its marks, its newest run and failing streak, its job's
    state (a tuple: 18,000 frozen dataclasses took five times as long to build)."""

    id: str
    stored: bool  # False: a source whose job ran (and failed) before anything of it was stored
    parent_id: str | None
    retired: bool
    last_run_at: datetime | None
    last_status: str | None
    last_error: str | None
    failing_streak: int
    job: JobRow | None


def source_runs(connection: Connection, source_ids: Sequence[str] | None = None) -> dict[str, SourceRun]:
    """Every stored source (or those of ``source_ids``), and every source whose job ran but
    stored nothing, by id: one statement for the stored sources (one per 1,000 of ``source_ids``),
    one for the rest, three per 1,000 failing ones (their streaks)."""
    query, source_id = _newest_runs(connection.dialect.name)
    if source_ids is None:
        found = connection.execute(query).all()
    else:
        found = [row for batch in in_batches(list(source_ids), 1000) for row in connection.execute(query.where(source_id.in_(batch)))]
    failing = _failing_streaks(connection, [row[0] for row in found if row[4] is not None and row[4] not in GOOD_STATUSES])
    runs = {
        source_id: SourceRun(source_id, True, parent_id, retired_at is not None, fetched_at, status, error, failing.get(source_id, 0),
                             JobRow(*job) if job[0] is not None else None)
        for source_id, parent_id, retired_at, fetched_at, status, error, *job in found
    }
    for job in connection.execute(select(*_JOB_COLUMNS).where(*_UNSTORED)):
        unstored = job[0][len(_SOURCE_JOB):]
        runs[unstored] = SourceRun(unstored, False, None, False, None, None, None, 0, JobRow(*job))
    return runs


# The job_state rows of sources whose job ran and stored nothing (no `sources` row).
_UNSTORED = (JOB_STATE.c.job_id.startswith(_SOURCE_JOB),
             ~select(SOURCES.c.id).where(SOURCES.c.id == func.substr(JOB_STATE.c.job_id, len(_SOURCE_JOB) + 1)).exists())


class SourceMark(NamedTuple):
    """A source as ``status``'s summary counts it, without a time (turning 90,000 stored times
    into datetimes was a third of reading every source's run)."""

    id: str
    stored: bool
    parent_id: str | None
    retired: bool
    ran: bool  # a snapshot stored, or its job started
    unwell: bool  # its newest run was not good or had an error, or its job's last run failed: read it whole
    started_rank: int | None  # as start_ranks: the first of the bounds its last start is not before; None: before all, or never


def source_marks(connection: Connection, bounds: Sequence[datetime]) -> list[SourceMark]:
    """Every stored source, and every source whose job ran but stored nothing, as marks: one
    statement each, each source's newest snapshot as :func:`source_runs` reads it.
    ``bounds``: newest first, as :func:`store.jobstate.start_ranks`."""
    job = JOB_STATE.c
    rank: ColumnElement[Any] = case(*((job.last_started_at >= bound, index) for index, bound in enumerate(bounds))) if bounds else null()
    started, job_failed = job.last_started_at.is_not(None), job.last_error.is_not(None)

    def marks(source_id: ColumnElement[Any], parent_id: ColumnElement[Any], retired_at: ColumnElement[Any], fetched_at: ColumnElement[Any],
              status: ColumnElement[Any], error: ColumnElement[Any]) -> Sequence[Any]:
        return (source_id, parent_id, retired_at.is_not(None), fetched_at.is_not(None), status, error.is_not(None), job_failed, started, rank)

    query, _ = _newest_runs(connection.dialect.name, marks)
    found = [SourceMark(i, True, parent, bool(retired), bool(snapshot or began), (status is not None and status not in GOOD_STATUSES) or bool(error or failed), rank_of)
             for i, parent, retired, snapshot, status, error, failed, began, rank_of in connection.execute(query).all()]
    unstored = select(job.job_id, started, job_failed, rank).where(*_UNSTORED)
    found.extend(SourceMark(job_id[len(_SOURCE_JOB):], False, None, False, bool(began), bool(failed), rank_of)
                 for job_id, began, failed, rank_of in connection.execute(unstored))
    return found


# What a statement over every source's newest run selects, given the columns of the source,
# its newest snapshot (id, parent id, retired at, fetched at, status, error) and job_state.
_Columns = Callable[[ColumnElement[Any], ColumnElement[Any], ColumnElement[Any], ColumnElement[Any], ColumnElement[Any], ColumnElement[Any]], Sequence[Any]]


def _full(source_id: ColumnElement[Any], parent_id: ColumnElement[Any], retired_at: ColumnElement[Any], fetched_at: ColumnElement[Any],
          status: ColumnElement[Any], error: ColumnElement[Any]) -> Sequence[Any]:
    return (source_id, parent_id, retired_at, fetched_at, status, error, *_JOB_COLUMNS)


def _newest_runs(dialect: str, columns: _Columns = _full) -> tuple[Select[Any], ColumnElement[str]]:
    """Each stored source's marks, newest snapshot and job state, in one pass over ``sources``
    with the snapshot it names (``newest_snapshot_id``, kept by migration 0017's trigger) by
    primary key. (A probe of ix_snapshots_source_fetched a source for the newest was 0.23-0.45 s
    of PostgreSQL's time at 18,000 lists.) PostgreSQL is given the probe as a LATERAL of one
    row: joined plainly, it hashed every snapshot."""
    source, snapshot = SOURCES.c, SNAPSHOTS.c
    if dialect == "postgresql":
        run: Any = select(snapshot.fetched_at, snapshot.status, snapshot.error).where(snapshot.id == source.newest_snapshot_id).limit(1).lateral("newest")
        query = select(*columns(source.id, source.parent_id, source.retired_at, run.c.fetched_at, run.c.status, run.c.error))
        query = query.select_from(SOURCES).outerjoin(run, true())
    else:
        named = _NEWEST.c
        query = select(*columns(source.id, source.parent_id, source.retired_at, named.fetched_at, named.status, named.error))
        query = query.select_from(SOURCES).outerjoin(_NEWEST, named.id == source.newest_snapshot_id)
    return query.outerjoin(JOB_STATE, JOB_STATE.c.job_id == literal(_SOURCE_JOB) + source.id).order_by(source.id), source.id


def _failing_streaks(connection: Connection, source_ids: list[str]) -> dict[str, int]:
    """The failing streaks of sources whose newest run was not good, from their newest good run."""
    found: dict[str, int] = {}
    for batch in in_batches(source_ids, 1000):
        query = select(SOURCES.c.id, newest_id(SOURCES.c.id, good=True)).where(SOURCES.c.id.in_(batch))
        good: dict[str, int] = {row[0]: row[1] for row in connection.execute(query) if row[1] is not None}
        runs = runs_by_id(connection, set(good.values()))
        found.update(streaks(connection, [(source_id, runs[good[source_id]] if source_id in good else None) for source_id in batch]))
    return found


def link_counts(connection: Connection) -> dict[str, int]:
    """Links still cited, and of those the dead (``dead_since`` set) and the failing (as
    ``store.link_state.failing``). The cited are the sum of ``link_totals`` (a row or a few; a
    count on ix_links_due_host grew with the links, 0.15-0.3 s at 1,000,000); the dead and the
    failing are counted on ix_links_unwell, which holds only the links that failed or died (a
    whole pass over ``links`` was 0.9 s on SQLite)."""
    link = LINKS.c
    cited = link.cited.is_(True)
    total = connection.scalar(select(func.sum(LINK_TOTALS.c.cited))) or 0
    # The index's own predicate, written as in store.models (SQLite uses a partial index only for the very same terms).
    unwell = or_(link.consecutive_failures > literal_column("0"), link.dead_since.is_not(None))
    row = connection.execute(select(func.count(), func.count(link.dead_since)).select_from(LINKS).where(cited, unwell)).one()
    return {"cited": int(total), "dead": int(row[1]), "failing": int(row[0]) - int(row[1])}


def job_counts(connection: Connection) -> dict[str, dict[str, int]]:
    """Per kind of job other than sources (``links``, ``notifier``, …: ids ``<kind>:<key>``), how
    many jobs and how many failing. The sources' own rows are read by :func:`source_runs`."""
    counts: dict[str, dict[str, int]] = {}
    query = select(JOB_STATE.c.job_id, JOB_STATE.c.last_error.is_not(None)).where(~JOB_STATE.c.job_id.startswith(_SOURCE_JOB))
    for job_id, failing in connection.execute(query):
        kind = counts.setdefault(job_id.split(":", 1)[0], {"jobs": 0, "failing": 0})
        kind["jobs"] += 1
        kind["failing"] += bool(failing)
    return dict(sorted(counts.items()))


def delivery_counts(connection: Connection) -> dict[str, int]:
    """The outbox: deliveries by status (pending, sent, failed, …)."""
    rows = connection.execute(select(DELIVERIES.c.status, func.count()).group_by(DELIVERIES.c.status))
    return {status: count for status, count in rows}


def versions_waiting(connection: Connection | Session) -> int:
    """How many versions wait in the search backlog for the index (store.search moves them)."""
    return int(connection.scalar(select(func.count()).select_from(SEARCH_BACKLOG)) or 0)
