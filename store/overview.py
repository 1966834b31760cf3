"""The overview of every source at once, for ``status`` and the web view's ``/`` and ``/api/sources``.

A deployment watches tens of thousands of lists: nothing here runs a query per source. For
the web, one query reads a page of sources with their newest and newest good snapshot found
by correlated sub-queries on ``ix_snapshots_source_fetched``; for ``status``, one query reads
every source with its newest run and its job's state (:func:`source_runs`). Then one counts
the failing streaks of the few sources whose newest run was not good; the link, job and
outbox counts are one aggregate each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Integer, Select, String, and_, case, column, func, literal, literal_column, null, or_, select, true, values
from sqlalchemy.orm import Session, aliased

from store.batches import in_batches
from store.models import Delivery, Event, JobState, Link, Snapshot, Source, UTCDateTime
from store.queries import GOOD_STATUSES

__all__ = ["JobRow", "SourceRow", "SourceMark", "SourceRun", "SourcesPage", "job_rows", "source_marks", "source_row", "source_runs", "sources_page", "recent_event_counts", "link_counts", "job_counts", "delivery_counts"]

# Failing streaks are counted for this many sources a statement (three bound values each).
_STREAK_BATCH = 1000
# A source that never had a good run: every snapshot of it is after this.
_BEFORE_ALL = (datetime(1, 1, 1, tzinfo=timezone.utc), 0)


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One source as the overview shows it: its newest run and its newest good one."""

    id: str
    title: str
    url: str
    retired: bool
    last_run_at: datetime | None
    last_status: str | None
    last_error: str | None
    records: int | None  # of the newest good snapshot
    edition: str | None
    failing_streak: int  # runs in a row, up to the newest, that failed or were suspect


@dataclass(frozen=True, slots=True)
class SourcesPage:
    rows: list[SourceRow]
    total: int
    has_next: bool


def _rows(session: Session, where: ColumnElement[bool], *, limit: int | None = None, offset: int = 0, edition: bool = True) -> list[SourceRow]:
    page = select(Source.id, Source.title, Source.url, Source.retired_at).where(where)
    page = page.order_by(Source.retired_at.is_not(None), Source.id).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    # The newest runs are looked up for the page's rows only, never for the rows an offset skips.
    listed = page.subquery()
    columns = (listed.c.id, listed.c.title, listed.c.url, listed.c.retired_at)
    query = select(*columns, _newest_id(listed.c.id, good=False), _newest_id(listed.c.id, good=True))
    found = session.execute(query.order_by(listed.c.retired_at.is_not(None), listed.c.id)).all()
    snapshots = _snapshots(session, {i for row in found for i in (row[4], row[5]) if i is not None})
    editions = _editions(session, [row[0] for row in found]) if edition else {}
    streaks = _streaks(session, [(row[0], snapshots.get(row[5])) for row in found if row[4] is not None and row[4] != row[5]])
    rows = []
    for source_id, title, url, retired_at, last, good in found:
        newest, newest_good = snapshots.get(last), snapshots.get(good)
        rows.append(SourceRow(
            id=source_id, title=title, url=url, retired=retired_at is not None,
            last_run_at=newest.fetched_at if newest else None, last_status=newest.status if newest else None,
            last_error=newest.error if newest else None, records=newest_good.record_count if newest_good else None,
            edition=editions.get(source_id), failing_streak=streaks.get(source_id, 0),
        ))
    return rows


# Made once: an alias builds each column's expression on first use, which cost a page (and a
# list's own page) 15 ms of Python for a statement that runs in 0.2 ms.
_INNER = aliased(Snapshot, name="inner_snapshot")


def _newest_id(source_id: ColumnElement[str], *, good: bool) -> ColumnElement[int]:
    """The id of a source's newest (good) snapshot, found backwards on ix_snapshots_source_fetched."""
    inner = _INNER
    query = select(inner.id).where(inner.source_id == source_id)
    if good:
        query = query.where(inner.status.in_(GOOD_STATUSES))
    return query.order_by(inner.fetched_at.desc(), inner.id.desc()).limit(1).scalar_subquery()


class _Run(NamedTuple):
    id: int
    fetched_at: datetime
    status: str
    error: str | None
    record_count: int | None


def _snapshots(session: Session, ids: set[int]) -> dict[int, _Run]:
    found: dict[int, _Run] = {}
    columns = (Snapshot.id, Snapshot.fetched_at, Snapshot.status, Snapshot.error, Snapshot.record_count)
    for batch in in_batches(sorted(ids), 1000):
        found.update((row[0], _Run(*row)) for row in session.execute(select(*columns).where(Snapshot.id.in_(batch))))
    return found


def _editions(session: Session, source_ids: list[str]) -> dict[str, str]:
    """The edition (令和N年4月1日時点 …) the newest snapshot that named one gave, per source."""
    inner = _INNER
    newest = (
        select(inner.edition).where(inner.source_id == Source.id, inner.edition.is_not(None))
        .order_by(inner.fetched_at.desc(), inner.id.desc()).limit(1).correlate(Source).scalar_subquery()
    )
    found: dict[str, str] = {}
    for batch in in_batches(source_ids, 1000):
        found.update((i, e) for i, e in session.execute(select(Source.id, newest).where(Source.id.in_(batch))) if e is not None)
    return found


def _streaks(session: Session, failing: list[tuple[str, _Run | None]]) -> dict[str, int]:
    """How many snapshots each source has after its newest good one (all of them if none was good).

    Each source's newest good run is a row of a VALUES list joined to ``snapshots``: an OR of a
    range a source made SQLAlchemy build an expression a source (most of the time went there)."""
    found: dict[str, int] = {}
    for batch in in_batches(failing, _STREAK_BATCH):
        rows = [(source_id, *((good.fetched_at, good.id) if good else _BEFORE_ALL)) for source_id, good in batch]
        after = values(column("source_id", String()), column("fetched_at", UTCDateTime()), column("id", Integer()), name="after").data(rows).cte()
        query = (
            select(Snapshot.source_id, func.count())
            .join(after, and_(Snapshot.source_id == after.c.source_id, Snapshot.fetched_at >= after.c.fetched_at, Snapshot.id > after.c.id))
            .group_by(Snapshot.source_id)
        )
        found.update((source_id, count) for source_id, count in session.execute(query))
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


# A source's job_state row is "source:<id>" (store.locks.lock_name).
_SOURCE_JOB = "source:"
_JOB_COLUMNS = (JobState.job_id, JobState.last_started_at, JobState.last_success_at, JobState.last_error, JobState.failing_since)


def source_runs(session: Session, source_ids: Sequence[str] | None = None) -> dict[str, SourceRun]:
    """Every stored source (or those of ``source_ids``), and every source whose job ran but
    stored nothing, by id: one statement for the stored sources (one per 1,000 of ``source_ids``),
    one for the rest, three per 1,000 failing ones (their streaks)."""
    # Core rows, not the ORM's: 18,000 rows through the ORM's loading took as long again as the query.
    query, source_id = _newest_runs(session.get_bind().dialect.name)
    if source_ids is None:
        found = session.connection().execute(query).all()
    else:
        found = [row for batch in in_batches(list(source_ids), 1000) for row in session.connection().execute(query.where(source_id.in_(batch)))]
    streaks = _failing_streaks(session, [row[0] for row in found if row[4] is not None and row[4] not in GOOD_STATUSES])
    runs = {
        source_id: SourceRun(source_id, True, parent_id, retired_at is not None, fetched_at, status, error, streaks.get(source_id, 0),
                             JobRow(*job) if job[0] is not None else None)
        for source_id, parent_id, retired_at, fetched_at, status, error, *job in found
    }
    for job in session.execute(select(*_JOB_COLUMNS).where(*_UNSTORED)):
        unstored = job[0][len(_SOURCE_JOB):]
        runs[unstored] = SourceRun(unstored, False, None, False, None, None, None, 0, JobRow(*job))
    return runs


# The job_state rows of sources whose job ran and stored nothing (no `sources` row).
_UNSTORED = (JobState.job_id.startswith(_SOURCE_JOB), ~select(Source.id).where(Source.id == func.substr(JobState.job_id, len(_SOURCE_JOB) + 1)).exists())


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


def source_marks(session: Session, bounds: Sequence[datetime]) -> list[SourceMark]:
    """Every stored source, and every source whose job ran but stored nothing, as marks: one
    statement each, each source's newest snapshot as named in sources, as :func:`source_runs`.
    ``bounds``: newest first, as :func:`store.jobstate.start_ranks`."""
    rank: ColumnElement[Any] = case(*((JobState.last_started_at >= bound, index) for index, bound in enumerate(bounds))) if bounds else null()
    started, job_failed = JobState.last_started_at.is_not(None), JobState.last_error.is_not(None)

    def marks(source_id: ColumnElement[Any], parent_id: ColumnElement[Any], retired_at: ColumnElement[Any], fetched_at: ColumnElement[Any],
              status: ColumnElement[Any], error: ColumnElement[Any]) -> Sequence[Any]:
        return (source_id, parent_id, retired_at.is_not(None), fetched_at.is_not(None), status, error.is_not(None), job_failed, started, rank)

    query, _ = _newest_runs(session.get_bind().dialect.name, marks)
    found = [SourceMark(i, True, parent, bool(retired), bool(snapshot or began), (status is not None and status not in GOOD_STATUSES) or bool(error or failed), rank_of)
             for i, parent, retired, snapshot, status, error, failed, began, rank_of in session.connection().execute(query).all()]
    unstored = select(JobState.job_id, started, job_failed, rank).where(*_UNSTORED)
    found.extend(SourceMark(job[len(_SOURCE_JOB):], False, None, False, bool(began), bool(failed), rank_of)
                 for job, began, failed, rank_of in session.connection().execute(unstored))
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
    source_id: ColumnElement[str] = Source.id.expression
    if dialect == "postgresql":
        run: Any = select(Snapshot.fetched_at, Snapshot.status, Snapshot.error).where(Snapshot.id == Source.newest_snapshot_id).limit(1).lateral("newest")
        query = select(*columns(source_id, Source.parent_id.expression, Source.retired_at.expression, run.c.fetched_at, run.c.status, run.c.error))
        query = query.select_from(Source).outerjoin(run, true())
    else:
        named = _NEWEST
        query = select(*columns(source_id, Source.parent_id.expression, Source.retired_at.expression,
                                named.fetched_at.expression, named.status.expression, named.error.expression))
        query = query.select_from(Source).outerjoin(named, named.id == Source.newest_snapshot_id)
    return query.outerjoin(JobState, JobState.job_id == literal(_SOURCE_JOB) + source_id).order_by(source_id), source_id


_NEWEST = aliased(Snapshot, name="newest")


def _failing_streaks(session: Session, source_ids: list[str]) -> dict[str, int]:
    """The failing streaks of sources whose newest run was not good, from their newest good run."""
    found: dict[str, int] = {}
    for batch in in_batches(source_ids, 1000):
        query = select(Source.id, _newest_id(Source.id.expression, good=True)).where(Source.id.in_(batch))
        good: dict[str, int] = {row[0]: row[1] for row in session.execute(query) if row[1] is not None}
        runs = _snapshots(session, set(good.values()))
        found.update(_streaks(session, [(source_id, runs[good[source_id]] if source_id in good else None) for source_id in batch]))
    return found


def sources_page(session: Session, *, limit: int, offset: int = 0, after: tuple[bool, str] | None = None) -> SourcesPage:
    """One page of the sources, current ones first then retired ones, each by id.

    ``after`` is a keyset cursor (retired, id) of the last source of the previous page:
    it reads the next page straight from the primary key however deep it is.
    """
    where: ColumnElement[bool] = true()
    if after is not None:
        retired, last_id = after
        is_retired = Source.retired_at.is_not(None)
        where = and_(is_retired, Source.id > last_id) if retired else or_(is_retired, Source.id > last_id)
    rows = _rows(session, where, limit=limit + 1, offset=offset)
    total = session.scalar(select(func.count()).select_from(Source)) or 0
    return SourcesPage(rows=rows[:limit], total=total, has_next=len(rows) > limit)


def source_row(session: Session, source_id: str) -> SourceRow | None:
    """One source as a page of them shows it (a list's own page and ``/api/sources/{id}``)."""
    rows = _rows(session, Source.id == source_id)
    return rows[0] if rows else None


def recent_event_counts(session: Session, source_ids: Sequence[str], since: datetime) -> dict[str, dict[str, int]]:
    """Per source, events by kind since ``since``: one grouped query by ix_events_source_created."""
    found: dict[str, dict[str, int]] = {}
    for batch in in_batches(list(source_ids), 1000):
        query = (
            select(Event.source_id, Event.kind, func.count())
            .where(Event.source_id.in_(batch), Event.created_at >= since)
            .group_by(Event.source_id, Event.kind).order_by(Event.source_id, Event.kind)
        )
        for source_id, kind, count in session.execute(query):
            found.setdefault(str(source_id), {})[kind] = count
    return found


def link_counts(session: Session) -> dict[str, int]:
    """Links still cited, and of those the dead (``dead_since`` set) and the failing (as
    ``store.link_state.failing``). The cited are counted on ix_links_due_host (index only; it
    grows with the links, 0.15-0.3 s at 1,000,000); the dead and the failing on ix_links_unwell,
    which holds only the links that failed or died (a whole pass over ``links`` was 0.9 s on SQLite)."""
    cited = Link.cited.is_(True)
    total = session.scalar(select(func.count()).select_from(Link).where(cited)) or 0
    # The index's own predicate, written as in store.models (SQLite uses a partial index only for the very same terms).
    unwell = or_(Link.consecutive_failures > literal_column("0"), Link.dead_since.is_not(None))
    row = session.execute(select(func.count(), func.count(Link.dead_since)).where(cited, unwell)).one()
    return {"cited": int(total), "dead": int(row[1]), "failing": int(row[0]) - int(row[1])}


class JobRow(NamedTuple):
    """A ``job_state`` row as plain values (the attributes of ``store.models.JobState``)."""

    job_id: str
    last_started_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    failing_since: datetime | None


def job_rows(session: Session) -> dict[str, JobRow]:
    """Every job's state, read as rows: the tick and ``status`` read all of them, and 23,000 ORM
    objects took seconds where plain rows take tens of milliseconds."""
    query = select(JobState.job_id, JobState.last_started_at, JobState.last_success_at, JobState.last_error, JobState.failing_since)
    return {row[0]: JobRow(*row) for row in session.execute(query)}


def job_counts(session: Session) -> dict[str, dict[str, int]]:
    """Per kind of job other than sources (``links``, ``notifier``, …: ids ``<kind>:<key>``), how
    many jobs and how many failing. The sources' own rows are read by :func:`source_runs`."""
    counts: dict[str, dict[str, int]] = {}
    query = select(JobState.job_id, JobState.last_error.is_not(None)).where(~JobState.job_id.startswith(_SOURCE_JOB))
    for job_id, failing in session.connection().execute(query):
        kind = counts.setdefault(job_id.split(":", 1)[0], {"jobs": 0, "failing": 0})
        kind["jobs"] += 1
        kind["failing"] += bool(failing)
    return dict(sorted(counts.items()))


def delivery_counts(session: Session) -> dict[str, int]:
    """The outbox: deliveries by status (pending, sent, failed, …)."""
    rows = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
    return {status: count for status, count in rows}
