"""The command line: thin commands over library functions, errors as one clean line.

Exit codes: 0 done; 2 the configuration or the command line is wrong; 3 a source failed or
is suspect (the run still stored everything else); 4 the database refused; 1 anything else.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
from rich.console import Console

from store.database import open_engine, session_factory, transaction, upgrade
from store.errors import StoreError
from store.queries import snapshots_of

from .check import open_store, run_check
from .config import Config, load_config
from .errors import ConfigError, MonitorError
from .parsers import get_format, known_formats
from .textreport import print_history, print_run_report, print_snapshots, print_source_changes
from .views import diff_snapshots, history_of

__all__ = ["main", "cli"]

EXIT_CONFIG, EXIT_SOURCE, EXIT_STORE = 2, 3, 4
F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> None:
    click.echo(f"sesaku-monitor: error: {message}", err=True)
    sys.exit(code)


def clean_errors(func: F) -> F:
    """Turn our exceptions into one line on stderr and the documented exit code."""
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            _fail(str(exc), EXIT_CONFIG)
        except StoreError as exc:
            _fail(str(exc), EXIT_STORE)
        except MonitorError as exc:
            _fail(str(exc), 1)
    return wrapper  # type: ignore[return-value]


config_option = click.option(
    "--config", "config_path", default=lambda: os.environ.get("SESAKU_CONFIG", "config.yaml"), show_default="config.yaml or $SESAKU_CONFIG",
    type=click.Path(dir_okay=False), help="Configuration file.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log lines on stderr (-v info, -vv debug).")
@click.version_option(package_name="sesaku-monitor")
def cli(verbose: int) -> None:
    """Watch published lists of government measures (施策一覧) and the pages they cite.

    \b
    Example:
      sesaku-monitor check --config config.yaml --no-links --json
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


@cli.command()
@config_option
@json_option
@click.option("--source", "source_ids", multiple=True, metavar="ID", help="Only this source (repeatable).")
@click.option("--no-links", is_flag=True, help="Do not check the links the lists cite.")
@clean_errors
def check(config_path: str, as_json: bool, source_ids: tuple[str, ...], no_links: bool) -> None:
    """Fetch every list once, store what changed, print the run report.

    The first run of a source stores a baseline and reports no changes.

    \b
    Example:
      sesaku-monitor check --config config.yaml --no-links --json
    """
    config = load_config(config_path)
    report = run_check(config, open_store(config), source_ids=source_ids)
    if as_json:
        _print_json(report.as_dict())
    else:
        print_run_report(Console(), report)
    if not report.ok:
        sys.exit(EXIT_SOURCE)


@cli.command()
@click.argument("measure_id", type=int)
@config_option
@json_option
@clean_errors
def history(measure_id: int, config_path: str, as_json: bool) -> None:
    """Every version of one measure, with dates and what changed.

    \b
    Example:
      sesaku-monitor history 12
    """
    config = load_config(config_path)
    with transaction(open_store(config)) as session:
        found = history_of(session, measure_id)
    _print_json(found.as_dict()) if as_json else print_history(Console(), found)


@cli.command()
@click.argument("source_id")
@click.option("--from", "from_id", type=int, required=True, help="Snapshot id of the older version.")
@click.option("--to", "to_id", type=int, required=True, help="Snapshot id of the newer version.")
@config_option
@json_option
@clean_errors
def diff(source_id: str, from_id: int, to_id: int, config_path: str, as_json: bool) -> None:
    """The changes between two stored versions of a list (ids from `snapshots`).

    \b
    Example:
      sesaku-monitor diff tokyo-tama-strategy2 --from 1 --to 5
    """
    config = load_config(config_path)
    with transaction(open_store(config)) as session:
        report = diff_snapshots(session, config.source(source_id), from_id, to_id)
    _print_json(report.as_dict()) if as_json else print_source_changes(Console(), report)


@cli.command()
@click.argument("source_id")
@click.option("--limit", default=50, show_default=True, help="How many of the newest snapshots.")
@config_option
@json_option
@clean_errors
def snapshots(source_id: str, limit: int, config_path: str, as_json: bool) -> None:
    """The stored fetches of one list, newest first.

    \b
    Example:
      sesaku-monitor snapshots tokyo-tama-strategy2
    """
    config = load_config(config_path)
    config.source(source_id)
    with transaction(open_store(config)) as session:
        rows = snapshots_of(session, source_id, limit)
    if as_json:
        _print_json([{"id": s.id, "fetched_at": s.fetched_at, "status": s.status, "records": s.record_count, "edition": s.edition, "error": s.error} for s in rows])
    else:
        print_snapshots(Console(), rows)


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@config_option
@clean_errors
def db_upgrade(config_path: str) -> None:
    """Create or upgrade the schema (Alembic) on SQLite or PostgreSQL.

    \b
    Example:
      SESAKU_DATABASE_URL=postgresql+psycopg://monitor@db/monitor sesaku-monitor db upgrade
    """
    config = load_config(config_path) if os.path.exists(config_path) else Config()
    engine = open_engine(config.database.url, busy_timeout_s=config.database.busy_timeout_s, upgrade_sqlite=False, require_current=False)
    upgrade(engine)
    click.echo(f"database {engine.url.render_as_string(hide_password=True)} is up to date")


@cli.command()
def formats() -> None:
    """The list formats `format:` accepts, and their options.

    \b
    Example:
      sesaku-monitor formats
    """
    click.echo("auto: detect the format from the bytes, the Content-Type and the URL")
    for name in known_formats()[1:]:
        fmt = get_format(name)
        options = ", ".join(fmt.options.model_fields) or "none"
        click.echo(f"{name}: {fmt.description} (options: {options})")


def main() -> None:
    cli(prog_name="sesaku-monitor")
