"""The run report, a measure's history and snapshot lists as readable text (rich)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from store.models import Snapshot

from .report import MeasureChange, RunReport, SourceReport
from .views import MeasureHistory

__all__ = ["print_run_report", "print_source_changes", "print_history", "print_snapshots"]

_KINDS = (("added", "added"), ("ended", "ended"), ("renamed", "renamed"), ("changed", "changed"), ("expired", "expired"), ("reappeared", "reappeared"))


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_run_report(console: Console, report: RunReport) -> None:
    for source in report.sources:
        print_source_changes(console, source)
    if report.links.checked:
        console.print(f"[bold]links[/]: {report.links.checked} checked, {len(report.links.dead)} dead, {len(report.links.recovered)} recovered, {len(report.links.moved)} moved")
        for kind in ("dead", "recovered", "moved"):
            for entry in getattr(report.links, kind):
                target = f" → {entry.final_url}" if entry.final_url and entry.final_url != entry.url else ""
                console.print(f"  {kind:9} {entry.outcome:13} {entry.url}{target}", markup=False)


def print_source_changes(console: Console, source: SourceReport) -> None:
    style = {"failed": "red", "suspect": "yellow", "changed": "cyan", "baseline": "green"}.get(source.status, "")
    counts = ", ".join(f"{len(getattr(source, kind))} {label}" for kind, label in _KINDS if getattr(source, kind))
    records = f", {source.records} measures" if source.records is not None else ""
    console.print(f"[bold]{source.id}[/]: [{style or 'default'}]{source.status}[/]{records}{' — ' + counts if counts else ''}")
    if source.error:
        console.print(f"  error: {source.error}", markup=False)
    for warning in source.warnings[:5]:
        console.print(f"  warning: {warning}", markup=False)
    for kind, label in _KINDS:
        for change in getattr(source, kind):
            _print_change(console, label, change)
    for label, entries in (("list added", source.lists_added), ("list gone", source.lists_removed)):
        for entry in entries:
            console.print(f"  {label:10} {entry['list_id']} {_short(entry['title'])} {entry['url']}", markup=False, highlight=False)


def _print_change(console: Console, label: str, change: MeasureChange) -> None:
    headline = f"  {label:10} #{change.measure_id} {_short(change.name)}"
    if change.old_name:
        headline = f"  {label:10} #{change.measure_id} {_short(change.old_name, 40)} → {_short(change.new_name or '', 40)}"
    if change.end_date:
        headline += f" (ended {change.end_date})"
    console.print(headline, markup=False, highlight=False)
    if label in ("changed", "renamed"):
        for column, values in (change.fields or {}).items():
            console.print(f"             {column}: {_short(values['old'], 50)!r} → {_short(values['new'], 50)!r}", markup=False, highlight=False)


def print_history(console: Console, history: MeasureHistory) -> None:
    ended = f", ended {history.ended_at}" if history.ended_at else ""
    console.print(f"[bold]#{history.measure_id}[/] {history.name} ({history.source_id}; first seen {history.first_seen_at}{ended})", highlight=False)
    table = Table("version", "valid from", "valid to", "what changed")
    for version in history.versions:
        changed = "; ".join(f"{c}: {_short(v['old'], 25)} → {_short(v['new'], 25)}" for c, v in version["changes"].items()) or "(first version)"
        table.add_row(str(version["version_id"]), version["valid_from"][:19], (version["valid_to"] or "now")[:19], changed)
    console.print(table)


def print_snapshots(console: Console, snapshots: Sequence[Snapshot]) -> None:
    table = Table("snapshot", "fetched at", "status", "records", "edition", "error")
    for snapshot in snapshots:
        table.add_row(str(snapshot.id), snapshot.fetched_at.isoformat()[:19], snapshot.status, str(snapshot.record_count or ""), snapshot.edition or "", _short(snapshot.error or "", 50))
    console.print(table)
