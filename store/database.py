"""Opening the database: engines, sessions, SQLite pragmas and Alembic upgrades."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from store.errors import StoreError

if TYPE_CHECKING:
    # Alembic is imported where a schema is read or upgraded: it is slow to load, and every
    # command opens the database but few need a migration.
    from alembic.config import Config as AlembicConfig

__all__ = ["open_engine", "session_factory", "upgrade", "current_revision", "head_revision", "transaction", "SessionFactory", "retry_when_locked"]

SessionFactory = Callable[[], Session]
MIGRATIONS = Path(__file__).parent / "migrations"
T = TypeVar("T")


def _prepare_sqlite(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def open_engine(url: str, *, busy_timeout_s: float = 30.0, upgrade_sqlite: bool = True, require_current: bool = True) -> Engine:
    """An engine for ``url``; a SQLite file is created, put in WAL mode and brought up to date.

    PostgreSQL is never migrated implicitly, since several workers may open it at once:
    ``sesaku-monitor db upgrade`` does that, once.
    """
    try:
        if url.startswith("sqlite"):
            _prepare_sqlite(url)
            engine = create_engine(url, connect_args={"timeout": busy_timeout_s})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StoreError(f"database url {_safe(url)}: {exc}") from exc
    if engine.dialect.name == "sqlite" and upgrade_sqlite:
        upgrade(engine)
    elif require_current:
        _require_current(engine)
    return engine


def _safe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable)"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            from alembic.runtime.migration import MigrationContext

            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise StoreError(f"cannot open database {_safe(str(engine.url))}: {_first_line(exc)}") from exc


def _require_current(engine: Engine) -> None:
    current = current_revision(engine)
    if current != head_revision():
        raise StoreError(
            f"database {_safe(str(engine.url))} is at schema {current or 'empty'}, this version needs {head_revision()}: "
            "run `sesaku-monitor db upgrade`"
        )


def upgrade(engine: Engine) -> None:
    try:
        from alembic import command

        command.upgrade(_alembic_config(engine), "head")
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot upgrade database {_safe(str(engine.url))}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def session_factory(engine: Engine) -> SessionFactory:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(sessions: SessionFactory) -> Iterator[Session]:
    """One unit of work: commit at the end, roll back on any error."""
    with sessions() as session, session.begin():
        yield session


def retry_when_locked(work: Callable[[], T], *, attempts: int = 5, first_delay_s: float = 0.5) -> T:
    """Run ``work`` again when the database is locked by another process, then give up clearly."""
    delay = first_delay_s
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as exc:
            if "locked" not in str(exc).lower() or attempt == attempts:
                raise StoreError(f"database busy or unavailable: {_first_line(exc)}") from exc
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")
