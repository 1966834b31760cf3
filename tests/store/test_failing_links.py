"""One meaning of a failing link (issue 17 item 9): `status`, `links` and /links count a dead
link as dead and never also as failing; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from monitor.links.views import link_summary
from monitor.runtime.check import open_store
from monitor.runtime.status import read_status
from store.database import engine_of, transaction
from store.models import Link
from store.queries import links_page
from tests.conftest import make_config

T0 = datetime(2026, 4, 1, tzinfo=timezone.utc)


def test_status_and_links_agree_on_what_is_failing(database_url):
    config = make_config(database_url)
    sessions = open_store(config)
    with transaction(sessions) as session:
        session.add_all([
            Link(url="https://ok.example.jp/", host="ok.example.jp", first_seen_at=T0, last_checked_at=T0, consecutive_failures=0),
            Link(url="https://flaky.example.jp/", host="flaky.example.jp", first_seen_at=T0, last_checked_at=T0, consecutive_failures=1,
                 failing_since=T0),
            Link(url="https://dead.example.jp/", host="dead.example.jp", first_seen_at=T0, last_checked_at=T0, consecutive_failures=3,
                 failing_since=T0 - timedelta(days=2), dead_since=T0 - timedelta(days=2)),
        ])
    status = read_status(config, engine_of(sessions), T0)
    with transaction(sessions) as session:
        summary = link_summary(session)
        failing_page = [link.url for link in links_page(session, state="failing", limit=10, offset=0)]
    assert status.links == {"cited": 3, "dead": 1, "failing": 1}
    assert (summary["failing"], summary["dead"]) == (1, 1)
    assert failing_page == ["https://flaky.example.jp/"]
