"""An operator upgrading a store with data from 0011 (the last release's schema) to head, and
back down and up again, keeps every row, and a list run after the round trip still finds the
list unchanged. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from alembic import command
from sqlalchemy import Engine, text

from monitor.runtime.check import open_store
from monitor.runtime.jobs import run_source_job
from store.database import _alembic_config, current_revision, engine_of, head_revision
from tests.conftest import TAMA, make_config, seed_text, source_entry
from tests.runtime.test_check import publish

T0 = datetime(2026, 4, 1, tzinfo=timezone.utc)
_TABLES = ("sources", "snapshots", "measures", "measure_versions", "measure_links", "links", "events")


def _rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() for table in _TABLES}


def _migrate(engine: Engine, revision: str) -> None:
    config = _alembic_config(engine)
    (command.upgrade if revision == "head" else command.downgrade)(config, revision)


def test_down_to_0011_and_up_again_keeps_every_row(site, database_url):
    publish(site, "/tama.txt", seed_text(TAMA))
    config = make_config(database_url, source_entry("tama", site.url("/tama.txt")), links={"enabled": True})
    sessions = open_store(config)
    assert run_source_job(config, sessions, T0, "tama").status == "ok"
    engine = engine_of(sessions)
    before = _rows(engine)
    assert before["measure_versions"] and before["links"]
    for revision in ("0011", "head", "0011", "head"):
        _migrate(engine, revision)
        assert _rows(engine) == before, revision
    assert current_revision(engine) == head_revision()
    engine.dispose()
    sessions = open_store(config)
    # The versions lost their published digests on the way down: the run makes them again.
    publish(site, "/tama.txt", seed_text(TAMA) + "\n")  # new bytes, the same rows
    assert run_source_job(config, sessions, T0 + timedelta(days=1), "tama").result.status == "unchanged"
