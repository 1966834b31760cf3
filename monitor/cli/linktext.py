"""The health of the cited links as readable text (rich): the overview, the dead ones, one URL's checks.

Times are the configured zone's (:func:`monitor.localtime.local_time`); what came from a page
is handed to rich as :func:`~monitor.cli.textreport.literal` ``Text``.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from monitor.cli.textreport import literal
from monitor.labels import repair_label
from monitor.localtime import local_time

__all__ = ["print_dead", "print_link_history", "print_recheck", "print_summary"]


def print_summary(console: Console, summary: dict[str, Any]) -> None:
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


def print_dead(console: Console, dead: list[dict[str, Any]], tz: tzinfo) -> None:
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
        instead = [_repair_line(link["id"], repair) for repair in link.get("repairs", [])]
        table.add_row(local_time(link["since"], tz, missing=""), literal(link["outcome"] + status),
                      literal("\n".join([link["url"], *cited_by, *instead])))
    console.print(table)


def print_link_history(console: Console, data: dict[str, Any], tz: tzinfo) -> None:
    state = f"dead since {local_time(data['since'], tz)}" if data["since"] else (data["outcome"] or "not checked yet")
    cited = "" if data["cited"] else " — no longer cited, not checked"
    console.print(Text.assemble(literal(data["url"], "bold"), literal(f": {state}{cited}")))
    if data["moved_to"]:
        console.print(literal(f"moved to {data['moved_to']}"))
    table = Table("checked at", "outcome", "HTTP", "ms")
    table.add_column("final url", overflow="fold")
    table.add_column("error", overflow="fold")
    for check in data["checks"]:
        final = check["final_url"] if check["final_url"] and check["final_url"] != data["url"] else ""
        table.add_row(local_time(check["checked_at"], tz), literal(check["outcome"]), str(check["http_status"] or "—"),
                      str(check["elapsed_ms"] or ""), literal(final), literal(check["error"] or ""))
    console.print(table)


def print_recheck(console: Console, data: dict[str, Any]) -> None:
    """One row per link checked: its outcome now and what changed (dead, recovered, moved)."""
    table = Table(title=f"{data['checked']} link(s) checked now")
    table.add_column("outcome", no_wrap=True)
    table.add_column("HTTP", no_wrap=True)
    table.add_column("change", no_wrap=True)
    table.add_column("url / where it ended", overflow="fold")
    for link in data["links"]:
        ended = link["final_url"] if link["final_url"] and link["final_url"] != link["url"] else None
        table.add_row(literal(link["outcome"] or "—"), str(link["http_status"] or "—"), literal(link["change"] or ""),
                      literal("\n".join(filter(None, [link["url"], ended and f"→ {ended}"]))))
    console.print(table)
    for url in data["skipped"]:
        console.print(literal(f"skipped (another runner is checking its host now): {url}"))


def _repair_line(link_id: int, repair: dict[str, Any]) -> str:
    """What to write instead (or where the stored copy is shown), and why."""
    where = f"the web view's /links/{link_id}/snapshot" if repair["reason"] == "snapshot" else repair["url"]
    return f"instead: {where} ({repair_label(repair['reason'], 'en')})"


def _short(text: str, width: int = 20) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
