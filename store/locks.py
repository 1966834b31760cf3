"""Run locks, so that two runners of one unit of work (``source:tama``) never overlap.

PostgreSQL (the fleet): a session advisory lock held on a connection of its own for as
long as the unit runs (:func:`try_session_lock`). The database knows who is alive: a runner
killed anywhere, on any machine, in any PID namespace, or killed and not yet reaped, closes
its connection (the kernel does) and the lock goes with it; a machine that vanished is
dropped by the server's TCP keepalives, set on that connection from ``stalled_after_s``.

SQLite (one machine): a lease row per unit in ``run_locks``. A runner takes the lease on a
name for a while, does its work, and gives it back. A lease left by a runner that died is
free again when it expires, or at once when its holder was a process on this machine (same
host and PID namespace) that no longer exists, so a daemon restarted after SIGKILL does not wait for the lease to run out.

Holders read ``host:pidns:pid:token``; the token is new for every lease, so a lease this
process left behind (its release failed) is told apart from one it holds now.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Engine, delete, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from store.database import SessionFactory, transaction
from store.models import RunLock

__all__ = [
    "lock_name", "new_holder", "try_acquire", "renew", "release", "holder_is_gone",
    "SessionLock", "advisory_key", "try_session_lock", "release_session_lock", "who_holds",
]

_live_tokens: set[str] = set()
_live_guard = threading.Lock()


def _machine() -> str:
    # Two containers on one host may share a hostname and both be PID 1: the PID
    # namespace tells them apart, so neither takes the other's lease for a dead one.
    try:
        namespace = os.readlink("/proc/self/ns/pid").strip("pid:[]")
    except OSError:
        namespace = "-"
    return f"{socket.gethostname()}:{namespace}"


def lock_name(kind: str, key: str) -> str:
    """The run lock of one unit of work, also its job's id: ``source:tama``, ``links:<host>``."""
    return f"{kind}:{key}"


def new_holder() -> str:
    """A fresh holder name for one lease taken by this process."""
    return f"{_machine()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holder_is_gone(holder: str) -> bool:
    """True only when ``holder`` was a process of this machine that surely holds nothing now."""
    parts = holder.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != _machine() or not parts[1].isdigit():
        return False
    pid, token = int(parts[1]), parts[2]
    if pid == os.getpid():
        with _live_guard:
            return token not in _live_tokens
    return not _pid_alive(pid)


def try_acquire(sessions: SessionFactory, name: str, holder: str, now: datetime, lease: timedelta) -> str | None:
    """Take the lease on ``name`` for ``lease``: None when it is now ours, else who keeps it."""
    try:
        with transaction(sessions) as session:
            row = session.get(RunLock, name)
            if row is None:
                session.add(RunLock(name=name, holder=holder, acquired_at=now, expires_at=now + lease))
            elif row.expires_at > now and not holder_is_gone(row.holder):
                return row.holder
            else:
                # Compare-and-set: of two runners seeing the same stale lease, one wins.
                # (Session.execute is typed for any statement; an UPDATE's result is a CursorResult.)
                taken = cast("CursorResult[Any]", session.execute(
                    update(RunLock).where(RunLock.name == name, RunLock.holder == row.holder)
                    .values(holder=holder, acquired_at=now, expires_at=now + lease),
                    execution_options={"synchronize_session": False},
                )).rowcount
                if not taken:
                    return row.holder
    except IntegrityError:
        return "(another runner, just now)"
    with _live_guard:
        _live_tokens.add(holder.rsplit(":", 1)[-1])
    return None


def renew(sessions: SessionFactory, name: str, holder: str, now: datetime, lease: timedelta) -> bool:
    """Push the lease on ``name`` out to ``now + lease``; False when it is no longer ours."""
    with transaction(sessions) as session:
        return bool(cast("CursorResult[Any]", session.execute(
            update(RunLock).where(RunLock.name == name, RunLock.holder == holder).values(expires_at=now + lease),
            execution_options={"synchronize_session": False},
        )).rowcount)


def release(sessions: SessionFactory, name: str, holder: str) -> None:
    """Give the lease back (only if it is still ours)."""
    with _live_guard:
        _live_tokens.discard(holder.rsplit(":", 1)[-1])
    with transaction(sessions) as session:
        session.execute(delete(RunLock).where(RunLock.name == name, RunLock.holder == holder), execution_options={"synchronize_session": False})


# --- PostgreSQL: session advisory locks ------------------------------------------------------

_WHO_HOLDS = """
SELECT coalesce(nullif(a.application_name, ''), 'a session') || ' (backend ' || l.pid || ')'
  FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
   AND l.classid::bigint = (CAST(:key AS bigint) >> 32) & 4294967295 AND l.objid::bigint = CAST(:key AS bigint) & 4294967295
 LIMIT 1
"""


@dataclass(frozen=True, slots=True)
class SessionLock:
    """A held advisory lock: released by :func:`release_session_lock`, or by the connection's end."""

    name: str
    key: int
    connection: Connection


def advisory_key(name: str) -> int:
    """The signed 64-bit key PostgreSQL's advisory locks take, the same for ``name`` in every process."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


def try_session_lock(engine: Engine, name: str, holder: str, dead_peer_s: float) -> SessionLock | str:
    """Take the advisory lock on ``name`` on a connection of its own: the lock, or who holds it.

    ``dead_peer_s`` bounds how long the server keeps the lock of a peer that vanished without
    closing its socket (a machine powered off): its keepalives give up after about that long.
    """
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    key = advisory_key(name)
    try:
        probe = max(1, int(dead_peer_s / 3))
        # application_name shows who holds a unit in pg_stat_activity (and in the busy message).
        connection.execute(
            text("SELECT set_config('application_name', :who, false), set_config('tcp_keepalives_idle', :probe, false), "
                 "set_config('tcp_keepalives_interval', :probe, false), set_config('tcp_keepalives_count', '2', false)"),
            {"who": f"sesaku {holder.rsplit(':', 1)[0]} {name}"[:63], "probe": str(probe)},
        )
        if connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}):
            return SessionLock(name, key, connection)
        other = who_holds(connection, name)
    except BaseException:
        connection.invalidate()
        connection.close()
        raise
    connection.close()
    return other


def who_holds(connection: Connection, name: str) -> str:
    """Who holds the advisory lock on ``name``, for a "busy" message."""
    other = connection.scalar(text(_WHO_HOLDS), {"key": advisory_key(name)})
    return str(other or "another session, just now")


def release_session_lock(lock: SessionLock) -> None:
    """Unlock; a connection that could not say so is dropped (never pooled with the lock held)."""
    try:
        lock.connection.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": lock.key})
    except SQLAlchemyError:
        lock.connection.invalidate()  # closing the session releases the lock all the same
    finally:
        lock.connection.close()
