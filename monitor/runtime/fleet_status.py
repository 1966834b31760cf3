"""The fleet's side of ``status`` (PostgreSQL): the queue, the workers, stalled jobs, host backlog.

Read straight from procrastinate's tables and ``links`` with plain SQL, so it answers the
same whichever machine asks, and whether or not a worker runs. On SQLite, or before
``db upgrade`` created the queue, there is no fleet: :func:`read_fleet_status` says None.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Union

from sqlalchemy import Engine, text

from store.database import open_engine

if TYPE_CHECKING:
    from rich.console import Console

    from monitor.config import Config
    from monitor.config_view import ConfigView

__all__ = ["FleetStatus", "WorkerRow", "read_fleet_status", "print_fleet_status"]

_QUEUE = """
SELECT task_name, count(*) FILTER (WHERE scheduled_at IS NULL OR scheduled_at <= now()) AS ready,
       count(*) FILTER (WHERE scheduled_at > now()) AS later
  FROM procrastinate_jobs WHERE status = 'todo' GROUP BY task_name ORDER BY task_name
"""
_WORKERS = """
SELECT w.id, w.last_heartbeat, count(j.id) AS running,
       coalesce(string_agg(j.lock, ' ' ORDER BY j.lock), '') AS locks
  FROM procrastinate_workers w
  LEFT JOIN procrastinate_jobs j ON j.worker_id = w.id AND j.status = 'doing'
 GROUP BY w.id ORDER BY w.id
"""
_STALLED = """
SELECT count(*) FROM procrastinate_jobs j LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
 WHERE j.status = 'doing' AND (w.id IS NULL OR w.last_heartbeat < now() - make_interval(secs => :after))
"""
_FAILED = "SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'"
# One pass over the due links gives both the busiest hosts and how many hosts have any. The
# never-checked and the due are two ranges of ix_links_due_host (cited, next_check_at, host),
# read from the index alone; an OR of the two read every row of links (0.43 → 0.28 s at 1M links).
# Capped, the most overdue first, up to :cap: a range of the index as long as the cap, however
# many are due. Whole, in any order: the server may read links in parallel (1.4 s, where the
# same 1,000,000 read in the index's order took 2.0-2.1 s at load 5).
_BACKLOG = """
SELECT host, count(*) AS due, count(*) OVER () AS hosts, sum(count(*)) OVER () AS links FROM (
  SELECT host FROM links WHERE cited AND next_check_at IS NULL
  UNION ALL SELECT host FROM links WHERE cited AND next_check_at <= :now) AS due_links
 GROUP BY host ORDER BY due DESC, host LIMIT :top
"""
_MOST_OVERDUE = """
SELECT host, count(*) AS due, count(*) OVER () AS hosts, sum(count(*)) OVER () AS links FROM (
  SELECT host FROM (
    (SELECT host FROM links WHERE cited AND next_check_at IS NULL)
    UNION ALL (SELECT host FROM links WHERE cited AND next_check_at <= :now ORDER BY next_check_at)) AS due_links
  LIMIT :cap) AS most_overdue
 GROUP BY host ORDER BY due DESC, host LIMIT :top
"""
# The due links the default table counts (a worker-less fleet at 1,000,000 due links read them
# all: 0.46-1.4 s of the server's CPU, in parallel workers that competed with status's own
# reads; the 20,000 most overdue are 37-63 ms at load 5).
BACKLOG_UP_TO = 20_000


@dataclass(frozen=True, slots=True)
class WorkerRow:
    id: int
    heartbeat_age_s: float
    running: int
    locks: str  # the units it works on now: "source:tama links:www.example.jp"
    alive: bool


@dataclass(slots=True)
class FleetStatus:
    queued: dict[str, dict[str, int]] = field(default_factory=dict)  # task → {ready, later}
    workers: list[WorkerRow] = field(default_factory=list)
    stalled: int = 0
    failed: int = 0
    backlog: dict[str, int] = field(default_factory=dict)  # host → links due now (the busiest)
    backlog_hosts: int = 0
    backlog_links: int = 0
    # False: the backlog is of the BACKLOG_UP_TO most overdue links, and more are due.
    backlog_whole: bool = True

    @property
    def depth(self) -> int:
        return sum(counts["ready"] for counts in self.queued.values())

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "depth": self.depth}


def read_fleet_status(config: Union[Config, ConfigView], now: datetime, *, top_hosts: int = 10, engine: Engine | None = None,
                      backlog_up_to: int | None = BACKLOG_UP_TO) -> FleetStatus | None:
    """The fleet as PostgreSQL sees it now; None on SQLite or without a queue. ``engine``: the
    caller's own (``status`` reads the rest of the store over it), else one opened for this.
    ``backlog_up_to``: how many due links, most overdue first, the backlog counts (None: every one)."""
    if not config.database.url.startswith("postgresql"):
        return None
    if engine is not None:
        return _read(engine, config, now, top_hosts, backlog_up_to)
    engine = open_engine(config.database.url)
    try:
        return _read(engine, config, now, top_hosts, backlog_up_to)
    finally:
        engine.dispose()


def _read(engine: Engine, config: Union[Config, ConfigView], now: datetime, top_hosts: int, backlog_up_to: int | None) -> FleetStatus | None:
    with engine.connect() as connection:
        if not connection.scalar(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")):
            return None
        found = FleetStatus()
        for row in connection.execute(text(_QUEUE)):
            found.queued[row.task_name] = {"ready": row.ready, "later": row.later}
        stale_after = timedelta(seconds=config.worker.stalled_after_s)
        for row in connection.execute(text(_WORKERS)):
            age = (now - row.last_heartbeat).total_seconds()
            found.workers.append(WorkerRow(row.id, round(age, 1), row.running, row.locks, age < stale_after.total_seconds()))
        found.stalled = connection.scalar(text(_STALLED), {"after": config.worker.stalled_after_s}) or 0
        found.failed = connection.scalar(text(_FAILED)) or 0
        query = _BACKLOG if backlog_up_to is None else _MOST_OVERDUE
        busiest = connection.execute(text(query), {"now": now, "top": top_hosts, "cap": backlog_up_to}).all()
        found.backlog = {row.host: row.due for row in busiest}
        found.backlog_hosts, found.backlog_links = (busiest[0].hosts, int(busiest[0].links)) if busiest else (0, 0)
        # As many as the cap: more may be due (a backlog of exactly the cap is said to have more).
        found.backlog_whole = backlog_up_to is None or found.backlog_links < backlog_up_to
    return found


def print_fleet_status(console: Console, fleet: FleetStatus) -> None:
    # rich where a table is printed: `status --json` never loads it.
    from rich.text import Text

    from monitor.cli.textreport import literal, rows_text

    console.print(f"\nFleet: {fleet.depth} jobs ready in the queue, {fleet.stalled} stalled, {fleet.failed} failed for good")
    for task, counts in fleet.queued.items():
        console.print(literal(f"  {task}: {counts['ready']} ready, {counts['later']} waiting for a retry time"))
    # A unit a line ("source:<id>", "links:<host>"), each whole: at 80 columns rich cut a long id.
    workers = [[Text(str(worker.id)), Text(f"{worker.heartbeat_age_s:g}s ago" + ("" if worker.alive else " (stopped?)")),
                Text(str(worker.running)), literal("\n".join(worker.locks.split()) or "–")] for worker in fleet.workers]
    console.print(rows_text(console.width, ("worker", "heartbeat", "running", "working on"), workers, title="Workers")
                  if fleet.workers else "  no worker has registered")
    if fleet.backlog:
        backlog = [[literal(host), Text(str(due))] for host, due in fleet.backlog.items()]
        # A line of its own: as the table's title, it wrapped at the width of the table.
        console.print(f"Link backlog: {fleet.backlog_links:,} links due on {fleet.backlog_hosts:,} hosts" if fleet.backlog_whole else
                      f"Link backlog: the {fleet.backlog_links:,} most overdue links, on {fleet.backlog_hosts:,} hosts; more are due\n"
                      "  (`sesaku-monitor status --all` counts every one)")
        console.print(rows_text(console.width, ("host", "links due"), backlog, title="Busiest hosts"))
