"""Which host's URL the link checker takes next: round-robin over the hosts that are ready.

Plain bookkeeping over monotonic times passed in: per host, at most ``per_host`` checks at once
and ``interval`` seconds between the starts of two checks; a struggling host waits as a whole.
"""

from __future__ import annotations

import asyncio
import heapq
from collections import deque
from dataclasses import dataclass, field

__all__ = ["Bell", "Item", "Rotation"]


class Bell:
    """Wakes the workers waiting for a host to become ready: a check ended or was requeued."""

    def __init__(self) -> None:
        self._rung: asyncio.Future[None] | None = None

    def ring(self) -> None:
        if self._rung is not None:
            if not self._rung.done():
                self._rung.set_result(None)
            self._rung = None

    async def wait(self, timeout: float | None) -> None:
        """Until the next ring, or ``timeout`` seconds (None: no limit)."""
        if self._rung is None:
            self._rung = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(timeout):
                # shield: one waiter's timeout must not cancel the future the others wait on.
                await asyncio.shield(self._rung)
        except TimeoutError:
            pass


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
