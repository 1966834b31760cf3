"""The health of the cited links as readable text (rich): the overview, the dead ones, one URL's checks.

Times are the configured zone's (:func:`monitor.localtime.local_time`); what came from a page
is handed to rich as :func:`~monitor.cli.textreport.literal` ``Text``.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from rich.console import Console
from rich.text import Text

from monitor.cli.textreport import literal, rows_text
from monitor.labels import repair_label
from monitor.localtime import local_time

__all__ = ["print_dead", "print_link_history", "print_recheck", "print_summary"]


def print_summary(console: Console, summary: dict[str, Any]) -> None:
    counts = [(key, summary[key]) for key in ("cited", "unchecked", "healthy", "failing", "dead", "moved")]
    rows = [[Text(key), Text(str(count))] for key, count in [*counts, ("no longer cited (not checked)", summary["not_cited"])]]
    console.print(rows_text(console.width, ("cited links", "count"), rows, title="Link health"))
    if summary["by_outcome"]:
        outcomes = [[literal(outcome), Text(str(count))] for outcome, count in summary["by_outcome"].items()]
        console.print(rows_text(console.width, ("last outcome", "links"), outcomes))


def print_dead(console: Console, dead: list[dict[str, Any]], tz: tzinfo) -> None:
    if not dead:
        console.print("No dead links.")
        return
    rows = []
    for link in dead:
        status = f" {link['http_status']}" if link["http_status"] else ""
        cited_by = [f"#{m['id']} {_short(m['name'])} ({m['source_id']})" for m in link["measures"]]
        instead = [_repair_line(link["id"], repair) for repair in link.get("repairs", [])]
        rows.append([Text(local_time(link["since"], tz, missing="")), literal(link["outcome"] + status),
                     literal("\n".join([link["url"], *cited_by, *instead]))])
    # Each URL whole on its line, to copy from a cron mail: a table folded it at 80 columns.
    console.print(rows_text(console.width, ("dead since", "outcome", "url / cited by"), rows, title=f"{len(dead)} dead link(s)"))


def print_link_history(console: Console, data: dict[str, Any], tz: tzinfo) -> None:
    state = f"dead since {local_time(data['since'], tz)}" if data["since"] else (data["outcome"] or "not checked yet")
    cited = "" if data["cited"] else " — no longer cited, not checked"
    console.print(Text.assemble(literal(data["url"], "bold"), literal(f": {state}{cited}")))
    if data["moved_to"]:
        console.print(literal(f"moved to {data['moved_to']}"))
    rows = []
    for check in data["checks"]:
        final = check["final_url"] if check["final_url"] and check["final_url"] != data["url"] else ""
        rows.append([Text(local_time(check["checked_at"], tz)), literal(check["outcome"]), Text(str(check["http_status"] or "—")),
                     Text(str(check["elapsed_ms"] or "")), literal(final), literal(check["error"] or "")])
    console.print(rows_text(console.width, ("checked at", "outcome", "HTTP", "ms", "final url", "error"), rows))


def print_recheck(console: Console, data: dict[str, Any]) -> None:
    """One row per link checked: its outcome now and what changed (dead, recovered, moved)."""
    rows = []
    for link in data["links"]:
        ended = link["final_url"] if link["final_url"] and link["final_url"] != link["url"] else None
        rows.append([literal(link["outcome"] or "—"), Text(str(link["http_status"] or "—")), literal(link["change"] or ""),
                     literal("\n".join(filter(None, [link["url"], ended and f"→ {ended}"])))])
    console.print(rows_text(console.width, ("outcome", "HTTP", "change", "url / where it ended"), rows,
                            title=f"{data['checked']} link(s) checked now"))
    for url in data["skipped"]:
        console.print(literal(f"skipped (another runner is checking its host now): {url}"))


def _repair_line(link_id: int, repair: dict[str, Any]) -> str:
    """What to write instead (or where the stored copy is shown), and why."""
    where = f"the web view's /links/{link_id}/snapshot" if repair["reason"] == "snapshot" else repair["url"]
    return f"instead: {where} ({repair_label(repair['reason'], 'en')})"


def _short(text: str, width: int = 20) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
