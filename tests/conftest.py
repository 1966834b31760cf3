"""Shared fixtures: a loopback web site, a loopback server of raw answers, one store fixture run
on SQLite and on PostgreSQL, and the seed lists with derived versions."""

from __future__ import annotations

import os
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from monitor.config import Config, parse_config
from monitor.demo.site import LoopbackSite, running_site
from store.database import open_engine, upgrade
from tests.raw_http import RawHTTPServer

FIXTURES = Path(__file__).parent / "fixtures"
NATIONWIDE = "tokyo-nationwide-collaboration-r4.txt"
TAMA = "tokyo-tama-strategy2-measures.txt"
POSTGRES_ENV = "SESAKU_TEST_POSTGRES_URL"
# The config cache (monitor/config/yaml_cache.py) of every test, and of the commands they start,
# goes to a folder of this run, not the user's ~/.cache.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="sesaku-test-cache-")


def seed_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture
def site() -> Iterator[LoopbackSite]:
    with running_site() as running:
        yield running


@pytest.fixture
def raw_http() -> Iterator[RawHTTPServer]:
    """A loopback server that answers the raw bytes a test publishes for a path (tests/raw_http.py)."""
    with RawHTTPServer() as server:
        yield server


def _postgres_admin_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: in CI the PostgreSQL suite must run (.ci/run sets it)")
        pytest.skip(f"PostgreSQL part skipped: {POSTGRES_ENV} is not set (see README, 'Tests')")
    return url


@contextmanager
def fresh_database(kind: str, folder: Path, prefix: str = "sesaku_test") -> Iterator[str]:
    """A new, upgraded database of ``kind`` (sqlite | postgresql), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'monitor.db'}"
        return
    admin_url = _postgres_admin_url()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    # What `sesaku-monitor db upgrade` does once per PostgreSQL deployment.
    engine = open_engine(url, require_current=False)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def statements_run(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The (statement, parameters) ``engine`` runs inside the block, for a test to count or explain."""
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def query_plan(engine: Engine, statement: str, parameters: Any) -> list[str]:
    """The lines of the plan the database picks for ``statement`` (SQLite's EXPLAIN QUERY PLAN)."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if not sqlite:  # on a table this small PostgreSQL would rightly read the table; off, it still must where no index serves
            connection.exec_driver_sql("SET enable_seqscan = off")
            connection.exec_driver_sql("SET enable_bitmapscan = off")
        rows = connection.exec_driver_sql(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + statement, parameters)
        return [" ".join(str(c) for c in row) for row in rows]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each backend: the same tests run on both."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


def raised_in_threads(target: Callable[[str], None], names: Sequence[str], timeout: float) -> list[BaseException]:
    """``target(name)`` for each name, each in a thread of its own started together; what they raised."""
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            target(name)
        except BaseException as exc:  # noqa: BLE001 - the caller asserts on them
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return errors


def source_entry(source_id: str, url: str, **overrides: Any) -> dict[str, Any]:
    """A source for one of the two seed lists, keyed as the shipped config.yaml keys it."""
    if source_id.startswith("nationwide"):
        entry = {"id": source_id, "title": "全国各地との連携事業一覧", "url": url, "format": "text-table",
                 "key_columns": ["所管局", "事業名"], "name_column": "事業名", "end_date_columns": ["備考"]}
    else:
        entry = {"id": source_id, "title": "多摩のまちづくり 戦略2", "url": url, "format": "text-table",
                 "key_columns": ["施策", "担当部署"], "name_column": "施策", "url_columns": ["URL"], "end_date_columns": ["備考"]}
    entry.update(overrides)
    return entry


def make_config(database_url: str, *sources: dict[str, Any], **top: Any) -> Config:
    data: dict[str, Any] = {"database": {"url": database_url}, "http": {"allow_private_addresses": True, "total_timeout_s": 10, "read_timeout_s": 5, "connect_timeout_s": 2}, "sources": list(sources)}
    # The seed lists cite real government pages: a test checks links only when it says so.
    data["links"] = {"enabled": False}
    for key, value in top.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return parse_config(data, "test-config")
