"""Taking a run lock (store.process_locks.take_run_lock), the one way jobs, link runs and repair
probes take theirs: one runner's until given back, who holds it said to the others, each lock of
a process given back on its own, SQLite's lock waited out. SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from monitor.runtime.check import open_store
from store.database import open_engine, session_factory
from store.errors import DatabaseLocked
from store.process_locks import RunLockHeld, take_run_lock
from tests.conftest import make_config
from tests.store.another_runner import another_runner, held_elsewhere, take


def test_a_run_lock_is_one_runners_until_given_back(database_url: str) -> None:
    sessions = open_store(make_config(database_url))
    held = take(sessions, "source:tama")
    assert isinstance(held, RunLockHeld)
    postgres = database_url.startswith("postgresql")
    # A lease is renewed by its holder while the work outlasts it; an advisory lock lasts with its connection.
    assert (held.lease_holder is None) == postgres
    with another_runner(database_url) as other:
        busy = take(other, "source:tama")
        assert isinstance(busy, str)
        assert ("run locks (backend " in busy) if postgres else (busy == held.lease_holder)
        assert isinstance(take(sessions, "source:tama"), str)  # a second runner of this process waits too
        held.release()
        again = take(other, "source:tama")
        assert isinstance(again, RunLockHeld)
        again.release()


def test_each_lock_of_a_process_is_given_back_on_its_own(database_url: str) -> None:
    # The links run takes a lock per host: giving back the first must not free the second.
    sessions = open_store(make_config(database_url))
    first, second = take(sessions, "links:a.example"), take(sessions, "links:b.example")
    assert isinstance(first, RunLockHeld) and isinstance(second, RunLockHeld)
    first.release()
    assert not held_elsewhere(database_url, "links:a.example")
    assert held_elsewhere(database_url, "links:b.example")
    second.release()
    second.release()  # given back twice: frees nothing more, raises nothing
    assert not held_elsewhere(database_url, "links:b.example")


def test_a_sqlite_lease_waits_out_another_process_writing(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    open_store(make_config(url))
    sessions = session_factory(open_engine(url, busy_timeout_s=0.05))
    writer = sqlite3.connect(tmp_path / "monitor.db", isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    with pytest.raises(DatabaseLocked, match="locked by another process"):
        take_run_lock(sessions, "source:tama", dead_peer_s=60, lease_s=900, busy_wait_s=0.05)
    threading.Timer(0.5, writer.rollback).start()
    held = take_run_lock(sessions, "source:tama", dead_peer_s=60, lease_s=900, busy_wait_s=10)
    assert isinstance(held, RunLockHeld)
    held.release()
    writer.close()
