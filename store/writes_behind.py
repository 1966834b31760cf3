"""A list's bulk inserts, written on a thread of their own while the caller makes the next rows.

A 100,000-row baseline spent about half its time waiting for the database to take its rows
(PostgreSQL checks every row's foreign keys at the end of each COPY; SQLite writes its pages)
and the other half making them, one after the other. Here the two overlap: the caller queues
each batch's insert (:meth:`WritesBehind.submit`) and goes on to the next batch while a single
writer thread sends the queued ones, in order, on the transaction's own connection.

The connection is taken in turn, never at once: any other statement on it (a query, an UPDATE,
the ORM's flush, a driver's own SQL) and its commit first wait until every insert queued before
them is written (SQLAlchemy's connection events), so they see them, as they would have one after
the other; its rollback first waits for the insert being written and drops the rest. A failed
insert is raised in the caller, at its next insert or statement, as the caller's own would have
been; the inserts after it are dropped (their transaction is rolled back).
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.pool import SingletonThreadPool

__all__ = ["WritesBehind", "writing_behind"]

# Inserts queued ahead of the one being written: enough that the caller never waits for the
# database while it has rows to make, few enough that a whole list's rows are never in memory.
_AHEAD = 2
# Python's switch interval while a writer runs (seconds). The writer waits on the database a
# dozen times a batch (each 32 KB of COPY data, each statement's end), and each time it wakes it
# needs the GIL back from the caller, busy making rows: at the default 5 ms a 100,000-row
# baseline lost 2 s to those hand-overs.
_SWITCH_INTERVAL_S = 0.0002


class WritesBehind:
    """The queue of one transaction's inserts and its writer thread (see the module's text)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sesaku-bulk-writes")
        self._queued: deque[Future[None]] = deque()
        self._writer: int | None = None
        for name, listener in self._listeners():
            event.listen(connection, name, listener)

    def submit(self, write: Callable[[], None]) -> None:
        """Queue ``write`` (an insert on this connection) after those queued before it."""
        while len(self._queued) > _AHEAD:
            self._take_oldest()
        self._queued.append(self._pool.submit(self._run, write))

    def wait(self) -> None:
        """Every insert queued is written; the first that failed raises its exception here."""
        while self._queued:
            self._take_oldest()

    def abandon(self) -> None:
        """The caller failed: inserts not begun are dropped, the one being written is waited for
        (its transaction is rolled back after) and its outcome is of no more interest."""
        for future in self._queued:
            future.cancel()
        for future in self._queued:
            if not future.cancelled():
                future.exception()
        self._queued.clear()

    def close(self) -> None:
        for name, listener in self._listeners():
            event.remove(self._connection, name, listener)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, write: Callable[[], None]) -> None:
        self._writer = threading.get_ident()
        write()

    def _take_oldest(self) -> None:
        # Queued until it is done: interrupted while waiting (Ctrl-C), abandon still waits for it,
        # and what the interrupt rolls back (the ORM's flush does at once) is never being written.
        try:
            self._queued[0].result()
        except BaseException:
            self.abandon()  # the inserts after it would fail in an aborted transaction, or be out of order
            raise
        self._queued.popleft()

    def _listeners(self) -> tuple[tuple[str, Callable[..., None]], ...]:
        # before_execute waits before a Core or ORM statement has a cursor, outside SQLAlchemy's
        # handling of its errors (an interrupt there would invalidate the connection the writer
        # uses); exec_driver_sql has only before_cursor_execute. Unheard, a commit ended the
        # transaction before the inserts queued (SQLite stored 56,000 of 60,000 rows).
        return (("before_execute", self._before_statement), ("before_cursor_execute", self._before_statement),
                ("commit", self._before_statement), ("rollback", self._before_rollback))

    def _before_statement(self, *_: Any) -> None:
        if threading.get_ident() != self._writer:  # SQLite's inserts are statements of the writer's own
            self.wait()

    def _before_rollback(self, *_: Any) -> None:
        if threading.get_ident() != self._writer:
            self.abandon()


@contextmanager
def writing_behind(connection: Connection) -> Iterator[WritesBehind | None]:
    """A writer for the inserts made inside, all written when it ends; None where the
    connection belongs to its thread (SQLite in memory: another thread sees another database)."""
    if isinstance(connection.engine.pool, SingletonThreadPool):
        yield None
        return
    behind = WritesBehind(connection)
    try:
        with _short_switch_interval():
            try:
                yield behind
            except BaseException:
                behind.abandon()
                raise
            behind.wait()
    finally:
        behind.close()


_switching = threading.Lock()
_writers = 0
_usual_interval = sys.getswitchinterval()


@contextmanager
def _short_switch_interval() -> Iterator[None]:
    """The switch interval short while any writer runs (a daemon writes several lists at once),
    and back to what it was once none does."""
    global _writers, _usual_interval
    with _switching:
        if _writers == 0:
            _usual_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(_usual_interval, _SWITCH_INTERVAL_S))
        _writers += 1
    try:
        yield
    finally:
        with _switching:
            _writers -= 1
            if _writers == 0:
                sys.setswitchinterval(_usual_interval)
