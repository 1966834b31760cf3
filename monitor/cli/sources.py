"""``sources``: the stored sources with their state, and fixing one without losing it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from monitor.cli.options import clean_errors, config_option, console, json_option, loading, print_json

if TYPE_CHECKING:
    from datetime import datetime

    from monitor.config import Config
    from store.database import SessionFactory


def _open(config_path: str) -> tuple[Config, SessionFactory]:
    """The configuration, loaded with most of what a command imports (its monitor.runtime.source_admin,
    imported after this, is a few modules more), and the store."""
    with loading():
        from monitor.config import load_config
        from monitor.runtime.check import open_store

        config = load_config(config_path)
    return config, open_store(config)


@click.group(invoke_without_command=True)
@config_option
@json_option
@click.pass_context
@clean_errors
def sources(ctx: click.Context, config_path: str, as_json: bool) -> None:
    """Every source with its state; fix one without losing it: rekey, rebaseline, retire, unretire.

    States: watched, not yet run, disabled, retired, left its index, not in config (stored
    but no longer configured: kept, not run).

    \b
    Fixing a source: `try` it, correct config.yaml, then
      sources rekey ID        new key_columns / name_column for the stored measures, history kept
      sources rebaseline ID   the next run stores a fresh baseline, reporting no changes
      sources retire ID       kept and shown as retired, never run (`unretire` runs it again)

    \b
    Example:
      sesaku-monitor sources --config config.yaml
    """
    if ctx.invoked_subcommand is not None:
        return
    config, store = _open(config_path)
    from monitor.localtime import local_time
    from monitor.runtime.source_admin import list_sources

    listed = list_sources(config, store)
    if as_json:
        print_json([{"id": s.id, "title": s.title, "state": s.state, "measures": s.measures, "last_run_at": s.last_run_at,
                     "last_status": s.last_status, "rebaseline_next_run": s.rebaseline_next_run} for s in listed])
        return
    from rich.text import Text

    from monitor.cli.textreport import literal, rows_text

    rows = [[literal(s.id), Text(f"{s.state}, rebaseline at next run" if s.rebaseline_next_run else s.state), Text(str(s.measures)),
             Text(local_time(s.last_run_at, config.tz, missing="never")), literal(s.last_status or "—")] for s in listed]
    out = console()
    out.print(rows_text(out.width, ("source", "state", "measures", "last run", "result"), rows))


def _now() -> datetime:
    from monitor.runtime.check import utc_now

    return utc_now()


@sources.command()
@click.argument("source_id", metavar="ID")
@config_option
@json_option
@clean_errors
def rekey(source_id: str, config_path: str, as_json: bool) -> None:
    """Give the stored measures of ID the keys and names of the current key_columns and
    name_column; each keeps its id and history (paired by its own content), so the next run
    reports no added/ended wave. One `rekeyed` event notes it.

    \b
    Example:
      sesaku-monitor sources rekey tokyo-tama-strategy-2
    """
    config, store = _open(config_path)
    from monitor.runtime.source_admin import rekey as rekey_stored

    result = rekey_stored(config, store, source_id, _now())
    if as_json:
        print_json({"id": result.source_id, "measures": result.measures, "keys_changed": result.keys_changed,
                    "names_changed": result.names_changed, "unpaired": result.unpaired, "reparsed": result.reparsed})
        return
    click.echo(f"{source_id}: {result.measures} measures, {result.keys_changed} new keys, {result.names_changed} new names; history kept")
    if not result.reparsed:
        click.echo("note: no stored snapshot parses with the current config; keys, names and digests come from the stored fields alone")
    if result.unpaired:
        click.echo(f"warning: {result.unpaired} listed measures are not in the last good snapshot as the current config parses it "
                   f"(the parse itself changed): the next run reports them as changes; `sources rebaseline {source_id}` avoids that")


@sources.command()
@click.argument("source_id", metavar="ID")
@config_option
@clean_errors
def rebaseline(source_id: str, config_path: str) -> None:
    """Make the next run of ID store a fresh baseline: read whole (no "same bytes" shortcut),
    stored without added/ended/changed events and without the guard's comparison with the
    last count. Snapshots, measures, versions and events are all kept; measures that pair
    with the new list keep their history, the others end or start silently.

    \b
    Example:
      sesaku-monitor sources rebaseline tokyo-tama-strategy-2
    """
    config, store = _open(config_path)
    from monitor.runtime.source_admin import rebaseline as mark

    mark(config, store, source_id, _now())
    click.echo(f"{source_id}: its next run stores a fresh baseline (no events); everything stored is kept")


@sources.command()
@click.argument("source_id", metavar="ID")
@config_option
@clean_errors
def retire(source_id: str, config_path: str) -> None:
    """Stop running ID and keep everything it stored; shown as retired by `sources`, `status`
    and the web view. `sources unretire ID` runs it again.

    \b
    Example:
      sesaku-monitor sources retire tokyo-tama-strategy-2
    """
    config, store = _open(config_path)
    from monitor.runtime.source_admin import retire as mark

    mark(config, store, source_id, _now())
    click.echo(f"{source_id}: retired; kept, no longer run (`sesaku-monitor sources unretire {source_id}` runs it again)")


@sources.command()
@click.argument("source_id", metavar="ID")
@config_option
@clean_errors
def unretire(source_id: str, config_path: str) -> None:
    """Run a retired source again, on its schedule, from where it was.

    \b
    Example:
      sesaku-monitor sources unretire tokyo-tama-strategy-2
    """
    config, store = _open(config_path)
    from monitor.runtime.source_admin import unretire as mark

    mark(config, store, source_id)
    click.echo(f"{source_id}: runs again on its schedule")
