"""The command line: one click group of thin commands over library functions.

Commands are named in :data:`COMMANDS` and imported only when run (or asked for their own
``--help``): ``sesaku-monitor --help`` lists them from the table, so a short command does not
pay for SQLAlchemy, httpx and the parsers it never uses. See ``sesaku-monitor --help``.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import click

from monitor.runtime.logs import setup_cli_logging

__all__ = ["COMMANDS", "LazyGroup", "cli", "main"]

# name -> ("module:attribute", the short help `--help` lists without importing the module).
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("monitor.cli.lists:check", "Fetch every list once, store what changed, check the due links, print the run report."),
    "config": ("monitor.cli.configfile:config", "The configuration file: check it without running anything."),
    "db": ("monitor.cli.database:db", "Database maintenance."),
    "deliveries": ("monitor.cli.notify:deliveries", "The outbox: digests sent, pending (with their next try) and failed, with their errors."),
    "demo": ("monitor.cli.demo:demo", "Show the whole story offline: a baseline, a revised list, the report and the digest."),
    "diff": ("monitor.cli.lists:diff", "The changes between two stored versions of a list (ids from `snapshots`)."),
    "digest": ("monitor.cli.notify:digest", "Show what the next digest of a notifier would contain (changes nothing)."),
    "formats": ("monitor.cli.lists:formats", "The list formats `format:` accepts, and their options."),
    "history": ("monitor.cli.lists:history", "Every version of one measure, with dates and what changed."),
    "links": ("monitor.cli.links:links", "How the links the lists cite are doing: an overview, or the dead ones with --dead."),
    "notify": ("monitor.cli.notify:notify", "Write the digests owed now and send every due delivery (one notifier, or all)."),
    "run": ("monitor.cli.daemon:run", "Run the daemon: every source on its schedule, until SIGTERM or SIGINT."),
    "serve": ("monitor.cli.web:serve", "Serve the web view of the database: changes, lists as of a day, measure histories, link health, feeds."),
    "snapshots": ("monitor.cli.lists:snapshots", "The stored fetches of one list, newest first."),
    "sources": ("monitor.cli.sources:sources", "Every source with its state; fix one without losing it: rekey, rebaseline, retire, unretire."),
    "status": ("monitor.cli.daemon:status", "Per source: last run and its result, next run, failures in a row; dead links; the outbox."),
    "try": ("monitor.cli.try_source:try_source", "Fetch and parse one source as its next run would and show its measures keyed and named; stores nothing."),
    "worker": ("monitor.cli.worker:worker", "Run jobs from the shared queue (PostgreSQL only) until SIGTERM."),
}


class LazyGroup(click.Group):
    """A group whose commands live in a table of ``module:attribute`` and load on first use."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = self.lazy[cmd_name][0].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy[cmd_name][0]} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.lazy[name][1]) for name in self.list_commands(ctx) if name in self.lazy]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log lines on stderr (-v info, -vv debug).")
@click.version_option(package_name="sesaku-monitor")
def cli(verbose: int) -> None:
    """Watch published lists of government measures (施策一覧) and the pages they cite.

    \b
    Example:
      sesaku-monitor check --config config.yaml --no-links --json
    """
    # The daemon's redacting formatter, so that -vv (httpx and httpcore included) shows no secret.
    setup_cli_logging(logging.WARNING - 10 * min(verbose, 2))


def main() -> None:
    cli(prog_name="sesaku-monitor")
