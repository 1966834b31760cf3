"""SQLite's search index without positions (migration 0016): a term is found only where the
text holds it whole, however its trigrams lie, and the index survives the migration down and up
with every version in it (and the trigger still filling it). PostgreSQL's index is untouched."""

from __future__ import annotations

from datetime import datetime, timezone

from alembic import command
from sqlalchemy import Engine, select, text

from store.database import _alembic_config, open_engine, session_factory
from store.models import Measure, MeasureVersion, Snapshot, Source
from store.search import search_versions

NOW = datetime(2026, 4, 1, tzinfo=timezone.utc)
TEXTS = ["多摩の魅力発信プロジェクト", "魅力の発信と多摩", "TOKYO Metro 事業12345", "発信力強化事業"]


def _write(engine: Engine, texts: list[str]) -> None:
    with session_factory(engine).begin() as session:
        if session.scalar(select(Source.id).where(Source.id == "a")) is None:  # its id alone: the schema may be older than the model
            session.add(Source(id="a", title="a", url="file:///a.txt", format="text-table", created_at=NOW))
            session.flush()
            session.add(Snapshot(id=1, source_id="a", fetched_at=NOW, status="baseline"))
            session.flush()
        for name in texts:  # ORM objects: the trigger indexes them
            measure = Measure(source_id="a", key=name, name=name, first_seen_snapshot_id=1, first_seen_at=NOW)
            session.add(measure)
            session.flush()
            session.add(MeasureVersion(measure_id=measure.id, source_id="a", fields={"施策": name}, content_hash="h", name=name,
                                       valid_from_snapshot_id=1, valid_from=NOW))


def _found(engine: Engine, *terms: str) -> list[str]:
    with session_factory(engine)() as session:
        return sorted(version.name for _, version in search_versions(session, list(terms), limit=20))


def _index_sql(engine: Engine) -> str:
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'measure_search'").scalar_one() if engine.dialect.name == "sqlite" else ""


def test_a_term_is_found_only_where_the_text_holds_it_whole(database_url):
    engine = open_engine(database_url)
    _write(engine, TEXTS)
    # 「魅力の発信と多摩」 holds every trigram of no term below apart from the others: found by none.
    assert _found(engine, "魅力発信") == ["多摩の魅力発信プロジェクト"]
    assert _found(engine, "発信") == ["多摩の魅力発信プロジェクト", "発信力強化事業", "魅力の発信と多摩"]
    assert _found(engine, "多摩", "発信プロ") == ["多摩の魅力発信プロジェクト"]
    assert _found(engine, "tokyo metro") == ["TOKYO Metro 事業12345"]  # ASCII letters in either case
    assert _found(engine, "事業1234", "5") == ["TOKYO Metro 事業12345"]
    assert _found(engine, "業123", "強化") == []
    assert _found(engine, "100%") == [] and _found(engine, "事_") == []


def test_the_index_goes_down_and_up_with_every_version_and_the_trigger_fills_it(database_url):
    engine = open_engine(database_url)
    _write(engine, TEXTS)
    config = _alembic_config(engine)
    if engine.dialect.name == "sqlite":
        assert "detail=none" in _index_sql(engine)
    command.downgrade(config, "0015")
    assert "detail=none" not in _index_sql(engine)
    _write(engine, ["島しょ山村地域への定住促進"])  # the search of today's code reads the schema of head
    command.upgrade(config, "head")
    if engine.dialect.name == "sqlite":
        assert "detail=none" in _index_sql(engine)
    _write(engine, ["燃料電池バス導入促進事業"])
    assert _found(engine, "魅力発信") == ["多摩の魅力発信プロジェクト"]
    assert _found(engine, "促進") == ["島しょ山村地域への定住促進", "燃料電池バス導入促進事業"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM measure_versions")).scalar_one() == len(TEXTS) + 2
    engine.dispose()
