"""Bulk writes of a list's new version: ids taken before the rows are written never collide, and
versions written in bulk are in the search index as others are."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sqlalchemy import func, select

from store.database import open_engine, session_factory
from store.models import Measure, MeasureVersion, Snapshot, Source
from store.search import search_versions
from store.version_writes import bulk_versions, insert_rows, insert_versions, new_ids

from tests.conftest import fresh_database, raised_in_threads

NOW = datetime(2026, 4, 1, tzinfo=timezone.utc)


def _write_measures(sessions, source_id: str, count: int, started: threading.Barrier) -> None:
    with sessions.begin() as session:
        snapshot = Snapshot(source_id=source_id, fetched_at=NOW, status="baseline")
        session.add(snapshot)
        session.flush()  # the transaction has written: on SQLite it now holds the one write lock
        started.wait(timeout=10)
        ids = new_ids(session, "measures", count)
        insert_rows(session, "measures", [
            {"id": i, "source_id": source_id, "key": f"{source_id}-{i}", "name": "施策", "first_seen_snapshot_id": snapshot.id, "first_seen_at": NOW}
            for i in ids
        ])


def test_two_lists_written_at_the_same_moment_both_keep_every_row(database_url):
    sessions = session_factory(open_engine(database_url))
    with sessions.begin() as session:
        session.add_all([Source(id=s, title=s, url=f"file:///{s}.txt", format="text-table", created_at=NOW) for s in ("a", "b")])
    # On PostgreSQL both transactions take their ids while both are open (two workers); on
    # SQLite the second waits for the first's write lock, then takes ids above its rows.
    barrier = threading.Barrier(2) if database_url.startswith("postgresql") else threading.Barrier(1)
    assert raised_in_threads(lambda source_id: _write_measures(sessions, source_id, 2000, barrier), ("a", "b"), timeout=60) == []
    with sessions() as session:
        counts = dict(session.execute(select(Measure.source_id, func.count()).group_by(Measure.source_id)).all())
        assert counts == {"a": 2000, "b": 2000}
        # A measure added the ordinary way afterwards gets an id of its own.
        session.add(Measure(source_id="a", key="later", name="後から", first_seen_snapshot_id=1, first_seen_at=NOW))
        session.commit()
        assert session.scalar(select(func.count(func.distinct(Measure.id)))) == 4001


def test_ids_taken_by_two_open_transactions_on_postgresql_are_disjoint(tmp_path: Path):
    with fresh_database("postgresql", tmp_path) as url:
        sessions = session_factory(open_engine(url))
        with sessions() as first, sessions() as second:
            first.begin()
            second.begin()
            taken = new_ids(first, "measure_versions", 500), new_ids(second, "measure_versions", 500)
            assert len(set(taken[0]) | set(taken[1])) == 1000


def list_a(session, now: datetime = NOW) -> Snapshot:
    """A list "a" and its baseline snapshot, for versions to be written under."""
    session.add(Source(id="a", title="a", url="file:///a.txt", format="text-table", created_at=now))
    session.flush()
    snapshot = Snapshot(source_id="a", fetched_at=now, status="baseline")
    session.add(snapshot)
    session.flush()
    return snapshot


def test_versions_written_in_bulk_and_one_at_a_time_are_both_found_by_search(database_url):
    sessions = session_factory(open_engine(database_url))
    with sessions.begin() as session:
        snapshot = list_a(session)
        measures = new_ids(session, "measures", 3)
        insert_rows(session, "measures", [
            {"id": i, "source_id": "a", "key": f"k{i}", "name": f"施策{i}", "first_seen_snapshot_id": snapshot.id, "first_seen_at": NOW} for i in measures
        ])
        versions = new_ids(session, "measure_versions", 2)
        insert_versions(session, [
            {"id": v, "measure_id": m, "source_id": "a", "fields": {"施策": name}, "content_hash": "h", "name": name,
             "valid_from_snapshot_id": snapshot.id, "valid_from": NOW}
            for v, m, name in zip(versions, measures[:2], ["多摩の魅力発信プロジェクト", "島しょ山村地域への定住促進"], strict=True)
        ])
        # Any other writer (db copy, an ORM object) is indexed by the trigger, as before.
        session.add(MeasureVersion(measure_id=measures[2], source_id="a", fields={"施策": "燃料電池バス導入促進事業"}, content_hash="h",
                                   name="燃料電池バス導入促進事業", valid_from_snapshot_id=snapshot.id, valid_from=NOW))
    with sessions() as session:
        for term, measure in (("魅力発信", measures[0]), ("定住促進", measures[1]), ("燃料電池", measures[2]), ("多摩", measures[0])):
            assert [m.id for m, _ in search_versions(session, [term], limit=10)] == [measure], term


def test_a_list_written_in_bulk_is_found_by_its_fields_and_by_a_name_they_do_not_hold(database_url):
    """Inside bulk_versions the versions wait for one index statement at the end; the text is
    the fields' values, and the (normalised) name only where they do not hold it."""
    sessions = session_factory(open_engine(database_url))
    named = [({"施策": "多摩の魅力発信プロジェクト", "URL": "https://www.example.jp/tama"}, "多摩の魅力発信プロジェクト"),
             ({"施策": "事業１２３４５"}, "事業12345"),  # NFKC made the name of the full-width cell
             ({}, "名前だけの施策")]
    with sessions.begin() as session:
        snapshot = list_a(session)
        measures = new_ids(session, "measures", len(named))
        with bulk_versions(session, len(named)):
            insert_rows(session, "measures", [
                {"id": i, "source_id": "a", "key": name, "name": name, "first_seen_snapshot_id": snapshot.id, "first_seen_at": NOW}
                for i, (_, name) in zip(measures, named, strict=True)
            ])
            for measure, (fields, name) in zip(measures, named, strict=True):  # a batch each, as apply_list writes them
                insert_versions(session, [{"id": new_ids(session, "measure_versions", 1)[0], "measure_id": measure, "source_id": "a", "fields": fields,
                                           "content_hash": "h", "name": name, "valid_from_snapshot_id": snapshot.id, "valid_from": NOW}])
    with sessions() as session:
        for term, measure in (("魅力発信", measures[0]), ("example.jp", measures[0]), ("多摩", measures[0]), ("事業12345", measures[1]),
                              ("１２３", measures[1]), ("名前だけ", measures[2])):
            assert [m.id for m, _ in search_versions(session, [term], limit=10)] == [measure], term


def test_a_bulk_write_that_fails_leaves_nothing_in_the_index_and_the_next_one_indexes_its_own(database_url):
    sessions = session_factory(open_engine(database_url))
    with sessions.begin() as session:
        session.add(Source(id="a", title="a", url="file:///a.txt", format="text-table", created_at=NOW))
        session.flush()
        session.add(Snapshot(id=1, source_id="a", fetched_at=NOW, status="baseline"))

    def write(name: str, *, fail: bool) -> None:
        with sessions.begin() as session, bulk_versions(session, 1):
            measure, version = new_ids(session, "measures", 1)[0], new_ids(session, "measure_versions", 1)[0]
            insert_rows(session, "measures", [{"id": measure, "source_id": "a", "key": name, "name": name, "first_seen_snapshot_id": 1, "first_seen_at": NOW}])
            insert_versions(session, [{"id": version, "measure_id": measure, "source_id": "a", "fields": {"施策": name}, "content_hash": "h",
                                       "name": name, "valid_from_snapshot_id": 1, "valid_from": NOW}])
            if fail:
                raise RuntimeError("the run failed")

    with pytest.raises(RuntimeError):
        write("燃料電池バス導入促進事業", fail=True)
    write("島しょ山村地域への定住促進", fail=False)
    with sessions() as session:
        assert search_versions(session, ["燃料電池"], limit=10) == []
        assert [version.name for _, version in search_versions(session, ["定住促進"], limit=10)] == ["島しょ山村地域への定住促進"]
