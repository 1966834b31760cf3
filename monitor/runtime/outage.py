"""A worker's outages: one line when the database goes, one when it is back, and nothing else about it.

PostgreSQL restarting makes procrastinate's side tasks fail, psycopg's pool retry its
connections, and jobs fail mid-query: each would log its traceback. They are one outage,
said twice by :class:`Outage`; :class:`_DatabaseGoneFilter` drops those libraries' records
whose error is the connection failing (:func:`database_gone`: connection-level errors only),
and, during an outage, procrastinate finding a job it ran closed by another worker's sweep
(this worker looked dead). A deadlock, a constraint violated or a statement cancelled is not
an outage: its record is kept, with its traceback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
from sqlalchemy.exc import DBAPIError, DisconnectionError

__all__ = ["Outage", "database_gone", "quiet_outages"]

log = logging.getLogger("sesaku_monitor.worker")
# SQLSTATE class 08 (connection exception), and the server shutting down or starting up.
_GONE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


@dataclass
class Outage:
    """One line when the database goes, one when it is back; the attempts between are quiet.

    It is noticed by whatever meets it first: psycopg's pool failing to connect, the stalled-job
    sweep, procrastinate's worker stopping. The last may come seconds after the sweep found the
    database back (its listener failed during the outage): within ``grace_s`` of the end of an
    outage, that is the same outage, and the reconnection after it is quiet too.
    """

    worker: str
    queue: str
    grace_s: float
    down_since: float | None = None
    quiet: bool = False
    ended_at: float = float("-inf")
    delay: float = 0.5

    def lost(self, why: str, session_began: float | None = None) -> None:
        """The database is gone (``session_began``: when the queue session that just stopped began)."""
        if self.down_since is not None:
            log.debug("worker %s: still unavailable: %s", self.worker, why)
            return
        self.down_since = time.monotonic()
        # A session that began before the last outage ended rode it out, and stops now for what
        # failed then (its listener): however long it took to notice (seconds, under load), the same outage.
        straggler = session_began is not None and session_began < self.ended_at
        self.quiet = straggler or self.down_since - self.ended_at < self.grace_s
        if self.quiet:
            log.debug("worker %s: %s, after the outage just ended; reconnecting", self.worker, why)
        else:
            log.warning("worker %s: %s; reconnecting (one line when it is back)", self.worker, why)

    def next_delay(self) -> float:
        self.delay = min(self.delay * 2, 30.0)
        return self.delay

    def back(self) -> None:
        if self.down_since is not None and not self.quiet:
            log.warning("worker %s: the database is back after %.0fs; serving queue %r again", self.worker,
                        time.monotonic() - self.down_since, self.queue)
        if self.down_since is not None:
            self.ended_at = time.monotonic()
        self.down_since, self.delay, self.quiet = None, 0.5, False

    def recent(self) -> bool:
        """Down now, or back for less than ``grace_s``: what fails meanwhile is this outage's doing."""
        return self.down_since is not None or time.monotonic() - self.ended_at < self.grace_s

    def serving(self, concurrency: int) -> None:
        if self.down_since is None and self.ended_at == float("-inf"):
            log.info("worker %s: serving queue %r with %d slots", self.worker, self.queue, concurrency)
        self.back()


class _DatabaseGoneFilter(logging.Filter):
    """Drops the records of procrastinate, psycopg and asyncio about a database that went away,
    and tells ``outage`` (the worker says it once): psycopg's pool may ride an outage out by
    reconnecting, and then its failed attempts are the only sign of it."""

    def __init__(self, outage: Outage) -> None:
        super().__init__()
        self.outage = outage

    def filter(self, record: logging.LogRecord) -> bool:
        # asyncio too: "Task exception was never retrieved" for a side task procrastinate dropped.
        if not record.name.startswith(("procrastinate", "psycopg", "asyncio")):
            return True
        message = record.getMessage()
        if record.name.startswith("psycopg") and record.levelno <= logging.WARNING:
            # "error connecting in 'pool-1'", "discarding closed connection", "query cancellation
            # interrupted (AdminShutdown)": psycopg warns of connections only, and these are the outage again
            if "error connecting" in message:  # the driver's reason, without its hint on the next line
                self.outage.lost(f"database unavailable ({message.splitlines()[0].rsplit(': ', 1)[-1]})")
            return False
        error = record.exc_info[1] if record.exc_info else None
        if error is None:
            return "Database error" not in message  # procrastinate's ConnectorException, said without its cause
        # Down longer than stalled_after_s, this worker looked dead: its jobs were closed and queued
        # again by the sweep, and procrastinate, finishing one of them, finds it gone.
        return not (database_gone(error) or (self.outage.recent() and _closed_elsewhere(error)))


def database_gone(error: BaseException | None) -> bool:
    """True when ``error``, or what caused it, says the connection to the database failed."""
    return any(_connection_failed(each) for each in _causes(error))


def _causes(error: BaseException | None) -> Iterator[BaseException]:
    """``error`` and what caused it (procrastinate wraps psycopg's errors, SQLAlchemy the driver's)."""
    for _ in range(10):
        if error is None:
            return
        yield error
        error = error.__cause__ or error.__context__


def _connection_failed(error: BaseException) -> bool:
    if isinstance(error, (OSError, psycopg.InterfaceError, DisconnectionError)):
        return True
    if isinstance(error, DBAPIError):
        return error.connection_invalidated  # what SQLAlchemy's dialect read of the driver's error
    if isinstance(error, psycopg.OperationalError):
        # No SQLSTATE: the client lost or never had its connection (refused, closed, a pool timed
        # out). A deadlock (40P01) or a cancelled statement is an OperationalError with one.
        return error.sqlstate is None or error.sqlstate.startswith(_GONE_SQLSTATES)
    return False


def _closed_elsewhere(error: BaseException | None) -> bool:
    return any(isinstance(each, psycopg.errors.RaiseException) and str(each).startswith("Job was not found") for each in _causes(error))


def quiet_outages(outage: Outage) -> None:
    """Put the filter of ``outage`` on every handler of the root logger (once)."""
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, _DatabaseGoneFilter)]:
            handler.removeFilter(old)
        handler.addFilter(_DatabaseGoneFilter(outage))
