"""The run locks of one process on PostgreSQL, all held on one connection of their own.

A session advisory lock per running unit (``pg_try_advisory_lock`` on ``advisory_key(name)``,
as :func:`store.locks.try_session_lock` takes it), but one connection per process for all of
them instead of one per unit: a worker running 20 units held 20 lock connections beside the
20 its units work on, and four workers went past PostgreSQL's default 100. What the database
knows about who is alive is the same: the process's death closes the connection, and every
lock it held goes with it (the server's TCP keepalives, from ``dead_peer_s``, drop a machine
that vanished).

A session may take its own advisory lock again (PostgreSQL counts it twice), so the names
held here are kept too: a second runner of the same unit in this process is busy.
Statements on the shared connection are short and serialised by a thread lock. When the
connection fails (a server restart), the locks are gone with it: the connection is dropped,
the names forgotten, and the next lock opens a new one. Each connection is a new generation,
and a lock is given back by the :class:`HeldLock` its taking returned: a runner whose lock
went with a dropped connection, giving it back late, cannot free the same name that another
runner of this process took since on the new connection.
"""

from __future__ import annotations

import threading
import weakref

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from store.locks import advisory_key, who_holds

__all__ = ["HeldLock", "ProcessLocks", "process_locks"]

_KEEPERS: weakref.WeakKeyDictionary[Engine, ProcessLocks] = weakref.WeakKeyDictionary()
_KEEPERS_GUARD = threading.Lock()


@dataclass(frozen=True, slots=True)
class HeldLock:
    """A lock taken by :meth:`ProcessLocks.try_lock`, on the connection of ``generation``."""

    name: str
    generation: int


class ProcessLocks:
    """This process's advisory locks on ``engine``'s server, on one connection."""

    def __init__(self, engine: Engine, who: str, dead_peer_s: float) -> None:
        self._engine = weakref.ref(engine)  # the registry is keyed by engine: never keep it alive
        self._who = who
        self._probe = str(max(1, int(dead_peer_s / 3)))
        self._guard = threading.Lock()
        self._connection: Connection | None = None
        self._generation = 0  # of the connection now open (or the next one)
        self._held: set[str] = set()

    def try_lock(self, name: str) -> HeldLock | str:
        """Take ``name``: the lock, now held by this process, or who holds it."""
        with self._guard:
            if name in self._held:
                return f"this process ({self._who})"
            connection = self._open()
            try:
                if connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": advisory_key(name)}):
                    self._held.add(name)
                    return HeldLock(name, self._generation)
                return who_holds(connection, name)
            except SQLAlchemyError:
                self._drop()
                raise

    def unlock(self, lock: HeldLock) -> None:
        """Give ``lock`` back; if the connection cannot say so, it is dropped (and every lock with it)."""
        with self._guard:
            if lock.generation != self._generation or lock.name not in self._held:
                return  # lost with a connection that failed (the name may be another runner's since)
            self._held.discard(lock.name)
            if self._connection is None:
                return
            try:
                self._connection.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": advisory_key(lock.name)})
            except SQLAlchemyError:
                self._drop()
                return
            if not self._held:
                self._drop()  # idle: no connection kept open for nothing (and none left behind a disposed engine)

    def _open(self) -> Connection:
        if self._connection is None:
            engine = self._engine()
            assert engine is not None, "locks asked of an engine that is gone"
            connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                # application_name shows who holds the fleet's units in pg_stat_activity (and in busy messages).
                connection.execute(
                    text("SELECT set_config('application_name', :who, false), set_config('tcp_keepalives_idle', :probe, false), "
                         "set_config('tcp_keepalives_interval', :probe, false), set_config('tcp_keepalives_count', '2', false)"),
                    {"who": f"sesaku {self._who} run locks"[:63], "probe": self._probe},
                )
            except SQLAlchemyError:
                connection.invalidate()
                connection.close()
                raise
            self._connection = connection
        return self._connection

    def _drop(self) -> None:
        # Never back to the pool: a pooled connection must not keep (or seem to keep) locks.
        if self._connection is not None:
            self._connection.invalidate()
            self._connection.close()
        self._connection = None
        self._held.clear()
        self._generation += 1


def process_locks(engine: Engine, who: str, dead_peer_s: float) -> ProcessLocks:
    """The one :class:`ProcessLocks` of this process for ``engine``."""
    with _KEEPERS_GUARD:
        keeper = _KEEPERS.get(engine)
        if keeper is None:
            keeper = _KEEPERS[engine] = ProcessLocks(engine, who, dead_peer_s)
        return keeper
