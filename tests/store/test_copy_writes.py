"""PostgreSQL writes a list's rows by COPY (store.version_writes.insert_rows): they read back as the
INSERT stored them, hostile cells included, and a COPY that fails leaves none of the list behind."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from sqlalchemy import Text, cast, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from store.database import open_engine, session_factory
from store.models import Base, Measure, MeasureVersion, Snapshot
from store.version_writes import insert_rows, insert_versions, new_ids

from tests.conftest import fresh_database
from tests.store.test_version_writes import list_a

NOW = datetime(2026, 4, 1, 9, 30, 15, 123456, tzinfo=timezone.utc)
HOSTILE = ["tab\there", "new\nline\r\n", "back\\slash \\N \\t", "\\N", "", "絵文字🎌𠮷", "x" * 200_000, 'say "hi", {"not": json}']


def _versions(measure_ids: list[int], version_ids: list[int], snapshot_id: int) -> list[dict[str, object]]:
    return [
        {"id": version, "measure_id": measure, "source_id": "a", "name": cell,
         "fields": {"施策": cell, 'quo"te\\': cell, "list": [1, None, True, "🎌"]} if n % 2 else {},
         "content_hash": f"h{n}", "published_digest": bytes(range(256)) if n % 2 else None,
         "end_date": date(2027, 3, 31) if n % 3 else None, "valid_from_snapshot_id": snapshot_id, "valid_from": NOW}
        for n, (measure, version, cell) in enumerate(zip(measure_ids, version_ids, HOSTILE, strict=True))
    ]


def _read_back(session, version_ids: list[int]) -> list[tuple[object, ...]]:
    """Every column but the ids, in the order the rows were given, JSON as the database's own text."""
    table = Base.metadata.tables["measure_versions"]
    columns = [c for c in table.c if c.name not in ("id", "measure_id")]
    order = {v: n for n, v in enumerate(version_ids)}
    rows = session.execute(select(table.c.id, cast(table.c.fields, Text), *columns)
                           .where(table.c.id.in_(version_ids))).all()
    return [tuple(row[1:]) for row in sorted(rows, key=lambda row: order[row[0]])]


@pytest.fixture
def postgres_sessions(tmp_path: Path):
    with fresh_database("postgresql", tmp_path, prefix="h2_copy") as url:
        engine = open_engine(url)
        yield session_factory(engine)
        engine.dispose()


def _measures(session, snapshot: Snapshot, count: int, via) -> list[int]:
    ids = new_ids(session, "measures", count)
    via(session, "measures", [{"id": i, "source_id": "a", "key": f"k{i}\t\\N", "name": HOSTILE[n % len(HOSTILE)], "first_seen_snapshot_id": snapshot.id,
                               "first_seen_at": NOW} for n, i in enumerate(ids)])
    return ids


def _insert_statement(session, table_name: str, rows) -> None:
    """The INSERT the rows went through before COPY: SQLAlchemy's own executemany."""
    session.execute(insert(Base.metadata.tables[table_name]), list(rows))


def test_rows_written_by_copy_read_back_exactly_as_the_insert_stored_them(postgres_sessions):
    with postgres_sessions.begin() as session:
        snapshot = list_a(session, NOW)
        copied_measures = _measures(session, snapshot, len(HOSTILE), insert_rows)
        inserted_measures = _measures(session, snapshot, len(HOSTILE), _insert_statement)
        copied = new_ids(session, "measure_versions", len(HOSTILE))
        inserted = new_ids(session, "measure_versions", len(HOSTILE))
        insert_versions(session, _versions(copied_measures, copied, snapshot.id))
        _insert_statement(session, "measure_versions", _versions(inserted_measures, inserted, snapshot.id))
    with postgres_sessions() as session:
        assert _read_back(session, copied) == _read_back(session, inserted)
        written = {v.id: v for v in session.scalars(select(MeasureVersion).where(MeasureVersion.id.in_(copied)))}
        for row in _versions(copied_measures, copied, snapshot.id):
            version = written[row["id"]]
            assert (version.name, version.fields, version.published_digest, version.end_date, version.valid_from) == (
                row["name"], row["fields"], row["published_digest"], row["end_date"], NOW)
        keys = dict(session.execute(select(Measure.id, Measure.key).where(Measure.id.in_(copied_measures))).all())
        assert keys == {i: f"k{i}\t\\N" for i in copied_measures}


def test_a_copy_that_fails_leaves_nothing_of_the_list(postgres_sessions):
    with postgres_sessions.begin() as session:
        snapshot_id = list_a(session, NOW).id
    with pytest.raises(IntegrityError), postgres_sessions.begin() as session:
        snapshot = session.get(Snapshot, snapshot_id)
        measures = _measures(session, snapshot, len(HOSTILE), insert_rows)
        versions = new_ids(session, "measure_versions", len(HOSTILE))
        versions[-1] = versions[0]  # the last row's id is taken by the first: the COPY stops there
        insert_versions(session, _versions(measures, versions, snapshot.id))
    with postgres_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Measure)) == 0
        assert session.scalar(select(func.count()).select_from(MeasureVersion)) == 0
        # The pooled connection is usable again after the failed COPY.
        assert session.execute(text("SELECT 1")).scalar_one() == 1
