"""A worker's stop is bounded: SIGTERM gives the jobs in flight ``worker.shutdown_grace_s``, then the
process exits 1 with one line naming what it left.

procrastinate waits for running jobs as long as they take, and a job's thread cannot be
cancelled: a job stuck on a dead connection, or the queue's own shutdown waiting on a pool,
kept a worker alive after SIGTERM for good. So the stop request arms a :class:`Deadline`: its
timer runs in a thread of its own (the event loop may be what is stuck) and ends the process
with ``os._exit`` (the interpreter's exit would join the stuck thread). A job left this way
loses nothing: its writes are one transaction, rolled back with the connection, and the queue
runs it again (procrastinate retries a job it aborted at the grace; another worker's sweep
closes and queues again one left ``doing``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

__all__ = ["ABORT_S", "Deadline", "InFlight", "awaited_by"]

log = logging.getLogger("sesaku_monitor.worker")
# After the grace, procrastinate aborts the jobs and says goodbye to the queue: this long more.
ABORT_S = 5.0
EXIT_LEFT_WORK = 1


class InFlight:
    """The units this process is running, by job id. A job cancelled (given up at the grace)
    stays: its thread may still be writing, and the process must not wait for it."""

    def __init__(self) -> None:
        self._names: dict[int, str] = {}
        self._lock = threading.Lock()  # read from the deadline's thread

    @contextmanager
    def holding(self, job: int, name: str) -> Iterator[None]:
        with self._lock:
            self._names[job] = name
        given_up = False
        try:
            yield
        except asyncio.CancelledError:
            given_up = True
            raise
        finally:
            if not given_up:
                with self._lock:
                    self._names.pop(job, None)

    def names(self) -> list[str]:
        with self._lock:
            return [f"job {job} ({name})" for job, name in sorted(self._names.items())]


def awaited_by(loop: asyncio.AbstractEventLoop) -> list[str]:
    """What each pending task of ``loop`` waits on: the chain of coroutines it awaits, outermost
    first (read from another thread: the loop may be stuck, and all_tasks copes with that)."""
    found = set()
    for task in asyncio.all_tasks(loop):
        chain: list[str] = []
        coro: Any = task.get_coro()
        while coro is not None and hasattr(coro, "cr_code"):
            chain.append(coro.__qualname__)
            coro = coro.cr_await
        found.add(f"{task.get_name()} in {' > '.join(chain) or repr(coro)}")
    return sorted(found)


class Deadline:
    """Armed by the first stop request; ``grace_s`` + :data:`ABORT_S` later, if the process still
    runs, :meth:`give_up` from the timer's thread."""

    def __init__(self, worker: str, grace_s: float, in_flight: InFlight, loop: asyncio.AbstractEventLoop) -> None:
        self.worker, self.grace_s, self.in_flight, self.loop = worker, grace_s, in_flight, loop
        self._timer: threading.Timer | None = None

    def arm(self) -> None:
        if self._timer is None:
            self._timer = threading.Timer(self.grace_s + ABORT_S, self.give_up)
            self._timer.daemon = True
            self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def give_up(self, *, from_timer: bool = True) -> NoReturn:
        """One line naming the jobs left (and, from the timer, what the event loop waits on), then exit 1 at once."""
        names = self.in_flight.names()
        left = f"leaving {', '.join(names)} to the queue (its writes roll back)" if names else "no job was running"
        waiting = f"; waiting on: {'; '.join(awaited_by(self.loop))}" if from_timer else ""
        log.error("worker %s: not stopped within worker.shutdown_grace_s (%gs) of the stop request; %s%s; exiting with status %d",
                  self.worker, self.grace_s, left, waiting, EXIT_LEFT_WORK)
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(EXIT_LEFT_WORK)
