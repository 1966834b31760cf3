"""JSON columns hold their text as it is: a Japanese cell is stored as its characters, not as
\\uXXXX escapes (half the bytes, and readable by any tool that opens the database), and a
value stored escaped by an earlier version reads back and is found the same."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import text

from store.database import open_engine, session_factory
from store.models import Event, MeasureVersion, Snapshot, Source
from store.search import search_versions
from store.version_writes import insert_rows, insert_versions, new_ids

NOW = datetime(2026, 4, 1, tzinfo=timezone.utc)
FIELDS = {"施策": "多摩の魅力発信プロジェクト", "担当部署": "政策企画局 計画部"}


def _stored(session, table: str, column: str, row_id: int) -> str:
    cast = f"{column}::text" if session.get_bind().dialect.name == "postgresql" else column
    return session.execute(text(f"SELECT {cast} FROM {table} WHERE id = :id"), {"id": row_id}).scalar_one()


def test_fields_and_payloads_are_stored_as_their_characters_and_escaped_ones_still_read(database_url):
    sessions = session_factory(open_engine(database_url))
    with sessions.begin() as session:
        session.add(Source(id="a", title="a", url="file:///a.txt", format="text-table", created_at=NOW))
        session.flush()
        snapshot = Snapshot(source_id="a", fetched_at=NOW, status="baseline")
        session.add(snapshot)
        session.flush()
        measures = new_ids(session, "measures", 3)
        insert_rows(session, "measures", [{"id": i, "source_id": "a", "key": f"k{i}", "name": f"施策{i}", "first_seen_snapshot_id": snapshot.id,
                                           "first_seen_at": NOW} for i in measures])
        row = {"source_id": "a", "content_hash": "h", "name": FIELDS["施策"], "valid_from_snapshot_id": snapshot.id, "valid_from": NOW}
        bulk = new_ids(session, "measure_versions", 1)[0]
        insert_versions(session, [{**row, "id": bulk, "measure_id": measures[0], "fields": FIELDS}])
        orm = MeasureVersion(**row, measure_id=measures[1], fields=FIELDS)
        event = Event(created_at=NOW, kind="added", source_id="a", snapshot_id=snapshot.id, measure_id=measures[1], payload={"name": FIELDS["施策"]})
        session.add_all([orm, event])
        session.flush()
        # As every version before this one stored them: escaped.
        escaped = session.execute(text("INSERT INTO measure_versions (measure_id, source_id, fields, content_hash, name, valid_from_snapshot_id, valid_from) "
                                       "VALUES (:m, 'a', :f, 'h', :n, :s, :t) RETURNING id"),
                                  {"m": measures[2], "f": json.dumps(FIELDS), "n": FIELDS["施策"], "s": snapshot.id, "t": NOW.isoformat(" ")}).scalar_one()
        stored = [_stored(session, "measure_versions", "fields", i) for i in (bulk, orm.id)] + [_stored(session, "events", "payload", event.id)]
    for raw in stored:
        assert "多摩の魅力発信プロジェクト" in raw and "\\u" not in raw, raw
    with sessions() as session:
        assert [version.fields for version in session.query(MeasureVersion).order_by(MeasureVersion.id)] == [FIELDS] * 3
        assert sorted(version.id for _, version in search_versions(session, ["魅力発信"], limit=10)) == sorted([bulk, orm.id, escaped])
        assert sorted(version.id for _, version in search_versions(session, ["計画部", "多摩"], limit=10)) == sorted([bulk, orm.id, escaped])
