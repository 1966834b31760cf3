"""The checker's turn-taking: one worker woken per ring, and a host's next check on time."""

from __future__ import annotations

import asyncio
import time

from monitor.links.rotation import Bell
from tests.links.conftest import fast_with, run_checks
from tests.links.site import LinkSite


def test_a_ring_wakes_one_waiting_worker_and_the_alarm_the_next() -> None:
    async def scenario() -> tuple[list[int], list[int], list[int]]:
        bell = Bell()
        woken: list[int] = []

        async def worker(n: int) -> None:
            await bell.wait()
            woken.append(n)

        tasks = [asyncio.create_task(worker(n)) for n in range(4)]
        await asyncio.sleep(0.01)
        tasks[0].cancel()  # a worker given up is passed over
        await asyncio.sleep(0.01)
        bell.ring()
        await asyncio.sleep(0.01)
        after_ring = list(woken)
        bell.alarm(time.monotonic() + 0.05)
        bell.alarm(time.monotonic() + 5)  # a later alarm does not put off the earlier one
        await asyncio.sleep(0.15)
        after_alarm = list(woken)
        bell.ring()
        await asyncio.sleep(0.01)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return after_ring, after_alarm, list(woken)

    # Before, every ring woke every waiting worker: on a few hosts, more CPU than the checks.
    assert asyncio.run(scenario()) == ([1], [1, 2], [1, 2, 3])


def test_a_slow_host_gets_its_second_check_after_the_interval_not_after_the_first(fresh_site: LinkSite) -> None:
    urls = [fresh_site.url(0, f"/slow.html?n={n}") for n in range(3)]
    run_checks(urls, fast_with(per_host=2, per_host_interval_s=0.1, sibling_probe=False, concurrency=8))
    starts = fresh_site.stats["127.0.0.2"].starts
    assert len(starts) == 3
    # The page takes 0.3 s: the second check starts at the interval, while the first still runs.
    assert 0.05 <= starts[1] - starts[0] < 0.28, starts
