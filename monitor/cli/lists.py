"""Commands over the lists: check, history, diff, snapshots, formats."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from monitor.cli.options import EXIT_SOURCE, clean_errors, config_option, console, json_option, loading, print_json

if TYPE_CHECKING:
    from store.database import SessionFactory

    from monitor.links.run import ProgressFactory


@click.command()
@config_option
@json_option
@click.option("--source", "source_ids", multiple=True, metavar="ID", help="Only this source (repeatable); a list found on an index runs with its index.")
@click.option("--no-links", is_flag=True, help="Do not check the links the lists cite.")
@click.option("--no-notify", is_flag=True, help="Send no digest now; the events wait for the next `notify` (or the daemon).")
@click.option("--dry-run", is_flag=True, help="Fetch and parse each source as `try` does (its first 5 rows); store and send nothing.")
@clean_errors
def check(config_path: str, as_json: bool, source_ids: tuple[str, ...], no_links: bool, no_notify: bool, dry_run: bool) -> None:
    """Fetch every list once, store what changed, check the due links, print the run report.

    The first run of a source stores a baseline and reports no changes. Links cited by the
    lists are checked after them (a progress bar on a terminal), unless --no-links. Then each
    notifier's digest of the new events is sent, unless --no-notify; the report says what was sent.

    \b
    Example:
      sesaku-monitor check --config config.yaml --no-links --json
    """
    # Frozen, what they made is out of the collector's pass at exit too, which walked it all again (0.4 s of a big list's run).
    with loading():
        from monitor.runtime import lean_imports  # noqa: F401 - first: httpx's optional imports left out (trio, its CLI)
        from monitor.config import load_config
        from monitor.runtime.check import open_store, run_check

        config = load_config(config_path)
    if dry_run:
        from monitor.cli.try_source import show_trials

        show_trials(config, source_ids or [source.id for source in config.sources if source.enabled], 5, as_json=as_json)
        return
    sessions = open_store(config)
    report = run_check(config, sessions, source_ids=source_ids, links=not no_links, link_progress=_link_progress(no_links),
                       notify=not no_notify)
    if as_json:
        print_json(report.as_dict())
    else:
        from monitor.cli.textreport import print_run_report  # rich's console: only for the text report

        print_run_report(console(), report)
    _say_search_waits(sessions)
    if not report.ok:
        sys.exit(EXIT_SOURCE)


def _say_search_waits(sessions: SessionFactory) -> None:
    """A big list's versions left for the search index (store.version_writes.BACKLOG_ROWS): `check` does not wait to index them."""
    from monitor.runtime.search_backlog import waiting_versions

    waiting = waiting_versions(sessions)
    if waiting:
        click.echo(f"search: {waiting} versions wait for the index (found meanwhile by a slower scan); "
                   "`sesaku-monitor db index` or the daemon indexes them", err=True)


def _link_progress(no_links: bool) -> ProgressFactory | None:
    """The terminal's progress bar of the link checks; ``--no-links`` does not load the checker for it."""
    if no_links:
        return None
    from monitor.links.checker import terminal_progress

    return terminal_progress


@click.command()
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
    with loading():
        from monitor.cli.textreport import print_history
        from monitor.config import load_config
        from monitor.lists.views import history_of
        from monitor.runtime.check import open_store
        from store.database import transaction

        config = load_config(config_path)
    with transaction(open_store(config)) as session:
        found = history_of(session, measure_id)
    print_json(found.as_dict()) if as_json else print_history(console(), found, config.tz)


@click.command()
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
      sesaku-monitor diff tokyo-tama-strategy-2 --from 1 --to 5
    """
    with loading():
        from monitor.cli.textreport import print_source_changes
        from monitor.config import load_config
        from monitor.lists.families import source_config
        from monitor.lists.views import diff_snapshots
        from monitor.runtime.check import open_store
        from store.database import transaction

        config = load_config(config_path)
    with transaction(open_store(config)) as session:
        report = diff_snapshots(session, source_config(config, session, source_id), from_id, to_id)
    print_json(report.as_dict()) if as_json else print_source_changes(console(), report)


@click.command()
@click.argument("source_id")
@click.option("--limit", default=50, show_default=True, help="How many of the newest snapshots.")
@config_option
@json_option
@clean_errors
def snapshots(source_id: str, limit: int, config_path: str, as_json: bool) -> None:
    """The stored fetches of one list, newest first.

    \b
    Example:
      sesaku-monitor snapshots tokyo-tama-strategy-2
    """
    with loading():
        from monitor.cli.textreport import print_snapshots
        from monitor.config import load_config
        from monitor.lists.families import source_config
        from monitor.runtime.check import open_store
        from store.database import transaction
        from store.models import Source
        from store.queries import snapshots_of

        config = load_config(config_path)
    with transaction(open_store(config)) as session:
        if session.get(Source, source_id) is None:  # a stored source no longer configured keeps its snapshots
            source_config(config, session, source_id)
        rows = snapshots_of(session, source_id, limit)
    if as_json:
        print_json([{"id": s.id, "fetched_at": s.fetched_at, "status": s.status, "records": s.record_count, "edition": s.edition, "error": s.error} for s in rows])
    else:
        print_snapshots(console(), rows, config.tz)


@click.command()
def formats() -> None:
    """The list formats `format:` accepts, and their options.

    \b
    Example:
      sesaku-monitor formats
    """
    from monitor.lists.parsers import get_format, known_formats

    click.echo("auto: detect the format from the bytes, the Content-Type and the URL")
    for name in known_formats()[1:]:
        fmt = get_format(name)
        options = ", ".join(fmt.options.model_fields) or "none"
        click.echo(f"{name}: {fmt.description} (options: {options})")
