"""The hosts' run locks of a links run (monitor.links.host_locks): a host another runner holds is
left to it, and a run longer than the SQLite lease (a long links budget) keeps its hosts locked
to the end, then frees them. SQLite and PostgreSQL."""

from __future__ import annotations

import time

from monitor.links.host_locks import host_locks
from monitor.runtime.check import open_store
from tests.conftest import make_config
from tests.store.another_runner import held_elsewhere


def test_a_links_run_longer_than_its_lease_keeps_its_hosts(database_url: str) -> None:
    config = make_config(database_url, schedule={"lock_lease_s": 0.6})
    sessions = open_store(config)
    with host_locks(config, sessions, ["a.example", "b.example"]) as taken:
        assert taken == ["a.example", "b.example"]
        with host_locks(config, sessions, ["b.example", "c.example"], why="repair suggestions") as beside:
            assert beside == ["c.example"]  # b is the first run's
        assert held_elsewhere(database_url, "links:b.example")  # the second run took only c: b is still the first run's
        time.sleep(1.5)  # more than twice the lease: without renewal both would have run out
        assert held_elsewhere(database_url, "links:a.example") and held_elsewhere(database_url, "links:b.example")
    assert not held_elsewhere(database_url, "links:a.example") and not held_elsewhere(database_url, "links:b.example")
