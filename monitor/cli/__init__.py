"""The command line: one click group of thin commands over library functions.

Each module here adds its commands to :data:`cli`; see ``sesaku-monitor --help``.
"""

from __future__ import annotations

import logging

import click

from monitor.runtime.logs import setup_cli_logging

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


from . import daemon, database, demo, links, lists, notify, web, worker  # noqa: E402,F401  (each module registers its commands)
