"""The fleet's tick (monitor.runtime.worker.due_units): what is due by the tick's own ``now``, one
bound a schedule (every and cron alike), the hosts with links due by that ``now`` (not by the
wall clock), and only the recent starts read from ``job_state``. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import event

from monitor.runtime.check import open_store
from monitor.runtime.worker import due_units
from store.database import transaction
from store.models import JobState, Link
from tests.conftest import make_config, source_entry

# A day ahead of the wall clock: what is due then is not due now.
NOW = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)
HOUR = timedelta(hours=1)


def _config(database_url: str):  # noqa: ANN202
    sources = [source_entry(name, f"http://127.0.0.1:9/{name}.txt") for name in ("fresh", "owed", "never")]
    # 07:00 in Tokyo, the day of NOW: started before it is owed a run, after it is not.
    sources += [source_entry(name, f"http://127.0.0.1:9/{name}.txt", schedule={"cron": "0 7 * * *"}) for name in ("cron-owed", "cron-fresh")]
    return make_config(database_url, *sources, schedule={"sources": {"every": "6h"}, "links": {"every": "1h"}},
                       links={"enabled": True}, timezone="Asia/Tokyo")


def test_the_tick_finds_what_is_due_by_its_own_now(database_url):
    config = _config(database_url)
    sessions = open_store(config)
    seven = NOW.astimezone(config.tz).replace(hour=7, minute=0, second=0)
    if seven > NOW:
        seven -= timedelta(days=1)
    with transaction(sessions) as session:
        session.add_all([
            JobState(job_id="source:fresh", last_started_at=NOW - 6 * HOUR + timedelta(seconds=1)),
            JobState(job_id="source:owed", last_started_at=NOW - 6 * HOUR),
            JobState(job_id="source:cron-owed", last_started_at=seven - timedelta(seconds=1)),
            JobState(job_id="source:cron-fresh", last_started_at=seven),
            JobState(job_id="links:due.example.jp", last_started_at=NOW - 2 * HOUR),
            JobState(job_id="links:busy.example.jp", last_started_at=NOW - HOUR / 2),
        ])
        for n, host in enumerate(("due.example.jp", "busy.example.jp", "later.example.jp")):
            # Due by NOW (a day ahead), not by the wall clock: a tick at NOW must see them.
            next_check = NOW + HOUR if host == "later.example.jp" else NOW - HOUR
            session.add(Link(url=f"https://{host}/{n}", host=host, first_seen_at=NOW - 48 * HOUR, cited=True, next_check_at=next_check))
    engine = sessions.kw["bind"]
    reads: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        reads.append(statement)

    event.listen(engine, "before_cursor_execute", capture)
    try:
        due = {unit.name for unit in due_units(config, sessions, NOW)}
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert due == {"source:owed", "source:never", "source:cron-owed", "links:due.example.jp", "citations:links"}
    # job_state: the recent starts only, by their start time.
    (state_read,) = [statement for statement in reads if "job_state" in statement]
    assert "last_started_at >=" in state_read and "last_error" not in state_read
