"""Which host's URL the link checker takes next: round-robin over the hosts that are ready.

Plain bookkeeping over monotonic times passed in: per host, at most ``per_host`` checks at once
and ``interval`` seconds between the starts of two checks; a struggling host waits as a whole.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import time
from collections import deque
from dataclasses import dataclass, field

__all__ = ["Bell", "Item", "Rotation"]


class Bell:
    """Wakes one waiting worker at a time: a check ended or was requeued, or a host's time came.

    One waiter, not all of them: with 20 workers on a few hosts, every check's end woke every
    worker, each found nothing ready and went back to sleep, and that polling cost more CPU than
    the check itself. A woken worker that takes a URL while another host is ready too rings
    again, so as many wake as there is work. The one alarm (``alarm``) is the earliest time a
    waiting host becomes ready, kept here, not by each waiter.
    """

    def __init__(self) -> None:
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._alarm: asyncio.TimerHandle | None = None
        self._alarm_at = math.inf

    def ring(self) -> None:
        """Wake the longest-waiting worker (a cancelled one is passed over)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def alarm(self, at: float | None) -> None:
        """Ring at ``at`` (monotonic seconds) unless the alarm is set for earlier already."""
        if at is None or at >= self._alarm_at:
            return
        if self._alarm is not None:
            self._alarm.cancel()
        self._alarm_at = at
        self._alarm = asyncio.get_running_loop().call_later(max(0.0, at - time.monotonic()), self._ring_alarm)

    async def wait(self) -> None:
        """Until this worker's turn to be woken."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        await waiter

    def _ring_alarm(self) -> None:
        self._alarm, self._alarm_at = None, math.inf
        self.ring()


@dataclass(frozen=True, slots=True)
class Item:
    url: str
    attempt: int = 1


@dataclass(slots=True)
class Host:
    queue: deque[Item] = field(default_factory=deque)
    active: int = 0
    ready_at: float = 0.0   # monotonic time before which no check of this host starts
    listed: bool = False    # in the ready deque or the waiting heap


class Rotation:
    """Which host's URL to check next: round-robin over hosts that are ready."""

    def __init__(self, per_host: int, interval: float) -> None:
        self._cap = per_host
        self._interval = interval
        self._hosts: dict[str, Host] = {}
        self._ready: deque[str] = deque()
        self._waiting: list[tuple[float, str]] = []
        self.pending = 0   # URLs queued or running

    @property
    def hosts(self) -> int:
        return len(self._hosts)

    def add(self, host: str, url: str) -> None:
        self._hosts.setdefault(host, Host()).queue.append(Item(url))
        self.pending += 1
        self._list(host, 0.0)

    def start(self, now: float) -> tuple[str, Item] | None:
        """Take the next URL of the next ready host, or None when no host is ready."""
        while self._waiting and self._waiting[0][0] <= now:
            _, waited = heapq.heappop(self._waiting)
            self._hosts[waited].listed = False
            self._list(waited, now)
        if not self._ready:
            return None
        name = self._ready.popleft()
        host = self._hosts[name]
        host.listed = False
        host.active += 1
        host.ready_at = now + self._interval
        item = host.queue.popleft()
        self._list(name, now)
        return name, item

    def finish(self, name: str, now: float) -> None:
        self._hosts[name].active -= 1
        self.pending -= 1
        self._list(name, now)

    def retry(self, name: str, item: Item, delay: float, now: float) -> None:
        """Put ``item`` first in its host's queue; the whole host waits ``delay`` (it is struggling)."""
        host = self._hosts[name]
        host.active -= 1
        host.queue.appendleft(item)
        host.ready_at = max(host.ready_at, now + delay)
        self._list(name, now)

    def has_ready(self, now: float) -> bool:
        """Whether a host could start a check at ``now``."""
        return bool(self._ready) or bool(self._waiting and self._waiting[0][0] <= now)

    def next_wake(self) -> float | None:
        """When a waiting host becomes ready (None: none is waiting)."""
        return self._waiting[0][0] if self._waiting else None

    def _list(self, name: str, now: float) -> None:
        host = self._hosts[name]
        if host.listed or not host.queue or host.active >= self._cap:
            return
        host.listed = True
        if host.ready_at <= now:
            self._ready.append(name)
        else:
            heapq.heappush(self._waiting, (host.ready_at, name))
