"""The search backlog (migration 0018): a big write's versions wait for the index, and every
search finds them all the same, newest first, before, during and after they are indexed."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from alembic import command
from sqlalchemy import text

from store.database import _alembic_config, open_engine, session_factory
from store.search import index_backlog, search_versions
from store.source_reads import versions_waiting
from store.version_writes import BACKLOG_ROWS, bulk_versions, insert_rows, insert_versions, new_ids

from tests.store.test_version_writes import list_a

NOW = datetime(2026, 4, 1, tzinfo=timezone.utc)


def _write(session, snapshot_id: int, texts: list[str]) -> list[int]:
    """One bulk write of a version per text; the versions' ids."""
    measures = new_ids(session, "measures", len(texts))
    versions = new_ids(session, "measure_versions", len(texts))
    with bulk_versions(session, len(texts)):
        insert_rows(session, "measures", [{"id": i, "source_id": "a", "key": f"k{i}", "name": f"施策{i}", "first_seen_snapshot_id": snapshot_id,
                                           "first_seen_at": NOW} for i in measures])
        insert_versions(session, [{"id": version, "measure_id": measure, "source_id": "a", "fields": {"施策": body}, "content_hash": "h",
                                   "name": f"施策{measure}", "valid_from_snapshot_id": snapshot_id, "valid_from": NOW}
                                  for version, measure, body in zip(versions, measures, texts, strict=True)])
    return versions


def _ids(sessions, *terms: str, limit: int = 10, offset: int = 0) -> list[int]:
    with sessions() as session:
        return [version.id for _, version in search_versions(session, list(terms), limit=limit, offset=offset)]


@pytest.fixture
def sessions(database_url):
    engine = open_engine(database_url)
    yield session_factory(engine)
    engine.dispose()


def test_a_big_write_waits_for_the_index_and_is_found_the_same_before_and_after(sessions):
    with sessions.begin() as session:
        snapshot = list_a(session).id
        small = _write(session, snapshot, ["多摩の魅力発信 小", "島しょの定住促進 小"])
    with sessions.begin() as session:
        big = _write(session, snapshot, [f"多摩の魅力発信{n:05d}号" for n in range(BACKLOG_ROWS + 500)])
    with sessions.begin() as session:
        later = _write(session, snapshot, ["多摩の魅力発信 後"])
    with sessions() as session:
        assert versions_waiting(session) == len(big)  # only the big write waits

    def answers() -> list[list[int]]:
        return [_ids(sessions, "魅力発信", limit=25), _ids(sessions, "魅力発信", limit=7, offset=BACKLOG_ROWS + 498),
                _ids(sessions, "発信04999"), _ids(sessions, "多摩", "小"), _ids(sessions, "定住")]

    before = answers()
    # Newest first across the index and the backlog, and pages continue each other exactly.
    assert before[0] == [*later, *big[::-1][:24]]
    assert before[1] == [*big[:3][::-1], small[0]]
    assert before[2] == [big[4999]] and before[3] == [small[0]] and before[4] == [small[1]]
    with sessions.begin() as session:
        assert index_backlog(session, limit=1000) == 1000  # the newest thousand first
    with sessions() as session:
        assert versions_waiting(session) == len(big) - 1000
    assert answers() == before  # half indexed, half waiting: the same answers
    with sessions.begin() as session:
        while index_backlog(session):
            pass
    with sessions() as session:
        assert versions_waiting(session) == 0
        if session.get_bind().dialect.name == "sqlite":  # FTS5's merging, off while a batch is written, is back to its default
            assert session.execute(text("SELECT v FROM measure_search_config WHERE k = 'automerge'")).scalar() in (None, 4)
    assert answers() == before


def test_a_failed_big_write_leaves_nothing_waiting(sessions):
    with sessions.begin() as session:
        snapshot = list_a(session).id
    with pytest.raises(RuntimeError), sessions.begin() as session:
        _write(session, snapshot, [f"燃料電池{n}" for n in range(BACKLOG_ROWS)])
        raise RuntimeError("the run failed")
    with sessions() as session:
        assert versions_waiting(session) == 0 and _ids(sessions, "燃料電池") == []


def test_the_backlog_goes_down_into_the_index_and_comes_back_up(sessions):
    with sessions.begin() as session:
        snapshot = list_a(session).id
        indexed = _write(session, snapshot, ["魅力発信 索引"])
    with sessions.begin() as session:
        waiting = _write(session, snapshot, [f"魅力発信{n}" for n in range(BACKLOG_ROWS)])
    engine = sessions.kw["bind"]
    config = _alembic_config(engine)
    command.downgrade(config, "0017")  # the waiting versions go into the index before the backlog goes
    with engine.connect() as connection:
        table = "measure_versions WHERE search_text ILIKE '%発信%'" if engine.dialect.name == "postgresql" else "measure_search WHERE body LIKE '%発信%' ESCAPE '!'"  # (without ESCAPE, FTS5 answers LIKE itself: wrongly, without positions)
        assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == len(waiting) + 1
    command.upgrade(config, "head")
    with sessions() as session:
        assert versions_waiting(session) == 0
    assert _ids(sessions, "魅力発信", limit=3) == waiting[::-1][:3]
    assert _ids(sessions, "索引") == indexed


def test_postgresql_search_index_holds_a_runs_texts_in_its_pending_list(database_url):
    """Migration 0020: a run's few thousand new texts wait in GIN's pending list (16 MB) for
    autovacuum, instead of being merged into the index inside the run (past the default 4 MB)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's FTS5 index has no pending list")
    engine = open_engine(database_url)
    reloptions = text("SELECT reloptions FROM pg_class WHERE relname = 'ix_measure_search_body'")
    with engine.connect() as connection:
        assert connection.scalar(reloptions) == ["gin_pending_list_limit=16384"]
    command.downgrade(_alembic_config(engine), "0019")
    with engine.connect() as connection:
        assert connection.scalar(reloptions) is None
    command.upgrade(_alembic_config(engine), "head")
    with engine.connect() as connection:
        assert connection.scalar(reloptions) == ["gin_pending_list_limit=16384"]


def test_postgresql_a_drained_backlog_leaves_the_index_merged_for_the_next_run(sessions):
    """The backlog's last batch merges the texts its inserts left in GIN's pending list: else the
    next run of the list, its own texts passing the list's limit, merged them (0.3-0.4 s of it)."""
    if sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite's FTS5 index has no pending list")
    with sessions.begin() as session:
        session.execute(text("CREATE EXTENSION IF NOT EXISTS pgstattuple"))
        snapshot = list_a(session).id
    with sessions.begin() as session:
        _write(session, snapshot, [f"再生可能エネルギー導入支援 第{n}号 蓄電池 太陽光" for n in range(BACKLOG_ROWS)])
    pending = text("SELECT pending_tuples FROM pgstatginindex('ix_measure_search_body')")
    with sessions.begin() as session:
        assert index_backlog(session, limit=BACKLOG_ROWS - 1) == BACKLOG_ROWS - 1  # a batch that leaves some waiting
        assert session.execute(pending).scalar_one() > 0
    with sessions.begin() as session:
        assert index_backlog(session) == 1
        assert session.execute(pending).scalar_one() == 0
    assert len(_ids(sessions, "蓄電池", limit=BACKLOG_ROWS)) == BACKLOG_ROWS
