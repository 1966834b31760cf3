"""A changed list's link refresh (store.links.refresh_cited) looks up the closed versions' few
links by id, whatever the database knows of its tables: on SQLite (which keeps no statistics
unless told) a "cited" filter beside the ids made it read every cited link through
ix_links_due_host, half a second at 1,000,000 links."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import event

from monitor.runtime.check import open_store
from store.database import transaction
from store.links import refresh_cited
from store.models import Snapshot
from tests.conftest import make_config

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def test_the_refresh_reads_links_by_id_only(tmp_path: Path) -> None:
    sessions = open_store(make_config(f"sqlite:///{tmp_path / 'monitor.db'}"))
    engine = sessions.kw["bind"]
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with transaction(sessions) as session:
            refresh_cited(session, Snapshot(id=7, source_id="tama", fetched_at=NOW, status="changed"))
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    ((statement, parameters),) = [s for s in statements if s[0].startswith("UPDATE links")]
    with engine.connect() as connection:
        plan = [str(row[-1]) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    reads = [line for line in plan if " links " in f"{line} "]
    assert reads == ["SEARCH links USING INTEGER PRIMARY KEY (rowid=?)"], plan
