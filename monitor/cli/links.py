"""``links``: the health of the cited links — an overview, the dead ones, one URL's history."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from store.database import transaction

from monitor.runtime.check import open_store
from monitor.config import load_config
from monitor.links.views import dead_link_list, link_history, link_summary
from monitor.cli.textreport import literal
from . import cli
from monitor.cli.options import clean_errors, config_option, console, json_option, print_json


@cli.group(invoke_without_command=True)
@click.option("--dead", is_flag=True, help="List the dead links: since when, which measures cite them.")
@config_option
@json_option
@click.pass_context
@clean_errors
def links(ctx: click.Context, dead: bool, config_path: str, as_json: bool) -> None:
    """How the links the lists cite are doing: an overview, or the dead ones with --dead.

    A link is dead after `links.dead_after` failing checks in a row, at least
    `links.dead_min_hours` apart; `links history URL` shows every check of one link.

    \b
    Example:
      sesaku-monitor links --dead --json
    """
    if ctx.invoked_subcommand is not None:
        return
    config = load_config(config_path)
    with transaction(open_store(config)) as session:
        data: Any = dead_link_list(session) if dead else link_summary(session)
    if as_json:
        print_json(data)
    elif dead:
        _print_dead(console(), data)
    else:
        _print_summary(console(), data)


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
    config = load_config(config_path)
    with transaction(open_store(config)) as session:
        data = link_history(session, url)
    if as_json:
        print_json(data)
    else:
        _print_history(console(), data)


def _print_summary(console: Console, summary: dict[str, Any]) -> None:
    table = Table("cited links", "count", title="Link health")
    for key in ("cited", "unchecked", "healthy", "failing", "dead", "moved"):
        table.add_row(key, str(summary[key]))
    table.add_row("no longer cited (not checked)", str(summary["not_cited"]))
    console.print(table)
    if summary["by_outcome"]:
        outcomes = Table("last outcome", "links")
        for outcome, count in summary["by_outcome"].items():
            outcomes.add_row(literal(outcome), str(count))
        console.print(outcomes)


def _print_dead(console: Console, dead: list[dict[str, Any]]) -> None:
    if not dead:
        console.print("No dead links.")
        return
    table = Table(title=f"{len(dead)} dead link(s)")
    table.add_column("dead since", no_wrap=True)
    table.add_column("outcome", no_wrap=True)
    # A long URL is folded, never cut: every character of it is there to copy (or use --json).
    table.add_column("url / cited by", overflow="fold")
    for link in dead:
        status = f" {link['http_status']}" if link["http_status"] else ""
        cited_by = [f"#{m['id']} {_short(m['name'])} ({m['source_id']})" for m in link["measures"]]
        table.add_row((link["since"] or "")[:16].replace("T", " "), literal(link["outcome"] + status), literal("\n".join([link["url"], *cited_by])))
    console.print(table)


def _print_history(console: Console, data: dict[str, Any]) -> None:
    state = f"dead since {data['since'][:16]}" if data["since"] else (data["outcome"] or "not checked yet")
    cited = "" if data["cited"] else " — no longer cited, not checked"
    console.print(Text.assemble(literal(data["url"], "bold"), literal(f": {state}{cited}")))
    if data["moved_to"]:
        console.print(literal(f"moved to {data['moved_to']}"))
    table = Table("checked at", "outcome", "HTTP", "ms")
    table.add_column("final url", overflow="fold")
    table.add_column("error", overflow="fold")
    for check in data["checks"]:
        final = check["final_url"] if check["final_url"] and check["final_url"] != data["url"] else ""
        table.add_row(check["checked_at"][:19], literal(check["outcome"]), str(check["http_status"] or "—"),
                      str(check["elapsed_ms"] or ""), literal(final), literal(check["error"] or ""))
    console.print(table)


def _short(text: str, width: int = 20) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
