"""link_checks compaction: old history shrinks to one check a day and every change of outcome."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import groupby

from sqlalchemy import select

from store.compaction import compact_link_checks
from store.database import open_engine, session_factory, transaction
from store.models import Link, LinkCheck

START = datetime(2026, 1, 1, 3, 0, tzinfo=timezone.utc)
NOW = START + timedelta(days=120)


def _outcome(day: int, nth: int) -> str:
    if day == 10 and nth == 2:
        return "error"          # a blip inside a day, long ago
    if 40 <= day < 45:
        return "not_found"      # dead for five days, long ago
    if day >= 100 and nth == 3:
        return "error"          # recent blips stay as they are
    return "ok"


def _history(sessions) -> list[tuple[datetime, str]]:
    with transaction(sessions) as session:
        return [(row.checked_at, row.outcome) for row in session.scalars(select(LinkCheck).order_by(LinkCheck.checked_at))]


def test_old_checks_become_one_a_day_and_every_change_of_outcome_stays(database_url):
    sessions = session_factory(open_engine(database_url))
    with transaction(sessions) as session:
        link = Link(url="https://www.example.lg.jp/a.html", host="www.example.lg.jp", first_seen_at=START, cited=True)
        session.add(link)
        session.flush()
        session.add_all(LinkCheck(link_id=link.id, checked_at=START + timedelta(days=day, hours=5 * nth), outcome=_outcome(day, nth))
                        for day in range(120) for nth in range(4))
    before = _history(sessions)
    with transaction(sessions) as session:
        removed = [compact_link_checks(session, NOW, keep_days=90, batch=50) for _ in range(10)]
    after = _history(sessions)

    assert sum(removed) == len(before) - len(after) > 0 and removed[-1] == 0  # batches, then nothing left
    cutoff = NOW - timedelta(days=90)
    assert [c for c in before if c[0] >= cutoff] == [c for c in after if c[0] >= cutoff]  # recent: untouched
    assert [k for k, _ in groupby(o for _, o in before)] == [k for k, _ in groupby(o for _, o in after)]  # transitions
    old_days = {t.date() for t, _ in before if t < cutoff}
    assert old_days == {t.date() for t, _ in after if t < cutoff}  # every day keeps a check
    per_day = {day: sum(1 for t, _ in after if t.date() == day) for day in old_days}
    assert max(per_day.values()) <= 3 and sorted(per_day.values()).count(1) >= len(old_days) - 3
    with transaction(sessions) as session:
        assert compact_link_checks(session, NOW, keep_days=90) == 0  # idempotent


def test_the_links_job_compacts_the_history_of_the_links_it_checked(database_url, site):
    from monitor.demo.site import Route
    from monitor.runtime.check import open_store
    from monitor.links.run import run_link_checks
    from tests.conftest import make_config

    site.publish("/page.html", Route(b"<html><title>ok</title><body>ok</body></html>", content_type="text/html"))
    config = make_config(database_url, links={"enabled": True, "per_host_interval_s": 0, "sibling_probe": False, "keep_checks_days": 30})
    sessions = open_store(config)
    now = START + timedelta(days=120)
    with transaction(sessions) as session:
        link = Link(url=site.url("/page.html"), host="127.0.0.1", first_seen_at=START, cited=True, next_check_at=now - timedelta(hours=1))
        session.add(link)
        session.flush()
        session.add_all(LinkCheck(link_id=link.id, checked_at=START + timedelta(days=day, hours=2 * nth), outcome="ok")
                        for day in range(100) for nth in range(12))
    run_link_checks(config, sessions, now)
    history = _history(sessions)
    old = [t for t, _ in history if t < now - timedelta(days=30)]
    assert len(old) == len({t.date() for t in old}) >= 90  # one a day past keep_checks_days (was twelve)
    assert sum(1 for t, _ in history if t >= now - timedelta(days=30)) == 10 * 12 + 1  # recent ones and today's check
