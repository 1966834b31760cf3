"""The edges of a list's inserts written behind (store.writes_behind): statements that bypass
SQLAlchemy's before_execute, a commit or a rollback while inserts are queued, Ctrl-C, a server
that drops the connection, a full or locked SQLite database, and two lists written at once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.exc import OperationalError

from monitor.config import load_config
from monitor.runtime.check import open_store
from store.batches import in_batches
from store.database import open_engine, retry_when_locked, session_factory, store_error
from store.errors import DiskFull
from store.models import Measure, MeasureVersion, Snapshot, Source
from store.version_writes import bulk_versions, insert_rows, insert_versions, new_ids
from store.writes_behind import writing_behind
from tests.conftest import raised_in_threads, source_entry
from tests.runtime.harness import wait_until, write_config
from tests.runtime.test_check import publish
from tests.store.test_writes_behind import NOW, _measures, _snapshot, _versions, _writer_threads


@pytest.fixture
def sessions(database_url):
    engine = open_engine(database_url)
    factory = session_factory(engine)
    with factory.begin() as session:
        session.add_all([Source(id=name, title=name, url=f"file:///{name}.txt", format="text-table", created_at=NOW) for name in ("tama", "hino")])
    yield factory
    engine.dispose()


def _count(sessions, model, **where) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model).filter_by(**where))


def _queue_measures(session, snapshot_id: int, batches: int, rows: int, source_id: str = "tama") -> None:
    for _ in range(batches):
        insert_rows(session, "measures", _measures(source_id, snapshot_id, new_ids(session, "measures", rows)))


def test_a_driver_statement_sees_every_insert_queued_before_it(sessions):
    """exec_driver_sql has no before_execute: it saw 20,000 of the 30,000 rows."""
    with sessions() as session:
        snapshot_id = _snapshot(session)
        with bulk_versions(session, 30_000):
            _queue_measures(session, snapshot_id, 3, 10_000)
            assert session.connection().exec_driver_sql("SELECT count(*) FROM measures").scalar_one() == 30_000
    assert _writer_threads() == []


def test_a_commit_while_inserts_are_queued_commits_them_all(sessions):
    """A commit is no statement: SQLite committed 56,000 of 60,000 rows and the writer wrote the
    rest after it, on a connection back in the pool."""
    with sessions() as session:
        snapshot_id = _snapshot(session)
        ids = new_ids(session, "measures", 60_000)
        connection = session.connection()
        with writing_behind(connection) as behind:
            assert behind is not None
            for batch in in_batches(ids, 10_000):
                behind.submit(partial(connection.execute, insert(Measure.__table__), _measures("tama", snapshot_id, batch)))
            session.commit()
    assert _count(sessions, Measure) == 60_000
    assert _writer_threads() == []


def test_ctrl_c_while_a_flush_waits_ends_the_insert_being_written_before_the_rollback(tmp_path):
    """Interrupted while its flush waited for the writer, the ORM rolled the transaction back at
    once, while the writer went on with the connection."""
    engine = open_engine(f"sqlite:///{tmp_path / 'store.db'}")
    factory = session_factory(engine)
    with factory.begin() as session:
        session.add(Source(id="tama", title="多摩", url="file:///tama.txt", format="text-table", created_at=NOW))
    timeline: list[tuple[str, bool]] = []  # (what, on the main thread)

    def statement(*_: object) -> None:
        on_main = threading.current_thread() is threading.main_thread()
        timeline.append(("statement", on_main))
        if not on_main:
            time.sleep(0.005)  # a slow disk: the writer is still busy when the flush waits for it

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "rollback", lambda *_: timeline.append(("rollback", threading.current_thread() is threading.main_thread())))
    flushing = threading.Event()

    def interrupt() -> None:
        if flushing.wait(timeout=30):
            time.sleep(0.05)  # the flush is waiting by now, the writer busy for half a second more
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    interrupter = threading.Thread(target=interrupt)
    interrupter.start()
    try:
        with pytest.raises(KeyboardInterrupt), factory.begin() as session:
            snapshot_id = _snapshot(session)
            source = session.get(Source, "tama")
            with bulk_versions(session, 100_000):
                _queue_measures(session, snapshot_id, 1, 60_000)  # 120 INSERTs
                event.listen(session, "before_flush", lambda *_: flushing.set())
                source.title = "多摩市"  # flushed by the next query, which waits for the writer
                session.execute(select(func.count()).select_from(Measure))
    finally:
        flushing.set()
        interrupter.join(timeout=30)
    rolled_back = timeline.index(("rollback", True))
    assert ("statement", False) in timeline[:rolled_back]  # the writer was interrupted in its work
    # Nothing of the writer's after: before, its next INSERT met the rollback's end (its snapshot
    # row gone: a foreign key failure) and it rolled back on its own thread.
    assert [what for what, on_main in timeline[rolled_back:] if not on_main] == []
    assert _count(factory, Measure) == 0 and _count(factory, Snapshot) == 0
    assert _writer_threads() == []
    engine.dispose()


def test_a_server_dropping_the_connection_mid_write_fails_the_run_and_the_next_run_stores_all(postgres_sessions):
    url, sessions = postgres_sessions
    with sessions() as session:
        pid = session.scalar(text("SELECT pg_backend_pid()"))
    killer = open_engine(url)
    with pytest.raises(OperationalError) as raised, sessions.begin() as session:
        assert session.scalar(text("SELECT pg_backend_pid()")) == pid  # the pool's one connection
        snapshot_id = _snapshot(session)
        with bulk_versions(session, 200_000):
            _queue_measures(session, snapshot_id, 1, 50_000)
            with killer.connect() as other:
                assert other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            _queue_measures(session, snapshot_id, 3, 50_000)
    assert "connection" in str(raised.value), raised.value
    killer.dispose()
    assert _writer_threads() == []
    # The same engine's next run gets a connection that works.
    with sessions.begin() as session:
        snapshot_id = _snapshot(session)
        with bulk_versions(session, 20_000):
            _queue_measures(session, snapshot_id, 2, 10_000)
    assert _count(sessions, Measure) == 20_000 and _count(sessions, Snapshot) == 1


@pytest.fixture
def postgres_sessions(tmp_path):
    from tests.conftest import fresh_database

    with fresh_database("postgresql", tmp_path) as url:
        engine = open_engine(url, pool_size=1)
        factory = session_factory(engine)
        with factory.begin() as session:
            session.add(Source(id="tama", title="多摩", url="file:///tama.txt", format="text-table", created_at=NOW))
        yield url, factory
        engine.dispose()


def test_a_full_sqlite_database_met_by_the_writer_is_a_full_disk_and_stores_nothing(tmp_path):
    """The writer's statements go through SQLAlchemy on its own thread: its handle_error still
    names the file (store.database._note_file), and the fault reads as a full disk."""
    path = tmp_path / "store.db"
    engine = open_engine(f"sqlite:///{path}")
    factory = session_factory(engine)
    with factory.begin() as session:
        session.add(Source(id="tama", title="多摩", url="file:///tama.txt", format="text-table", created_at=NOW))
    with pytest.raises(OperationalError) as raised, factory.begin() as session:
        snapshot_id = _snapshot(session)
        pages = session.connection().exec_driver_sql("PRAGMA page_count").scalar_one()
        session.connection().exec_driver_sql(f"PRAGMA max_page_count={pages + 200}")  # ~800 KB more: a few batches
        with bulk_versions(session, 50_000):
            _queue_measures(session, snapshot_id, 5, 10_000)
    assert "database or disk is full" in str(raised.value)
    assert getattr(raised.value, "sqlite_file", None) == str(path)
    assert isinstance(store_error(raised.value), DiskFull)
    assert _writer_threads() == []
    engine.dispose()
    assert _count(session_factory(open_engine(f"sqlite:///{path}")), Measure) == 0


def test_a_locked_sqlite_database_is_retried_and_the_list_stored_once(tmp_path):
    """The lock is met by the transaction's first write (bulk_versions' own, in the caller), so
    no insert is queued yet; each try is rolled back whole, and the one that gets the lock stores
    every row once."""
    path = tmp_path / "store.db"
    engine = open_engine(f"sqlite:///{path}", busy_timeout_s=0.2)
    factory = session_factory(engine)
    with factory.begin() as session:
        session.add(Source(id="tama", title="多摩", url="file:///tama.txt", format="text-table", created_at=NOW))
    with factory.begin() as session:
        snapshot_id = _snapshot(session)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.8, lambda: holder.execute("ROLLBACK"))
    release.start()
    tries: list[str] = []

    def write() -> None:
        tries.append("try")
        with factory.begin() as session, bulk_versions(session, 30_000):
            _queue_measures(session, snapshot_id, 3, 10_000)

    try:
        retry_when_locked(write, wait_s=10)
    finally:
        release.join()
        holder.close()
    assert len(tries) >= 2  # locked at first, then stored
    assert _count(factory, Measure) == 30_000
    assert _writer_threads() == []
    engine.dispose()


def test_two_lists_written_behind_at_once_are_both_stored_whole(sessions):
    """The daemon runs lists in threads: each list's writer writes on its own transaction's
    connection (SQLite: the second waits for the first's commit), and no writer or short
    switch interval outlives them."""
    usual = sys.getswitchinterval()
    start = threading.Barrier(2, timeout=30)

    def write(source_id: str) -> None:
        start.wait()
        with sessions.begin() as session:
            snapshot = Snapshot(source_id=source_id, fetched_at=NOW, status="baseline")
            session.add(snapshot)
            session.flush()
            with bulk_versions(session, 20_000):
                for _ in range(5):
                    ids = new_ids(session, "measures", 4000)
                    insert_rows(session, "measures", _measures(source_id, snapshot.id, ids))
                    insert_versions(session, _versions(source_id, snapshot.id, list(zip(new_ids(session, "measure_versions", 4000), ids, strict=True))))

    assert raised_in_threads(write, ("tama", "hino"), timeout=120) == []
    for source_id in ("tama", "hino"):
        assert _count(sessions, Measure, source_id=source_id) == 20_000
        assert _count(sessions, MeasureVersion, source_id=source_id) == 20_000
    with sessions() as session:
        # Every version is of a measure of its own list.
        crossed = select(func.count()).select_from(MeasureVersion).join(Measure, Measure.id == MeasureVersion.measure_id).where(Measure.source_id != MeasureVersion.source_id)
        assert session.scalar(crossed) == 0
    assert _writer_threads() == []
    assert sys.getswitchinterval() == usual


# `python -c MARKED MARKER check …`: sesaku-monitor, MARKER created when a list's writer first writes.
MARKED = """
import pathlib, sys
import store.writes_behind as behind
marker, run = pathlib.Path(sys.argv.pop(1)), behind.WritesBehind._run
def marked(self, write):
    marker.touch()
    return run(self, write)
behind.WritesBehind._run = marked
sys.argv[0] = "sesaku-monitor"
from monitor.cli import main
main()
"""


def test_ctrl_c_in_a_big_baseline_stops_the_check_at_once_and_the_next_stores_it_whole(tmp_path, site, database_url):
    """A real SIGINT to `check` while its writer writes: the process ends within seconds (no
    writer left to hold the interpreter open), nothing of the run is stored, and the next check
    stores every row."""
    rows = 20_000
    header = "施策\t施策概要\t担当部署\t連絡先\tURL\t備考"
    lines = ["", "", "【戦略2】 多摩の施策", "", header, *(f"施策{i}\t概要{i}\t部署{i % 50}\t03-0000-{i % 10_000:04d}\thttps://example.test/{i}\t" for i in range(rows))]
    publish(site, "/tama.txt", "\n".join(lines) + "\n")
    config = write_config(tmp_path / "config.yaml", database_url, [source_entry("tama", site.url("/tama.txt"))])
    marker = tmp_path / "writing"
    command = [sys.executable, "-c", MARKED, str(marker), "check", "--config", str(config), "--no-links", "--no-notify"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent.parent)}
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        wait_until(marker.exists, 60, "the writer to write")
        time.sleep(0.05)  # the first batch on its way, the other 19 still to make and send
        process.send_signal(signal.SIGINT)
        signalled = time.monotonic()
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert time.monotonic() - signalled < 5, stderr
    assert process.returncode != 0, stderr
    sessions = open_store(load_config(config))
    assert _count(sessions, Snapshot) == 0 and _count(sessions, Measure) == 0

    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0, again.stderr
    assert _count(sessions, Measure) == rows and _count(sessions, MeasureVersion) == rows
