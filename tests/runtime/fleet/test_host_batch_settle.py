"""A links job's claimed jobs are settled even when the queue's database fails once (a pool
timeout under load): left `doing` under a live worker, no sweep would ever take them back.
The failure is injected: a pool timeout cannot be had on demand from a real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from types import SimpleNamespace

from monitor.runtime import host_batch


class FlakyConnector:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.ran: list[tuple[str, list[int]]] = []

    async def execute_query_async(self, query: str, **arguments: list[int]) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError("couldn't get a connection after 30.00 sec")
        self.ran.append((query, arguments["ids"]))


def test_claimed_jobs_are_settled_after_a_failure_of_the_queue():
    connector = FlakyConnector(failures=1)
    now = datetime.now(timezone.utc)
    claimed = [host_batch._Claimed(11, "a.example.lg.jp", now), host_batch._Claimed(12, "b.example.lg.jp", now)]
    asyncio.run(host_batch._settle(SimpleNamespace(connector=connector), claimed, {"a.example.lg.jp"}))
    assert connector.ran == [(host_batch._FINISH, [11]), (host_batch._PUT_BACK, [12])]
