"""``try SOURCE``: fetch and parse one source as its next run would, and store nothing."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from monitor.cli.options import EXIT_SOURCE, clean_errors, config_option, console, json_option, loading, print_json

if TYPE_CHECKING:
    from rich.console import Console

    from monitor.config import Config
    from monitor.lists.trial import Trial


@click.command(name="try")
@click.argument("source_id", metavar="SOURCE")
@click.option("--rows", default=10, show_default=True, type=click.IntRange(min=0), help="How many of the first rows to show.")
@config_option
@json_option
@clean_errors
def try_source(source_id: str, rows: int, config_path: str, as_json: bool) -> None:
    """Fetch and parse one source as its next run would and show its measures keyed and named; stores nothing.

    Shows the first rows (key, name, urls, end date), the count and every warning; no
    database is opened. Exit 3 when its run would fail or be suspect.

    Use it before a source's first run, whose parse becomes the baseline: fix key_columns,
    name_column or options in the config and try again. An index (kind: index or ckan) shows
    the lists it would find, each tried, with its count.

    \b
    Example:
      sesaku-monitor try tokyo-tama-strategy-2 --rows 5
    """
    with loading():
        from monitor.config import load_config

        config = load_config(config_path)
    show_trials(config, [source_id], rows, as_json=as_json, many=False)


def show_trials(config: Config, source_ids: Sequence[str], rows: int, *, as_json: bool, many: bool = True) -> None:
    """Try each source and print what its run would read (``check --dry-run`` too); exit 3 when
    one would fail or be suspect, as ``check`` does."""
    from monitor.lists.trial import try_source as trial_of

    trials = [trial_of(config, config.source(source_id), rows) for source_id in source_ids]
    if as_json:
        print_json({"sources": [trial.as_dict() for trial in trials]} if many else trials[0].as_dict())
    else:
        out = console()
        for trial in trials:
            _print_trial(out, trial)
        out.print("nothing was stored: the first `check` or `run` of a source stores its baseline.")
    if any(trial.status != "ok" for trial in trials):
        sys.exit(EXIT_SOURCE)


def _print_trial(out: Console, trial: Trial, indent: str = "") -> None:
    from rich.text import Text

    from monitor.cli.textreport import literal, rows_text

    noun = "lists" if trial.kind != "list" else "records"
    out.print(Text.assemble(indent, literal(trial.id, "bold"), f" ({trial.kind}): ", _status(trial), f", {trial.count} {noun}"))
    out.print(Text.assemble(indent, "  ", literal(trial.url)))
    if trial.error:
        out.print(Text.assemble(indent, "  ", literal(trial.error, "red")))
    facts = [("encoding", trial.encoding), ("edition", trial.edition)] if trial.kind == "list" else []
    for label, value in facts + [("columns", ", ".join(trial.columns) or None), ("ignored (row numbers)", ", ".join(trial.ignored_columns) or None)]:
        if value:
            out.print(Text.assemble(indent, f"  {label}: ", literal(value)))
    for warning in trial.warnings:
        out.print(Text.assemble(indent, "  ", ("warning: ", "yellow"), literal(warning)))
    if trial.rows:
        headers = (f"key ({' + '.join(trial.key_columns)})", f"name ({trial.name_column})", "urls", "end date")
        ends = [f"{row.end_date.isoformat()} ({row.end_text})" if row.end_date else row.end_text for row in trial.rows]
        rows = [[literal(row.key), literal(row.name), literal("\n".join(row.urls)), literal(end)] for row, end in zip(trial.rows, ends)]
        out.print(rows_text(out.width, headers, rows, title=f"the first {len(trial.rows)} of {trial.count}", stacked=True))
    for found in trial.lists:
        _print_trial(out, found, indent + "  ")


def _status(trial: Trial) -> tuple[str, str]:
    words = {"ok": ("a run would store it", "green"), "suspect": ("suspect: a run would keep it aside", "yellow"),
             "failed": ("failed", "red")}
    return words.get(trial.status, (trial.status, ""))
