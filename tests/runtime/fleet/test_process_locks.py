"""A process's run locks on one PostgreSQL connection (store.process_locks): a lock lost with a
dropped connection, given back late, does not free what another runner took since."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from store.database import open_engine
from store.process_locks import HeldLock, ProcessLocks
from tests.store.another_runner import held_elsewhere


def test_a_stale_unlock_after_a_dropped_connection_frees_nothing(fleet_url: str) -> None:
    engine = open_engine(fleet_url)
    locks = ProcessLocks(engine, "a test worker", 10)
    first = locks.try_lock("links:a.example")
    assert isinstance(first, HeldLock)
    # The server drops the lock connection (a restart, a network cut): its locks are gone.
    with engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE application_name LIKE 'sesaku a test worker run locks%'"))
    with pytest.raises(OperationalError):
        locks.try_lock("links:b.example")  # finds the connection gone, and drops it
    second = locks.try_lock("links:a.example")  # another runner of this process, on a new connection
    assert isinstance(second, HeldLock)
    locks.unlock(first)  # the first runner ends late, giving back the lock it lost
    assert held_elsewhere(fleet_url, "links:a.example"), "a stale unlock freed the second runner's lock"
    assert isinstance(locks.try_lock("links:a.example"), str)  # and this process still counts it held
    locks.unlock(second)
    assert not held_elsewhere(fleet_url, "links:a.example")
    engine.dispose()
