"""``worker``: one process of the fleet that shares a PostgreSQL store and queue."""

from __future__ import annotations

import logging

import click

from monitor.cli.options import clean_errors, config_option


@click.command()
@config_option
@click.option("--concurrency", type=click.IntRange(1, 64), default=None, help="Jobs run at once by this process (default: worker.concurrency).")
@click.option("--log-json", is_flag=True, help="Log one JSON object per line (for journald, Loki, …).")
@clean_errors
def worker(config_path: str, concurrency: int | None, log_json: bool) -> None:
    """Run jobs from the shared queue (PostgreSQL only) until SIGTERM.

    Start one on each machine: every tick is queued once for the whole fleet, a source
    or a host is never worked on twice at once, and a job of a worker that died is run
    again by another. `sesaku-monitor db upgrade` creates the queue first.

    \b
    Example:
      SESAKU_DATABASE_URL=postgresql+psycopg://monitor@db/monitor sesaku-monitor worker --config config.yaml --concurrency 8 --log-json
    """
    # Imported here: procrastinate is only needed by the fleet, not by the other commands.
    from monitor.config import load_config
    from monitor.runtime.logs import setup_logging
    from monitor.runtime.worker import run_worker

    config = load_config(config_path)
    setup_logging(as_json=log_json, level=logging.INFO)
    # procrastinate tells of every job started and ended: our own lines say what matters.
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    run_worker(config, concurrency=concurrency)
