"""The run lock of each host a link checker is about to ask (``links:<host>``, as a worker's unit takes it).

Per-host politeness holds fleet-wide only if everything that asks a host takes its lock first:
the links run (``check``, ``links --recheck``) for the hosts it checks, and the repair probes of
:mod:`monitor.links.repair_check` for a successor host's candidate pages. PostgreSQL: this
process's advisory locks (:mod:`store.process_locks`); SQLite: a lease (:mod:`store.locks`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from functools import partial

from store.database import SessionFactory, engine_of
from store.locks import lock_name, new_holder, release, try_acquire
from store.process_locks import HeldLock, process_locks

from monitor.config import Config

__all__ = ["host_locks"]

log = logging.getLogger("sesaku_monitor.links")


@contextmanager
def host_locks(config: Config, sessions: SessionFactory, hosts: Sequence[str], *, why: str = "link checks") -> Iterator[list[str]]:
    """Take the run lock of each host that is free; yield those taken, and give them back at the end."""
    give_back: list[Callable[[], None]] = []
    try:
        taken = _take(config, sessions, hosts, give_back)
        if len(taken) < len(hosts):
            log.info("%s: %d host(s) skipped, another runner is checking them", why, len(hosts) - len(taken))
        yield taken
    finally:
        for release_one in give_back:
            release_one()


def _take(config: Config, sessions: SessionFactory, hosts: Sequence[str], give_back: list[Callable[[], None]]) -> list[str]:
    holder = new_holder()
    engine = engine_of(sessions)
    taken: list[str] = []
    if engine.dialect.name == "postgresql":
        locks = process_locks(engine, holder.rsplit(":", 1)[0], config.worker.stalled_after_s)
        for host in hosts:
            held = locks.try_lock(lock_name("links", host))
            if isinstance(held, HeldLock):
                taken.append(host)
                give_back.append(partial(locks.unlock, held))
        return taken
    lease = timedelta(seconds=config.schedule.lock_lease_s)
    for host in hosts:
        # Leases are wall-clock times shared with other processes: never the logical `now`.
        name = lock_name("links", host)
        if try_acquire(sessions, name, holder, datetime.now(timezone.utc), lease) is None:
            taken.append(host)
            give_back.append(partial(release, sessions, name, holder))
    return taken
