"""``/`` and ``/api/sources`` a page at a time (issue 15 item 3): pages and a cursor that walk
every list once, in order (current lists first, retired ones last, each by id), with each
list's newest run, recent changes and dead links; and a page costs the same number of
queries with 6 lists as with 60. Over HTTP on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from monitor.runtime.check import open_store
from store.database import SessionFactory, transaction
from store.models import Event, Link, Measure, MeasureLink, MeasureVersion, Snapshot, Source
from tests.conftest import make_config, statements_run
from tests.web.conftest import serving
from web import create_app

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def _fill(sessions: SessionFactory, count: int, *, retired: tuple[int, ...] = (), start: int = 0) -> list[str]:
    """``count`` lists, each run three times; list 1 failing since its first run, list 2's newest run failed."""
    ids = [f"list{n:02d}" for n in range(start, start + count)]
    with transaction(sessions) as session:
        for n, source_id in enumerate(ids):
            session.add(Source(id=source_id, title=f"一覧 {n}", url=f"https://example.lg.jp/{n}.csv", format="csv", created_at=NOW,
                               retired_at=NOW if n in retired else None))
        session.flush()
        for n, source_id in enumerate(ids):
            statuses = ["failed"] * 3 if n == 1 else ["baseline", "changed", "failed"] if n == 2 else ["baseline", "unchanged", "changed"]
            for r, status in enumerate(statuses):
                session.add(Snapshot(source_id=source_id, fetched_at=NOW - timedelta(days=3 - r), status=status, record_count=10 + n,
                                     error="connection refused" if status == "failed" else None, edition="令和8年4月1日時点" if r == 0 else None))
        session.flush()
        first = session.query(Snapshot).filter(Snapshot.source_id == ids[0]).order_by(Snapshot.id).first()
        assert first is not None
        measure = Measure(source_id=ids[0], key="k", name="施策", first_seen_snapshot_id=first.id, first_seen_at=NOW)
        session.add(measure)
        session.flush()
        version = MeasureVersion(measure_id=measure.id, source_id=ids[0], fields={}, content_hash="0" * 64, name="施策",
                                 valid_from_snapshot_id=first.id, valid_from=NOW)
        dead = Link(url=f"https://example.lg.jp/gone{start}.html", host="example.lg.jp", first_seen_at=NOW, cited=True, consecutive_failures=2, dead_since=NOW)
        session.add_all([version, dead])
        session.flush()
        session.add(MeasureLink(measure_version_id=version.id, link_id=dead.id))
        session.add_all(Event(created_at=NOW - timedelta(days=1), kind="changed", source_id=ids[0], payload={}) for _ in range(2))
    return ids


@contextmanager
def _served(database_url: str, count: int, page_size: int, retired: tuple[int, ...] = ()) -> Iterator[tuple[httpx.Client, list[str], SessionFactory]]:
    """A web view on loopback over ``count`` lists filled by ``_fill``."""
    config = make_config(database_url, web={"page_size": page_size})
    sessions = open_store(config)
    ids = _fill(sessions, count, retired=retired)
    with serving(create_app(config, sessions, clock=lambda: NOW)) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield client, ids, sessions


def test_the_api_walks_every_list_once_by_page_and_by_cursor(database_url):
    with _served(database_url, 7, 50, retired=(0, 3)) as (client, ids, _):
        expected = [i for n, i in enumerate(ids) if n not in (0, 3)] + [ids[0], ids[3]]
        walked, cursor, pages = [], None, 0
        while True:
            body = client.get("/api/sources", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
            walked += [item["id"] for item in body["items"]]
            pages += 1
            cursor = body["next_cursor"]
            assert body["has_next"] == (cursor is not None) and body["total"] == 7
            if cursor is None:
                break
        assert walked == expected and pages == 4
        by_page = [item["id"] for item in client.get("/api/sources", params={"limit": 2, "page": 2}).json()["items"]]
        assert by_page == expected[2:4]

        summaries = {item["id"]: item for item in client.get("/api/sources", params={"limit": 10}).json()["items"]}
        assert summaries[ids[0]]["recent_changes"] == {"changed": 2} and summaries[ids[0]]["dead_links"] == 1
        assert summaries[ids[0]]["retired"] and summaries[ids[0]]["edition"] == "令和8年4月1日時点"
        assert (summaries[ids[2]]["last_status"], summaries[ids[2]]["records"]) == ("failed", 12)  # records of the newest good run
        assert summaries[ids[1]]["records"] is None and summaries[ids[1]]["last_error"] == "connection refused"

        bad = client.get("/api/sources", params={"cursor": "list01"})
        assert bad.status_code == 400 and "cursor" in bad.json()["detail"]
        both = client.get("/api/sources", params={"cursor": "0:list01", "page": 2})
        assert both.status_code == 400 and "page or cursor" in both.json()["detail"]
        assert client.get("/api/sources", params={"limit": 501}).status_code == 400


def test_the_overview_page_has_pages(database_url):
    with _served(database_url, 7, 3, retired=(0,)) as (client, ids, _):
        first = client.get("/").text
        assert all(f">{i}<" in first for i in ids[1:4]) and f">{ids[4]}<" not in first
        assert 'href="/?page=2"' in first and "1 / 3" in first
        last = client.get("/", params={"page": 3}).text
        assert f">{ids[0]}<" in last and 'href="/?page=2"' in last and "?page=4" not in last
        assert client.get("/", params={"page": "zero"}).status_code == 400


@pytest.mark.parametrize("path", ["/", "/api/sources"])
def test_a_page_costs_the_same_queries_for_6_lists_as_for_60(database_url, path):
    with _served(database_url, 6, 50) as (client, _, sessions):
        engine = sessions.kw["bind"]

        def count() -> int:
            with statements_run(engine) as statements:
                assert client.get(path).status_code == 200
            return len(statements)

        few = count()
        _fill(sessions, 54, start=6)
        assert count() == few <= 12


def test_the_overview_reads_only_the_titles_of_the_events_it_shows(database_url):
    # At 18,000 lists, loading every title to name 20 events was half of the time of `/` (bench/scale.py).
    with _served(database_url, 60, 10) as (client, ids, sessions):
        with statements_run(sessions.kw["bind"]) as run:
            page = client.get("/")
        statements = [" ".join(statement.split()) for statement, _ in run]
        assert page.status_code == 200 and "一覧 0" in page.text
        whole = [s for s in statements if "FROM sources" in s and "sources.title" in s and " WHERE " not in s and " LIMIT " not in s]
        assert whole == [], f"a statement read every list's title: {whole}"
