"""Run locks, so that two runners of one unit of work (``source:tama``) never overlap: their
names, and what each backend keeps of them. Take one by :func:`store.process_locks.take_run_lock`.

PostgreSQL (the fleet): a session advisory lock on :func:`advisory_key` of the name, held on
this process's lock connection for as long as the unit runs (:mod:`store.process_locks`). The
database knows who is alive: a runner killed anywhere, on any machine, in any PID namespace, or
killed and not yet reaped, closes its connection (the kernel does) and the lock goes with it; a
machine that vanished is dropped by the server's TCP keepalives, set on that connection.

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
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, update
from sqlalchemy.exc import IntegrityError

from store.database import SessionFactory, transaction
from store.models import RunLock

__all__ = ["lock_name", "new_holder", "try_acquire", "renew", "release", "holder_is_gone", "advisory_key"]

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


# --- PostgreSQL: advisory locks (store.process_locks holds them) ----------------------------


def advisory_key(name: str) -> int:
    """The signed 64-bit key PostgreSQL's advisory locks take, the same for ``name`` in every process."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big", signed=True)
