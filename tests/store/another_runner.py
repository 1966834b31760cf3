"""Another runner of a unit, as a worker or a `check` in another process would be: its own engine,
so on PostgreSQL its own lock connection (another session), and on SQLite a lease of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from store.database import SessionFactory, open_engine, session_factory
from store.process_locks import RunLockHeld, take_run_lock


@contextmanager
def another_runner(url: str) -> Iterator[SessionFactory]:
    engine = open_engine(url)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


def take(sessions: SessionFactory, name: str) -> RunLockHeld | str:
    """The run lock on ``name`` as any runner takes it (a 15-minute lease on SQLite)."""
    return take_run_lock(sessions, name, dead_peer_s=60, lease_s=900, busy_wait_s=5)


def held_elsewhere(url: str, name: str) -> bool:
    """Whether a runner other than this one holds ``name`` (tried, and given back at once if it was free)."""
    with another_runner(url) as sessions:
        taken = take(sessions, name)
        if isinstance(taken, RunLockHeld):
            taken.release()
        return isinstance(taken, str)
