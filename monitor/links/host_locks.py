"""The run lock of each host a link checker is about to ask (``links:<host>``, as a worker's unit takes it).

Per-host politeness holds fleet-wide only if everything that asks a host takes its lock first:
the links run (``check``, ``links --recheck``) for the hosts it checks, and the repair probes of
:mod:`monitor.links.repair_check` for a successor host's candidate pages. Each is taken as every
run lock is (:func:`store.process_locks.take_run_lock`): this process's advisory lock on
PostgreSQL, a lease on SQLite, renewed while the hosts are asked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from store.database import SessionFactory
from store.locks import lock_name
from store.process_locks import RunLockHeld, leases_kept, take_run_lock

from monitor.config import Config

__all__ = ["host_locks"]

log = logging.getLogger("sesaku_monitor.links")


@contextmanager
def host_locks(config: Config, sessions: SessionFactory, hosts: Sequence[str], *, why: str = "link checks") -> Iterator[list[str]]:
    """Take the run lock of each host that is free; yield those taken, and give them back at the end
    (a lease kept for as long as the block runs, however long the links budget)."""
    held: dict[str, RunLockHeld] = {}
    try:
        for host in hosts:
            taken = take_run_lock(sessions, lock_name("links", host), dead_peer_s=config.worker.stalled_after_s,
                                  lease_s=config.schedule.lock_lease_s, busy_wait_s=config.database.busy_timeout_s)
            if isinstance(taken, RunLockHeld):
                held[host] = taken
        if len(held) < len(hosts):
            log.info("%s: %d host(s) skipped, another runner is checking them", why, len(hosts) - len(held))
        with leases_kept(sessions, list(held.values()), config.schedule.lock_lease_s):
            yield list(held)
    finally:
        for lock in held.values():
            lock.release()
