"""The queue's PostgreSQL: procrastinate's connections to it, and its schema.

The store and the queue are one database (monitor.runtime.worker); this is how a worker, the
tick and ``db upgrade`` reach the queue's side of it.
"""

from __future__ import annotations

from typing import Any

import psycopg
from procrastinate import App, PsycopgConnector
from procrastinate import exceptions as queue_errors
from sqlalchemy.engine import make_url

from store.database import printable_url
from store.errors import StoreError

from monitor.errors import ConfigError

__all__ = ["DATABASE_ERRORS", "QUEUE_CONNECTIONS", "apply_queue_schema", "first_line", "queue_conninfo", "queue_connector",
           "queue_schema_present", "require_postgres"]

# procrastinate's own pool: its LISTEN, fetching and finishing jobs, heartbeats, the tick's
# insert and the stalled-job sweep. Jobs never use it (they finish through it, briefly).
QUEUE_CONNECTIONS = 4
# What the queue's database may raise; whether it went away is monitor.runtime.outage's call.
DATABASE_ERRORS = (queue_errors.ConnectorException, psycopg.Error, OSError)


def require_postgres(url: str) -> None:
    """Workers share one database over the network: a SQLite file cannot be that."""
    if not url.startswith("postgresql"):
        raise ConfigError(
            f"workers need PostgreSQL: database.url is {url.split(':', 1)[0]}:… — set it (or SESAKU_DATABASE_URL) "
            "to postgresql+psycopg://…, run `sesaku-monitor db upgrade`, and keep `sesaku-monitor run` for one machine"
        )


def queue_conninfo(url: str) -> str:
    """The libpq URI procrastinate needs, from our SQLAlchemy URL (``postgresql+psycopg://``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def queue_connector(url: str, *, min_size: int = 2, max_size: int = QUEUE_CONNECTIONS) -> PsycopgConnector:
    """procrastinate's connector to the queue of ``url`` (psycopg's pool), each connection planning
    every statement as it runs it (:func:`_plan_each_run`)."""
    return PsycopgConnector(conninfo=queue_conninfo(url), min_size=min_size, max_size=max_size, configure=_plan_each_run)


async def _plan_each_run(connection: psycopg.AsyncConnection[Any]) -> None:
    """The plans PostgreSQL keeps on a connection after a statement's first runs are made on the queue
    as it was then: on a queue of a few jobs, a scan of the whole jobs table (or events table) in five
    of the statements that fetch and finish a job, kept once thousands wait, until autovacuum analyzes
    the table (not within 100 s on a busy server): 7.7-12 ms a job at 19,000 waiting. Planned on each
    run, 2.8-3.0 ms, 0.4-0.5 ms more of the server's CPU a job than plans made afresh (bench/queue_jobs.py).
    A SET, not libpq's ``options``: PgBouncer refuses those."""
    await connection.execute("SET plan_cache_mode = force_custom_plan")
    await connection.commit()


def queue_schema_present(url: str) -> bool:
    try:
        with psycopg.connect(queue_conninfo(url), connect_timeout=10) as connection:
            row = connection.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
    except psycopg.Error as exc:
        raise StoreError(f"cannot open database {printable_url(url)}: {first_line(exc)}") from exc
    return bool(row and row[0])


def apply_queue_schema(url: str) -> bool:
    """Create procrastinate's tables once; True when they were created now (idempotent)."""
    require_postgres(url)
    if queue_schema_present(url):
        return False
    app = App(connector=PsycopgConnector(conninfo=queue_conninfo(url)))
    try:
        app.open()
        app.schema_manager.apply_schema()
    except DATABASE_ERRORS as exc:
        raise StoreError(f"cannot create the job queue in {printable_url(url)}: {first_line(exc)}") from exc
    finally:
        app.close()
    return True


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
