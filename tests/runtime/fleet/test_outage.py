"""The worker's log filter (monitor.runtime.outage) drops what the libraries log about the database
going away (the worker says it once), and nothing else: a deadlock's or a constraint violation's
traceback is kept. Every error here is raised by a real PostgreSQL."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from procrastinate import exceptions as queue_errors

from monitor.runtime.outage import Outage, quiet_outages
from monitor.runtime.worker import queue_conninfo

from .conftest import free_port


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def kept() -> Iterator[_Kept]:
    """The worker's root handler with the outage filter on it, as `sesaku-monitor worker` sets it up."""
    handler = _Kept()
    root = logging.getLogger()
    root.addHandler(handler)
    quiet_outages(Outage("test-worker", "sesaku", grace_s=2))
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def _logged_by_procrastinate(error: BaseException) -> None:
    """As procrastinate reports a failed job or side task: its ConnectorException, from the driver's error."""
    try:
        raise queue_errors.ConnectorException() from error
    except queue_errors.ConnectorException:
        logging.getLogger("procrastinate.worker").error("Job ended with status: Error", exc_info=True)


def _unique_violation(url: str) -> BaseException:
    with psycopg.connect(queue_conninfo(url)) as connection:
        connection.execute("CREATE TEMP TABLE once (id int PRIMARY KEY)")
        connection.execute("INSERT INTO once VALUES (1)")
        try:
            connection.execute("INSERT INTO once VALUES (1)")
        except psycopg.Error as exc:
            return exc
    raise AssertionError("no unique violation")


def _deadlock(url: str) -> BaseException:
    """Two transactions each waiting for the other's row: PostgreSQL ends one of them."""
    with psycopg.connect(queue_conninfo(url), autocommit=True) as setup:
        setup.execute("CREATE TABLE pair (id int PRIMARY KEY)")
        setup.execute("INSERT INTO pair VALUES (1), (2)")
    first, second = psycopg.connect(queue_conninfo(url)), psycopg.connect(queue_conninfo(url))
    errors: list[BaseException] = []
    both_hold = threading.Barrier(2)

    def cross(connection: psycopg.Connection, mine: int, theirs: int) -> None:
        try:
            connection.execute("UPDATE pair SET id = id WHERE id = %s", (mine,))
            both_hold.wait()
            connection.execute("UPDATE pair SET id = id WHERE id = %s", (theirs,))
        except psycopg.Error as exc:
            errors.append(exc)
        finally:
            connection.rollback()

    threads = [threading.Thread(target=cross, args=(first, 1, 2)), threading.Thread(target=cross, args=(second, 2, 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    first.close()
    second.close()
    assert len(errors) == 1, errors
    return errors[0]


def _terminated(url: str) -> BaseException:
    """The server ends the session (what a restart does to every connection)."""
    with psycopg.connect(queue_conninfo(url), autocommit=True) as connection:
        try:
            connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        except psycopg.Error as exc:
            return exc
    raise AssertionError("the session was not ended")


def _refused() -> BaseException:
    try:
        psycopg.connect(f"postgresql://nobody@127.0.0.1:{free_port()}/none", connect_timeout=2)
    except psycopg.Error as exc:
        return exc
    raise AssertionError("connected to a closed port")


def test_a_deadlock_and_a_constraint_violation_are_logged_with_their_traceback(fleet_url: str, kept: _Kept) -> None:
    deadlock, duplicate = _deadlock(fleet_url), _unique_violation(fleet_url)
    assert isinstance(deadlock, psycopg.errors.DeadlockDetected)  # an OperationalError, and not an outage
    _logged_by_procrastinate(deadlock)
    _logged_by_procrastinate(duplicate)
    assert [type(record.exc_info[1].__cause__) for record in kept.records if record.exc_info] == [
        psycopg.errors.DeadlockDetected, psycopg.errors.UniqueViolation]


def test_the_database_going_away_is_left_to_the_worker_s_one_line(fleet_url: str, kept: _Kept) -> None:
    _logged_by_procrastinate(_terminated(fleet_url))
    _logged_by_procrastinate(_refused())
    assert kept.records == []


def test_a_session_that_rode_an_outage_out_stopping_late_is_that_outage(caplog: pytest.LogCaptureFixture) -> None:
    # procrastinate's worker stops for its listener that failed in the outage, seconds after the
    # sweep found the database back (past the grace, under load): not a second outage in the log.
    outage = Outage("test-worker", "sesaku", grace_s=0.05)
    rode_it_out = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="sesaku_monitor.worker"):
        outage.lost("database unavailable (the database system is shutting down)")
        outage.back()
        time.sleep(0.1)
        outage.lost("lost the queue's connection", session_began=rode_it_out)
        outage.back()  # reconnected: a new session
        began_after = time.monotonic()
        time.sleep(0.1)
        outage.lost("lost the queue's connection", session_began=began_after)  # a session begun since: a new outage
    said = [record.getMessage().split(": ", 1)[1] for record in caplog.records]
    assert said == ["database unavailable (the database system is shutting down); reconnecting (one line when it is back)",
                    "the database is back after 0s; serving queue 'sesaku' again",
                    "lost the queue's connection; reconnecting (one line when it is back)"]


def test_a_pool_s_failed_connection_is_the_outage_s_one_line(kept: _Kept) -> None:
    # psycopg's pool says why in its driver's words, a hint on a second line ("Is the server running
    # on that host…"): the worker's line took both, and its "reconnecting" fell off the line.
    refused = str(_refused())
    assert "\n" in refused
    logging.getLogger("psycopg.pool").warning("error connecting in 'pool-1': %s", refused)
    said = [record.getMessage() for record in kept.records]
    assert said == ["worker test-worker: database unavailable (Connection refused); reconnecting (one line when it is back)"]
