"""``status``: what ran when, what runs next, what is failing — read from the database alone.

:func:`read_status` works whether or not a daemon runs: the next run is computed from each
job's schedule and its last start in ``job_state`` (the daemon keeps that rhythm), so a
time in the past means "due" (the daemon, when it starts, runs it at once).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, Union

# Core reads alone (store.source_reads): store.search's import loads the ORM's models.
from store.source_reads import SourceRun, delivery_counts, job_counts, link_counts, source_marks, source_runs, versions_waiting

from monitor.runtime.source_state import kept_not_run
from monitor.runtime.pidfile import PidState, pid_path, read as read_pid
from monitor.localtime import local_time
from monitor.cadence import StartBounds, next_after

if TYPE_CHECKING:  # a checked file's view spares `status` the schema's import and validation (monitor.config_view)
    from rich.console import Console
    from rich.text import Text
    from sqlalchemy import Engine

    from monitor.config import Config, SourceConfig
    from monitor.config_view import ConfigView, SourceView

    Settings = Union[Config, ConfigView]

__all__ = ["SourceStatus", "Status", "EVERY_ROW_UP_TO", "read_status", "needs_attention", "print_status"]


@dataclass(slots=True)  # not frozen: 18,000 frozen ones took 0.1 s more to build
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
        # Written out: a loop over the slots through getattr took twice as long at 18,000 sources.
        # And each time's isoformat inline: a call of _iso each was a fifth of it.
        ran, succeeded, following, since = self.last_run_at, self.last_success_at, self.next_run_at, self.failing_since
        return {
            "id": self.id, "title": self.title, "schedule": self.schedule, "last_run_at": None if ran is None else ran.isoformat(),
            "last_status": self.last_status, "last_success_at": None if succeeded is None else succeeded.isoformat(),
            "next_run_at": None if following is None else following.isoformat(), "due": self.due,
            "consecutive_failures": self.consecutive_failures, "failing_since": None if since is None else since.isoformat(),
            "last_error": self.last_error,
        }


@dataclass(slots=True)
class Status:
    now: datetime
    sources: list[SourceStatus] = field(default_factory=list)
    jobs: dict[str, dict[str, int]] = field(default_factory=dict)
    links: dict[str, int] = field(default_factory=dict)
    outbox: dict[str, int] = field(default_factory=dict)
    search_waiting: int = 0  # versions in the search backlog (migration 0018)
    # Kept but never run: retired by `sources retire`, or stored and no longer in the config.
    retired: list[str] = field(default_factory=list)
    not_in_config: list[str] = field(default_factory=list)
    daemon: PidState | None = None  # None: a shared store, where the fleet's queue tells who is alive
    # The summary's counts, of every configured source; ``sources`` holds every one when
    # ``every``, else (read_status's default beyond EVERY_ROW_UP_TO) only those that need attention.
    configured: int = 0
    attention: int = 0
    due: int = 0
    never: int = 0
    every: bool = True

    def as_dict(self) -> dict[str, Any]:
        daemon = None if self.daemon is None else {
            "running": self.daemon.alive, "pid": self.daemon.pid, "pid_file": str(self.daemon.path)}
        return {
            "now": self.now.isoformat(), "sources": [source.as_dict() for source in self.sources],
            "jobs": self.jobs, "links": self.links, "outbox": self.outbox, "search": {"waiting": self.search_waiting}, "daemon": daemon,
            "retired": self.retired, "not_in_config": self.not_in_config,
        }


def read_status(config: Settings, engine: Engine, now: datetime, *, every: bool = True) -> Status:
    """Every source's status (``every``), or beyond EVERY_ROW_UP_TO sources only those that need
    attention, the others counted: ``status``'s table (every source: ``--all`` and ``--json``)."""
    pid_file = pid_path(config)
    status = Status(now=now, daemon=read_pid(pid_file) if pid_file else None, configured=len(config.sources))
    status.every = every or len(config.sources) <= EVERY_ROW_UP_TO
    # The counts are aggregates over whole tables (a million links) that the database works out
    # on a connection of their own while this process builds the sources' rows: one after the
    # other they were a third of the wall time at 18,000 lists.
    with ThreadPoolExecutor(max_workers=1) as pool:
        counts = pool.submit(_counts, engine)
        (_every if status.every else _needing_attention)(config, engine, now, status)
        status.jobs, status.links, status.outbox, status.search_waiting = counts.result()
    return status


def _bounds(config: Settings, now: datetime) -> StartBounds:
    """Whether each source is due, one bound a schedule: both reads ask it (of a start time, or of its rank)."""
    default = config.schedule.sources
    return StartBounds([source.schedule or default for source in config.sources], now, config.tz)


def _every(config: Settings, engine: Engine, now: datetime, status: Status) -> None:
    with engine.connect() as connection:
        # Every source's newest run and job state in one statement: a query per source took 15 s at 3,000 sources.
        runs = source_runs(connection)
    described: dict[int, str] = {}  # by schedule: most lists share the default one
    bounds, tz = _bounds(config, now), config.tz
    status.sources = [_source_status(config, source, runs.get(source.id), tz, bounds, described) for source in config.sources]
    status.retired, status.not_in_config = kept_not_run(config, ((r.id, r.parent_id, r.retired) for r in runs.values() if r.stored))
    retired = set(status.retired)
    status.attention = sum(1 for source in status.sources if needs_attention(source))
    status.due = sum(1 for source in status.sources if source.due and source.id not in retired)
    status.never = sum(1 for source in status.sources if source.last_run_at is None)


def _needing_attention(config: Settings, engine: Engine, now: datetime, status: Status) -> None:
    """Every source as a mark without its times, and whole only those whose newest run or job
    went wrong: 18,000 sources' rows and times were most of the command's CPU, for a table of a few."""
    bounds = _bounds(config, now)
    # Two reads, not one snapshot: a run that ends between them is shown as it ended, and only if it still needs attention.
    with engine.connect() as connection:
        marks = {mark.id: mark for mark in source_marks(connection, bounds.bounds)}
        unwell = [source.id for source in config.sources if source.id in marks and marks[source.id].unwell]
        runs = source_runs(connection, unwell)
    status.retired, status.not_in_config = kept_not_run(config, ((m.id, m.parent_id, m.retired) for m in marks.values() if m.stored))
    retired, described = set(status.retired), dict[int, str]()
    default = config.schedule.sources
    for source in config.sources:
        mark = marks.get(source.id)
        status.due += bounds.due_by_rank(source.schedule or default, mark.started_rank if mark else None) and source.id not in retired
        status.never += mark is None or not mark.ran
    tz = config.tz
    shown = [_source_status(config, source, runs.get(source.id), tz, bounds, described) for source in config.sources if source.id in runs]
    status.sources = [source for source in shown if needs_attention(source)]
    status.attention = len(status.sources)


def _counts(engine: Engine) -> tuple[dict[str, dict[str, int]], dict[str, int], dict[str, int], int]:
    with engine.connect() as connection:
        return job_counts(connection), link_counts(connection), delivery_counts(connection), versions_waiting(connection)


def _source_status(config: Settings, source: SourceConfig | SourceView, run: SourceRun | None, tz: tzinfo, bounds: StartBounds,
                   described: dict[int, str]) -> SourceStatus:
    spec = source.schedule or config.schedule.sources
    schedule = described.get(id(spec)) or described.setdefault(id(spec), spec.describe())
    state = run.job if run else None
    started = state.last_started_at if state else None
    return SourceStatus(
        id=source.id, title=source.title, schedule=schedule,
        last_run_at=(run.last_run_at if run else None) or started, last_status=run.last_status if run else None,
        last_success_at=state.last_success_at if state else None,
        next_run_at=next_after(spec, started, tz) if started else None, due=bounds.due(spec, started),
        consecutive_failures=run.failing_streak if run else 0,
        failing_since=state.failing_since if state else None,
        last_error=(state.last_error if state else None) or (run.last_error if run else None),
    )


def _when(value: datetime | None, tz: tzinfo) -> str:
    return local_time(value, tz, missing="never")


# Up to this many lists the table shows every one; beyond, the lists that need a look, and
# `status --all` every one (18,000 rows were 17 s of rich's rendering, and no one reads them).
EVERY_ROW_UP_TO = 50
# Kept-but-not-run ids named on their line before the rest are only counted.
_IDS_NAMED = 20


def needs_attention(source: SourceStatus) -> bool:
    """Failing, suspect, or its job's last run ended in an error: what an operator looks at."""
    return bool(source.consecutive_failures or source.last_error) or source.last_status in ("failed", "suspect")


def print_status(console: Console, status: Status, tz: tzinfo, *, every: bool = False) -> None:
    """A summary line, the table of the sources (every one up to EVERY_ROW_UP_TO or with
    ``every``, else those that need attention), their errors, jobs, links and the outbox."""
    # rich where a table is printed: `status --json` never loads it.
    from rich.text import Text

    from monitor.cli.textreport import literal, rows_text

    whole = status.every and (every or len(status.sources) <= EVERY_ROW_UP_TO)
    shown = status.sources if whole else [source for source in status.sources if needs_attention(source)]
    if status.daemon is not None:
        console.print(Text.assemble(("daemon", "bold"), f": {status.daemon.describe()}"))
    console.print(_summary(status))
    if shown:
        styles = ["red" if source.consecutive_failures else "" for source in shown]
        console.print(rows_text(console.width, _COLUMNS, _rows(status, shown, tz), title="Sources", styles=styles, boxed=len(shown) <= EVERY_ROW_UP_TO))
    if not whole:
        console.print(f"{status.configured - len(shown):,} more need nothing: `sesaku-monitor status --all` lists every one")
    for label, ids in (("retired (kept, not run)", status.retired), ("not in config (kept, not run)", status.not_in_config)):
        if ids:
            named = ", ".join(ids if every or len(ids) <= _IDS_NAMED else ids[:_IDS_NAMED])
            rest = "" if every or len(ids) <= _IDS_NAMED else f", … {len(ids):,} in all (--all names every one)"
            console.print(Text.assemble((label, "bold"), ": ", literal(named), rest))
    # Each error whole, on lines of its own under the table: a column of it got no width at 80.
    for source in shown:
        if source.last_error:
            console.print(Text.assemble(literal(source.id, "bold"), " last error: ", literal(source.last_error, "red")))
    for kind, counts in status.jobs.items():
        console.print(Text.assemble((f"{kind} jobs", "bold"), f": {counts['jobs']}, {counts['failing']} failing"))
    links = status.links
    console.print(Text.assemble(("links", "bold"), f": {links.get('cited', 0)} cited, {links.get('dead', 0)} dead, {links.get('failing', 0)} failing"))
    outbox = ", ".join(f"{count} {name}" for name, count in sorted(status.outbox.items())) or "empty"
    console.print(Text.assemble(("outbox", "bold"), f": {outbox}"))
    if status.search_waiting:
        console.print(Text.assemble(("search index", "bold"), f": {status.search_waiting:,} versions waiting (`sesaku-monitor db index` indexes them now)"))


def _summary(status: Status) -> Text:
    from rich.text import Text

    return Text.assemble(("sources", "bold"), f": {status.configured:,} configured, {status.attention:,} failing or suspect, "
                         f"{status.due:,} due now, {status.never:,} never run")


_COLUMNS = ("source", "schedule", "last run", "result", "failures", "next run")


def _cells(source: SourceStatus, retired: set[str], tz: tzinfo) -> list[Text]:
    from rich.text import Text

    from monitor.cli.textreport import literal

    next_run = "retired" if source.id in retired else "due now" if source.due else _when(source.next_run_at, tz)
    return [literal(source.id), Text(source.schedule), Text(_when(source.last_run_at, tz)), literal(source.last_status or "—"),
            Text(str(source.consecutive_failures)), Text(next_run)]


def _rows(status: Status, sources: list[SourceStatus], tz: tzinfo) -> list[list[Text]]:
    retired = set(status.retired)
    return [_cells(source, retired, tz) for source in sources]
