"""A links job checks several hosts in one pass (monitor.runtime.host_batch): the jobs it
claims from the queue run side by side in one slot, each host under its own run lock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from monitor.demo.site import LoopbackSite, Route
from store.database import open_engine, session_factory
from store.locks import lock_name
from store.process_locks import HeldLock, ProcessLocks

from .conftest import FAST_WORKER, scalar, wait_until
from .test_worker_links import HTML, PAGE, cite

DELAY_S = 2.0
HOSTS = 6
LEFT = "SELECT count(*) FROM procrastinate_jobs WHERE args->>'kind' = 'links' AND status IN ('todo', 'doing')"


@pytest.fixture
def slow_hosts() -> Iterator[list[LoopbackSite]]:
    sites = [LoopbackSite(host=f"127.0.0.{n + 2}").start() for n in range(HOSTS)]
    try:
        for site in sites:
            site.publish("/slow.html", Route(PAGE, content_type=HTML, delay_s=DELAY_S))
        yield sites
    finally:
        for site in sites:
            site.stop()


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "database": {"url": url},
        "http": {"allow_private_addresses": True},
        # concurrency 12 at 1 a host: one links job checks up to 12 hosts
        "links": {"per_host": 1, "concurrency": 12, "per_host_interval_s": 0, "retries": 0, "sibling_probe": False, "deadline_s": 20},
        "worker": {**FAST_WORKER, "concurrency": 1},
    }), encoding="utf-8")
    return path


def _cite(url: str, sites: list[LoopbackSite]) -> None:
    engine = open_engine(url)
    cite(session_factory(engine), sites, "/slow.html")
    engine.dispose()


def test_one_slot_checks_the_waiting_hosts_side_by_side(tmp_path: Path, fleet_url: str, slow_hosts: list[LoopbackSite], start_worker) -> None:
    _cite(fleet_url, slow_hosts)
    worker = start_worker(_config(tmp_path, fleet_url))
    wait_until(lambda: scalar(fleet_url, "SELECT count(*) FROM link_checks") == HOSTS, 60, "every host checked", step=0.2)
    # One slot: one host job at a time would take HOSTS × DELAY_S; the claimed jobs run in its pass.
    spread = float(scalar(fleet_url, "SELECT extract(epoch FROM max(checked_at) - min(checked_at)) FROM link_checks"))
    assert spread < DELAY_S * 0.7, f"{HOSTS} hosts took {spread:.1f}s apart in one slot\n{worker.output()}"
    wait_until(lambda: scalar(fleet_url, LEFT) == 0, 10, "the claimed jobs finished")
    assert scalar(fleet_url, "SELECT count(*) FROM job_state WHERE job_id LIKE 'links:%' AND last_success_at IS NOT NULL") == HOSTS
    assert scalar(fleet_url, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'") == 0, worker.output()
    worker.kill()


def test_a_host_locked_elsewhere_is_left_and_checked_once_it_is_free(tmp_path: Path, fleet_url: str, slow_hosts: list[LoopbackSite],
                                                                   start_worker) -> None:
    _cite(fleet_url, slow_hosts)
    engine = open_engine(fleet_url)
    locked = slow_hosts[-1].base_url.split("//")[1].split(":")[0]
    other = ProcessLocks(engine, "a check beside the fleet", 10)  # as `sesaku-monitor check` holds a host it checks
    held = other.try_lock(lock_name("links", locked))
    assert isinstance(held, HeldLock)
    try:
        worker = start_worker(_config(tmp_path, fleet_url))
        wait_until(lambda: scalar(fleet_url, "SELECT count(*) FROM link_checks") == HOSTS - 1, 60, "the free hosts checked", step=0.2)
        spread = float(scalar(fleet_url, "SELECT extract(epoch FROM max(checked_at) - min(checked_at)) FROM link_checks"))
        assert spread < DELAY_S * 0.7, f"the free hosts took {spread:.1f}s apart in one slot\n{worker.output()}"
        # The locked host's job went back to the queue: waiting, not lost, and its host untouched.
        assert scalar(fleet_url, "SELECT count(*) FROM link_checks c JOIN links l ON l.id = c.link_id WHERE l.host = :host",
                      host=locked) == 0
        wait_until(lambda: scalar(fleet_url, LEFT) == 1, 10, "the locked host's job waiting")
    finally:
        other.unlock(held)
    try:
        wait_until(lambda: scalar(fleet_url, "SELECT count(*) FROM link_checks") == HOSTS, 30, "the freed host checked", step=0.2)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{scalar(fleet_url, 'SELECT json_agg(j) FROM procrastinate_jobs j')}\n{worker.output()}") from None
    wait_until(lambda: scalar(fleet_url, LEFT) == 0, 10, "no links job left")
    assert scalar(fleet_url, "SELECT count(DISTINCT link_id) FROM link_checks") == HOSTS  # each link checked once
    engine.dispose()
    worker.kill()
