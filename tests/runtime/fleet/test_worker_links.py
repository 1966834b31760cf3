"""The links unit in the fleet (found by bench/fleet.py).

* Sync units run in the event loop's default thread pool, which asyncio sizes from the CPUs
  (``min(32, cpus + 4)``), not from ``worker.concurrency``: on a 2-CPU machine a worker with
  ``concurrency: 20`` checked 6 hosts at once. The worker gives its loop one thread per slot.
* Page bodies are content-addressed: two hosts checked side by side that serve the same bytes
  (``www.`` and the bare name, a shared template) both found no blob and both inserted it;
  the second unit failed on the primary key and was retried from scratch. The batch is now
  written again, and finds the blob.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy import func, select

import monitor.links.record as link_record
from monitor.links.run import check_host_links
from monitor.runtime.jobs import job_id
from monitor.runtime.worker import connections_needed
from monitor.demo.site import LoopbackSite, Route
from store.blobs import put_blob, put_blobs, sha256_of
from store.database import SessionFactory, open_engine, session_factory, transaction
from store.locks import advisory_key
from store.models import Blob, Link, LinkCheck, Measure, MeasureLink, MeasureVersion, Snapshot, Source
from tests.conftest import make_config

from .conftest import FAST_WORKER, scalar, wait_until

DELAY_S = 3.0
# The worker's connections to the test database (this query's own excepted), the units' run locks
# held, and how many connections hold them. Only the run locks (:keys): a store transaction's own
# advisory lock (store.links.hold_citations, taken by the citations unit running beside the hosts)
# is held on that transaction's connection, and under load a sample caught it as a second holder.
CONNECTIONS = """
WITH run_locks AS (
  SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND ((classid::bigint << 32) | objid::bigint) = ANY(:keys))
SELECT json_build_array(
  (SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = current_database()),
  (SELECT count(*) FROM run_locks),
  (SELECT count(DISTINCT pid) FROM run_locks))
"""
PAGE = b"<html><head><title>same</title></head><body><p>the same bytes on every host</p></body></html>"
HTML = "text/html; charset=utf-8"


def cite(sessions: SessionFactory, sites: list[LoopbackSite], path: str) -> None:
    """``path`` on each site, cited by an open version of a stored list (as a run leaves it), so that
    the daily repair of the cited marks (the ``citations`` unit) keeps them checked."""
    now = datetime.now(timezone.utc)
    source_id = f"cites-{uuid.uuid4().hex[:8]}"
    with transaction(sessions) as session:
        session.add(Source(id=source_id, title="a list citing the test's pages", url="file:///list.txt", format="text", created_at=now))
        session.flush()
        snapshot = Snapshot(source_id=source_id, fetched_at=now, status="baseline")
        session.add(snapshot)
        session.flush()
        measure = Measure(source_id=source_id, key="k", name="n", first_seen_snapshot_id=snapshot.id, first_seen_at=now)
        session.add(measure)
        session.flush()
        version = MeasureVersion(measure_id=measure.id, source_id=source_id, fields={}, content_hash="h", name="n",
                                 valid_from_snapshot_id=snapshot.id, valid_from=now)
        session.add(version)
        for site in sites:
            link = Link(url=site.url(path), host=urlsplit(site.base_url).hostname, first_seen_at=now, cited=True,
                        consecutive_failures=0, next_check_at=None)
            session.add(link)
            session.flush()
            session.add(MeasureLink(measure_version_id=version.id, link_id=link.id))


@pytest.fixture
def hosts() -> Iterator[list[LoopbackSite]]:
    """More slow hosts than asyncio's default pool has threads here (one address each)."""
    count = (os.cpu_count() or 1) + 4 + 2
    if count + 2 > 64:
        pytest.skip("this machine's default thread pool is larger than worker.concurrency may be")
    sites = [LoopbackSite(host=f"127.0.0.{n + 2}").start() for n in range(count)]
    try:
        yield sites
    finally:
        for site in sites:
            site.stop()


def test_a_worker_checks_as_many_hosts_at_once_as_its_concurrency(tmp_path: Path, fleet_url: str, hosts: list[LoopbackSite], start_worker) -> None:
    for site in hosts:
        site.publish("/slow.html", Route(PAGE, content_type=HTML, delay_s=DELAY_S))
    engine = open_engine(fleet_url)
    cite(session_factory(engine), hosts, "/slow.html")
    engine.dispose()
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "database": {"url": fleet_url},
        "http": {"allow_private_addresses": True},
        "links": {"per_host": 1, "per_host_interval_s": 0, "retries": 0, "sibling_probe": False, "deadline_s": 20},
        "worker": {**FAST_WORKER, "concurrency": len(hosts) + 2},
    }), encoding="utf-8")
    worker = start_worker(config)
    seen: list[tuple[int, int, int]] = []  # (connections, run locks held, lock connections) while the units run
    units = [job_id("links", urlsplit(site.base_url).hostname or "") for site in hosts] + [job_id("citations", "links")]
    keys = [advisory_key(unit) for unit in units]

    def every_host_checked() -> bool:
        seen.append(tuple(scalar(fleet_url, CONNECTIONS, keys=keys)))
        return bool(scalar(fleet_url, "SELECT count(*) FROM link_checks") == len(hosts))

    wait_until(every_host_checked, 60, "every host checked", step=0.2)
    worker.kill()
    # All the units' run locks on one connection, and the worker within its bound (docs/scale.md).
    assert max(locks for _, locks, _ in seen) >= 2, seen  # several hosts were checked under their locks at once
    assert max(holders for _, _, holders in seen) == 1, seen
    assert max(total for total, _, _ in seen) <= connections_needed(len(hosts) + 2), seen
    assert scalar(fleet_url, "SELECT count(*) FROM link_checks WHERE outcome = 'ok'") == len(hosts), worker.output()
    assert scalar(fleet_url, "SELECT count(*) FROM blobs") == 1
    # One tick queues every host; side by side, their slow answers all end within one delay.
    spread = float(scalar(fleet_url, "SELECT extract(epoch FROM max(checked_at) - min(checked_at)) FROM link_checks"))
    assert spread < DELAY_S * 0.7, f"{len(hosts)} hosts took {spread:.1f}s apart: they did not all run at once\n{worker.output()}"


def test_a_page_body_stored_by_another_runner_meanwhile_is_not_an_error(fleet_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    config = make_config(fleet_url, links={"enabled": True, "per_host_interval_s": 0, "retries": 0, "sibling_probe": False})
    sessions = session_factory(engine := open_engine(fleet_url))
    raced: list[str] = []

    def racing_put_blobs(session, items: list[tuple[bytes, datetime]]) -> None:
        if not raced:
            # Another unit commits the same bytes after this one looked and found none.
            data, now = items[0]
            raced.append(sha256_of(data))
            with transaction(sessions) as other:
                put_blob(other, data, now)
            session.add(Blob(sha256=sha256_of(data), size=len(data), compression="none", data=data, created_at=now))
            session.flush()
        put_blobs(session, items)

    monkeypatch.setattr(link_record, "put_blobs", racing_put_blobs)
    site = LoopbackSite().start()
    try:
        site.publish("/a.html", Route(PAGE, content_type=HTML))
        site.publish("/b.html", Route(PAGE + b" ", content_type=HTML))
        cite(sessions, [site], "/a.html")
        cite(sessions, [site], "/b.html")
        report = check_host_links(config, sessions, datetime.now(timezone.utc), "127.0.0.1")
    finally:
        site.stop()
    with transaction(sessions) as session:
        checks = session.scalar(select(func.count()).select_from(LinkCheck))
        blobs = session.scalar(select(func.count()).select_from(Blob))
        stored = session.scalars(select(Link.body_sha256).order_by(Link.url)).all()
    engine.dispose()
    assert raced and report.checked == 2 and checks == 2 and blobs == 2
    assert stored == [sha256_of(PAGE), sha256_of(PAGE + b" ")]
