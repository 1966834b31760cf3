"""``config check``: every problem of a configuration file at once, without running anything."""

from __future__ import annotations

import os
import sys

import click

from monitor.cli.options import EXIT_CONFIG, clean_errors


@click.group()
def config() -> None:
    """The configuration file: check it without running anything."""


@config.command("check")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@clean_errors
def config_check(file: str | None) -> None:
    """Check a configuration file: every problem at once, as file:line: key: what is wrong.

    FILE is config.yaml (or $SESAKU_CONFIG) unless given. Exits 2 when there is a problem,
    0 with a one-line summary when there is none. Nothing is fetched or stored.

    \b
    Example:
      sesaku-monitor config check my-config.yaml
    """
    from monitor.config import load_config
    from monitor.config.problems import file_problems

    path = file or os.environ.get("SESAKU_CONFIG", "config.yaml")
    problems = file_problems(path)
    if problems:
        for line in problems:
            click.echo(line)
        click.echo(f"{path}: {len(problems)} problem{'s' if len(problems) > 1 else ''}", err=True)
        sys.exit(EXIT_CONFIG)
    loaded = load_config(path)
    sources = ", ".join(source.id for source in loaded.sources) or "none"
    click.echo(f"{path}: OK — {len(loaded.sources)} source(s) ({sources}), {len(loaded.notifiers)} notifier(s), times in {loaded.timezone}")
