"""``db copy``: a whole history moves (ids, outbox and cursors included), can be re-run,
refuses to overwrite, survives being killed half-way; a bad database is one clear line."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.engine import make_url

from monitor.runtime.check import run_check
from monitor.cli import cli
from monitor.demo.site import LoopbackSite, Route
from store.copy import CopyError, copied_tables, copy_database, table_digest
from store.database import open_engine, session_factory, transaction
from store.models import Delivery, Event, Link, LinkCheck, NotifierCursor, Snapshot
from tests.conftest import TAMA, _postgres_admin_url, make_config, seed_text, source_entry
from tests.versions import derive, remove_row, set_cell

from .conftest import cli_env, scalar, wait_until

NAME, PHONE = 0, 3
T0 = datetime(2026, 4, 1, 9, 0, tzinfo=timezone.utc)


def _history(url: str, site: LoopbackSite) -> Engine:
    """Two versions of a list, a link check, and a digest already sent with its cursor."""
    config = make_config(url, source_entry("tama", site.url("/tama.txt")))
    engine = open_engine(url)
    sessions = session_factory(engine)
    site.publish("/tama.txt", Route(seed_text(TAMA).encode("utf-8")))
    run_check(config, sessions, clock=lambda: T0, links=False)
    v2 = derive(seed_text(TAMA), set_cell(NAME, "多様な主体との連携活動促進補助金", PHONE, "03-5388-9999"), remove_row(NAME, "市街地再開発事業"))
    site.publish("/tama.txt", Route(v2.encode("utf-8")))
    run_check(config, sessions, clock=lambda: T0 + timedelta(days=1), links=False)
    with transaction(sessions) as session:
        link = session.scalars(select(Link).order_by(Link.id)).first()
        session.add(LinkCheck(link_id=link.id, checked_at=T0, outcome="ok", http_status=200, final_url=link.url, redirect_chain=[], elapsed_ms=12))
        last = session.scalar(select(func.max(Event.id)))
        session.add(Delivery(notifier_id="team", created_at=T0, status="sent", first_event_id=1, last_event_id=last, event_count=last,
                             attempts=1, sent_at=T0, idempotency_key="team-1", payload={"subject": "変更 3件"}))
        session.add(NotifierCursor(notifier_id="team", last_event_id=last, updated_at=T0))
    return engine


def _digests(engine: Engine) -> dict[str, tuple[int, str]]:
    return {table.name: table_digest(engine, table) for table in copied_tables()}


@pytest.fixture
def history(tmp_path: Path, site: LoopbackSite) -> Engine:
    return _history(f"sqlite:///{tmp_path / 'old.db'}", site)


def test_copy_moves_everything_and_can_run_again(history: Engine, database_url: str) -> None:
    target = open_engine(database_url)
    results = copy_database(history, target, batch_size=7)
    assert all(result.verified for result in results)
    assert _digests(target) == _digests(history)
    assert {r.table: r.read for r in results}["events"] > 0
    # Run again: every row is already there, nothing is added.
    again = copy_database(history, target, batch_size=7)
    assert sum(result.inserted for result in again) == 0 and all(result.verified for result in again)
    # The outbox came along: the sent digest stays sent, the cursor where it was.
    with transaction(session_factory(target)) as session:
        assert session.scalar(select(Delivery.status).where(Delivery.idempotency_key == "team-1")) == "sent"
        cursor = session.get(NotifierCursor, "team")
        assert cursor is not None and cursor.last_event_id == session.scalar(select(func.max(Event.id)))
        # Sequences were moved past the copied ids: a new event does not collide.
        top = session.scalar(select(func.max(Event.id)))
        event = Event(created_at=T0, kind="page_changed", payload={})
        session.add(event)
        session.flush()
        assert event.id == top + 1


def test_copy_refuses_to_overwrite_a_different_row(history: Engine, database_url: str) -> None:
    target = open_engine(database_url)
    copy_database(history, target)
    with target.begin() as connection:
        connection.execute(update(Delivery).where(Delivery.idempotency_key == "team-1").values(status="pending"))
    with pytest.raises(CopyError, match=r"deliveries row id=1 is already in the target with other content \(status\)"):
        copy_database(history, target)


def test_copy_goes_back_from_postgresql_to_sqlite(history: Engine, database_url: str, tmp_path: Path) -> None:
    middle = open_engine(database_url)
    copy_database(history, middle)
    back = open_engine(f"sqlite:///{tmp_path / 'back.db'}")
    copy_database(middle, back)
    assert _digests(back) == _digests(history)


def _many_events(url: str, count: int) -> None:
    engine = open_engine(url)
    with engine.begin() as connection:
        rows = [{"created_at": T0 + timedelta(seconds=n), "kind": "page_changed", "payload": {"n": n, "text": "本文" * 20}} for n in range(count)]
        connection.execute(insert(Event), rows)
    engine.dispose()


def _copy_command(source: str, target: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "monitor", "db", "copy", "--from", source, "--to", target, *extra]


def _many_snapshots(url: str, count: int) -> None:
    engine = open_engine(url)
    with engine.begin() as connection:
        rows = [{"source_id": "tama", "fetched_at": T0 + timedelta(days=2, seconds=n), "status": "unchanged"} for n in range(count)]
        connection.execute(insert(Snapshot), rows)
    engine.dispose()


@pytest.mark.parametrize("table", ["events", "snapshots"])
def test_an_interrupted_copy_completes_when_run_again(fleet_url: str, history: Engine, table: str) -> None:
    """Killed half-way through a table, the copy goes on when run again. Among the snapshots, the
    target has named each source's newest snapshot as they came in (migration 0017): its sources
    row names another snapshot than the old database's, and is not a row "with other content"."""
    source = str(history.url)
    {"events": _many_events, "snapshots": _many_snapshots}[table](source, 8_000)
    first = subprocess.Popen(_copy_command(source, fleet_url, "--batch-size", "20"), env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: (scalar(fleet_url, f"SELECT count(*) FROM {table}") or 0) > 1_000, 60, f"the copy to be half-way through {table}")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert scalar(fleet_url, f"SELECT count(*) FROM {table}") < 8_000
    done = subprocess.run(_copy_command(source, fleet_url, "--batch-size", "2000"), env=cli_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "counts and hashes match" in done.stdout
    assert _digests(open_engine(fleet_url)) == _digests(history)


@pytest.mark.parametrize("command", [["db", "copy", "--from", "sqlite:///{tmp}/none.db", "--to", "{url}"], ["db", "upgrade"], ["worker"]])
@pytest.mark.parametrize("fault", ["wrong password", "unreachable"])
def test_a_bad_database_is_one_clear_line(tmp_path: Path, command: list[str], fault: str, monkeypatch: pytest.MonkeyPatch) -> None:
    server = make_url(_postgres_admin_url())
    bad = server.set(password="not-the-password") if fault == "wrong password" else server.set(host="127.0.0.1", port=1)
    url = bad.render_as_string(hide_password=False)
    open_engine(f"sqlite:///{tmp_path / 'none.db'}").dispose()
    (tmp_path / "config.yaml").write_text("sources: []\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SESAKU_DATABASE_URL", url)
    done = CliRunner().invoke(cli, [part.format(tmp=tmp_path, url=url) for part in command])
    assert done.exit_code == 4, done.output
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    expected = "password authentication failed" if fault == "wrong password" else "refused"
    assert expected in done.stderr and "not-the-password" not in done.stderr
