"""``guard.alert_after_failures``: a source's ``source_failed`` only after N failed runs in a row.

Every failed run still stores its snapshot. Runs on SQLite and PostgreSQL (``database_url``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from monitor.demo.site import Route
from monitor.runtime.check import open_store, run_check
from store.database import transaction
from store.models import Event, Snapshot
from tests.conftest import TAMA, make_config, seed_text, source_entry

T0 = datetime(2026, 4, 1, tzinfo=timezone.utc)
PATH = "/alert/tama.txt"


def _world(database_url, site, **guard):
    site.remove(PATH)
    config = make_config(database_url, source_entry("tama", site.url(PATH)), **({"guard": guard} if guard else {}))
    return config, open_store(config)


def _failed_events(sessions) -> list[Event]:
    with transaction(sessions) as session:
        return list(session.scalars(select(Event).where(Event.kind == "source_failed").order_by(Event.id)))


def _statuses(sessions) -> list[str]:
    with transaction(sessions) as session:
        return list(session.scalars(select(Snapshot.status).where(Snapshot.source_id == "tama").order_by(Snapshot.id)))


def _run(config, sessions, hours: int):
    return run_check(config, sessions, clock=lambda: T0 + timedelta(hours=hours), notify=False)


def test_two_failed_runs_before_the_alert(database_url, site):
    config, sessions = _world(database_url, site, alert_after_failures=2)
    site.publish(PATH, Route(seed_text(TAMA).encode("utf-8")))
    _run(config, sessions, 0)
    site.remove(PATH)
    assert _run(config, sessions, 1).sources[0].status == "failed"
    assert _failed_events(sessions) == []  # one failure: no alert yet, but the snapshot is kept
    assert _statuses(sessions)[-1] == "failed"
    _run(config, sessions, 2)
    (event,) = _failed_events(sessions)
    assert event.payload["since"] == (T0 + timedelta(hours=1)).isoformat()  # the first failure of the streak
    _run(config, sessions, 3)
    assert len(_failed_events(sessions)) == 1  # once per run of failures
    assert _statuses(sessions)[1:] == ["failed", "failed", "failed"]
    # A good run ends the streak: the next single failure is not an alert again.
    site.publish(PATH, Route(seed_text(TAMA).encode("utf-8")))
    _run(config, sessions, 4)
    site.remove(PATH)
    _run(config, sessions, 5)
    assert len(_failed_events(sessions)) == 1


def test_the_default_alerts_at_the_first_failure(database_url, site):
    config, sessions = _world(database_url, site)
    assert config.guard.alert_after_failures == 1
    site.remove(PATH)
    _run(config, sessions, 0)
    assert len(_failed_events(sessions)) == 1


def _recovered(sessions) -> int:
    with transaction(sessions) as session:
        return len(list(session.scalars(select(Event).where(Event.kind == "source_recovered"))))


def test_a_failure_never_announced_ends_without_a_recovery_event(database_url, site):
    config, sessions = _world(database_url, site, alert_after_failures=2)
    site.publish(PATH, Route(seed_text(TAMA).encode("utf-8")))
    _run(config, sessions, 0)
    site.remove(PATH)
    _run(config, sessions, 1)  # one failure: below the alert
    site.publish(PATH, Route(seed_text(TAMA).encode("utf-8")))
    _run(config, sessions, 2)
    assert (_failed_events(sessions), _recovered(sessions)) == ([], 0)
    site.remove(PATH)
    _run(config, sessions, 3)
    _run(config, sessions, 4)  # two: announced
    site.publish(PATH, Route(seed_text(TAMA).encode("utf-8")))
    _run(config, sessions, 5)
    assert (len(_failed_events(sessions)), _recovered(sessions)) == (1, 1)
