"""The run report, a measure's history and snapshot lists as readable text (rich).

Whatever came from a list is handed to rich as :func:`literal` ``Text``, never as a string:
rich reads ``[bold]`` in a string as markup (and ``[/bold]`` alone as an error), and ``:smile:``
as an emoji. Our own styling is added around it with ``Text.assemble``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING, cast

from rich.console import Console
from rich.table import Table
from rich.text import Text

from monitor.inert import visible
from monitor.localtime import local_time

if TYPE_CHECKING:
    # Only named in signatures: `status`, which imports literal() from here, reads no history nor run report.
    from store.models import Snapshot

    from monitor.lists.views import MeasureHistory
    from monitor.report import MeasureChange, NotifierReport, RunReport, SourceReport

__all__ = ["literal", "rows_text", "print_run_report", "print_source_changes", "print_history", "print_snapshots"]

_KINDS = (("added", "added"), ("ended", "ended"), ("renamed", "renamed"), ("changed", "changed"), ("expired", "expired"), ("reappeared", "reappeared"))


def literal(text: object, style: str = "") -> Text:
    """``text`` as rich shows it: character for character, control characters escaped."""
    return Text(visible("" if text is None else str(text)), style=style)


def rows_text(width: int, columns: Sequence[str], rows: Sequence[Sequence[Text]], *, title: str = "",
              styles: Sequence[str] = (), boxed: bool = True, stacked: bool = False) -> Table | Text:
    """The rows as a boxed table where every cell fits whole on its lines within ``width``, else as
    plain aligned lines that may run past it: at 80 columns (cron mail, a pipe) and narrower, a
    table folded a URL or an id over lines ('tokyo-nationwide-colla' / 'boration'), and cut or
    dropped the columns left without room, so a URL copied from a mail was broken. A cell may hold
    several lines (a URL and who cites it); ``styles`` is each row's style, ``boxed=False`` always
    aligned (many rows: rich's Table spent 13 s of CPU laying out 18,000). ``stacked``: where the box
    does not fit, a block a row, ``column: value`` a line, for cells too wide to sit side by side
    (`try`'s keys, names and URLs made lines of 300 columns)."""
    styles = styles or [""] * len(rows)
    header = [literal(name, "bold") for name in columns]  # a list's own column names among them (`try`)
    lines = [(line, style) for row, style in zip(rows, styles) for line in _row_lines(row)]
    widths = [max([name.cell_len] + [line[n].cell_len for line, _ in lines]) for n, name in enumerate(header)]
    if boxed and width >= sum(widths) + 3 * len(widths) + 1:  # a border and two spaces a column
        return _boxed(header, rows, styles, title)
    text = _stacked(header, rows) if stacked else Text("\n").join(_aligned(line, widths, style) for line, style in [(header, ""), *lines])
    return Text.assemble((title, "italic"), "\n", text) if title else text


def _row_lines(row: Sequence[Text]) -> list[Sequence[Text]]:
    """A row as its lines, one cell each: as many as its tallest cell has (a blank cell below the others)."""
    if not any("\n" in cell.plain for cell in row):
        return [row]
    cells = [cell.split("\n") for cell in row]
    return [[cell[depth] if depth < len(cell) else Text() for cell in cells] for depth in range(max(len(cell) for cell in cells))]


def _boxed(columns: Sequence[Text], rows: Sequence[Sequence[Text]], styles: Sequence[str], title: str) -> Table:
    table = Table(title=title or None, title_justify="left")
    for column in columns:
        table.add_column(column, no_wrap=True)
    for row, style in zip(rows, styles):
        table.add_row(*row, style=style)
    return table


def _stacked(header: Sequence[Text], rows: Sequence[Sequence[Text]]) -> Text:
    """A block a row: ``column: value`` for each cell that holds something, indented after the first."""
    lines = []
    for row in rows:
        filled = [(name, cell) for name, cell in zip(header, row) if cell.plain]
        for position, (name, cell) in enumerate(filled):
            indent = "  " if position else ""
            for n, part in enumerate(cell.split("\n")):  # a cell's further lines under its first
                lines.append(Text.assemble(indent, name if n == 0 else " " * name.cell_len, "  " if n else ": ", part))
    return Text("\n").join(lines)


def _aligned(cells: Sequence[Text], widths: list[int], style: str) -> Text:
    line = Text("  ").join(cell + " " * (width - cell.cell_len) for cell, width in zip(cells[:-1], widths)) + "  " + cells[-1]
    if not cells[-1]:  # a continuation line with nothing in the last column
        line.rstrip()
    line.stylize(style)
    return line


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_run_report(console: Console, report: RunReport) -> None:
    for source in report.sources:
        print_source_changes(console, source)
    if report.links.checked:
        links = report.links
        console.print(Text.assemble(("links", "bold"), f": {links.checked} checked, {len(links.dead)} dead, {len(links.recovered)} recovered, {len(links.moved)} moved"))
        for kind in ("dead", "recovered", "moved"):
            for entry in getattr(links, kind):
                target = f" → {entry.final_url}" if entry.final_url and entry.final_url != entry.url else ""
                console.print(literal(f"  {kind:9} {entry.outcome:13} {entry.url}{target}"))
    for notifier in report.notifiers or []:
        console.print(Text.assemble(literal(f"notify {notifier.id}", "bold"), ": ", literal(_notified(notifier))))


def _notified(notifier: NotifierReport) -> str:
    if notifier.error:
        return f"no digest: {notifier.error}"
    said = [f"{notifier.written} digest{'s' if notifier.written != 1 else ''} written" if notifier.written else "nothing new to send",
            f"{notifier.sent} sent" if notifier.sent else ""]
    said += [f"send failed (kept for a retry): {error}" for error in notifier.failed]
    return ", ".join(part for part in said if part)


def print_source_changes(console: Console, source: SourceReport) -> None:
    style = {"failed": "red", "suspect": "yellow", "changed": "cyan", "baseline": "green"}.get(source.status, "")
    counts = ", ".join(f"{len(getattr(source, kind))} {label}" for kind, label in _KINDS if getattr(source, kind))
    records = f", {source.records} measures" if source.records is not None else ""
    console.print(Text.assemble(literal(source.id, "bold"), ": ", literal(source.status, style), f"{records}{' — ' + counts if counts else ''}"))
    if source.error:
        console.print(literal(f"  error: {source.error}"))
    for warning in source.warnings[:5]:
        console.print(literal(f"  warning: {warning}"))
    for kind, label in _KINDS:
        for change in getattr(source, kind):
            _print_change(console, label, change)
    for renamed in source.columns_renamed:
        console.print(literal(f"  column     {renamed['old_column']} → {renamed['new_column']} (read as {renamed['stored_as']})"))
    for label, entries in (("list added", source.lists_added), ("list gone", source.lists_removed)):
        for entry in entries:
            console.print(literal(f"  {label:10} {entry['list_id']} {_short(entry['title'])} {entry['url']}"))


def _print_change(console: Console, label: str, change: MeasureChange) -> None:
    headline = f"  {label:10} #{change.measure_id} {_short(change.name)}"
    if change.old_name:
        headline = f"  {label:10} #{change.measure_id} {_short(change.old_name, 40)} → {_short(change.new_name or '', 40)}"
    if change.end_date:
        headline += f" (ended {change.end_date})"
    console.print(literal(headline))
    if label in ("changed", "renamed", "reappeared"):
        # These carry column → {"old", "new"}; only ``added`` carries column → text.
        fields = cast("dict[str, dict[str, str]]", change.fields or {})
        for column, values in fields.items():
            console.print(literal(f"             {column}: {_short(values['old'], 50)!r} → {_short(values['new'], 50)!r}"))


def print_history(console: Console, history: MeasureHistory, tz: tzinfo) -> None:
    """One line per version, then each changed field's whole ``old:`` and ``new:`` on lines of their
    own: at 80 columns (cron mail, a pipe) a table would cut both to the same prefix, hiding the change."""
    ended = f", ended {local_time(history.ended_at, tz)}" if history.ended_at else ""
    first_seen = local_time(history.first_seen_at, tz)
    console.print(Text.assemble((f"#{history.measure_id}", "bold"), " ", literal(f"{history.name} ({history.source_id}; first seen {first_seen}{ended})")))
    for version in history.versions:
        span = f"{local_time(version['valid_from'], tz)} → {local_time(version['valid_to'], tz, missing='now')}"
        changes = version["changes"].items()
        console.print(Text.assemble((f"version {version['version_id']}", "bold"), f"  {span}", "" if changes else "  (first version)"))
        for column, values in changes:
            console.print(literal(f"  {column}:"))
            console.print(literal(f"    old: {values['old']}"))
            console.print(literal(f"    new: {values['new']}"))


def print_snapshots(console: Console, snapshots: Sequence[Snapshot], tz: tzinfo) -> None:
    # The id and the time are what `diff --from/--to` needs: whole, as every other cell.
    rows = [[Text(str(snapshot.id)), Text(local_time(snapshot.fetched_at, tz)), Text(snapshot.status), Text(str(snapshot.record_count or "")),
             literal(snapshot.edition or ""), literal(snapshot.error or "")] for snapshot in snapshots]
    console.print(rows_text(console.width, ("snapshot", "fetched at", "status", "records", "edition", "error"), rows))
