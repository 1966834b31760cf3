"""Database maintenance: ``db upgrade``, ``db copy`` and ``db index``."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

import click

from store.errors import StoreError

from monitor.cli.options import clean_errors, config_option, loading

if TYPE_CHECKING:
    from store.copy import TableCopy


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@config_option
@clean_errors
def db_upgrade(config_path: str) -> None:
    """Create or upgrade the schema (Alembic) on SQLite or PostgreSQL.

    On PostgreSQL it also creates the job queue the workers share (once).

    \b
    Example:
      SESAKU_DATABASE_URL=postgresql+psycopg://monitor@db/monitor sesaku-monitor db upgrade
    """
    from monitor.config import load_config, parse_config
    from store.database import open_engine, upgrade

    # Without a config file, SESAKU_DATABASE_URL still names the database.
    config = load_config(config_path) if os.path.exists(config_path) else parse_config({})
    engine = open_engine(config.database.url, busy_timeout_s=config.database.busy_timeout_s, upgrade_sqlite=False, require_current=False)
    upgrade(engine)
    if engine.dialect.name == "postgresql":
        from monitor.runtime.worker import apply_queue_schema  # procrastinate: only PostgreSQL needs it

        if apply_queue_schema(config.database.url):
            click.echo("created the job queue (procrastinate) for `sesaku-monitor worker`")
    click.echo(f"database {engine.url.render_as_string(hide_password=True)} is up to date")


@db.command("copy")
@click.option("--from", "from_url", required=True, metavar="URL", help="The database to read (it is not changed).")
@click.option("--to", "to_url", required=True, metavar="URL", help="The database to fill; PostgreSQL must be upgraded first.")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=500, show_default=True, help="Rows per transaction.")
@clean_errors
def db_copy(from_url: str, to_url: str, batch_size: int) -> None:
    """Copy a whole history (lists, versions, links, events, outbox) into another database.

    Ids are kept; rows already in the target with the same content are skipped, so an
    interrupted copy is simply run again. Counts and hashes are checked after. Stop the
    daemon first; delivered digests stay delivered in the new place.

    \b
    Example:
      sesaku-monitor db copy --from sqlite:///data/monitor.db --to postgresql+psycopg://monitor@db/monitor
    """
    from store.copy import copy_database
    from store.database import open_engine

    source = open_engine(_existing(from_url), upgrade_sqlite=False)
    target = open_engine(to_url)
    try:
        results = copy_database(source, target, batch_size=batch_size, progress=_report_table)
    finally:
        source.dispose()
        target.dispose()
    rows = sum(result.read for result in results)
    click.echo(f"copied {rows} rows in {len(results)} tables to {target.url.render_as_string(hide_password=True)}: counts and hashes match")


@db.command("index")
@config_option
@clean_errors
def db_index(config_path: str) -> None:
    """Put every version waiting for the search index into it, now.

    A list run that writes thousands of versions (a big list's baseline) leaves them to the
    job search:index, which the daemon and the workers run after it; until then a search
    finds them by a slower scan. This runs that job until none wait (beside a daemon that
    runs it too, the two share the work).

    \b
    Example:
      sesaku-monitor db index --config config.yaml
    """
    with loading():
        from datetime import datetime, timezone

        from monitor.config import load_config
        from monitor.runtime.check import open_store
        from monitor.runtime.jobs import run_job
        from monitor.runtime.search_backlog import INDEX_KEY, IndexRun, waiting_versions

        config = load_config(config_path)
    sessions = open_store(config)
    indexed, started = 0, time.monotonic()
    waiting = waiting_versions(sessions)
    while waiting:
        run = run_job(config, sessions, datetime.now(timezone.utc), "search", INDEX_KEY, wait_s=config.schedule.lock_wait_s)
        if not isinstance(run.result, IndexRun):
            raise StoreError(f"search:index: {run.error}")
        indexed, waiting = indexed + run.result.indexed, run.result.waiting
        click.echo(run.result.describe(), err=True)
    click.echo(f"search index: {indexed} versions indexed in {time.monotonic() - started:.1f} s; none waiting")


def _existing(url: str) -> str:
    """The source must be there: opening a missing SQLite file would create an empty one."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database if url.startswith("sqlite") else None
    if database and database != ":memory:" and not os.path.exists(database):
        raise StoreError(f"--from {url}: no such database file")
    return url


def _report_table(result: TableCopy) -> None:
    click.echo(f"{result.table}: {result.read} rows ({result.inserted} new, {result.present} already there)", err=True)
