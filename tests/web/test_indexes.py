"""The web view's queries use indexes: EXPLAIN every statement a page runs.

The statements are captured as the pages' read models run them, then explained on the same
database: SQLite's EXPLAIN QUERY PLAN must not ``SCAN`` (without an index) and PostgreSQL's
EXPLAIN must not ``Seq Scan`` events, measure_versions or link_checks. PostgreSQL is asked
with ``enable_seqscan`` off, because on tables this small it would rightly prefer a
sequential scan; off, it still scans sequentially wherever no index can serve.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from web.labels import labels_for
from web.overview import overview_page, sources_api_page
from web.views import ChangeFilter, Reader

from tests.conftest import statements_run

WATCHED = ("events", "measure_versions", "link_checks")


def _captured(db: Any, read: Callable[[Reader], Any]) -> list[tuple[str, Any]]:
    with statements_run(db.sessions.kw["bind"]) as statements, db.sessions() as session:
        read(Reader(session, labels_for("ja"), db.config.tz, 50))
    return statements


def _full_scans(db: Any, statements: list[tuple[str, Any]]) -> list[str]:
    engine = db.sessions.kw["bind"]
    found: list[str] = []
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if not sqlite:
            connection.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in statements:
            prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            plan = [" ".join(str(c) for c in row) for row in connection.exec_driver_sql(prefix + statement, parameters)]
            for line in plan:
                table = re.search(r"\bSCAN (\w+)(?!.*USING (COVERING )?INDEX)", line) if sqlite else re.search(r"Seq Scan on (\w+)", line)
                if table and table.group(1) in WATCHED:
                    found.append(f"{line.strip()}  <=  {statement.splitlines()[0][:120]}")
    return found


READS: dict[str, Callable[[Any], Callable[[Reader], Any]]] = {
    "timeline": lambda db: lambda r: r.changes(ChangeFilter(), 2),
    "timeline by source, kind and days": lambda db: lambda r: r.changes(ChangeFilter("tama", ["changed", "added"], date(2026, 4, 1), date(2026, 4, 2)), 1),
    "timeline by days": lambda db: lambda r: r.changes(ChangeFilter(first=date(2026, 4, 2)), 1),
    "overview": lambda db: lambda r: overview_page(r, 1, db.now),
    "sources by cursor": lambda db: lambda r: sources_api_page(r, db.now, page=1, limit=1, cursor="0:nationwide"),
    "measure history": lambda db: lambda r: r.measure(db.phone_measure),
    "link history": lambda db: lambda r: r.link(db.dead_link),
    "list as of a day": lambda db: lambda r: r.source_list("tama", date(2026, 4, 1), 1, db.now),
    "list now": lambda db: lambda r: r.source_list("tama", None, 1, db.now),
}


@pytest.mark.parametrize("name", list(READS))
def test_page_queries_never_scan_the_big_tables(web_db, name):
    statements = _captured(web_db, READS[name](web_db))
    assert statements
    assert _full_scans(web_db, statements) == []


def test_the_check_sees_a_full_scan(web_db):
    """The detector itself: a filter on a column no index covers is reported."""
    unindexed = [("SELECT id FROM events WHERE snapshot_id = 1", ())] if web_db.url.startswith("sqlite") else [("SELECT id FROM events WHERE snapshot_id = 1", {})]
    assert len(_full_scans(web_db, unindexed)) == 1
