"""The job ``search:index``: a big list's versions, left in the search backlog by its run
(store.version_writes.BACKLOG_ROWS), go into the index after it, a batch per transaction.

Until then a search scans them (store.search), so the job changes how fast a search is, never
what it finds. Planned only while versions wait; the daemon asks for it as soon as a list run
has left some, the fleet's tick finds it as any other unit.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from store.database import SessionFactory, transaction
from store.search import index_backlog
from store.source_reads import versions_waiting

from monitor.config import Config
from monitor.schedule import ScheduleSpec

__all__ = ["INDEX_KEY", "IndexRun", "SEARCH_EVERY", "index_search", "search_keys"]

INDEX_KEY = "index"
# How often the unit is looked at while versions wait, and how long one run may go on: the rest
# waits for the next run, so a stop of the daemon never waits for a whole backlog.
SEARCH_EVERY = ScheduleSpec(every=timedelta(minutes=1))
RUN_BUDGET_S = 60.0


@dataclass(frozen=True, slots=True)
class IndexRun:
    """What one run did: versions moved into the index, versions still waiting, in how long."""

    indexed: int
    waiting: int
    seconds: float

    def describe(self) -> str:
        rest = f"{self.waiting} still waiting" if self.waiting else "none waiting"
        return f"{self.indexed} versions indexed for search in {self.seconds:.1f} s, {rest}"


def waiting_versions(sessions: SessionFactory) -> int:
    with transaction(sessions) as session:
        return versions_waiting(session)


def search_keys(config: Config, sessions: SessionFactory, now: datetime | None = None) -> Sequence[str]:
    """The unit while versions wait for the index; none else."""
    return [INDEX_KEY] if waiting_versions(sessions) else []


def index_search(config: Config, sessions: SessionFactory, now: datetime, key: str) -> IndexRun:
    """Index the backlog a batch per transaction until it is empty or :data:`RUN_BUDGET_S` has passed."""
    started = time.monotonic()
    indexed = 0
    while time.monotonic() - started < RUN_BUDGET_S:
        with transaction(sessions) as session:
            moved = index_backlog(session)
        if not moved:
            break
        indexed += moved
    return IndexRun(indexed, waiting_versions(sessions), time.monotonic() - started)
