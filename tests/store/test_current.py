"""The listed rows a run pairs by their published text: read in measure order, from one index."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import event

from store.current import listed_now
from store.database import SessionFactory, engine_of, open_engine, session_factory
from store.models import Measure, MeasureVersion, Snapshot, Source

NOW = datetime(2026, 4, 1, tzinfo=timezone.utc)


def _store(tmp_path: Path) -> SessionFactory:
    sessions = session_factory(open_engine(f"sqlite:///{tmp_path / 'store.db'}"))
    with sessions() as session, session.begin():
        session.add(Source(id="tama", title="t", url="file:///t.txt", format="text-table", created_at=NOW))
        session.flush()
        snapshot = Snapshot(source_id="tama", fetched_at=NOW, status="baseline")
        session.add(snapshot)
        session.flush()
        for measure_id in (3, 1, 2):  # written out of order
            session.add(Measure(id=measure_id, source_id="tama", key=f"k{measure_id}", name=f"n{measure_id}", first_seen_snapshot_id=snapshot.id, first_seen_at=NOW))
            session.flush()
            session.add(MeasureVersion(id=10 + measure_id, measure_id=measure_id, source_id="tama", fields={"施策": f"n{measure_id}"}, content_hash="h",
                                       published_digest=bytes([measure_id]) * 16, name=f"n{measure_id}", valid_from_snapshot_id=snapshot.id, valid_from=NOW,
                                       valid_to_snapshot_id=snapshot.id if measure_id == 2 else None, valid_to=NOW if measure_id == 2 else None))
    return sessions


def test_listed_rows_are_the_open_versions_in_measure_order_read_from_the_index_alone(tmp_path):
    sessions = _store(tmp_path)
    statements: list[tuple[str, Any]] = []
    event.listen(engine_of(sessions), "before_cursor_execute", lambda conn, cursor, sql, params, context, many: statements.append((sql, params)))
    with sessions() as session:
        listed = listed_now(session, "tama")
        assert (listed.measure_ids, listed.version_ids, listed.digests) == ([1, 3], [11, 13], [b"\x01" * 16, b"\x03" * 16])
        sql, params = statements[-1]
        plan = " ".join(str(row[-1]) for row in session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
    # Every run reads this for each listed row: from the table (a version's JSON) it was 3 times slower.
    assert "COVERING INDEX ix_measure_versions_listed" in plan and "TEMP B-TREE" not in plan, plan
