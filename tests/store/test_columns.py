"""The columns of a list's newest version, found from an index without reading every version's fields."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from store.columns import latest_columns
from store.database import open_engine, session_factory
from store.models import Measure, MeasureVersion, Snapshot, Source

from tests.conftest import query_plan, statements_run

NOW = datetime(2026, 4, 1, tzinfo=timezone.utc)


def test_the_newest_versions_columns_are_found_from_the_index_alone(database_url):
    engine = open_engine(database_url)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        session.add_all([Source(id=s, title=s, url=f"file:///{s}.txt", format="text-table", created_at=NOW) for s in ("a", "b")])
        session.flush()
        snapshot = Snapshot(source_id="a", fetched_at=NOW, status="baseline")
        session.add(snapshot)
        session.flush()
        measure = Measure(source_id="a", key="k", name="施策", first_seen_snapshot_id=snapshot.id, first_seen_at=NOW)
        other = Measure(source_id="b", key="k", name="施策", first_seen_snapshot_id=snapshot.id, first_seen_at=NOW)
        session.add_all([measure, other])
        session.flush()
        # Two versions of the newest time: the one written last (the higher id) is the newest.
        for source_id, fields, at in (("a", {"旧": "1"}, NOW), ("a", {"施策": "1", "URL": "2"}, NOW + timedelta(days=1)),
                                      ("a", {"施策": "1", "担当": "2"}, NOW + timedelta(days=1)), ("b", {"別の一覧": "1"}, NOW + timedelta(days=2))):
            session.add(MeasureVersion(measure_id=measure.id if source_id == "a" else other.id, source_id=source_id, fields=fields, content_hash="h",
                                       name="施策", valid_from_snapshot_id=snapshot.id, valid_from=at))
            session.flush()
    with sessions() as session, statements_run(engine) as statements:
        assert latest_columns(session, "a") == ["施策", "担当"]
        assert latest_columns(session, "c") == []
    if engine.dialect.name == "sqlite":
        # Ordered with its fields, every version of the newest time was read from the table to be sorted.
        plan = query_plan(engine, *statements[0])
        assert [line for line in plan if "ix_measure_versions_source_span" in line and "COVERING INDEX" not in line] == [], plan
