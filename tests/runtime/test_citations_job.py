"""The daily reconcile of ``links.cited`` (store.links.reconcile_cited, the ``citations`` job):
a link wrongly uncited is cited (and due) again, a link no open version cites is uncited, a
retired list's links stay uncited; the job is due once a day wherever links are checked.
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from monitor.runtime.check import open_store
from monitor.runtime.jobs import run_job, run_source_job
from monitor.runtime.worker import due_units
from store.database import transaction
from store.models import Link
from store.source_admin import set_retired
from tests.conftest import TAMA, make_config, seed_text, source_entry
from tests.runtime.test_check import publish

T0 = datetime(2026, 4, 1, tzinfo=timezone.utc)
# The retired list cites pages of its own host only.
OLD_HOST = "old.metro.tokyo.lg.jp"


def _cited(sessions) -> dict[str, tuple[bool, datetime | None]]:  # noqa: ANN001
    with transaction(sessions) as session:
        return {url: (cited, due) for url, cited, due in session.execute(select(Link.url, Link.cited, Link.next_check_at))}


def test_the_daily_reconcile_puts_every_cited_mark_right(site, database_url):
    publish(site, "/tama.txt", seed_text(TAMA))
    publish(site, "/old.txt", seed_text(TAMA).replace("https://", f"https://{OLD_HOST}/"))
    config = make_config(database_url, source_entry("tama", site.url("/tama.txt")), source_entry("old", site.url("/old.txt")),
                         links={"enabled": True})
    sessions = open_store(config)
    assert run_source_job(config, sessions, T0, "tama").status == "ok" and run_source_job(config, sessions, T0, "old").status == "ok"
    links = _cited(sessions)
    watched = sorted(url for url in links if OLD_HOST not in url)
    lost, stray = watched[0], "https://nobody.example.jp/cites-me"
    with transaction(sessions) as session:
        set_retired(session, "old", T0)
        # What the race leaves: a cited link marked uncited (never checked again), and a link
        # nobody cites still marked cited (checked for ever); a retired list's link marked cited.
        session.execute(update(Link).where(Link.url == lost).values(cited=False, next_check_at=T0 + timedelta(days=30)))
        session.add(Link(url=stray, host="nobody.example.jp", first_seen_at=T0, cited=True, next_check_at=T0))
        session.execute(update(Link).where(Link.url.like(f"%{OLD_HOST}%")).values(cited=True))
    later = T0 + timedelta(hours=1)
    run = run_job(config, sessions, later, "citations", "links")
    retired_links = [url for url in links if OLD_HOST in url]
    assert run.status == "ok" and run.result == f"1 link(s) cited again, {len(retired_links) + 1} no longer cited"
    after = _cited(sessions)
    assert after[lost] == (True, later)  # cited again, and due at once
    assert not after[stray][0] and not any(after[url][0] for url in retired_links)
    assert all(after[url][0] for url in watched)
    # Once a day: the next day's tick finds it due again, the same day's does not.
    names = lambda now: {unit.name for unit in due_units(config, sessions, now)}  # noqa: E731
    assert "citations:links" not in names(later + timedelta(hours=23)) and "citations:links" in names(later + timedelta(days=1))
    assert run_job(config, sessions, later + timedelta(days=1), "citations", "links").result == "0 link(s) cited again, 0 no longer cited"


def test_no_reconcile_where_links_are_not_checked(database_url):
    config = make_config(database_url, source_entry("tama", "http://127.0.0.1:9/tama.txt"))
    assert [unit.name for unit in due_units(config, open_store(config), T0)] == ["source:tama"]
