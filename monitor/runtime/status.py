"""``status``: what ran when, what runs next, what is failing — read from the database alone.

:func:`read_status` works whether or not a daemon runs: the next run is computed from each
job's schedule and its last start in ``job_state`` (the daemon keeps that rhythm), so a
time in the past means "due" (the daemon, when it starts, runs it at once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from store.database import SessionFactory, transaction
from store.overview import JobRow, SourceRow, delivery_counts, job_rows, link_counts, source_rows

from monitor.config import Config, SourceConfig
from monitor.runtime.jobs import KINDS, job_id
from monitor.runtime.source_admin import kept_not_run
from monitor.runtime.pidfile import PidState, pid_path, read as read_pid
from monitor.localtime import local_time
from monitor.schedule import next_after
from monitor.cli.textreport import literal

__all__ = ["SourceStatus", "Status", "read_status", "print_status"]


@dataclass(frozen=True, slots=True)
class SourceStatus:
    id: str
    title: str
    schedule: str
    last_run_at: datetime | None
    last_status: str | None
    last_success_at: datetime | None
    next_run_at: datetime | None
    due: bool
    consecutive_failures: int
    failing_since: datetime | None
    last_error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {name: _plain(getattr(self, name)) for name in self.__slots__}


@dataclass(slots=True)
class Status:
    now: datetime
    sources: list[SourceStatus] = field(default_factory=list)
    jobs: dict[str, dict[str, int]] = field(default_factory=dict)
    links: dict[str, int] = field(default_factory=dict)
    outbox: dict[str, int] = field(default_factory=dict)
    # Kept but never run: retired by `sources retire`, or stored and no longer in the config.
    retired: list[str] = field(default_factory=list)
    not_in_config: list[str] = field(default_factory=list)
    daemon: PidState | None = None  # None: a shared store, where the fleet's queue tells who is alive

    def as_dict(self) -> dict[str, Any]:
        daemon = None if self.daemon is None else {
            "running": self.daemon.alive, "pid": self.daemon.pid, "pid_file": str(self.daemon.path)}
        return {
            "now": self.now.isoformat(), "sources": [source.as_dict() for source in self.sources],
            "jobs": self.jobs, "links": self.links, "outbox": self.outbox, "daemon": daemon,
            "retired": self.retired, "not_in_config": self.not_in_config,
        }


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def read_status(config: Config, sessions: SessionFactory, now: datetime) -> Status:
    pid_file = pid_path(config)
    status = Status(now=now, daemon=read_pid(pid_file) if pid_file else None)
    with transaction(sessions) as session:
        states = job_rows(session)
        # Every source's newest runs in one read: a query per source took 15 s at 3,000 sources.
        stored = source_rows(session)
        status.sources = [_source_status(config, source, stored.get(source.id), states.get(job_id("source", source.id)), now) for source in config.sources]
        status.retired, status.not_in_config = kept_not_run(session, config)
        status.jobs = _other_jobs(states)
        status.links = link_counts(session)
        status.outbox = delivery_counts(session)
    return status


def _source_status(config: Config, source: SourceConfig, last: SourceRow | None, state: JobRow | None, now: datetime) -> SourceStatus:
    spec = source.schedule or config.schedule.sources
    started = state.last_started_at if state else None
    next_run = next_after(spec, started, config.tz) if started else None
    return SourceStatus(
        id=source.id, title=source.title, schedule=spec.describe(),
        last_run_at=(last.last_run_at if last else None) or started, last_status=last.last_status if last else None,
        last_success_at=state.last_success_at if state else None,
        next_run_at=next_run, due=next_run is None or next_run <= now,
        consecutive_failures=last.failing_streak if last else 0,
        failing_since=state.failing_since if state else None,
        last_error=(state.last_error if state else None) or (last.last_error if last else None),
    )


def _other_jobs(states: dict[str, JobRow]) -> dict[str, dict[str, int]]:
    """Per kind other than sources (link hosts, notifiers): how many jobs, how many failing."""
    counts = {name: {"jobs": 0, "failing": 0} for name in KINDS if name != "source"}
    for name, state in states.items():
        kind = name.split(":", 1)[0]
        if kind in counts:
            counts[kind]["jobs"] += 1
            counts[kind]["failing"] += state.last_error is not None
    return counts


def _when(value: datetime | None, tz: tzinfo) -> str:
    return local_time(value, tz, missing="never")


def print_status(console: Console, status: Status, tz: tzinfo) -> None:
    table = Table(title="Sources", title_justify="left")
    table.add_column("source", overflow="fold")
    table.add_column("schedule", overflow="fold")
    for column in ("last run", "result", "failures", "next run"):
        table.add_column(column, no_wrap=True)
    for source in status.sources:
        style = "red" if source.consecutive_failures else ""
        next_run = "retired" if source.id in status.retired else "due now" if source.due else _when(source.next_run_at, tz)
        table.add_row(
            literal(source.id), source.schedule, _when(source.last_run_at, tz), literal(source.last_status or "—"),
            str(source.consecutive_failures), next_run, style=style,
        )
    if status.daemon is not None:
        console.print(Text.assemble(("daemon", "bold"), f": {status.daemon.describe()}"))
    console.print(table)
    for label, ids in (("retired (kept, not run)", status.retired), ("not in config (kept, not run)", status.not_in_config)):
        if ids:
            console.print(Text.assemble((label, "bold"), ": ", literal(", ".join(ids))))
    # Each error whole, on lines of its own under the table: a column of it got no width at 80.
    for source in status.sources:
        if source.last_error:
            console.print(Text.assemble(literal(source.id, "bold"), " last error: ", literal(source.last_error, "red")))
    for kind, counts in status.jobs.items():
        console.print(Text.assemble((f"{kind} jobs", "bold"), f": {counts['jobs']}, {counts['failing']} failing"))
    links = status.links
    console.print(Text.assemble(("links", "bold"), f": {links.get('cited', 0)} cited, {links.get('dead', 0)} dead, {links.get('failing', 0)} failing"))
    outbox = ", ".join(f"{count} {name}" for name, count in sorted(status.outbox.items())) or "empty"
    console.print(Text.assemble(("outbox", "bold"), f": {outbox}"))
