"""Each source names its newest snapshot (migration 0017), kept by the database's trigger
whoever inserts one: the newest by fetched_at then id, whatever order they come in, and the
backfill of a database upgraded from 0016 names the same. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from alembic import command
from sqlalchemy import Engine, insert, select

from store.database import _alembic_config, open_engine, session_factory
from store.models import Snapshot, Source

NOW = datetime(2026, 4, 1, tzinfo=timezone.utc)


def _newest(engine: Engine) -> dict[str, int | None]:
    with engine.connect() as connection:
        return {row[0]: row[1] for row in connection.execute(select(Source.id, Source.newest_snapshot_id))}


def _snapshot(engine: Engine, source_id: str, hours: float, status: str = "unchanged") -> int:
    with session_factory(engine).begin() as session:
        snapshot = Snapshot(source_id=source_id, fetched_at=NOW + timedelta(hours=hours), status=status)
        session.add(snapshot)
        session.flush()
        return snapshot.id


def _sources(engine: Engine, *ids: str) -> None:
    with session_factory(engine).begin() as session:
        session.add_all([Source(id=i, title=i, url=f"file:///{i}.txt", format="text-table", created_at=NOW) for i in ids])


def test_the_newest_snapshot_is_named_whatever_order_they_come_in(database_url):
    engine = open_engine(database_url)
    _sources(engine, "a", "b", "c")
    first = _snapshot(engine, "a", 0)
    assert _newest(engine) == {"a": first, "b": None, "c": None}
    later = _snapshot(engine, "a", 2)
    _snapshot(engine, "a", 1)  # inserted after, fetched before: not the newest
    same_time = _snapshot(engine, "a", 2, "failed")  # fetched at the same moment, a larger id: the newest
    other = _snapshot(engine, "b", -5)
    with engine.begin() as connection:  # a bulk insert of Core rows fires it too (bench loads, copies)
        connection.execute(insert(Snapshot), [{"source_id": "c", "fetched_at": NOW + timedelta(hours=h), "status": "baseline"} for h in (3, 4, 1)])
        bulk = connection.scalar(select(Snapshot.id).where(Snapshot.source_id == "c", Snapshot.fetched_at == NOW + timedelta(hours=4)))
    assert later < same_time
    assert _newest(engine) == {"a": same_time, "b": other, "c": bulk}


def test_the_upgrade_names_the_newest_snapshot_of_every_source_stored_before_it(database_url):
    engine = open_engine(database_url)
    config = _alembic_config(engine)
    command.downgrade(config, "0016")
    with engine.begin() as connection:
        connection.execute(insert(Source), [{"id": i, "title": i, "url": "file:///x", "format": "csv", "created_at": NOW} for i in ("a", "b", "c")])
        connection.execute(insert(Snapshot), [{"source_id": s, "fetched_at": NOW + timedelta(hours=h), "status": "baseline"}
                                              for s, h in (("a", 1), ("a", 3), ("a", 2), ("b", 0), ("b", 0))])
        expected = {"a": connection.scalar(select(Snapshot.id).where(Snapshot.source_id == "a", Snapshot.fetched_at == NOW + timedelta(hours=3))),
                    "b": connection.scalar(select(Snapshot.id).where(Snapshot.source_id == "b").order_by(Snapshot.id.desc()).limit(1)), "c": None}
    command.upgrade(config, "head")
    assert _newest(engine) == expected
    later = _snapshot(engine, "c", 5)
    assert _newest(engine) == {**expected, "c": later}  # and the trigger keeps it from then on
