"""The tick's question "which hosts have a due link" (store.link_state.due_hosts): every host with a
cited link never checked or due by now, once each, in order; and it is answered from migration
0011's index alone (at 1,000,000 links, reading each due row for its host took most of a second).
SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from monitor.runtime.check import open_store
from store.database import transaction
from store.link_state import due_hosts
from store.models import Link
from tests.conftest import make_config, query_plan, statements_run

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def _link(n: int, host: str, next_check_at: datetime | None, *, cited: bool = True) -> Link:
    return Link(url=f"https://{host}/{n}.html", host=host, first_seen_at=NOW, cited=cited, next_check_at=next_check_at)


def test_due_hosts_are_read_from_the_index_alone(database_url):
    sessions = open_store(make_config(database_url))
    with transaction(sessions) as session:
        session.add_all([
            _link(1, "b.example.jp", None), _link(2, "a.example.jp", NOW - timedelta(hours=1)), _link(3, "a.example.jp", NOW),
            _link(4, "c.example.jp", NOW + timedelta(minutes=1)), _link(5, "d.example.jp", None, cited=False),
        ])
    engine = sessions.kw["bind"]
    with statements_run(engine) as statements, transaction(sessions) as session:
        assert due_hosts(session, NOW) == ["a.example.jp", "b.example.jp"]
    sqlite = engine.dialect.name == "sqlite"
    ((statement, parameters),) = [s for s in statements if "links" in s[0]]
    plan = query_plan(engine, statement, parameters)
    reads = [line for line in plan if re.search(r"\b(SCAN|SEARCH) links\b|Scan\b.* on links", line)]
    only_index = r"USING COVERING INDEX ix_links_due_host" if sqlite else r"Index Only Scan using ix_links_due_host"
    assert reads and all(re.search(only_index, line) for line in reads), plan
