"""Repair probes keep per-host politeness fleet-wide (issue 15 review): a successor host's candidate
page is asked only under that host's run lock (``links:<host>``), so a host another runner is
checking right now is not probed beside it. On SQLite (a lease) and PostgreSQL (an advisory lock)."""

from __future__ import annotations

from datetime import datetime, timezone

from monitor.demo.site import LoopbackSite, Route
from monitor.links.repair_check import suggest_repairs
from store.database import open_engine, session_factory, transaction
from store.locks import lock_name
from store.models import Link
from store.process_locks import RunLockHeld
from tests.conftest import make_config
from tests.store.another_runner import another_runner, take

NOW = datetime(2026, 4, 1, 9, 0, tzinfo=timezone.utc)
OLD, NEW = "www.kankyo.metro.tokyo.jp", "www.kankyo.metro.tokyo.lg.jp"
HTML = "text/html; charset=utf-8"


def test_a_successor_host_held_by_another_runner_is_not_probed(database_url: str, site: LoopbackSite) -> None:
    site.publish("/new.html", Route("<html><head><title>新しいページ</title></head><body><p>事業のご案内</p></body></html>".encode(),
                                    content_type=HTML))
    port = site.base_url.rsplit(":", 1)[1]
    config = make_config(database_url, links={"enabled": True, "per_host_interval_s": 0, "retries": 0, "sibling_probe": False})
    sessions = session_factory(engine := open_engine(database_url))
    with transaction(sessions) as session:
        dead = Link(url=f"http://{OLD}:{port}/new.html", host=OLD, first_seen_at=NOW, cited=True, consecutive_failures=3,
                    dead_since=NOW)
        session.add(dead)
        session.flush()
        link_id = dead.id

    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]  # both names, on loopback (never a real look-up)

    with another_runner(database_url) as other:  # a worker, a `check`, checking the successor host now
        held = take(other, lock_name("links", NEW))
        assert isinstance(held, RunLockHeld)
        try:
            assert suggest_repairs(config, sessions, NOW, [link_id], resolver=resolver) == {link_id: []}
            assert site.hits("/new.html") == 0  # the host another runner holds was left alone
        finally:
            held.release()
    found = suggest_repairs(config, sessions, NOW, [link_id], resolver=resolver)
    assert [(r.url, r.reason) for r in found[link_id]] == [(f"http://{NEW}:{port}/new.html", "successor_host")]
    assert site.hits("/new.html") >= 1
    engine.dispose()
