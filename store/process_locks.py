"""The run lock of a unit of work, taken one way wherever it is taken, and this process's
advisory locks on PostgreSQL, all held on one connection of their own.

:func:`take_run_lock` is the one way to take a run lock (``source:tama``, ``links:<host>``): a job
(:mod:`monitor.runtime.jobs`), and the hosts a link checker asks (:mod:`monitor.links.host_locks`,
repair probes too). On PostgreSQL it is this process's session advisory lock (:class:`ProcessLocks`);
on SQLite a lease row (:mod:`store.locks`) under a holder of its own, tried again while another
process keeps the database locked, and renewed while the work runs (:func:`leases_kept`). A lock
another runner holds comes back as who holds it.

A session advisory lock per running unit (``pg_try_advisory_lock`` on ``advisory_key(name)``),
but one connection per process for all of them instead of one per unit: a worker running 20 units
held 20 lock connections beside the 20 its units work on, and four workers went past PostgreSQL's
default 100. What the database knows about who is alive is the same: the process's death closes
the connection, and every lock it held goes with it (the server's TCP keepalives, from
``dead_peer_s``, drop a machine that vanished).

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

import logging
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from store.database import SessionFactory, engine_of, retry_when_locked
from store.errors import StoreError
from store.locks import advisory_key, new_holder, release, renew, try_acquire

__all__ = ["RunLockHeld", "take_run_lock", "leases_kept", "HeldLock", "ProcessLocks", "process_locks"]

log = logging.getLogger("sesaku_monitor.store")

_KEEPERS: weakref.WeakKeyDictionary[Engine, ProcessLocks] = weakref.WeakKeyDictionary()
_KEEPERS_GUARD = threading.Lock()


@dataclass(frozen=True, slots=True)
class RunLockHeld:
    """A run lock :func:`take_run_lock` took: ``release()`` gives it back, once.

    ``lease_holder`` is the holder of a SQLite lease, renewed by :func:`leases_kept`; None for
    PostgreSQL's advisory lock, which lasts as long as its connection.
    """

    name: str
    lease_holder: str | None
    release: Callable[[], None]


def take_run_lock(sessions: SessionFactory, name: str, *, dead_peer_s: float, lease_s: float,
                  busy_wait_s: float) -> RunLockHeld | str:
    """One try at the run lock on ``name``: the lock, now this runner's, or who holds it.

    ``dead_peer_s``: how soon PostgreSQL drops the locks of a machine that vanished; ``lease_s``:
    how long a SQLite lease lasts unrenewed; ``busy_wait_s``: how long SQLite's lease is tried
    again (and given back) while another process keeps the database locked.
    """
    engine = engine_of(sessions)
    # A holder a lock: SQLite frees a lease of this process whose holder's token is no longer live,
    # so two leases under one holder would lose the second when the first is given back.
    holder = new_holder()
    if engine.dialect.name == "postgresql":
        locks = process_locks(engine, holder.rsplit(":", 1)[0], dead_peer_s)
        taken = locks.try_lock(name)
        return taken if isinstance(taken, str) else RunLockHeld(name, None, partial(locks.unlock, taken))
    # Leases are wall-clock times shared with other processes: never the logical `now`.
    lease = timedelta(seconds=lease_s)
    busy = retry_when_locked(lambda: try_acquire(sessions, name, holder, datetime.now(timezone.utc), lease), wait_s=busy_wait_s)
    return busy if busy is not None else RunLockHeld(name, holder, partial(_give_back, sessions, name, holder, busy_wait_s))


def _give_back(sessions: SessionFactory, name: str, holder: str, busy_wait_s: float) -> None:
    try:
        retry_when_locked(lambda: release(sessions, name, holder), wait_s=busy_wait_s)
    except StoreError as exc:
        # The work is done either way: this process may take the lease again at once, others when it expires.
        log.warning("run lock %s: could not give it back: %s", name, exc)


@contextmanager
def leases_kept(sessions: SessionFactory, locks: Sequence[RunLockHeld], lease_s: float) -> Iterator[None]:
    """Renew the SQLite leases of ``locks`` every third of ``lease_s`` while the block runs, so that
    work longer than a lease (a big list's first run, a long links budget) never has its lock taken
    by another runner that thinks it died. An advisory lock lasts with its connection: nothing to do."""
    leases = [lock for lock in locks if lock.lease_holder is not None]
    if not leases:
        yield
        return
    stop = threading.Event()

    def keep() -> None:
        kept = leases
        while kept and not stop.wait(lease_s / 3):
            kept = [lock for lock in kept if _renewed(sessions, lock, lease_s)]

    keeper = threading.Thread(target=keep, name=f"lease {leases[0].name}", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        stop.set()
        keeper.join()


def _renewed(sessions: SessionFactory, lock: RunLockHeld, lease_s: float) -> bool:
    """Renew one lease; False once it is another runner's (nothing more to keep)."""
    assert lock.lease_holder is not None
    try:
        if renew(sessions, lock.name, lock.lease_holder, datetime.now(timezone.utc), timedelta(seconds=lease_s)):
            return True
    except SQLAlchemyError as exc:  # SQLite busy with the work's own write: try next turn
        log.warning("run lock %s: could not renew it: %s", lock.name, exc)
        return True
    log.warning("run lock %s: taken by another runner while its work ran", lock.name)
    return False


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
                return _who_holds(connection, name)
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


_WHO_HOLDS = """
SELECT coalesce(nullif(a.application_name, ''), 'a session') || ' (backend ' || l.pid || ')'
  FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
   AND l.classid::bigint = (CAST(:key AS bigint) >> 32) & 4294967295 AND l.objid::bigint = CAST(:key AS bigint) & 4294967295
 LIMIT 1
"""


def _who_holds(connection: Connection, name: str) -> str:
    """Who holds the advisory lock on ``name``, for a "busy" message."""
    other = connection.scalar(text(_WHO_HOLDS), {"key": advisory_key(name)})
    return str(other or "another session, just now")


def process_locks(engine: Engine, who: str, dead_peer_s: float) -> ProcessLocks:
    """The one :class:`ProcessLocks` of this process for ``engine``."""
    with _KEEPERS_GUARD:
        keeper = _KEEPERS.get(engine)
        if keeper is None:
            keeper = _KEEPERS[engine] = ProcessLocks(engine, who, dead_peer_s)
        return keeper
