"""The daily citations reconcile never uncites a link a run is citing at that moment
(PostgreSQL: a run citing a link already marked cited writes no links row, and the reconcile's
anti-join reads committed citations only)."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select, text

from monitor.runtime.check import open_store
from monitor.runtime.jobs import run_job, run_source_job
from store.database import transaction
from store.links import cite_links
from store.models import Link, MeasureVersion
from tests.conftest import TAMA, fresh_database, make_config, seed_text, source_entry
from tests.runtime.test_check import publish

T0 = datetime(2026, 4, 1, tzinfo=timezone.utc)
NEW_URL = "https://www.metro.tokyo.lg.jp/cited-while-reconciling"

_WAITING = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%advisory_xact_lock%'"


def _blocked_or_done(sessions, job: threading.Thread) -> None:  # noqa: ANN001
    deadline = time.monotonic() + 20
    while job.is_alive() and time.monotonic() < deadline:
        with transaction(sessions) as session:
            if session.scalar(text(_WAITING)):
                return
        time.sleep(0.05)


def test_a_link_cited_while_the_reconcile_runs_stays_cited(site, tmp_path: Path):
    with fresh_database("postgresql", tmp_path) as url:
        publish(site, "/tama.txt", seed_text(TAMA))
        config = make_config(url, source_entry("tama", site.url("/tama.txt")), links={"enabled": True})
        sessions = open_store(config)
        assert run_source_job(config, sessions, T0, "tama").status == "ok"
        with transaction(sessions) as session:
            # Marked cited, cited by nothing yet: what the reconcile uncites, unless a run cites it.
            session.add(Link(url=NEW_URL, host="www.metro.tokyo.lg.jp", first_seen_at=T0, cited=True, next_check_at=T0))
        run = sessions()
        try:
            version_id = run.scalar(select(MeasureVersion.id).where(MeasureVersion.valid_to_snapshot_id.is_(None)).limit(1))
            cite_links(run, [(version_id, [NEW_URL])], T0)  # the run's citation, not yet committed
            results = []
            job = threading.Thread(target=lambda: results.append(run_job(config, sessions, T0 + timedelta(hours=1), "citations", "links")))
            job.start()
            _blocked_or_done(sessions, job)
            run.commit()
        finally:
            run.close()
        job.join(30)
        assert results and results[0].status == "ok", results
        with transaction(sessions) as session:
            assert session.scalar(select(Link.cited).where(Link.url == NEW_URL)) is True
