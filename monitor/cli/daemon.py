"""The service: ``run`` (the daemon) and ``status`` (what it did, from the database)."""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING

import click

from monitor.cli.options import clean_errors, config_option, console, json_option, loading, print_json

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.config_view import ConfigView


@click.command()
@config_option
@click.option("--log-json", is_flag=True, help="Log one JSON object per line (for journald, Loki, …).")
@click.option("--health-port", type=click.IntRange(0, 65535), metavar="PORT",
              help="Answer GET http://127.0.0.1:PORT/health: 200 while all runs keep their schedule, 503 if not.")
@click.pass_context
@clean_errors
def run(ctx: click.Context, config_path: str, log_json: bool, health_port: int | None) -> None:
    """Run the daemon: every source on its schedule, until SIGTERM or SIGINT.

    SIGHUP, or saving the config file, reloads the configuration; a bad one is
    refused and the running one stays. On SIGTERM running jobs may finish for
    `schedule.stop_timeout_s`, then the daemon exits 0.

    \b
    Example:
      sesaku-monitor run --config config.yaml --log-json --health-port 8081
    """
    from monitor.config import load_config
    from monitor.runtime.daemon import Daemon
    from monitor.runtime.logs import setup_logging

    verbose = (ctx.parent.params.get("verbose") or 0) if ctx.parent else 0
    setup_logging(as_json=log_json, level=logging.DEBUG if verbose > 1 else logging.INFO)
    daemon = Daemon(config_path, load_config(config_path), health_port=health_port)
    daemon.run()
    if daemon.abandoned:
        # Worker threads still in a job would hold the interpreter open: leave now, the
        # database rolls their uncommitted transactions back.
        logging.shutdown()
        sys.stderr.flush()
        os._exit(0)


@click.command()
@config_option
@json_option
@click.option("--all", "every", is_flag=True, help="List every source, however many (by default, beyond 50, only those failing or suspect), "
              "and count every due link of a fleet's backlog (by default the most overdue).")
@clean_errors
def status(config_path: str, as_json: bool, every: bool) -> None:
    """Per source: last run and its result, next run, failures in a row; dead links; the outbox.

    Beyond 50 sources the table lists only those failing or suspect (with a count of the
    rest); --all lists every one. --json always holds every source. A fleet's link
    backlog counts the most overdue links and says so when more are due; --all counts all.

    \b
    Example:
      sesaku-monitor status --json
    """
    import gc

    # A command of a second that frees what it made by reference count: the cycle collector's
    # passes over the imports, the configuration (a million objects at 18,000 lists) and the
    # rows were 0.1-0.4 s of its CPU.
    enabled = gc.isenabled()
    gc.disable()
    try:
        _status(config_path, as_json, every)
    finally:
        if enabled:  # called in a process that goes on (a test's CliRunner)
            gc.enable()


def _status(config_path: str, as_json: bool, every: bool) -> None:
    with loading():
        from concurrent.futures import ThreadPoolExecutor
        from datetime import datetime, timezone

        from monitor.runtime.fleet_status import BACKLOG_UP_TO, print_fleet_status, read_fleet_status
        from monitor.runtime.status import print_status, read_status
        from store.database import open_engine

        config = _settings(config_path)
    # Not monitor.runtime.check's open_store: importing it loads every wing, a second of a command that only reads.
    engine = open_engine(config.database.url, busy_timeout_s=config.database.busy_timeout_s)
    now = datetime.now(timezone.utc)
    # The fleet's queries (a pass over the due links) run in the database meanwhile, on a connection of their own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        # None unless PostgreSQL carries a queue.
        fleet_read = pool.submit(read_fleet_status, config, now, engine=engine, backlog_up_to=None if every else BACKLOG_UP_TO)
        # The default table reads whole only the sources that need attention (beyond 50); --json and --all every one.
        found = read_status(config, engine, now, every=every or as_json)
        fleet = fleet_read.result()
    if as_json:
        print_json({**found.as_dict(), **({"fleet": fleet.as_dict()} if fleet else {})})
    else:
        print_status(console(), found, config.tz, every=every)
        if fleet is not None:
            print_fleet_status(console(), fleet)


def _settings(config_path: str) -> Config | ConfigView:
    """What status reads of a file checked before under this very schema (no pydantic model
    built: 0.3 s at 18,000 lists); else the full load, which keeps that view for the next time."""
    from monitor.config_view import read_view

    view = read_view(config_path)
    if view is not None:
        return view
    from monitor.config import load_config

    return load_config(config_path)
