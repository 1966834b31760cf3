"""Read models: store rows in, ``web.schemas`` objects out, for the pages and the API alike.

Every function takes an open session and the labels of the configured language, reads
through ``store.queries`` and raises ``NotFound`` for an id the store does not have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy.orm import Session

from store import queries
from store.batches import IN_LIST_SIZE, in_batches
from store.listing import first_good_fetch, listing_at, versions_in_force
from store.models import Event, Link, Measure, MeasureVersion, Source
from store.overview import SourceRow, recent_event_counts, source_row

from monitor.events import EventKind

from web.errors import NotFound
from web.events import changes_by_snapshot, event_view
from web.labels import Labels
from web.siblings import also_in
from web.schemas import (ChangesPage, CheckView, CitedLink, CitingMeasure, EventView, FieldView, LinksPage, LinkSummary, LinkView,
                      ListedMeasure, MeasureView, SourceList, SourceSummary, VersionView)

__all__ = ["ChangeFilter", "Reader", "day_start", "link_state", "source_summaries"]

RECENT = timedelta(days=30)


# Days outside these hold no versions; clamping keeps year 1 and 9999 within datetime's range.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def day_start(day: date, tz: tzinfo, *, next_day: bool = False) -> datetime:
    """The first moment of ``day`` (or of the day after it) in the configured time zone."""
    day = min(max(day, FIRST_DAY), LAST_DAY)
    return datetime.combine(day + timedelta(days=1) if next_day else day, time(0), tzinfo=tz)


def source_summaries(session: Session, rows: Sequence[SourceRow], now: datetime, *, counts: bool = True) -> list[SourceSummary]:
    """The sources as the overview, the API and a list's page show them; with ``counts``, their
    events of the last 30 days by kind and their dead links, one grouped query each for all ``rows``."""
    ids = [row.id for row in rows]
    recent = recent_event_counts(session, ids, now - RECENT) if counts else {}
    dead = queries.dead_link_counts(session, ids) if counts else {}
    return [
        SourceSummary(
            id=row.id, title=row.title, url=row.url, retired=row.retired, last_run_at=row.last_run_at, last_status=row.last_status,
            last_error=row.last_error, edition=row.edition, records=row.records, recent_changes=recent.get(row.id, {}),
            dead_links=dead.get(row.id, 0),
        )
        for row in rows
    ]


def link_state(link: Link) -> str:
    if link.dead_since is not None:
        return "dead"
    if link.consecutive_failures:
        return "failing"
    return "ok" if link.last_checked_at is not None else "unchecked"


@dataclass(frozen=True, slots=True)
class ChangeFilter:
    """The filters of ``/changes``: a source, kinds, and a range of days (both ends included)."""

    source_id: str | None = None
    kinds: list[str] | None = None
    first: date | None = None
    last: date | None = None


class Reader:
    """One request's reads: the session, the labels, the time zone and the page size."""

    def __init__(self, session: Session, labels: Labels, tz: tzinfo, page_size: int) -> None:
        self.session, self.t, self.tz, self.size = session, labels, tz, page_size
        self._titles: Mapping[str, str] | None = None

    @property
    def titles(self) -> Mapping[str, str]:
        if self._titles is None:
            self._titles = queries.source_titles(self.session)
        return self._titles

    def _events(self, events: list[Event]) -> list[EventView]:
        # Only the titles these events name: a page of 20 events costs the same with 18,000 lists as with 10.
        titles = self._titles or queries.source_titles(self.session, {e.source_id for e in events if e.source_id})
        return [event_view(event, titles, self.t, self.tz) for event in events]

    def _source(self, source_id: str) -> Source:
        source = self.session.get(Source, source_id)
        if source is None:
            raise NotFound(self.t.format("no_source", value=source_id))
        return source

    def _summary(self, source_id: str, now: datetime, *, counts: bool) -> SourceSummary:
        """The source's newest runs; with ``counts``, its recent events by kind and its dead links, which
        cost a scan of its recent events (the list page shows neither, the JSON API both)."""
        row = source_row(self.session, source_id)
        if row is None:
            raise NotFound(self.t.format("no_source", value=source_id))
        return source_summaries(self.session, [row], now, counts=counts)[0]

    def changes(self, filters: ChangeFilter, page: int, *, size: int | None = None) -> ChangesPage:
        size = size or self.size
        if filters.source_id is not None:
            self._source(filters.source_id)
        rows = queries.timeline(
            self.session, source_id=filters.source_id, kinds=filters.kinds,
            since=day_start(filters.first, self.tz) if filters.first else None,
            until=day_start(filters.last, self.tz, next_day=True) if filters.last else None,
            limit=size + 1, offset=(page - 1) * size,
        )
        return ChangesPage(page=page, has_next=len(rows) > size, items=self._events(rows[:size]))

    def event(self, event_id: int) -> EventView:
        event = self.session.get(Event, event_id)
        if event is None:
            raise NotFound(self.t.format("no_event", value=event_id))
        return self._events([event])[0]

    def source_list(self, source_id: str, as_of: date | None, page: int, now: datetime, *, counts: bool = True) -> SourceList:
        summary = self._summary(source_id, now, counts=counts)
        # "As of a day" is the list at the end of that day, local time.
        when = day_start(as_of, self.tz, next_day=True) - timedelta(microseconds=1) if as_of else None
        measures = self._published_page(source_id, when, page)
        has_next = len(measures) > self.size
        measures = measures[: self.size]
        columns: list[str] = []
        for measure in measures:
            columns.extend(c for c in measure.fields if c not in columns)
        return SourceList(
            source=summary, as_of=as_of,
            total=queries.list_size(self.session, source_id, when), page=page, has_next=has_next,
            columns=columns, measures=measures,
        )

    def _published_page(self, source_id: str, when: datetime | None, page: int) -> list[ListedMeasure]:
        """One page of the list, and one row more (is there a next page?)."""
        return self.published_rows(source_id, when, (page - 1) * self.size, self.size + 1)

    def published_rows(self, source_id: str, when: datetime | None, start: int = 0, count: int | None = None) -> list[ListedMeasure]:
        """``count`` rows (all when None) from ``start`` of the list in published order, with the row
        numbers it was published with; in measure-id order where no listing was stored (before migration 0008)."""
        found = listing_at(self.session, source_id, when)
        if found is None:
            limit = count if count is not None else max(queries.list_size(self.session, source_id, when), 1)
            return [_listed(m, v, {}) for m, v in queries.list_page(self.session, source_id, when, limit=limit, offset=start)]
        positions = range(start, len(found.measure_ids) if count is None else min(start + count, len(found.measure_ids)))
        versions: dict[int, tuple[Measure, MeasureVersion]] = {}
        if count is None:  # the whole list: one scan beats a hundred IN lists
            total = max(queries.list_size(self.session, source_id, when), 1)
            versions = {m.id: (m, v) for m, v in queries.list_page(self.session, source_id, when, limit=total, offset=0)}
        else:
            for batch in in_batches([found.measure_ids[n] for n in positions], IN_LIST_SIZE):
                versions.update(versions_in_force(self.session, source_id, when, batch))
        return [_listed(*versions[found.measure_ids[n]], found.cells_of(n)) for n in positions if found.measure_ids[n] in versions]

    def monitored_since(self, source_id: str) -> date | None:
        """The day (local time) of the source's first good snapshot: no list is known before it."""
        first = first_good_fetch(self.session, source_id)
        return first.astimezone(self.tz).date() if first else None

    def measure(self, measure_id: int) -> MeasureView:
        found = queries.measure_history(self.session, measure_id)
        if found is None:
            raise NotFound(self.t.format("no_measure", value=measure_id))
        measure, versions = found
        views: list[VersionView] = []
        # What changed is what the pipeline stored (one changed/renamed event per version at most).
        stored = queries.timeline(self.session, measure_id=measure.id, kinds=[EventKind.CHANGED, EventKind.RENAMED], limit=len(versions))
        by_snapshot = changes_by_snapshot(stored)
        for number, version in enumerate(versions, start=1):
            fields = {str(k): str(v) for k, v in version.fields.items()}
            changes = by_snapshot.get(version.valid_from_snapshot_id, {}) if number > 1 else {}
            views.append(VersionView(
                id=version.id, number=number, valid_from=version.valid_from, valid_to=version.valid_to, end_date=version.end_date,
                name=version.name, fields=[FieldView(column=c, value=v, change=changes.get(c)) for c, v in fields.items()],
            ))
        current_id = versions[-1].id if versions and versions[-1].valid_to is None else None
        return MeasureView(
            id=measure.id, source_id=measure.source_id, source_title=self.titles.get(measure.source_id, measure.source_id),
            key=measure.key, name=measure.name, first_seen_at=measure.first_seen_at, ended_at=measure.ended_at,
            expired_end_date=measure.expired_end_date, versions=views[::-1],
            links=self._cited_links(measure, [v.id for v in versions], current_id),
            events=self._events(queries.timeline(self.session, measure_id=measure.id, limit=100)),
            also_in=also_in(self.session, [measure.id]).get(measure.id, []),
        )

    def _cited_links(self, measure: Measure, version_ids: list[int], current_id: int | None) -> list[CitedLink]:
        links: dict[int, CitedLink] = {}
        for version_id, link in queries.links_of_versions(self.session, version_ids):
            seen = links.get(link.id)
            current = version_id == current_id or (seen is not None and seen.current)
            links[link.id] = CitedLink(**_link_summary(link).model_dump(), current=current)
        return sorted(links.values(), key=lambda link: (not link.current, link.url))

    def links(self, state: str | None, page: int) -> LinksPage:
        rows = queries.links_page(self.session, state=state, limit=self.size + 1, offset=(page - 1) * self.size)
        return LinksPage(state=state, page=page, has_next=len(rows) > self.size, items=[_link_summary(link) for link in rows[: self.size]])

    def link(self, link_id: int) -> LinkView:
        link = self.session.get(Link, link_id)
        if link is None:
            raise NotFound(self.t.format("no_link", value=link_id))
        measures: dict[int, CitingMeasure] = {}
        for measure, version in queries.citing_versions(self.session, link_id):
            seen = measures.get(measure.id)
            current = version.valid_to is None or (seen is not None and seen.current)
            measures[measure.id] = CitingMeasure(measure_id=measure.id, name=measure.name, source_id=measure.source_id, current=current)
        checks = [
            CheckView(checked_at=c.checked_at, outcome=c.outcome, http_status=c.http_status, elapsed_ms=c.elapsed_ms, final_url=c.final_url, error=c.error)
            for c in queries.link_history(self.session, link_id)
        ]
        return LinkView(
            **_link_summary(link).model_dump(), host=link.host, cited=bool(link.cited), first_seen_at=link.first_seen_at,
            last_ok_at=link.last_ok_at, failing_since=link.failing_since, dead_since=link.dead_since, final_url=link.final_url,
            moved_to=link.moved_to, measures=sorted(measures.values(), key=lambda m: (not m.current, m.measure_id)), checks=checks,
            events=self._events(queries.timeline(self.session, link_id=link_id, limit=100)),
        )


def _listed(measure: Measure, version: MeasureVersion, published: Mapping[str, str]) -> ListedMeasure:
    fields = {str(k): str(x) for k, x in version.fields.items()}
    fields.update((column, value) for column, value in published.items() if column in fields)
    return ListedMeasure(measure_id=measure.id, version_id=version.id, key=measure.key, name=version.name, fields=fields,
                         valid_from=version.valid_from, valid_to=version.valid_to)


def _link_summary(link: Link) -> LinkSummary:
    state = link_state(link)
    since = link.dead_since if state == "dead" else link.failing_since if state == "failing" else None
    return LinkSummary(
        id=link.id, url=link.url, state=state, outcome=link.outcome, http_status=link.http_status, since=since,
        last_checked_at=link.last_checked_at, consecutive_failures=link.consecutive_failures or 0,
    )
