"""``links``: the health of the cited links — an overview, the dead ones, one URL's history."""

from __future__ import annotations

from typing import Any

import click

from monitor.cli.options import clean_errors, config_option, console, json_option, loading, print_json


@click.group(invoke_without_command=True)
@click.option("--dead", is_flag=True, help="List the dead links: since when, which measures cite them.")
@click.option("--recheck", "recheck_url", is_flag=False, flag_value="", default=None, metavar="[URL]",
              help="Check now, due or not: URL (a cited link), or with --dead or --all; prints the outcomes.")
@click.option("--all", "every", is_flag=True, help="With --recheck: every cited link.")
@config_option
@json_option
@click.pass_context
@clean_errors
def links(ctx: click.Context, dead: bool, recheck_url: str | None, every: bool, config_path: str, as_json: bool) -> None:
    """How the links the lists cite are doing: an overview, or the dead ones with --dead.

    A link is dead after `links.dead_after` failing checks in a row, at least
    `links.dead_min_hours` apart; `links history URL` shows every check of one link.
    `--recheck` checks now (the same checker, politeness and records as the links job).

    \b
    Examples:
      sesaku-monitor links --dead --json
      sesaku-monitor links --recheck --dead
      sesaku-monitor links --recheck https://www.metro.tokyo.lg.jp/tosei/index.html
    """
    if ctx.invoked_subcommand is not None:
        return
    if recheck_url is not None:
        _recheck(recheck_url, dead, every, config_path, as_json)
        return
    if every:
        raise click.UsageError("--all goes with --recheck (links --recheck --all)")
    with loading():
        from monitor.cli.linktext import print_dead, print_summary
        from monitor.config import load_config
        from monitor.links.views import dead_link_list, link_summary
        from monitor.runtime.check import open_store
        from store.database import transaction

        config = load_config(config_path)
    with transaction(open_store(config)) as session:
        data: Any = dead_link_list(session) if dead else link_summary(session)
    if as_json:
        print_json(data)
    elif dead:
        print_dead(console(), data, config.tz)
    else:
        print_summary(console(), data)


def _recheck(url: str, dead: bool, every: bool, config_path: str, as_json: bool) -> None:
    if [bool(url), dead, every].count(True) != 1:
        raise click.UsageError("--recheck needs one of: a URL, --dead or --all (links --recheck --dead)")
    from datetime import datetime, timezone

    with loading():
        from monitor.cli.linktext import print_recheck
        from monitor.config import load_config
        from monitor.links.checker import terminal_progress
        from monitor.links.recheck import Which, recheck
        from monitor.runtime.check import open_store

        config = load_config(config_path)
    which: Which = "all" if every else "dead" if dead else "url"
    data = recheck(config, open_store(config), datetime.now(timezone.utc), which, url or None, progress=terminal_progress)
    if as_json:
        print_json(data)
    else:
        print_recheck(console(), data)


@links.command("history")
@click.argument("url")
@config_option
@json_option
@clean_errors
def history(url: str, config_path: str, as_json: bool) -> None:
    """Every check of one URL, oldest first: outcome, status, where it ended, how long it took.

    \b
    Example:
      sesaku-monitor links history https://www.metro.tokyo.lg.jp/tosei/index.html
    """
    with loading():
        from monitor.cli.linktext import print_link_history
        from monitor.config import load_config
        from monitor.links.views import link_history
        from monitor.runtime.check import open_store
        from store.database import transaction

        config = load_config(config_path)
    with transaction(open_store(config)) as session:
        data = link_history(session, url)
    if as_json:
        print_json(data)
    else:
        print_link_history(console(), data, config.tz)
