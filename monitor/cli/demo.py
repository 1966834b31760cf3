"""``demo``: the offline two-version story on a throwaway SQLite database."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli.options import clean_errors, console


@click.command()
@click.option("--dir", "workdir", default="sesaku-demo", show_default=True, type=click.Path(file_okay=False, path_type=Path), help="Where the demo database is written.")
@clean_errors
def demo(workdir: Path) -> None:
    """Show the whole story offline: a baseline, a revised list, the report and the digest.

    Needs no network and no configuration; takes well under a minute.

    \b
    Example:
      sesaku-monitor demo
    """
    from monitor.demo.story import run_demo

    out = console()
    database = run_demo(workdir, out)
    config = workdir / "config.yaml"
    out.print(f"\nThe database is [bold]{database}[/] (SQLite; open it with any SQLite tool).")
    out.print(f"Look around:       sesaku-monitor history 83 --config {config}", markup=False)
    out.print(f"                   sesaku-monitor links --dead --config {config}", markup=False)
    out.print(f"See it in a browser: sesaku-monitor serve --config {config}", markup=False)
